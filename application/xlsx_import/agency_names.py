"""Finding the agencies a cell names, by code, name or the abbreviations seen in practice."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from datetime import date
from typing import Any, NamedTuple

from workflow.agencies import Agency
from workflow.dates import format_date
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


# (code, the variant of the text that found it, whether the agency bore it that day)
_Match = tuple[str, str, bool]


def _owned_by_one(owners: dict[str, set[str]]) -> dict[str, str]:
    return {key: next(iter(codes)) for key, codes in owners.items() if len(codes) == 1}


class Resolved(NamedTuple):
    """What one cell names: agency codes, the errors for the names not found, the words
    that name no agency in particular ("các ngành liên quan"), and warnings."""

    codes: list[str]
    errors: list[str]
    unspecific: list[str]
    warnings: list[str]


class AgencyIndex:
    """Registered agencies found by code or by name, tolerant of how people write them,
    and, given the day a row speaks of, as they were named that day."""

    def __init__(self, agencies: dict[str, Agency]) -> None:
        self.agencies = agencies
        current: dict[str, set[str]] = {}
        closed: dict[str, set[str]] = {}
        earlier: dict[str, set[str]] = {}
        # Who bore each variant, as which of its names (None: its code, borne as long
        # as it stands): a name passes from one agency to another over time.
        self.bearers: dict[str, set[tuple[str, str | None]]] = {}
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
            for key in _variants(fold(code)):
                self.bearers.setdefault(key, set()).add((code, None))
            for name in agency.names:
                for key in _variants(fold(name.name), abbreviate=True):
                    self.bearers.setdefault(key, set()).add((code, name.name))
        # A variant two agencies share ("ngo quyen" for a district and a ward)
        # identifies neither; a name in use now outranks one given up, and one of an
        # agency closed since.
        self.by_key = _owned_by_one(earlier)
        self.by_key.update(_owned_by_one(closed))
        self.by_key.update(_owned_by_one(current))
        self.codes = {fold(code): code for code in agencies}
        self.by_key.update(self.codes)  # an exact code always wins

    def find(self, text: str, on: date | None = None) -> str | None:
        found = self._match(text, on)
        return found and found[0]

    def _match(self, text: str, on: date | None) -> _Match | None:
        """The agency `text` names.

        On a known day, the one that bore the name and stood that day (the old Sở Nội
        vụ in January 2025, the new one from March), and none if two did. Only a name
        nobody bore that day is found as without a day (`by_key`): the agency then
        refuses the row itself (not yet established, closed since), or the name is one
        it gave up (`_former_name`)."""
        variants = sorted(_variants(fold(text)), key=len, reverse=True)
        if on is None:
            return self._undated(variants)
        unborne = []
        for variant in variants:
            if variant in self.codes:
                return self.codes[variant], variant, True
            standing = self._bearers_on(variant, on)
            if len(standing) == 1:
                return next(iter(standing)), variant, True
            if not standing:
                unborne.append(variant)
        if len(unborne) < len(variants):  # two agencies bore it that day
            return None
        return self._undated(unborne)

    def _undated(self, variants: list[str]) -> _Match | None:
        for variant in variants:
            if variant in self.by_key:
                return self.by_key[variant], variant, False
        return None

    def _bearers_on(self, key: str, day: date) -> set[str]:
        def bore(code: str, name: str | None) -> bool:
            agency = self.agencies[code]
            return agency.is_active(day) and (name is None or agency.name_on(day) == name)

        return {code for code, name in self.bearers.get(key, ()) if bore(code, name)}

    def _shared_on(self, part: str, prefix: str | None, on: date) -> list[str]:
        """The agencies that bore `part`'s name on the same day `on`, if several did."""
        shared: set[str] = set()
        for text in _texts(part, prefix):
            for variant in _variants(fold(text)):
                standing = self._bearers_on(variant, on)
                if len(standing) > 1:
                    shared |= standing
        return sorted(shared)

    def _former_name(self, text: str, code: str, key: str, on: date) -> str | None:
        """The warning for `text` naming `code`, standing on `on`, by a name it had
        given up by then (a row of before the rename names it as it was: no warning)."""
        agency = self.agencies[code]
        dated = [i for i, n in enumerate(agency.names) if n.start is None or n.start <= on]
        if not dated or not agency.is_active(on):
            return None
        now = agency.names[dated[-1]]
        given_up = agency.names[: dated[-1]]
        if not any(key in _variants(fold(n.name), abbreviate=True) for n in given_up):
            return None
        return (
            f"'{text}' là tên cũ của cơ quan {code}: từ ngày {format_date(now.start)} cơ quan "
            f"mang tên '{now.name}'. Dòng được ghi cho {code}; nếu ý là cơ quan khác, hãy ghi "
            "tên hoặc mã của cơ quan đó."
        )

    def suggestions(self, text: str) -> list[str]:
        close = difflib.get_close_matches(fold(text), list(self.by_key), n=8, cutoff=0.6)
        codes = list(dict.fromkeys(self.by_key[k] for k in close))[:3]
        return [f"{self.agencies[c].name} ({c})" for c in codes]

    def resolve_cell(self, value: Any, label: str, on: date | None = None) -> Resolved:
        """The agencies named in one cell, as they were named on `on` if known."""
        resolved = Resolved([], [], [], [])
        if blank(value):
            return resolved
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
            found, loose = self._find_part(part, prefix, on)
            if found or loose:
                for text, (code, key, bore) in found:
                    resolved.codes.append(code)
                    note = None if bore or on is None else self._former_name(text, code, key, on)
                    if note:
                        resolved.warnings.append(f"Cột '{label}': {note}")
                resolved.unspecific.extend(loose)
                continue
            shared = [] if on is None else self._shared_on(part, prefix, on)
            if shared:
                bearers = ", ".join(f"{self.agencies[c].name_on(on)} ({c})" for c in shared)
                resolved.errors.append(
                    f"Cột '{label}' ghi '{part}': ngày {format_date(on)} có {len(shared)} cơ quan "
                    f"mang tên này — {bearers}. Hãy ghi mã của cơ quan được giao."
                )
                continue
            hint = self.suggestions(part)
            resolved.errors.append(
                f"Không tìm thấy cơ quan '{part}' (cột '{label}')."
                + (f" Có phải ý bạn là: {', '.join(hint)}?" if hint else "")
                + " Cơ quan phải được đăng ký trước (`nhiemvu agency add`)."
            )
        resolved.codes[:] = dict.fromkeys(resolved.codes)
        return resolved

    def _find_one(self, part: str, prefix: str | None, on: date | None) -> _Match | None:
        for text in _texts(part, prefix):
            found = self._match(text, on)
            if found:
                return found
        return None

    def _find_part(
        self, part: str, prefix: str | None, on: date | None
    ) -> tuple[list[tuple[str, _Match]], list[str]]:
        """(the agencies found, each with the words that named it; words naming no
        agency in particular) of one part of a cell."""
        found = self._find_one(part, prefix, on)
        if found:
            return [(part, found)], []
        if _unspecific(part):
            return [], [part]
        # "Sở Xây dựng và Sở Tài chính", "Sở Tài chính và các ngành liên quan": split on
        # "và" only when the whole is no agency's name ("Sở Kế hoạch và Đầu tư" is one).
        pieces = [p for p in re.split(r"\s+(?:và|&)\s+", part) if p]
        if len(pieces) > 1:
            matches = [(p, self._find_one(p, prefix, on)) for p in pieces]
            loose = [p for p, match in matches if not match]
            if len(loose) < len(pieces) and all(_unspecific(p) for p in loose):
                return [(p, match) for p, match in matches if match], loose
        return [], []


# The command options a refusal may name, and the columns that give them here.
COLUMN_OF_OPTION = {
    "--kind": "kind", "--issuer": "issuer", "--title": "title", "--lead": "leads",
    "--deadline": "deadline", "--no-deadline": "deadline", "--assigned-on": "assigned_on",
    "--doc": "completion_doc", "--directive": "number", "--clause": "clause",
    "--leader": "leader",
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


def _texts(part: str, prefix: str | None) -> Iterator[str]:
    """The ways `part` of a cell may name an agency, in the order they are tried."""
    # "Sở Thông tin & Truyền thông": "&" for "và", unless it is an abbreviation's
    # (Sở TN&MT), which the name's variants hold. "Sở Xây dựng (chủ trì)": the role
    # the cell's column says already — unless the name itself ends so ("… (DEZA)").
    unnoted = _ROLE_NOTE.sub("", part)
    texts = (part, part.replace("&", " và "), unnoted, unnoted.replace("&", " và "))
    for text in dict.fromkeys(filter(None, texts)):
        yield text
        if prefix:  # "Các Sở: Xây dựng, Tài chính"
            yield f"{prefix} {text}"


def _unspecific(part: str) -> bool:
    """Whether `part` names agencies as a group (no registered agency bears it)."""
    words = re.sub(r"[^\w\s]", " ", fold(part)).split()
    return bool(words) and all(w in _GROUP_WORDS for w in words)
