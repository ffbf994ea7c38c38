"""Each event of a task's stream, as `task history` words it for people."""

from __future__ import annotations

from datetime import date

import pytest

from events.catalog import EVENT_TYPES
from workflow import history
from workflow.tasks import RETRACTED

ASSIGNED = {
    "task_id": "NV-00007",
    "directive": "129/TB-UBND",
    "clause": "2.3",
    "title": "Rà soát quy hoạch",
    "leads": ["SXD"],
    "coordinators": ["STC", "SKHDT"],
    "leader": "Phó Chủ tịch Lê Văn C",
    "assigned_on": "2023-03-20",
    "deadline": {"kind": "date", "value": "2023-03-31", "due": "2023-03-31"},
}


def no_versions(_event_id: str) -> int | None:
    return None


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (
            "task.assigned",
            ASSIGNED,
            "chủ trì SXD; phối hợp STC, SKHDT; hạn 31/03/2023; lãnh đạo chỉ đạo: "
            "Phó Chủ tịch Lê Văn C; 129/TB-UBND, mục 2.3: Rà soát quy hoạch",
        ),
        (
            "task.assigned",
            {**ASSIGNED, "clause": None, "coordinators": [], "leader": None},
            "chủ trì SXD; hạn 31/03/2023; 129/TB-UBND: Rà soát quy hoạch",
        ),
        ("task.progress_reported", {"on": "2023-03-25", "percent": 40, "note": None}, "40%"),
        (
            "task.progress_reported",
            {"on": "2023-03-25", "percent": 40, "note": "Đang tổng hợp"},
            "40%: Đang tổng hợp",
        ),
        (
            "task.extension_approved",
            {"on": "2023-03-28", "to": "2023-04-30", "reason": "Chờ số liệu quý"},
            "đến 30/04/2023: Chờ số liệu quý",
        ),
        (
            "task.extension_refused",
            {"on": "2023-03-28", "to": "2023-05-30", "reason": None},
            "đề nghị đến 30/05/2023",
        ),
        ("task.completed", {"on": "2023-04-29", "doc": "12/BC-SXD"}, "văn bản 12/BC-SXD"),
        ("task.completed", {"on": "2023-04-29", "doc": None}, ""),
        ("task.cancelled", {"on": "2023-05-02", "reason": "Không còn cần"}, "Không còn cần"),
        (
            "task.reassigned",
            {"on": "2023-05-01", "from": ["SXD"], "to": ["STC", "SKHDT"], "reason": None},
            "chủ trì SXD → STC, SKHDT",
        ),
        (
            "task.escalated",
            {
                "agencies": ["SXD"],
                "days_overdue": 7,
                "deadline": "2023-03-31",
                "due_on": "2023-04-07",
                "label": "Đề xuất nhắc nhở: quá hạn 7 ngày",
                "level": 2,
                "step": "overdue_2",
            },
            "Đề xuất nhắc nhở: quá hạn 7 ngày (hạn 31/03/2023), gửi SXD",
        ),
        (
            RETRACTED,
            {"event_id": "e-2", "event_type": "task.completed", "reason": "Ghi nhầm ngày"},
            "e-2 (Hoàn thành): Ghi nhầm ngày",
        ),
        ("task.rated_by_someone", {"on": "2023-05-01", "x": 1, "y": None}, "on=2023-05-01, x=1"),
    ],
)
def test_each_event_reads_as_one_line(event_type, data, expected):
    assert history.summary(event_type, data, no_versions) == expected


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        ({"kind": "period", "value": "2023Q2", "due": "2023-06-30"}, "trong quý II năm 2023"),
        ({"kind": "period", "value": "2023-10", "due": "2023-10-31"}, "trong tháng 10 năm 2023"),
        ({"kind": "period", "value": "2023", "due": "2023-12-31"}, "trong năm 2023"),
        # Older data: a year accepted before dates were bounded to 1900–9998.
        (
            {"kind": "period", "value": "9999", "due": "9999-12-31"},
            "trong kỳ 9999 (hạn 31/12/9999)",
        ),
        (
            {"kind": "working_days", "value": 10, "due": "2023-04-03"},
            "trong 10 ngày làm việc (hạn 03/04/2023)",
        ),
        ({"kind": "none", "value": None, "due": None}, "không có thời hạn"),
    ],
)
def test_a_deadline_reads_as_it_was_given(deadline, expected):
    assert history.deadline_text(deadline).startswith(expected)


def test_a_retraction_names_the_event_by_its_number_in_the_stream():
    data = {"event_id": "e-2", "event_type": "task.progress_reported", "reason": None}
    assert history.summary(RETRACTED, data, {"e-2": 2}.get) == "#2 (Báo cáo tiến độ)"


def test_every_event_type_the_ledger_writes_has_a_vietnamese_label():
    assert set(EVENT_TYPES) - set(history.LABELS) == set()
    assert history.label("task.completed") == "Hoàn thành"
    assert history.label("directive.registered") == "Ghi văn bản chỉ đạo"
    assert history.label("agency.registered") == "Đăng ký cơ quan"
    assert history.label("some.future_type") == "some.future_type"


def test_the_business_date_is_the_one_the_type_carries():
    assert history.business_date("task.escalated", {"due_on": "2023-04-07"}) == date(2023, 4, 7)
    assert history.business_date(RETRACTED, {"event_id": "e-2"}) is None
