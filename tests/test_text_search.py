"""Finding a task by words of its title, typed with or without diacritics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.text import fold, matches_words

TITLE = "Đẩy nhanh tiến độ giải phóng mặt bằng các dự án hạ tầng giao thông, đô thị"


def test_folding_drops_case_and_diacritics_and_reads_d_bar_as_d():
    assert fold("Đẩy nhanh TIẾN ĐỘ") == "day nhanh tien do"
    # the same word typed as precomposed or combining characters
    assert fold("Hoa\u0300ng") == fold("Hoàng") == "hoang"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("giải phóng mặt bằng", True),
        ("giai phong mat bang", True),
        ("GIẢI PHÓNG", True),
        ("giao thông, đô thị", True),  # punctuation between words does not matter
        ("giai phong mat b", True),  # the last word may be unfinished
        ("", True),
        ("do thi", True),
        ("đô thị giao", False),  # words in another order
        ("phong giai", False),
        ("tien do giai phong mat bang cac du an ha tang giao thong do thi xa", False),
        ("an ha", True),
        ("ang", False),  # inside a word, not at its start
    ],
)
def test_the_words_are_found_one_after_another(query, found):
    assert matches_words(TITLE, query) is found


def test_short_words_are_not_found_scattered_through_the_title():
    assert not matches_words("Tổng kết tiến độ thực hiện Chỉ thị 02/CT-UBND", "do thi")


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)


@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ,.-/0123456789", max_size=60))
def test_a_title_finds_itself_typed_either_way(title):
    assert fold(fold(title)) == fold(title)
    assert matches_words(title, title)
    assert matches_words(title, fold(title))
    assert matches_words(title, title.upper())
