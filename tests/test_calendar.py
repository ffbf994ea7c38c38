"""The Vietnamese working-day calendar: holidays, Tết, swapped days, override files."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.calendar import (
    DEFAULT_OVERRIDES_FILE,
    MAX_WORKING_DAYS,
    CalendarFileError,
    CalendarOverrides,
    WorkingCalendar,
    check_deadline_working_days,
    load_overrides,
)
from workflow.errors import DomainError

D = date


@pytest.fixture(scope="module")
def plain() -> WorkingCalendar:
    """Only what the `holidays` package knows: no override file."""
    return WorkingCalendar(CalendarOverrides())


@pytest.fixture(scope="module")
def shipped() -> WorkingCalendar:
    return WorkingCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- public holidays ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_off", "last_off", "before", "after"),
    [
        # Tết Quý Mão 2023: 29 tháng Chạp (Fri 20/01) to mùng 5 (Thu 26/01).
        (D(2023, 1, 20), D(2023, 1, 26), D(2023, 1, 19), D(2023, 1, 27)),
        # Tết Giáp Thìn 2024: Thu 08/02 to Wed 14/02; Fri 09/02 is giao thừa.
        (D(2024, 2, 8), D(2024, 2, 14), D(2024, 2, 7), D(2024, 2, 15)),
        # Tết Ất Tỵ 2025: Sat 25/01 to Sun 02/02 (Mon 27/01 is the day in lieu of Sat 01/02).
        (D(2025, 1, 25), D(2025, 2, 2), D(2025, 1, 24), D(2025, 2, 3)),
    ],
)
def test_lunar_new_year_is_not_worked(plain, first_off, last_off, before, after):
    assert all(not plain.is_working_day(day) for day in days(first_off, last_off))
    assert plain.is_working_day(before)
    assert plain.is_working_day(after)


@pytest.mark.parametrize(
    "day",
    [
        D(2023, 1, 2),  # Tết Dương lịch 2023 fell on a Sunday: Monday in lieu
        D(2024, 4, 18),  # Giỗ Tổ Hùng Vương 2024 (Thursday)
        D(2025, 4, 7),  # Giỗ Tổ Hùng Vương 2025 (Monday)
        D(2023, 5, 2),  # Giỗ Tổ 2023 fell on Saturday 29/04: Tuesday in lieu
        D(2023, 5, 3),  # 30/4/2023 fell on a Sunday: Wednesday in lieu
        D(2024, 4, 30),
        D(2024, 5, 1),
        D(2025, 4, 30),
        D(2025, 5, 1),
        D(2023, 9, 1),  # Quốc khánh 2023: Fri 01/09, Sat 02/09, Monday 04/09 in lieu
        D(2023, 9, 4),
        D(2024, 9, 2),
        D(2024, 9, 3),
        D(2025, 9, 1),
        D(2025, 9, 2),
    ],
)
def test_public_holidays_are_not_worked(plain, day):
    assert day.weekday() < 5, "the case must be a weekday to mean anything"
    assert not plain.is_working_day(day)


def test_an_ordinary_week_is_monday_to_friday(plain):
    week = days(D(2024, 3, 11), D(2024, 3, 17))
    assert [plain.is_working_day(day) for day in week] == [True] * 5 + [False] * 2


# -- swapped days -----------------------------------------------------------------------


def test_shipped_file_makes_the_2024_to_2026_swaps_complete(shipped, plain):
    # Off Monday 29/04/2024, worked Saturday 04/05/2024 (Công văn 2450/VPCP-KGVX).
    assert not shipped.is_working_day(D(2024, 4, 29))
    assert shipped.is_working_day(D(2024, 5, 4))
    # Off Friday 02/05/2025, worked Saturday 26/04/2025.
    assert not shipped.is_working_day(D(2025, 5, 2))
    assert shipped.is_working_day(D(2025, 4, 26))
    # Without the file, the package gives the day off but not the Saturday worked.
    assert not plain.is_working_day(D(2024, 5, 4))
    # Off Friday 02/01/2026, worked Saturday 10/01/2026 (Công văn 12729/VPCP-KGVX),
    # which the package (0.109) has neither half of.
    assert not shipped.is_working_day(D(2026, 1, 2)) and plain.is_working_day(D(2026, 1, 2))
    assert shipped.is_working_day(D(2026, 1, 10))
    assert shipped.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 5)


def test_shipped_file_names_a_source_for_every_entry():
    overrides = load_overrides(DEFAULT_OVERRIDES_FILE)
    entries = overrides.days_off + overrides.working_days
    assert entries, "the shipped file lists the known swaps"
    assert all("VPCP" in o.note or "TB-" in o.note for o in entries)
    assert all(o.day.weekday() >= 5 for o in overrides.working_days)
    assert all(o.day.weekday() < 5 for o in overrides.days_off)


def write(tmp_path, text: str):
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_adds_a_working_saturday_and_a_day_off(tmp_path, plain):
    path = write(
        tmp_path,
        """
        [[working_days]]
        date = 2024-03-16
        note = "Thứ Bảy làm bù (thử nghiệm)"

        [[days_off]]
        date = 2024-03-13
        note = "Nghỉ thêm (thử nghiệm)"
        """,
    )
    calendar = WorkingCalendar(load_overrides(path))
    assert calendar.is_working_day(D(2024, 3, 16))
    assert not calendar.is_working_day(D(2024, 3, 13))
    assert plain.is_working_day(D(2024, 3, 13)) and not plain.is_working_day(D(2024, 3, 16))
    # Mon 11/03 + 5 working days: Tue, Thu, Fri, Sat (worked), Mon 18/03.
    assert calendar.add_working_days(D(2024, 3, 11), 5) == D(2024, 3, 18)
    assert plain.add_working_days(D(2024, 3, 11), 5) == D(2024, 3, 18)
    assert calendar.add_working_days(D(2024, 3, 11), 4) == D(2024, 3, 16)
    assert plain.add_working_days(D(2024, 3, 11), 4) == D(2024, 3, 15)


def test_iso_string_dates_are_accepted(tmp_path):
    path = write(tmp_path, '[[working_days]]\ndate = "2024-03-16"\nnote = "x"\n')
    assert load_overrides(path).working_days[0].day == D(2024, 3, 16)


# -- deadlines and reminders -------------------------------------------------------------


def test_three_working_days_from_the_monday_before_tet_2024(plain):
    # Tue 06, Wed 07, then Tết until Wed 14/02: the third working day is Thu 15/02.
    assert plain.add_working_days(D(2024, 2, 5), 3) == D(2024, 2, 15)
    # Assigned on giao thừa itself (a holiday): the first working day after Tết.
    assert plain.add_working_days(D(2024, 2, 9), 1) == D(2024, 2, 15)


def test_add_working_days_across_tet_2025(plain):
    assert plain.add_working_days(D(2025, 1, 24), 1) == D(2025, 2, 3)
    # Mon 20/01: Tue–Fri are days 1–4, then Mon 03/02 to Fri 07/02 are days 5–9.
    assert plain.add_working_days(D(2025, 1, 20), 9) == D(2025, 2, 7)
    assert plain.add_working_days(D(2025, 1, 20), 10) == D(2025, 2, 10)


def test_reminder_three_working_days_before_a_deadline_after_tet(plain):
    # Deadline Fri 16/02/2024: Thu 15, then back over Tết to Wed 07 and Tue 06.
    assert plain.working_days_before(D(2024, 2, 16), 3) == D(2024, 2, 6)
    assert plain.working_days_before(D(2024, 3, 15), 3) == D(2024, 3, 12)


def test_next_and_previous_working_day(plain):
    assert plain.next_working_day(D(2024, 2, 7)) == D(2024, 2, 15)
    assert plain.next_working_day(D(2024, 3, 15)) == D(2024, 3, 18)
    assert plain.previous_working_day(D(2024, 2, 15)) == D(2024, 2, 7)


def test_working_days_between(plain):
    assert plain.working_days_between(D(2024, 2, 5), D(2024, 2, 15)) == 3
    assert plain.working_days_between(D(2024, 2, 15), D(2024, 2, 5)) == -3
    assert plain.working_days_between(D(2024, 3, 11), D(2024, 3, 11)) == 0
    # The whole of 2024: 262 weekdays minus 12 weekday holidays and days in lieu.
    assert plain.working_days_between(D(2023, 12, 31), D(2024, 12, 31)) == 250


@given(
    start=st.dates(min_value=D(2019, 1, 1), max_value=D(2027, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_and_between_agree(start, n):
    calendar = WorkingCalendar()
    due = calendar.add_working_days(start, n)
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(start, due) == n
    assert calendar.working_days_before(due, n) == start or not calendar.is_working_day(start)


SHARED = WorkingCalendar()  # one calendar asked again and again, as by an escalation pass


@given(
    day=st.dates(min_value=D(2019, 1, 1), max_value=D(2027, 12, 31)),
    n=st.integers(min_value=1, max_value=10),
)
def test_working_days_before_is_the_same_asked_again(day, n):
    walked = day
    for _ in range(n):
        walked = SHARED.previous_working_day(walked)
    assert SHARED.working_days_before(day, n) == walked
    assert SHARED.working_days_before(day, n) == walked  # the remembered answer


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_counts_must_be_positive_integers(plain, n):
    plain.working_days_before(D(2024, 1, 2), 1)  # remembered: True must not find it
    with pytest.raises(ValueError, match="số nguyên dương"):
        plain.add_working_days(D(2024, 1, 2), n)
    with pytest.raises(ValueError, match="số nguyên dương"):
        plain.working_days_before(D(2024, 1, 2), n)


# -- invalid override files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[working_days]\ndate = 2024-03-16", "cú pháp TOML"),
        ('[[working_days]]\nnote = "x"\n', "mục working_days thứ 1: thiếu 'date'"),
        ('[[days_off]]\ndate = "16/03/2024"\nnote = "x"\n', "'date' = '16/03/2024'"),
        ('[[days_off]]\ndate = 20240316\nnote = "x"\n', "không phải một ngày"),
        ('[[days_off]]\ndate = 2024-03-16T08:00:00\nnote = "x"\n', "không phải một ngày"),
        ("[[days_off]]\ndate = 2024-03-13\n", "ngày 13/03/2024): thiếu 'note'"),
        ('[[days_off]]\ndate = 2024-03-13\nnote = "  "\n', "thiếu 'note'"),
        (
            '[[days_off]]\ndate = 2024-03-13\nnote = "a"\n'
            '[[days_off]]\ndate = 2024-03-13\nnote = "b"\n',
            "mục days_off thứ 2: ngày 13/03/2024 đã có ở mục thứ 1",
        ),
        (
            '[[days_off]]\ndate = 2024-03-16\nnote = "a"\n'
            '[[working_days]]\ndate = 2024-03-16\nnote = "b"\n',
            "16/03/2024 vừa là ngày nghỉ thêm vừa là ngày làm việc bù",
        ),
        ('[[working_day]]\ndate = 2024-03-16\nnote = "x"\n', "khóa 'working_day'"),
        ('[[days_off]]\ndate = 2024-03-13\nnote = "x"\nreason = "y"\n', "khóa 'reason'"),
        ('days_off = "2024-03-13"\n', "'days_off' phải là danh sách"),
        ('days_off = ["2024-03-13"]\n', "mục days_off thứ 1: phải là một bảng có 'date'"),
        ("working_days = [20240316]\n", "mục working_days thứ 1: phải là một bảng"),
    ],
)
def test_invalid_override_files_are_refused_naming_the_entry(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(CalendarFileError) as caught:
        load_overrides(path)
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_missing_override_file(tmp_path):
    with pytest.raises(CalendarFileError, match="Không tìm thấy tệp lịch hoán đổi"):
        load_overrides(tmp_path / "none.toml")


def test_a_deadline_in_working_days_is_at_most_some_fourteen_years(plain):
    assert check_deadline_working_days(MAX_WORKING_DAYS) == MAX_WORKING_DAYS == 3650
    last = plain.add_working_days(D(2023, 3, 20), MAX_WORKING_DAYS)
    assert D(2037, 1, 1) <= last <= D(2038, 1, 1)
    for n in (0, MAX_WORKING_DAYS + 1, 100_000_000, True, "5"):
        with pytest.raises(DomainError):
            check_deadline_working_days(n)
