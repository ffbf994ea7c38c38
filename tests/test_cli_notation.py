"""Text output as Vietnamese readers expect it: numbers in their notation (the JSON
keeps numbers), long titles visibly shortened (the JSON keeps them whole)."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_support import cell_text
from workflow.text import clipped, display_width, grouped


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12.5, "12,50"),  # scores and rates with the two decimals they are rounded to
        (62.0, "62,00"),
        (Decimal("16.67"), "16,67"),
        (100.0, "100,00"),
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


TITLE = "Tổng kết, đánh giá tình hình thực hiện Chỉ thị 02/CT-UBND ngày 15/02/2023"


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        (TITLE, 100, TITLE),
        (TITLE, 55, "Tổng kết, đánh giá tình hình thực hiện Chỉ thị…"),
        (TITLE, 20, "Tổng kết, đánh giá…"),  # no comma before the mark
        ("Báo cáo\n  kết quả", 40, "Báo cáo kết quả"),  # one line
        ("a" * 30, 10, "aaaaaaaaa…"),  # one long word is cut inside
        (
            unicodedata.normalize("NFD", TITLE),
            20,
            unicodedata.normalize("NFD", "Tổng kết, đánh giá…"),
        ),
    ],
)
def test_long_text_is_shortened_visibly(text, width, shown):
    assert clipped(text, width) == shown


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])), st.integers(2, 80))
def test_a_clipped_text_fits_and_begins_as_the_text_does(text, width):
    one_line = " ".join(text.split())
    shown = clipped(text, width)
    assert display_width(shown) <= width
    if shown != one_line:
        assert shown.endswith("…") and one_line.startswith(shown[:-1])


def test_wide_characters_keep_the_columns_of_a_table_in_line():
    """An emoji or a Chinese character takes two columns of a terminal, a combining
    mark none: the next column starts at the same place on every line."""
    from cli_support import render_table

    titles = ["📌 Rà soát ✅", "Hợp tác với 中国", unicodedata.normalize("NFD", "Nguyễn"), "Việc"]
    table = render_table([{"title": t, "agency": "SXD"} for t in titles],
                         [("title", "Nội dung"), ("agency", "Cơ quan")])  # fmt: skip
    # 13 columns and 16, the widest: three spaces of padding, then the two between.
    assert table.splitlines()[2:4] == ["📌 Rà soát ✅" + " " * 5 + "SXD", "Hợp tác với 中国  SXD"]
    assert display_width("📌 中国") == 7 and display_width("a\u200db") == 2


def test_text_of_one_column_characters_is_measured_without_looking_at_each(monkeypatch):
    """Vietnamese, codes, dates and punctuation: a table of a city's tasks measures
    half a million cells of them, as wide as they are long."""
    import workflow.text

    def looked_at(ch):
        raise AssertionError(f"{ch!r} looked up")

    monkeypatch.setattr(workflow.text, "_columns", looked_at)
    title = "Rà soát, cập nhật quy hoạch – Đề án 06/ĐA-UBND (năm 2024) …"
    assert display_width(title) == len(title)
    assert display_width("") == 0
    assert clipped(title, 40) == "Rà soát, cập nhật quy hoạch – Đề án…"


@given(st.text(), st.integers(min_value=2, max_value=80))
def test_the_width_of_any_text_is_that_of_its_characters(text, width):
    from workflow.text import _columns, _first_columns

    assert display_width(text) == sum(map(_columns, text))
    assert _first_columns(text, width) == text[:width] or display_width(text[:width]) > width
