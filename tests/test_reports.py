"""The periodic figures: status counts, overdue rates and reprimand counting."""

from datetime import date

import pytest

from workflow.reports import Period, period_label, reprimand_report, task_report
from workflow.tasks import derive_task


def _task(task_id, leads, assigned, due=None, completed=None, cancelled=None):
    facts = [
        {
            "id": f"{task_id}-a",
            "type": "task.assigned",
            "data": {
                "task_id": task_id,
                "directive": "1/TB",
                "title": task_id,
                "leads": leads,
                "assigned_on": assigned,
                "deadline": {"kind": "date" if due else "none", "due": due},
            },
        }
    ]
    if completed:
        facts.append({"id": f"{task_id}-c", "type": "task.completed", "data": {"on": completed}})
    if cancelled:
        facts.append(
            {
                "id": f"{task_id}-x",
                "type": "task.cancelled",
                "data": {"on": cancelled, "reason": "r"},
            }
        )
    return derive_task(facts)


def test_task_report_counts_statuses_and_both_overdue_rates():
    tasks = [
        _task("T1", ["SXD"], "2023-01-05", "2023-03-31", completed="2023-03-30"),  # on time
        _task("T2", ["SXD"], "2023-01-05", "2023-02-28", completed="2023-03-10"),  # late
        _task("T3", ["SXD", "STC"], "2023-02-01", "2023-03-15"),  # overdue at 31/03
        _task("T4", ["STC"], "2023-03-01"),  # no deadline, open
        _task("T5", ["STC"], "2023-03-01", "2023-04-30"),  # in progress
        _task("T6", ["STC"], "2023-03-01", "2023-04-30", cancelled="2023-03-20"),
    ]
    report = task_report(tasks, Period(date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023"))
    total = report["total"]
    assert (total["done_on_time"], total["done_late"], total["overdue"]) == (1, 1, 1)
    assert (total["ongoing"], total["in_progress"], total["cancelled"]) == (1, 1, 1)
    assert total["total"] == 5 and total["with_deadline"] == 4
    assert total["overdue_rate_all"] == 20.0
    assert total["overdue_rate_with_deadline"] == 25.0
    by_agency = {row["agency"]: row for row in report["agencies"]}
    assert by_agency["SXD"]["overdue"] == 1 and by_agency["STC"]["overdue"] == 1
    assert by_agency["STC"]["total"] == 3


def test_period_takes_carried_over_open_tasks_but_not_closed_ones():
    carried = _task("OLD", ["SXD"], "2022-10-01", "2022-12-15")
    closed = _task("DONE", ["SXD"], "2022-10-01", "2022-12-15", completed="2022-12-01")
    later = _task("LATER", ["SXD"], "2023-05-01", "2023-06-01")
    report = task_report(
        [carried, closed, later], Period(date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023")
    )
    assert report["total"]["total"] == 1
    assert report["total"]["overdue"] == 1


def _doc(number, kind, issued_on, *targets):
    return {
        "number": number,
        "kind": kind,
        "issued_on": issued_on,
        "targets": [
            {"kind": k, "agency": a, "person": p, "field": None, "cascaded": c}
            for k, a, p, c in targets
        ],
    }


def test_reprimand_counts_documents_and_distinct_units_and_individuals():
    docs = [
        # agency and its head: two targets
        _doc(
            "1/UBND",
            "nhac_nho",
            "2023-01-10",
            ("agency", "SXD", None, False),
            ("head", "SXD", "Nguyễn Văn An", False),
        ),
        # the same agency again: not a new target
        _doc("2/UBND", "rut_kinh_nghiem", "2023-02-10", ("agency", "SXD", None, False)),
        # phê bình to a head with the cascaded deputy: two individuals
        _doc(
            "3/UBND",
            "phe_binh",
            "2023-03-01",
            ("head", "STC", "Lê Văn Bình", False),
            ("deputy", "STC", "Phạm Thị Cúc", True),
        ),
        _doc("4/UBND", "bieu_duong", "2023-03-05", ("agency", "SCT", None, False)),
        _doc("5/UBND", "phe_binh", "2023-04-01", ("agency", "SCT", None, False)),  # outside
    ]
    report = reprimand_report(docs, date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023")
    assert (report["reminder_docs"], report["reminder_targets"]) == (2, 2)
    assert (report["criticism_docs"], report["criticism_targets"]) == (1, 2)
    assert report["commendation_docs"] == 1
    assert report["sentence"] == (
        "Trong quý I năm 2023, Lãnh đạo Ủy ban nhân dân thành phố đã ban hành 02 văn bản "
        "nhắc nhở, rút kinh nghiệm đối với 02 đơn vị, cá nhân, 01 văn bản phê bình đối với "
        "02 đơn vị, cá nhân; 01 văn bản biểu dương đối với 01 đơn vị, cá nhân."
    )


def test_people_of_the_same_name_heading_two_agencies_are_two_individuals():
    docs = [
        _doc("1/PB", "phe_binh", "2023-02-01", ("head", "SXD", "Nguyễn Văn An", False)),
        _doc("2/PB", "phe_binh", "2023-02-02", ("head", "STC", "Nguyễn Văn An", False)),
        # the same head of SXD again, written in another case: still one person
        _doc("3/PB", "phe_binh", "2023-02-03", ("head", "SXD", "NGUYỄN VĂN AN", False)),
        # named without an agency: one of the two above, not a third person
        _doc("4/PB", "phe_binh", "2023-02-04", ("person", None, "Nguyễn Văn An", False)),
    ]
    report = reprimand_report(docs, date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023")
    assert (report["criticism_docs"], report["criticism_individuals"]) == (4, 2)
    # Alone, a person named without an agency is one individual.
    alone = reprimand_report(docs[3:], date(2023, 1, 1), date(2023, 3, 31), "quý I")
    assert alone["criticism_individuals"] == 1


def test_seed_000_sentence_is_reproduced_from_data():
    reminders = [
        _doc(f"{i}/UBND", "nhac_nho", "2023-02-01", ("agency", f"A{i % 9}", None, False))
        for i in range(13)
    ]
    criticisms = [
        _doc(f"{i}/PB", "phe_binh", "2023-03-01", ("agency", f"B{i}", None, False))
        for i in range(5)
    ]
    criticisms[0]["targets"].append(
        {"kind": "head", "agency": "B0", "person": "Ai Đó", "field": None, "cascaded": False}
    )
    report = reprimand_report(
        reminders + criticisms, date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023"
    )
    assert report["sentence"] == (
        "Trong quý I năm 2023, Lãnh đạo Ủy ban nhân dân thành phố đã ban hành 13 văn bản "
        "nhắc nhở, rút kinh nghiệm đối với 09 đơn vị, cá nhân, 05 văn bản phê bình đối với "
        "06 đơn vị, cá nhân."
    )


@pytest.mark.parametrize(
    ("kind", "start", "end", "label"),
    [
        ("quarter", date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023"),
        ("quarter", date(2023, 10, 1), date(2023, 12, 31), "quý IV năm 2023"),
        ("month", date(2023, 10, 1), date(2023, 10, 31), "tháng 10 năm 2023"),
        ("year", date(2023, 1, 1), date(2023, 12, 31), "năm 2023"),
        (
            "range",
            date(2023, 1, 5),
            date(2023, 2, 5),
            "thời gian từ ngày 05/01/2023 đến ngày 05/02/2023",
        ),
    ],
)
def test_period_labels(kind, start, end, label):
    assert period_label(kind, start, end) == label


def test_a_kind_of_which_nothing_was_issued_is_not_written_as_00():
    one_commendation = [_doc("4/UBND", "bieu_duong", "2023-03-05", ("agency", "SCT", None, False))]
    quarter = (date(2023, 1, 1), date(2023, 3, 31), "quý I năm 2023")
    leadership = "Trong quý I năm 2023, Lãnh đạo Ủy ban nhân dân thành phố"
    assert reprimand_report([], *quarter)["sentence"] == (
        f"{leadership} không ban hành văn bản nhắc nhở, rút kinh nghiệm, phê bình hay biểu dương "
        "nào."
    )
    assert reprimand_report(one_commendation, *quarter)["sentence"] == (
        f"{leadership} không ban hành văn bản nhắc nhở, rút kinh nghiệm hay phê bình nào; đã "
        "ban hành 01 văn bản biểu dương đối với 01 đơn vị, cá nhân."
    )
    criticism = [_doc("5/UBND", "phe_binh", "2023-02-01", ("agency", "SCT", None, False))]
    assert reprimand_report(criticism, *quarter)["sentence"] == (
        f"{leadership} đã ban hành 01 văn bản phê bình đối với 01 đơn vị, cá nhân."
    )
