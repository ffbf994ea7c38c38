"""application.numbering: one number, one document a year."""

from datetime import date

import pytest

from application.numbering import choose, split_year, with_year
from workflow.errors import DomainError


def test_a_number_may_be_typed_with_its_year():
    assert split_year("02/CT-UBND (2024)") == ("02/CT-UBND", 2024)
    assert split_year("02/CT-UBND(2024)") == ("02/CT-UBND", 2024)
    assert split_year("02/CT-UBND") == ("02/CT-UBND", None)
    assert split_year("Số (12)") == ("Số (12)", None)  # not a year
    assert with_year("02/CT-UBND", 2024) == "02/CT-UBND (2024)"


FAMILY = [
    {"number": "02/CT-UBND (2024)", "issued_on": date(2024, 1, 10)},
    {"number": "02/CT-UBND", "issued_on": date(2023, 1, 19)},
]


@pytest.mark.parametrize(
    ("year", "on", "chosen", "warned"),
    [
        (2023, None, "02/CT-UBND", False),
        (2024, date(2023, 5, 1), "02/CT-UBND (2024)", False),  # the year typed wins
        (None, None, "02/CT-UBND (2024)", True),  # the latest
        (None, date(2023, 5, 1), "02/CT-UBND", True),  # the latest by the day
        (None, date(2022, 5, 1), "02/CT-UBND", True),  # none by then: the earliest
        (2025, None, None, False),
    ],
)
def test_the_year_or_the_day_picks_one_of_a_number_s_documents(year, on, chosen, warned):
    row, warnings = choose(FAMILY, year, on, "02/CT-UBND")
    assert (row["number"] if row else None) == chosen
    assert bool(warnings) == warned


def test_one_document_of_a_number_needs_no_choice():
    row, warnings = choose(FAMILY[1:], None, date(2030, 1, 1), "02/ct-ubnd")
    assert row["number"] == "02/CT-UBND" and warnings == []


def test_a_year_typed_must_be_the_year_of_issue():
    from application.numbering import base_number

    assert base_number("02/CT-UBND (2024)", date(2024, 3, 1)) == "02/CT-UBND"
    with pytest.raises(DomainError, match="ghi năm 2024 nhưng ngày ban hành là 01/03/2023"):
        base_number("02/CT-UBND (2024)", date(2023, 3, 1))
