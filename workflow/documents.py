"""Reprimand and commendation documents, and who they reach.

Since Thông báo 129/TB-UBND of 05/04/2023 (§2.8) a phê bình addressed to the head
of an agency for a field also reaches the deputy in charge of that field — where
the rulebook in force on the document's date says so (workflow.rulebook). The
cascade is resolved when the document is logged and written into its event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .agencies import Agency
from .dates import format_date
from .errors import DomainError
from .text import fold, nfc

if TYPE_CHECKING:
    from .rulebook import Rulebook

ISSUED = "document.issued"

NHAC_NHO = "nhac_nho"
RUT_KINH_NGHIEM = "rut_kinh_nghiem"
PHE_BINH = "phe_binh"
BIEU_DUONG = "bieu_duong"

KIND_LABELS = {
    NHAC_NHO: "Nhắc nhở",
    RUT_KINH_NGHIEM: "Rút kinh nghiệm",
    PHE_BINH: "Phê bình",
    BIEU_DUONG: "Biểu dương",
}
REPRIMAND_KINDS = (NHAC_NHO, RUT_KINH_NGHIEM, PHE_BINH)

TARGET_LABELS = {
    "agency": "Cơ quan",
    "head": "Người đứng đầu",
    "deputy": "Cấp phó",
    "person": "Cá nhân",
}


@dataclass(frozen=True)
class Addressees:
    agencies: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.agencies or self.heads or self.persons)


def by_the_chairman(issuer: str | None) -> bool:
    """TB 129/TB-UBND §2.8 cascades a phê bình when the Chairman of the city's People's
    Committee criticises: not one a Vice-Chairman (Phó Chủ tịch, PCT) or another body
    (Thành ủy…) issued. An issuer not given, or the Committee itself (UBND), is taken as
    the Chairman's: most phê bình documents are signed by him."""
    if issuer is None:
        return True
    words = " " + " ".join(re.sub(r"[^\w]+", " ", fold(issuer)).split()) + " "
    words = words.replace(" uy ban nhan dan ", " ubnd ")
    if any(vice in words for vice in (" pho chu tich ", " pct ", " p chu tich ")):
        return False
    if any(other in words for other in _NOT_THE_CITY_COMMITTEE) or _by_the_party(issuer):
        return False
    return any(name in words for name in (" chu tich ", " ct ", " ubnd "))


# Issuers that are not the city People's Committee or its Chairman: the council, the
# Front, a district's or commune's People's Committee (the Party: _by_the_party).
_NOT_THE_CITY_COMMITTEE = (
    " hdnd ", " hoi dong nhan dan ", " mttq ", " mat tran ",
    " ubnd quan ", " ubnd huyen ", " ubnd thi xa ", " ubnd phuong ", " ubnd xa ",
    " ubnd thi tran ",
)  # fmt: skip
# The Party's committees, typed without diacritics.
_PARTY_PHRASES = (
    " thanh uy ", " tinh uy ", " huyen uy ", " quan uy ", " thi uy ", " dang uy ",
    " dang bo ", " ban thuong vu ",
)  # fmt: skip


def _by_the_party(issuer: str) -> bool:
    """Whether a Party committee issued it (Thành ủy, Đảng ủy, Ban Thường vụ…). Read
    with its diacritics, which tell "Đảng" from the surname Đặng or Đăng and "ủy" from
    the given name Uy: folded, a Chairman named Đặng Văn Hùng read as the Party. Typed
    without any diacritic, by the phrases only."""
    if issuer.isascii():
        words = " " + " ".join(re.sub(r"[^\w]+", " ", issuer.lower()).split()) + " "
        return any(phrase in words for phrase in _PARTY_PHRASES)
    # "uỷ" is the older placement of the same tone mark.
    words = " " + " ".join(re.sub(r"[^\w]+", " ", nfc(issuer).lower()).split()) + " "
    words = words.replace(" uỷ ", " ủy ")
    party = " đảng " in words or " ban thường vụ " in words
    return party or re.search(r" ủy (?!ban )", words) is not None


def resolve_targets(
    kind: str,
    issued_on: date,
    addressees: Addressees,
    agencies: dict[str, Agency],
    field: str | None,
    cascade: bool,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The document's targets (cascade included) and warnings for the user;
    `cascade`: the rulebook in force on `issued_on` extends a phê bình of a head to
    the deputy in charge of its field."""
    if not addressees:
        raise DomainError(
            "Văn bản chưa có nơi nhận. Hãy chỉ rõ ít nhất một --agency, --head hoặc --person."
        )
    targets: list[dict[str, Any]] = []
    warnings: list[str] = []
    for code in addressees.agencies:
        targets.append(_target("agency", code, None, None))
    for code in addressees.heads:
        agency = agencies[code]
        head = agency.head_on(issued_on)
        if head is None:
            raise DomainError(
                f"{code} chưa có người đứng đầu vào ngày {format_date(issued_on)}. "
                f"Hãy ghi bổ nhiệm trước: `nhiemvu agency head {code} --name … --from …`, "
                f"hoặc gửi văn bản tới cơ quan bằng --agency {code}."
            )
        targets.append(_target("head", code, head, field))
        if cascade and kind == PHE_BINH and field:
            deputy = agency.deputy_for(field, issued_on)
            if deputy is None:
                warnings.append(
                    f"{code} không có cấp phó phụ trách lĩnh vực '{field}' vào ngày "
                    f"{format_date(issued_on)}: không có ai được phê bình kèm theo."
                )
            else:
                targets.append(
                    {**_target("deputy", code, deputy.person, deputy.field), "cascaded": True}
                )
    for person in addressees.persons:
        targets.append(_target("person", None, person, None))
    return _unique(targets), warnings


def field_reaching_no_one(
    kind: str,
    addressees: Addressees,
    field: str | None,
    issued_on: date,
    issuer: str | None,
    rulebook: Rulebook | None,
) -> list[str]:
    """A warning when `field` (--field) reaches no deputy, saying why: TB 129/TB-UBND
    §2.8 cascades only a phê bình, of a head (--head), from the day the rulebook in
    force (`rulebook`, None if none is) says, by the Chairman. A head without a deputy
    for the field is resolve_targets' to say. The document is recorded all the same:
    the field is a fact of it."""
    if not field:
        return []
    retract = "hãy rút lại văn bản này (`nhiemvu correct MÃ_SỰ_KIỆN --reason …`) rồi ghi lại"
    if kind != PHE_BINH:
        return [
            f"Lĩnh vực '{field}' (--field) không kéo theo ai: văn bản "
            f"{KIND_LABELS[kind].lower()} không phê bình cấp phó phụ trách lĩnh vực, chỉ văn "
            "bản phê bình người đứng đầu mới đồng thời phê bình cấp phó (TB 129/TB-UBND "
            f"§2.8). Nếu văn bản là phê bình, {retract} với --kind phe-binh."
        ]
    if not addressees.heads:
        heads = " hoặc ".join(f"--head {code}" for code in addressees.agencies) or "--head MÃ_CQ"
        return [
            f"Lĩnh vực '{field}' (--field) không kéo theo ai: văn bản không gửi người đứng đầu "
            "nào (--head), mà chỉ khi phê bình người đứng đầu thì cấp phó phụ trách lĩnh vực "
            "mới đồng thời bị phê bình (TB 129/TB-UBND §2.8). Nếu văn bản phê bình người đứng "
            f"đầu, {retract} với {heads}."
        ]
    if rulebook is None or not rulebook.cascades_phe_binh_to_deputy(issued_on):
        return [
            f"Lĩnh vực '{field}' (--field) không kéo theo ai: {_no_cascade_on(issued_on, rulebook)}"
        ]
    if not by_the_chairman(issuer):
        return [
            f"Văn bản do {issuer} ban hành: theo TB 129/TB-UBND §2.8, chỉ khi Chủ tịch UBND "
            "thành phố phê bình người đứng đầu mới đồng thời phê bình cấp phó phụ trách lĩnh "
            "vực; không ai được phê bình kèm theo."
        ]
    return []


def _no_cascade_on(issued_on: date, rulebook: Rulebook | None) -> str:
    """Why a phê bình of a head issued that day reaches no deputy under `rulebook`."""
    day = format_date(issued_on)
    if rulebook is None:
        return (
            f"ngày {day} không có sổ quy tắc nào có hiệu lực, nên phê bình người đứng đầu "
            "không kéo theo cấp phó phụ trách lĩnh vực."
        )
    start = rulebook.cascade_phe_binh_from
    if not rulebook.cascade_phe_binh_to_deputy or start is None:  # None: from every day
        return (
            f"theo sổ quy tắc {rulebook.name}, có hiệu lực ngày {day}, phê bình người đứng đầu "
            "không kéo theo cấp phó phụ trách lĩnh vực."
        )
    return (
        f"văn bản ngày {day}, trước ngày {format_date(start)} là ngày phê bình người đứng đầu "
        "bắt đầu kéo theo cấp phó phụ trách lĩnh vực (TB 129/TB-UBND §2.8; sổ quy tắc "
        f"{rulebook.name}): phê bình khi đó chỉ tới người có tên. Nếu ngày ban hành ghi nhầm, "
        "hãy rút lại văn bản này (`nhiemvu correct MÃ_SỰ_KIỆN --reason …`) rồi ghi lại với "
        "đúng --on."
    )


def heads_addressed_by_name(
    addressees: Addressees, agencies: Iterable[Agency], issued_on: date
) -> list[str]:
    """Warnings for a person addressed by name (--person) who heads an agency that
    day, not addressed as its head (--head): a document to a person counts for nobody's
    score (DOMAIN.md counts those to an agency or its head), which is right for a
    specialist and likely a slip for a head."""
    heading: dict[str, list[str]] = {}
    for agency in agencies:
        head = agency.head_on(issued_on)
        if head is not None and agency.code not in addressees.heads:
            heading.setdefault(head.casefold(), []).append(agency.code)
    warnings = []
    for person in addressees.persons:
        codes = heading.get(person.casefold())
        if codes:
            warnings.append(
                f"{person} là người đứng đầu {', '.join(codes)} vào ngày "
                f"{format_date(issued_on)}. Văn bản gửi đích danh (--person) không tính vào "
                "điểm của cơ quan và người đứng đầu. Nếu văn bản gửi người đứng đầu với tư "
                "cách đó, hãy rút lại văn bản này (`nhiemvu correct MÃ_SỰ_KIỆN --reason …`) "
                f"rồi ghi lại với {' hoặc '.join(f'--head {code}' for code in codes)}."
            )
    return warnings


def _target(kind: str, agency: str | None, person: str | None, field: str | None):
    return {"kind": kind, "agency": agency, "person": person, "field": field, "cascaded": False}


def _unique(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple] = set()
    result = []
    for target in targets:
        key = (target["kind"], target["agency"], (target["person"] or "").casefold())
        if key not in seen:
            seen.add(key)
            result.append(target)
    return result
