"""The escalation ladder is read from the rulebook, and the default one is DOMAIN.md's."""

from dataclasses import replace
from datetime import date

from workflow.escalation import DEFAULT_LADDER, ladder_from_rulebook
from workflow.rulebook import rulebook_in_force


def test_default_rulebook_gives_the_domain_ladder():
    ladder = ladder_from_rulebook(rulebook_in_force(date(2023, 6, 1)))
    assert ladder.reminder_working_days == 3
    assert [(s.code, s.level, s.days_overdue) for s in ladder.steps] == [
        ("overdue_1", 1, 1),
        ("overdue_2", 2, 7),
        ("overdue_3", 3, 15),
    ]
    # Same codes and days as the built-in ladder: event ids do not depend on the source.
    assert [(s.code, s.days_overdue) for s in ladder.steps] == [
        (s.code, s.days_overdue) for s in DEFAULT_LADDER.steps
    ]
    assert "Đề xuất phê bình" in ladder.steps[-1].label


def test_the_reminder_takes_the_rulebook_label():
    book = rulebook_in_force(date(2023, 6, 1))
    assert ladder_from_rulebook(book).reminder_text == "Nhắc hạn: còn 3 ngày làm việc"
    renamed = replace(book, escalation=replace(book.escalation, reminder_label="Báo sắp đến hạn"))
    assert ladder_from_rulebook(renamed).reminder_text == "Báo sắp đến hạn: còn 3 ngày làm việc"
