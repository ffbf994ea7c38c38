"""Numbers in text output as Vietnamese readers write them (the JSON keeps numbers)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cli_support import cell_text
from workflow.text import grouped


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12.5, "12,5"),
        (Decimal("16.67"), "16,67"),
        (9_999, "9999"),  # years, day counts and small counts as they are
        (2023, "2023"),
        (10_000, "10.000"),
        (1_145_997, "1.145.997"),
        (-20_000, "-20.000"),
        (True, "True"),
        (None, ""),
        ("NV-10000", "NV-10000"),
    ],
)
def test_table_cells_use_vietnamese_notation(value, shown):
    assert cell_text(value) == shown


def test_grouped_puts_a_point_between_thousands():
    assert [grouped(n) for n in (0, 999, 1000, 1_234_567, -1_000)] == [
        "0",
        "999",
        "1.000",
        "1.234.567",
        "-1.000",
    ]
