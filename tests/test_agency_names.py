"""The Excel importer's `AgencyIndex`: a name means the agency that bore it on the day
the row's task is given, when several agencies bore it at different times.

The agencies are derived from their facts as the ledger derives them; no database.
"""

from __future__ import annotations

from datetime import date

from application.xlsx_import.agency_names import AgencyIndex
from workflow.agencies import DISSOLVED, MERGED, REGISTERED, RENAMED, Agency, derive_agency

JAN = date(2025, 1, 15)
REFORM = date(2025, 3, 1)  # the new Sở Nội vụ, Sở Tài chính… from this day
MARCH = date(2025, 3, 15)


def agency(
    code: str,
    name: str,
    since: date | None = None,
    renamed: tuple[date, str] | None = None,
    closed: date | None = None,
    into: str | None = None,
) -> Agency:
    registered = {"code": code, "name": name, "kind": "so"}
    if since is not None:
        registered["since"] = since.isoformat()
    facts = [{"type": REGISTERED, "data": registered}]
    if renamed is not None:
        facts.append({"type": RENAMED, "data": {"on": renamed[0].isoformat(), "name": renamed[1]}})
    if closed is not None:
        closure = {"on": closed.isoformat(), "reason": "Quyết định", "into": into}
        facts.append({"type": MERGED if into else DISSOLVED, "data": closure})
    return derive_agency(facts)


def index(*agencies: Agency) -> AgencyIndex:
    return AgencyIndex({a.code: a for a in agencies})


# The 2025 reorganisation: a new Sở Nội vụ (SNV-2025) formed by merging the old one
# (SNV) and the Sở Lao động - Thương binh và Xã hội.
MERGED_SNV = (
    agency("SNV", "Sở Nội vụ", closed=REFORM, into="SNV-2025"),
    agency("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", closed=REFORM, into="SNV-2025"),
    agency("SNV-2025", "Sở Nội vụ", since=REFORM),
)


def test_a_name_means_the_agency_that_bore_it_on_the_row_s_day():
    agencies = index(*MERGED_SNV)
    for text in ("Sở Nội vụ", "SỞ NỘI VỤ", "Sở NV", "So Noi vu thanh pho Hai Phong"):
        assert agencies.find(text, JAN) == "SNV", text
        assert agencies.find(text, date(2025, 2, 28)) == "SNV", text
        assert agencies.find(text, REFORM) == "SNV-2025", text
        assert agencies.find(text, MARCH) == "SNV-2025", text
        # No day known: the open one, as before.
        assert agencies.find(text) == "SNV-2025", text
    # A code is the agency it names, whatever the day (the ledger refuses the day).
    assert agencies.find("SNV-2025", JAN) == "SNV-2025"
    assert agencies.find("snv", MARCH) == "SNV"
    resolved = agencies.resolve_cell(
        "Sở Nội vụ; Sở Lao động - Thương binh và Xã hội", "Chủ trì", JAN
    )
    assert resolved == (["SNV", "SLDTBXH"], [], [], [])


def test_a_name_given_up_by_a_rename_is_the_agency_that_bore_it_before():
    """The Sở Kế hoạch và Đầu tư took the name Sở Tài chính when the old Sở Tài chính
    merged into it: before that day, "Sở Tài chính" is the old one."""
    agencies = index(
        agency("STC", "Sở Tài chính", closed=REFORM, into="SKHDT"),
        agency("SKHDT", "Sở Kế hoạch và Đầu tư", renamed=(REFORM, "Sở Tài chính")),
    )
    assert agencies.find("Sở Tài chính", JAN) == "STC"
    assert agencies.find("Sở Tài chính", MARCH) == "SKHDT"
    assert agencies.find("Sở Tài chính") == "SKHDT"  # no day: the open one

    # Its former name, on a row of before the rename: the agency as it was, said nothing.
    assert agencies.resolve_cell("Sở KH&ĐT", "Chủ trì", JAN) == (["SKHDT"], [], [], [])
    assert agencies.resolve_cell("Sở Kế hoạch và Đầu tư", "Chủ trì", JAN) == (["SKHDT"], [], [], [])
    # On a row of after it, the same agency, with a word that the name is no longer its.
    codes, errors, _, warnings = agencies.resolve_cell("Sở Kế hoạch và Đầu tư", "Chủ trì", MARCH)
    assert (codes, errors) == (["SKHDT"], [])
    assert warnings == [
        "Cột 'Chủ trì': 'Sở Kế hoạch và Đầu tư' là tên cũ của cơ quan SKHDT: từ ngày 01/03/2025 "
        "cơ quan mang tên 'Sở Tài chính'. Dòng được ghi cho SKHDT; nếu ý là cơ quan khác, hãy "
        "ghi tên hoặc mã của cơ quan đó."
    ]
    # With no day, nothing to say, as before.
    assert agencies.resolve_cell("Sở Kế hoạch và Đầu tư", "Chủ trì") == (["SKHDT"], [], [], [])


def test_a_name_taken_again_after_a_dissolution():
    agencies = index(
        agency("SDL", "Sở Du lịch", closed=date(2024, 7, 1)),
        agency("SDL-2025", "Sở Du lịch", since=date(2025, 1, 1)),
    )
    assert agencies.find("Sở Du lịch", date(2024, 3, 10)) == "SDL"
    assert agencies.find("Sở Du lịch", date(2025, 2, 10)) == "SDL-2025"
    # A day neither stood: found as without a day (the ledger then refuses the row,
    # saying when the agency was established).
    assert agencies.find("Sở Du lịch", date(2024, 9, 15)) == agencies.find("Sở Du lịch")


def test_a_name_two_agencies_bore_the_same_day_names_neither():
    """ "Sở NV" is the Sở Nội vụ's and the Sở Ngoại vụ's: on a day both stood it names
    neither, and the refusal says which two; once the Sở Ngoại vụ merged into the new
    Sở Nội vụ, it names that one."""
    agencies = index(*MERGED_SNV, agency("SNGV", "Sở Ngoại vụ", closed=REFORM, into="SNV-2025"))
    assert agencies.find("Sở NV", JAN) is None
    assert agencies.resolve_cell("Sở NV", "Chủ trì", JAN) == (
        [],
        [
            "Cột 'Chủ trì' ghi 'Sở NV': ngày 15/01/2025 có 2 cơ quan mang tên này — Sở Ngoại "
            "vụ (SNGV), Sở Nội vụ (SNV). Hãy ghi mã của cơ quan được giao."
        ],
        [],
        [],
    )
    assert agencies.find("Sở NV", MARCH) == "SNV-2025"
    assert agencies.find("Sở Ngoại vụ", JAN) == "SNGV"

    # An agency registered without --since stands since before the ledger begins: on
    # a day it and the one that gave its name up both bore the name, neither is meant.
    renamed = index(
        agency("SKHDT", "Sở Kế hoạch và Đầu tư", renamed=(REFORM, "Sở Tài chính - Kế hoạch")),
        agency("SKHDT2", "Sở Kế hoạch và Đầu tư"),
    )
    assert renamed.find("Sở Kế hoạch và Đầu tư", JAN) is None
    assert renamed.find("Sở Kế hoạch và Đầu tư", MARCH) == "SKHDT2"
    assert renamed.find("Sở Kế hoạch và Đầu tư") == "SKHDT2"  # no day: the name in use
