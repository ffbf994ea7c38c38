"""Acceptance scenarios of DOMAIN.md, read back through `nhiemvu … --json`.

Statuses are always asked for at an explicit cut-off (`--as-of`), never "today",
so the answers do not depend on when the suite runs. All business dates are in
2023, long before the wall clock, so nothing here is refused as "in the future".
"""

from __future__ import annotations

import json
import unicodedata

import pytest
import sqlalchemy as sa
from nhiemvu_cli import Nhiemvu as CliTool

from events.database import make_engine

DIRECTIVE = "129/TB-UBND"


class Nhiemvu(CliTool):
    """The shared CLI helper, with statuses at a cut-off and quick assignment."""

    def task(self, task_id: str, as_of: str, *extra: str) -> dict:
        return self.json("task", "show", task_id, "--as-of", as_of, *extra)

    def statuses(self, as_of: str, *filters: str) -> dict[str, str]:
        return {r["id"]: r["status"] for r in self.json("task", "list", "--as-of", as_of, *filters)}

    def assign(self, task_id: str, *args: str, title: str = "Nhiệm vụ") -> str:
        self.ok(
            "task", "assign", "--directive", DIRECTIVE, "--title", title, "--id", task_id, *args
        )
        return task_id


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("agency", "add", "SCT", "--name", "Sở Công Thương", "--kind", "so")
    nv.ok("directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Kết luận phiên họp")
    return nv


# -- the status taxonomy at cut-offs ---------------------------------------------------------


@pytest.fixture
def portfolio(nv) -> Nhiemvu:
    """One task per path through the taxonomy (DOMAIN.md, "Task status taxonomy")."""
    nv.assign("ON-TIME", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok("task", "complete", "ON-TIME", "--on", "30/03/2023")
    nv.assign("LATE", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok("task", "complete", "LATE", "--on", "10/04/2023")
    nv.assign("DUTY", "--lead", "STC", "--no-deadline")
    nv.ok("task", "complete", "DUTY", "--on", "01/06/2023")
    nv.assign("DROPPED", "--lead", "STC", "--period", "2023Q2")
    nv.ok("task", "cancel", "DROPPED", "--on", "01/05/2023", "--reason", "Không còn cần thiết")
    nv.assign("OPEN", "--lead", "SCT", "--deadline", "30/04/2023")
    return nv


CUTOFFS = {
    # The deadline day itself is still "in time": effective deadline ≥ C.
    "31/03/2023": {
        "ON-TIME": "done_on_time",
        "LATE": "in_progress",
        "DUTY": "ongoing",
        "DROPPED": "in_progress",
        "OPEN": "in_progress",
    },
    "01/04/2023": {
        "ON-TIME": "done_on_time",
        "LATE": "overdue",
        "DUTY": "ongoing",
        "DROPPED": "in_progress",
        "OPEN": "in_progress",
    },
    "30/04/2023": {
        "ON-TIME": "done_on_time",
        "LATE": "done_late",
        "DUTY": "ongoing",
        "DROPPED": "in_progress",
        "OPEN": "in_progress",
    },
    "01/05/2023": {
        "ON-TIME": "done_on_time",
        "LATE": "done_late",
        "DUTY": "ongoing",
        "DROPPED": "cancelled",
        "OPEN": "overdue",
    },
    "01/06/2023": {
        "ON-TIME": "done_on_time",
        "LATE": "done_late",
        "DUTY": "done",
        "DROPPED": "cancelled",
        "OPEN": "overdue",
    },
}


@pytest.mark.parametrize("cutoff", list(CUTOFFS))
def test_statuses_at_cutoffs(portfolio, cutoff):
    assert portfolio.statuses(cutoff) == CUTOFFS[cutoff]


def test_status_before_completion_is_open_even_if_completion_is_logged(portfolio):
    # Completed on 30/03, asked as of 29/03: the completion had not happened yet.
    task = portfolio.task("ON-TIME", "29/03/2023")
    assert task["status"] == "in_progress" and task["completed_on"] is None


def test_days_overdue(portfolio):
    assert portfolio.task("LATE", "31/03/2023")["days_overdue"] == 0
    assert portfolio.task("LATE", "05/04/2023")["days_overdue"] == 5
    # Once completed late, the lateness is frozen at the completion date.
    assert portfolio.task("LATE", "31/12/2023")["days_overdue"] == 10
    assert portfolio.task("OPEN", "31/05/2023")["days_overdue"] == 31
    assert portfolio.task("ON-TIME", "31/12/2023")["days_overdue"] == 0
    assert portfolio.task("DUTY", "31/12/2023")["days_overdue"] == 0
    assert portfolio.task("DROPPED", "31/12/2023")["days_overdue"] == 0


# -- effective deadline ----------------------------------------------------------------------


def test_extension_approved_before_the_deadline_replaces_it(nv):
    nv.assign("K3", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok("task", "extend", "K3", "--to", "30/04/2023", "--on", "25/03/2023")
    nv.ok("task", "complete", "K3", "--on", "20/04/2023")

    task = nv.task("K3", "31/12/2023")
    assert task["status"] == "done_on_time" and task["days_overdue"] == 0
    assert task["deadline"] == task["current_deadline"] == "2023-04-30"
    assert task["original_deadline"] == "2023-03-31"
    assert task["extensions"][0]["in_time"] is True
    # Before the approval the old deadline was in force …
    assert nv.task("K3", "24/03/2023")["deadline"] == "2023-03-31"
    # … after it, the task is not overdue past the original date.
    assert nv.task("K3", "05/04/2023")["status"] == "in_progress"


def test_extension_approved_on_the_deadline_day_is_in_time(nv):
    nv.assign("K", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok("task", "extend", "K", "--to", "30/04/2023", "--on", "31/03/2023")
    nv.ok("task", "complete", "K", "--on", "15/04/2023")
    assert nv.task("K", "31/12/2023")["status"] == "done_on_time"


def test_extension_approved_after_the_deadline_does_not_erase_lateness(nv):
    nv.assign("K4", "--lead", "SXD", "--deadline", "31/03/2023")
    result = nv.ok("task", "extend", "K4", "--to", "30/04/2023", "--on", "05/04/2023")
    assert "Lưu ý:" in result.stderr  # the user is warned when logging it
    nv.ok("task", "complete", "K4", "--on", "20/04/2023")

    task = nv.task("K4", "31/12/2023")
    assert task["status"] == "done_late" and task["days_overdue"] == 20
    assert task["deadline"] == "2023-03-31"  # effective, for scoring
    assert task["current_deadline"] == "2023-04-30"  # for urging
    assert task["extensions"][0]["in_time"] is False
    # Between the late approval and the completion it stays overdue.
    assert nv.task("K4", "10/04/2023")["status"] == "overdue"


def test_second_extension_after_a_late_one_does_not_restore_the_deadline(nv):
    # Once lateness is established, a further (timely relative to the new date)
    # extension must not turn the task into an on-time one.
    nv.assign("K", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok("task", "extend", "K", "--to", "30/04/2023", "--on", "05/04/2023")
    nv.ok("task", "extend", "K", "--to", "31/05/2023", "--on", "25/04/2023")
    nv.ok("task", "complete", "K", "--on", "20/05/2023")
    task = nv.task("K", "31/12/2023")
    assert task["status"] == "done_late" and task["deadline"] == "2023-03-31"
    assert task["current_deadline"] == "2023-05-31"


# -- the two times --------------------------------------------------------------------------


def test_late_logging_of_an_on_time_completion_counts_as_on_time(nv):
    nv.assign("K", "--lead", "SXD", "--deadline", "31/03/2023")
    # Logged now, years after 30/03/2023: the business date decides.
    nv.ok("task", "complete", "K", "--on", "30/03/2023")
    assert nv.task("K", "31/12/2023")["status"] == "done_on_time"
    completed = nv.json("task", "history", "K")[-1]
    assert completed["occurred_at"] < completed["recorded_at"]
    # As known at a time before anything was recorded, the task did not exist yet.
    unknown = nv.run("task", "show", "K", "--known-at", "01/01/2000")
    assert unknown.exit_code == 1
    assert "Nhiệm vụ K được ghi vào sổ ngày " in unknown.stderr
    assert "sau ngày 01/01/2000 được hỏi (--known-at)" in unknown.stderr


def test_as_of_before_assignment_says_when_it_was_assigned_and_is_not_listed(nv):
    nv.assign("LATER", "--lead", "SXD", "--deadline", "30/06/2023", "--assigned-on", "20/03/2023")
    before = nv.run("task", "show", "LATER", "--as-of", "19/03/2023", "--json")
    assert before.exit_code == 1 and isinstance(before.exception, SystemExit)
    assert before.stderr == (
        "Lỗi: Nhiệm vụ LATER được giao ngày 20/03/2023, sau ngày 19/03/2023 được hỏi (--as-of): "
        "khi đó chưa có nhiệm vụ này. Hãy xem tại một ngày từ 20/03/2023 trở đi.\n"
    )
    assert before.stdout == ""
    assert nv.statuses("19/03/2023") == {}
    assert nv.statuses("20/03/2023") == {"LATER": "in_progress"}


# -- filters and codes -----------------------------------------------------------------------


def test_list_filters_by_agency_and_status(portfolio):
    assert portfolio.statuses("01/05/2023", "--agency", "SXD") == {
        "ON-TIME": "done_on_time",
        "LATE": "done_late",
    }
    assert portfolio.statuses("01/05/2023", "--status", "overdue") == {"OPEN": "overdue"}
    assert portfolio.statuses("01/05/2023", "--agency", "SXD", "--status", "done_late") == {
        "LATE": "done_late"
    }
    assert portfolio.statuses("01/05/2023", "--agency", "STC", "--status", "done_late") == {}
    assert portfolio.statuses("01/06/2023", "--agency", "stc") == {
        "DUTY": "done",
        "DROPPED": "cancelled",
    }


def test_two_leads_each_see_the_task(nv):
    nv.assign(
        "BOTH", "--lead", "SXD", "--lead", "STC", "--deadline", "30/06/2023", "--coordinate", "SCT"
    )
    assert nv.statuses("01/04/2023", "--agency", "SXD") == {"BOTH": "in_progress"}
    assert nv.statuses("01/04/2023", "--agency", "STC") == {"BOTH": "in_progress"}
    # Coordinating is not leading: SCT is not accountable for it.
    assert nv.statuses("01/04/2023", "--agency", "SCT") == {}


def test_list_by_agency_as_of_before_a_reassignment_shows_the_lead_of_that_day(nv):
    nv.assign("MOVED", "--lead", "SXD", "--deadline", "30/06/2023")
    nv.ok("task", "reassign", "MOVED", "--lead", "STC", "--on", "01/05/2023")
    assert nv.statuses("01/06/2023", "--agency", "STC") == {"MOVED": "in_progress"}
    assert nv.statuses("01/06/2023", "--agency", "SXD") == {}
    # On 15/04 SXD led it.
    assert nv.statuses("15/04/2023", "--agency", "SXD") == {"MOVED": "in_progress"}


def test_agency_codes_are_case_insensitive_everywhere(nv):
    nv.ok("agency", "head", "sct", "--name", "Phan Văn A", "--from", "01/01/2023")
    nv.ok(
        "agency",
        "deputy",
        "Sct",
        "--name",
        "Đỗ Thị B",
        "--field",
        "thương mại",
        "--from",
        "01/01/2023",
    )
    nv.assign("T1", "--lead", "sxd", "--coordinate", "sTc", "--deadline", "30/06/2023")
    task = nv.task("T1", "01/04/2023")
    assert task["leads"] == ["SXD"] and task["coordinators"] == ["STC"]
    assert nv.statuses("01/04/2023", "--agency", "sXd") == {"T1": "in_progress"}
    nv.ok("task", "reassign", "T1", "--lead", "sct", "--on", "01/04/2023")
    assert nv.task("T1", "02/04/2023")["leads"] == ["SCT"]
    out = nv.json(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "5/TB-VP",
        "--on",
        "06/04/2023",
        "--head",
        "sct",
        "--agency",
        "stc",
        "--field",
        "thương mại",
    )
    assert [(x["kind"], x["agency"], x["cascaded"]) for x in out["targets"]] == [
        ("agency", "STC", False),
        ("head", "SCT", False),
        ("deputy", "SCT", True),
    ]


def test_task_ids_are_case_insensitive(nv):
    task_id = nv.json(
        "task",
        "assign",
        "--directive",
        DIRECTIVE,
        "--title",
        "X",
        "--lead",
        "SXD",
        "--deadline",
        "30/06/2023",
    )["id"]
    assert task_id == "NV-00001"
    assert nv.task("nv-00001", "01/04/2023")["id"] == "NV-00001"
    nv.ok("task", "progress", "nv-00001", "--percent", "10", "--on", "01/04/2023")


def test_vietnamese_input_in_nfd_is_stored_nfc(nv):
    def nfd(text: str) -> str:
        decomposed = unicodedata.normalize("NFD", text)
        assert decomposed != text  # the test really types decomposed text
        return decomposed

    nv.ok(
        "agency",
        "add",
        "SNN",
        "--name",
        nfd("Sở Nông nghiệp và Phát triển nông thôn"),
        "--kind",
        "so",
    )
    nv.ok("agency", "head", "SNN", "--name", nfd("Nguyễn Thị Hương"), "--from", "01/01/2023")
    nv.ok(
        "agency",
        "deputy",
        "SNN",
        "--name",
        nfd("Vũ Đức Thắng"),
        "--field",
        nfd("thủy lợi"),
        "--from",
        "01/01/2023",
    )
    nv.assign("T", "--lead", "SNN", "--deadline", "30/06/2023", title=nfd("Sở Xây dựng chủ trì"))
    nv.ok("task", "cancel", "T", "--on", "01/04/2023", "--reason", nfd("Đã lồng ghép"))
    # The field given in NFD (and another case) still finds the deputy.
    out = nv.json(
        "reprimand",
        "issue",
        "--kind",
        "phe-binh",
        "--doc",
        "6/TB-VP",
        "--on",
        "06/04/2023",
        "--head",
        "SNN",
        "--field",
        nfd("Thủy lợi"),
    )

    agency = {r["code"]: r for r in nv.json("agency", "list")}["SNN"]
    assert agency["name"] == "Sở Nông nghiệp và Phát triển nông thôn"
    assert agency["head"] == "Nguyễn Thị Hương"
    assert agency["deputies"][0]["person"] == "Vũ Đức Thắng"
    task = nv.task("T", "02/04/2023")
    assert task["title"] == "Sở Xây dựng chủ trì" and task["cancel_reason"] == "Đã lồng ghép"
    assert [x["person"] for x in out["targets"]] == ["Nguyễn Thị Hương", "Vũ Đức Thắng"]
    assert out["targets"][1]["cascaded"] is True

    # And in the log itself, not only in what the CLI prints.
    engine = make_engine(nv.db_url)
    try:
        with engine.connect() as connection:
            payloads = connection.execute(sa.text("SELECT payload FROM events")).scalars().all()
    finally:
        engine.dispose()
    for payload in payloads:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        text = json.dumps(json.loads(text), ensure_ascii=False)
        assert unicodedata.is_normalized("NFC", text), text


def test_filters_and_task_ids_typed_in_nfd_find_what_was_stored_in_nfc(nv):
    def nfd(text: str) -> str:
        decomposed = unicodedata.normalize("NFD", text)
        assert decomposed != text
        return decomposed

    nv.ok("agency", "add", "SỞXD", "--name", "Sở Xây dựng mới", "--kind", "so")
    nv.ok("directive", "add", "01/TB-SỞXD", "--date", "01/03/2023", "--title", "Thông báo")
    task_id = nv.json(
        "task", "assign", "--directive", nfd("01/TB-SỞXD"), "--title", "Rà soát",
        "--lead", nfd("sởxd"), "--deadline", "31/03/2023", "--id", nfd("nv-bổ-1"),
    )["id"]  # fmt: skip
    assert task_id == "NV-BỔ-1"

    for filters in (
        ["--directive", nfd("01/TB-SỞXD")],
        ["--directive", nfd("01/tb-sởxd")],
        ["--agency", nfd("sởxd")],
        ["--agency", nfd("SỞXD"), "--status", "overdue"],
    ):
        listed = nv.json("task", "list", "--as-of", "01/04/2023", *filters)
        assert [r["id"] for r in listed] == [task_id], filters
    report = nv.json("report", "tasks", "--as-of", "01/04/2023", "--agency", nfd("sởxd"))
    assert [r["agency"] for r in report["agencies"]] == ["SỞXD"]
    scores = nv.json("score", "--quarter", "2023Q1", "--agency", nfd("SỞXD"))
    assert [r["agency"] for r in scores] == ["SỞXD"]
    assert nv.task(nfd("nv-bổ-1"), "01/04/2023")["id"] == task_id
    assert nv.task(nfd("NV-BỔ-1"), "01/04/2023", "--known-at", "31/12/2099")["id"] == task_id
    assert len(nv.json("task", "history", nfd("NV-BỔ-1"))) == 1


def test_known_at_keeps_documents_that_were_already_recorded(nv):
    nv.assign("K", "--lead", "SXD", "--deadline", "31/03/2023")
    nv.ok(
        "reprimand",
        "issue",
        "--kind",
        "nhac-nho",
        "--doc",
        "3/TB-VP",
        "--on",
        "05/04/2023",
        "--agency",
        "SXD",
        "--task",
        "K",
    )
    now = nv.task("K", "30/04/2023")
    # Everything was recorded before 2099: knowing "as of 2099" must change nothing.
    known = nv.task("K", "30/04/2023", "--known-at", "31/12/2099")
    assert [d["number"] for d in now["documents"]] == ["3/TB-VP"]
    assert known["documents"] == now["documents"]


def test_known_at_leaves_out_a_document_retracted_by_then(nv):
    nv.assign("K", "--lead", "SXD", "--deadline", "31/03/2023")
    ids = [
        nv.json("reprimand", "issue", "--kind", "nhac-nho", "--doc", number, "--on",
                "05/04/2023", "--agency", "SXD", "--task", "K")["event_id"]
        for number in ("3/TB-VP", "4/TB-VP")
    ]  # fmt: skip
    nv.ok("correct", ids[1], "--reason", "Ghi nhầm")
    known = nv.task("K", "30/04/2023", "--known-at", "31/12/2099")
    assert [d["number"] for d in known["documents"]] == ["3/TB-VP"]
