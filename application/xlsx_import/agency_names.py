"""Finding the agencies a cell names, by code, name or the abbreviations seen in practice."""

from __future__ import annotations

import difflib
import re
from typing import Any

from workflow.agencies import Agency
from workflow.text import fold, nfc

from .cells import blank

_NAME_SUFFIXES = (" thanh pho hai phong", " tp hai phong", " hai phong", " thanh pho", " tp")


def _variants(folded: str, abbreviate: bool = False) -> set[str]:
    """Ways the same agency is written: 'Ủy ban nhân dân' / 'UBND', with or without the
    city, codes with or without their dash, 'Sở KH&ĐT' for 'Sở KHĐT'; with `abbreviate`
    (registered names only, never what is being looked up — 'Sở Tài chánh' must not
    become 'Sở TC'), also the initials: 'Sở XD' for 'Sở Xây dựng'."""
    out = {folded, folded.replace(" ", "")}
    base = folded.replace("uy ban nhan dan", "ubnd")
    stems = {base}
    for suffix in _NAME_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 3:
            stems.add(base[: -len(suffix)])
    for stem in list(stems):
        if stem.startswith("ubnd "):
            stems.add(stem[5:])
    for stem in stems:
        out.add(stem)
        words = stem.split()
        if len(words) > 1 and words[0] == "so":
            rest = words[1:]
            if abbreviate:
                out.add("so " + "".join(w[0] for w in rest if w != "va"))
            if all(len(w) <= 4 for w in rest):
                out.add("so " + "".join(rest))
    return {v for v in out if v}


def _owned_by_one(owners: dict[str, set[str]]) -> dict[str, str]:
    return {key: next(iter(codes)) for key, codes in owners.items() if len(codes) == 1}


class AgencyIndex:
    """Registered agencies found by code or by name, tolerant of how people write them."""

    def __init__(self, agencies: dict[str, Agency]) -> None:
        self.agencies = agencies
        current: dict[str, set[str]] = {}
        closed: dict[str, set[str]] = {}
        earlier: dict[str, set[str]] = {}
        for code, agency in agencies.items():
            # An agency formed by merging may keep the name of one merged into it: the
            # name is the open one's now (no two open agencies share one).
            latest = current if agency.closed_on is None else closed
            for key in _variants(fold(code)) | _variants(fold(agency.name), abbreviate=True):
                latest.setdefault(key, set()).add(code)
            # A file written before a rename may still use an earlier name.
            for name in agency.names[:-1]:
                for key in _variants(fold(name.name), abbreviate=True):
                    earlier.setdefault(key, set()).add(code)
        # A variant two agencies share ("ngo quyen" for a district and a ward)
        # identifies neither; a name in use now outranks one given up, and one of an
        # agency closed since.
        self.by_key = _owned_by_one(earlier)
        self.by_key.update(_owned_by_one(closed))
        self.by_key.update(_owned_by_one(current))
        for code in agencies:  # an exact code always wins
            self.by_key[fold(code)] = code

    def find(self, text: str) -> str | None:
        for variant in sorted(_variants(fold(text)), key=len, reverse=True):
            if variant in self.by_key:
                return self.by_key[variant]
        return None

    def suggestions(self, text: str) -> list[str]:
        close = difflib.get_close_matches(fold(text), list(self.by_key), n=8, cutoff=0.6)
        codes = list(dict.fromkeys(self.by_key[k] for k in close))[:3]
        return [f"{self.agencies[c].name} ({c})" for c in codes]

    def resolve_cell(self, value: Any, label: str) -> tuple[list[str], list[str], list[str]]:
        """Agency codes named in one cell, the errors for the names not found, and the
        words that name no agency in particular ("các ngành liên quan")."""
        if blank(value):
            return [], [], []
        codes: list[str] = []
        errors: list[str] = []
        unspecific: list[str] = []
        prefix = None
        for raw in re.split(r"[;\n,+]", str(value)):
            part = (nfc(raw) or "").strip(" .:-–")
            if not part:
                continue
            # "Các Sở: Xây dựng, Tài chính" — the seeds' way of naming several Sở.
            match = re.match(r"^các\s+(sở|ban)\s*(?:,?\s*ngành)?\s*:?\s*(.*)$", part, re.I)
            if match:
                prefix = "Sở" if match.group(1).lower() == "sở" else "Ban"
                part = match.group(2)
                if not part:
                    continue
            found, loose = self._find_part(part, prefix)
            if found or loose:
                codes.extend(found)
                unspecific.extend(loose)
                continue
            hint = self.suggestions(part)
            errors.append(
                f"Không tìm thấy cơ quan '{part}' (cột '{label}')."
                + (f" Có phải ý bạn là: {', '.join(hint)}?" if hint else "")
                + " Cơ quan phải được đăng ký trước (`nhiemvu agency add`)."
            )
        return list(dict.fromkeys(codes)), errors, unspecific

    def _find_one(self, part: str, prefix: str | None) -> str | None:
        # "Sở Thông tin & Truyền thông": "&" for "và", unless it is an abbreviation's
        # (Sở TN&MT), which the name's variants hold. "Sở Xây dựng (chủ trì)": the role
        # the cell's column says already — unless the name itself ends so ("… (DEZA)").
        unnoted = _ROLE_NOTE.sub("", part)
        texts = (part, part.replace("&", " và "), unnoted, unnoted.replace("&", " và "))
        for text in dict.fromkeys(filter(None, texts)):
            code = self.find(text) or (prefix and self.find(f"{prefix} {text}"))
            if code:
                return code
        return None

    def _find_part(self, part: str, prefix: str | None) -> tuple[list[str], list[str]]:
        """(codes, words naming no agency in particular) of one part of a cell."""
        code = self._find_one(part, prefix)
        if code:
            return [code], []
        if _unspecific(part):
            return [], [part]
        # "Sở Xây dựng và Sở Tài chính", "Sở Tài chính và các ngành liên quan": split on
        # "và" only when the whole is no agency's name ("Sở Kế hoạch và Đầu tư" is one).
        pieces = [p for p in re.split(r"\s+(?:và|&)\s+", part) if p]
        if len(pieces) > 1:
            found = [self._find_one(p, prefix) for p in pieces]
            loose = [p for p, code in zip(pieces, found, strict=True) if not code]
            if any(found) and all(_unspecific(p) for p in loose):
                return [c for c in found if c], loose
        return [], []


# The command options a refusal may name, and the columns that give them here.
COLUMN_OF_OPTION = {
    "--kind": "kind", "--issuer": "issuer", "--title": "title", "--lead": "leads",
    "--deadline": "deadline", "--no-deadline": "deadline", "--assigned-on": "assigned_on",
    "--doc": "completion_doc", "--directive": "number",
}  # fmt: skip
# A role noted beside an agency: "(chủ trì)", "(phối hợp)".
_ROLE_NOTE = re.compile(r"\s*\((?:[^()]*)\)\s*$")
# Words of the phrases that name agencies as a group — "các sở, ban, ngành", "UBND các
# quận, huyện", "các đơn vị liên quan" — and none in particular.
_GROUP_WORDS = frozenset({
    "cac", "so", "ban", "nganh", "ubnd", "uy", "nhan", "dan", "quan", "huyen", "thi", "xa",
    "phuong", "tran", "dia", "don", "vi", "co", "lien", "va", "khac", "tren", "thanh",
    "pho", "tp", "doan", "the", "to", "chuc", "doanh", "nghiep", "nang",
})  # fmt: skip


def _unspecific(part: str) -> bool:
    """Whether `part` names agencies as a group (no registered agency bears it)."""
    words = re.sub(r"[^\w\s]", " ", fold(part)).split()
    return bool(words) and all(w in _GROUP_WORDS for w in words)
