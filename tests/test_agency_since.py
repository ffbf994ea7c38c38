"""An agency's establishment date (`agency add --since`): nothing of it before that day.

Vietnam's 2025 reorganisation merged departments into new ones established on
01/03/2025. Such an agency takes no task, appointment, document or merger dated
before its opening, is not listed on a day before it, and has no score for a period
that ended before it. An agency registered without the date — every registration
before the option existed — stands from before the ledger's first day, as it did.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nhiemvu_cli import Nhiemvu

from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore, NewEvent

DIRECTIVE = "1/TB-UBND"

# What the refusals say to fix a wrong establishment date (there is no command for it).
OPENING_FIX = (
    "Nếu ngày thành lập ghi sai: rút lại việc đăng ký cơ quan (`nhiemvu correct "
    "MÃ_SỰ_KIỆN --reason …`, mã trong `nhiemvu agency history SNV`; những gì đã ghi cho "
    "cơ quan phải rút lại trước) rồi đăng ký lại với ngày đúng (`nhiemvu agency add SNV … "
    "--since NGÀY`).\n"
)


def not_yet(day: str) -> str:
    return (
        f"Lỗi: Cơ quan SNV được thành lập từ ngày 01/03/2025, nên chưa có vào ngày {day}. "
        f"Hãy kiểm tra lại ngày. {OPENING_FIX}"
    )


@pytest.fixture
def city(db_url) -> Nhiemvu:
    """SXD, registered without a date; SNV, established on 01/03/2025; a directive."""
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "Nguyễn Văn An", "--from", "01/01/2020")
    nv.ok("agency", "add", "SNV", "--name", "Sở Nội vụ", "--kind", "so", "--since", "01/03/2025")
    nv.ok("directive", "add", DIRECTIVE, "--date", "10/01/2025", "--title", "Kết luận")
    return nv


def assign(nv: Nhiemvu, *args: str) -> str:
    return nv.json("task", "assign", "--directive", DIRECTIVE, "--title", "Việc", *args)["id"]


def listed(nv: Nhiemvu, *args: str) -> dict[str, dict]:
    return {r["code"]: r for r in nv.json("agency", "list", *args)}


def test_the_establishment_date_is_recorded_and_shown(city):
    registered = city.json(
        "agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so", "--since", "2025-03-01"
    )
    event = city.event(registered["events"][0])
    assert event.data == {"code": "SYT", "name": "Sở Y tế", "kind": "so", "since": "2025-03-01"}
    assert event.occurred_at.astimezone(UTC) == datetime(2025, 2, 28, 17, tzinfo=UTC)
    # Without --since the payload is the one registrations always had.
    sxd_registration = city.json("agency", "history", "SXD")[0]
    assert sxd_registration["data"] == {"code": "SXD", "name": "Sở Xây dựng", "kind": "so"}

    agencies = listed(city)
    assert {code: a["since"] for code, a in agencies.items()} == {
        "SNV": "2025-03-01",
        "SXD": None,
        "SYT": "2025-03-01",
    }
    table = city.ok("agency", "list").stdout.splitlines()
    header = table[0]
    assert header.index("Loại") < header.index("Thành lập") < header.index("Người đứng đầu")
    (snv,) = [line for line in table if line.startswith("SNV ")]
    assert "01/03/2025" in snv
    (sxd,) = [line for line in table if line.startswith("SXD ")]
    assert "/" not in sxd

    # Not listed on a day before it was established; listed from that day on.
    assert list(listed(city, "--on", "28/02/2025")) == ["SXD"]
    before = city.ok("agency", "list", "--on", "28/02/2025").stdout
    assert "SNV" not in before and "Thành lập" not in before
    assert list(listed(city, "--on", "01/03/2025")) == ["SNV", "SXD", "SYT"]
    assert listed(city, "--on", "01/03/2025")["SNV"]["closure"] is None

    (history,) = city.json("agency", "history", "SNV")
    assert (history["on"], history["summary"]) == (
        "2025-03-01",
        "Sở Nội vụ (Sở, ban, ngành), thành lập từ ngày 01/03/2025",
    )
    assert sxd_registration["on"] is None
    assert "01/03/2025  Đăng ký cơ quan  Sở Nội vụ" in city.ok("agency", "history", "SNV").stdout


def test_an_impossible_or_future_establishment_date_is_refused(city):
    impossible = city.fails("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so",
                            "--since", "31/02/2025")  # fmt: skip
    assert impossible.stderr.startswith("Lỗi: Ngày (--since) '31/02/2025' không tồn tại")
    future = city.fails("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so",
                        "--since", "01/01/2999")  # fmt: skip
    assert future.stderr.startswith("Lỗi: Ngày thành lập cơ quan 01/01/2999 ở tương lai")
    assert "SYT" not in listed(city)


def test_no_task_goes_to_an_agency_before_its_opening(city):
    refused = city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "Việc",
                         "--lead", "SNV", "--deadline", "31/03/2025")  # fmt: skip
    # Assigned on the directive's date, 10/01/2025, by default.
    assert refused.stderr == not_yet("10/01/2025")
    coordinating = city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "Việc",
                              "--lead", "SXD", "--coordinate", "SNV", "--deadline",
                              "31/03/2025", "--assigned-on", "28/02/2025")  # fmt: skip
    assert coordinating.stderr == not_yet("28/02/2025")

    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2025")
    reassigned = city.fails("task", "reassign", task_id, "--lead", "SNV", "--on", "20/02/2025",
                            "--reason", "Chuyển")  # fmt: skip
    assert reassigned.stderr == not_yet("20/02/2025")
    assert city.task(task_id)["leads"] == ["SXD"]

    # From its first day on, it leads like any other.
    city.ok("task", "reassign", task_id, "--lead", "SNV", "--on", "01/03/2025", "--reason", "x")
    assert city.task(task_id)["leads"] == ["SNV"]
    new = assign(city, "--lead", "SNV", "--deadline", "31/03/2025", "--assigned-on", "01/03/2025")
    assert city.task(new)["leads"] == ["SNV"]


def test_no_head_deputy_or_rename_before_the_opening(city):
    head = city.fails("agency", "head", "SNV", "--name", "Lê Thị Hoa", "--from", "01/01/2025")
    assert head.stderr == not_yet("01/01/2025")
    deputy = city.fails("agency", "deputy", "SNV", "--name", "Trần Văn Bình",
                        "--field", "tổ chức", "--from", "28/02/2025")  # fmt: skip
    assert deputy.stderr == not_yet("28/02/2025")
    renamed = city.fails("agency", "rename", "SNV", "--name", "Sở Nội vụ mới", "--on", "01/02/2025")
    assert renamed.stderr == not_yet("01/02/2025")
    assert listed(city, "--on", "01/03/2025")["SNV"]["heads"] == []

    city.ok("agency", "head", "SNV", "--name", "Lê Thị Hoa", "--from", "01/03/2025")
    city.ok("agency", "deputy", "SNV", "--name", "Trần Văn Bình", "--field", "tổ chức",
            "--from", "01/03/2025")  # fmt: skip
    snv = listed(city, "--on", "01/03/2025")["SNV"]
    assert (snv["head"], snv["deputies_in_charge"]) == (
        "Lê Thị Hoa",
        [{"person": "Trần Văn Bình", "field": "tổ chức"}],
    )


def test_no_merger_into_an_agency_before_its_opening(city):
    task_id = assign(city, "--lead", "SXD", "--deadline", "30/06/2025")
    merger = city.fails("agency", "dissolve", "SXD", "--on", "15/02/2025", "--into", "SNV",
                        "--reason", "Sắp xếp bộ máy")  # fmt: skip
    assert merger.stderr == not_yet("15/02/2025")
    assert listed(city)["SXD"]["closed_on"] is None
    assert city.task(task_id)["leads"] == ["SXD"]

    # Nor is the agency itself closed on or before the day it opened.
    for day in ("01/03/2025", "15/02/2025"):
        closed = city.fails("agency", "dissolve", "SNV", "--on", day, "--reason", "x")
        assert closed.stderr == (
            f"Lỗi: SNV: ngày giải thể, sáp nhập {day} không sau ngày thành lập 01/03/2025: "
            f"cơ quan phải có ít nhất một ngày. Hãy kiểm tra lại ngày (--on). {OPENING_FIX}"
        )

    # On its first day it takes the agency merged into it, and its open tasks.
    city.ok("agency", "dissolve", "SXD", "--on", "01/03/2025", "--into", "SNV", "--reason", "x")
    assert listed(city)["SXD"]["merged_into"] == "SNV"
    assert city.task(task_id)["leads"] == ["SNV"]


def test_no_document_reaches_an_agency_before_its_opening(city):
    for command in (
        ["reprimand", "issue", "--kind", "nhac-nho", "--doc", "5/UBND", "--on", "20/02/2025",
         "--agency", "SNV"],
        ["reprimand", "issue", "--kind", "phe-binh", "--doc", "6/UBND", "--on", "20/02/2025",
         "--head", "SNV"],
        ["commend", "--doc", "7/UBND", "--on", "20/02/2025", "--agency", "SNV"],
    ):  # fmt: skip
        assert city.fails(*command).stderr == not_yet("20/02/2025"), command
    city.ok("commend", "--doc", "7/UBND", "--on", "01/03/2025", "--agency", "SNV")


def test_no_assessment_for_a_year_before_the_opening(city):
    before = city.event_count()
    assessed = city.fails("assess", "SNV", "--year", "2024", "--criterion", "phoi_hop",
                          "--points", "8", "--reason", "Chậm")  # fmt: skip
    assert assessed.stderr == (
        "Lỗi: SNV được thành lập từ ngày 01/03/2025: năm 2024 cơ quan chưa có, không có gì "
        "để đánh giá (điểm của năm đó không tính cho nó).\n"
    )
    # The year it was established in is assessed, as it is scored: all of it.
    city.ok("assess", "SNV", "--year", "2025", "--criterion", "phoi_hop", "--points", "8",
            "--reason", "Chậm")  # fmt: skip
    assert city.event_count() == before + 1


def test_no_urging_letter_goes_to_an_agency_before_its_opening(city, tmp_path):
    out = tmp_path / "thu"
    refused = city.fails("letters", "--as-of", "20/02/2025", "--agency", "SNV", "--out", str(out))
    assert refused.stderr == not_yet("20/02/2025")
    assert not out.exists()


def test_no_score_or_rating_for_a_period_before_the_opening(city):
    city.ok("agency", "head", "SNV", "--name", "Lê Thị Hoa", "--from", "01/03/2025")
    assign(city, "--lead", "SNV", "--deadline", "31/03/2025", "--assigned-on", "01/03/2025")
    assign(city, "--lead", "SXD", "--deadline", "31/03/2024", "--assigned-on", "10/01/2024")

    assert [r["agency"] for r in city.json("score", "--year", "2024")] == ["SXD"]
    assert "SNV" not in city.ok("score", "--year", "2024").stdout
    refused = city.fails("score", "--year", "2024", "--agency", "snv")
    assert refused.stderr == (
        "Lỗi: SNV được thành lập từ ngày 01/03/2025: trong kỳ được hỏi (đến ngày "
        "31/12/2024) cơ quan chưa có, nên không có điểm. Hãy xem một kỳ từ ngày đó.\n"
    )
    # A period it stood in for a day at least is scored, all of it (no proration).
    for args in (["--year", "2025"], ["--quarter", "2025Q1"], ["--from", "01/02/2025",
                                                                "--to", "01/03/2025"]):  # fmt: skip
        scores = {r["agency"]: r for r in city.json("score", *args)}
        assert list(scores) == ["SNV", "SXD"], args
        assert city.json("score", *args, "--agency", "SNV") == [scores["SNV"]]
    assert {r["agency"] for r in city.json("score", "--from", "01/02/2025", "--to",
                                           "28/02/2025")} == {"SXD"}  # fmt: skip
    # Figures cut off before its opening know nothing of it yet.
    as_of = city.json("score", "--quarter", "2025Q1", "--as-of", "28/02/2025")
    assert [r["agency"] for r in as_of] == ["SXD"]

    assert [r["agency"] for r in city.json("rating", "compute", "--year", "2024")] == ["SXD"]
    rated = {r["agency"]: r for r in city.json("rating", "compute", "--year", "2025")}
    assert list(rated) == ["SNV", "SXD"]
    assert (rated["SNV"]["head"], rated["SNV"]["days_in_office"]) == ("Lê Thị Hoa", 306)


def test_a_wrong_date_is_put_right_by_retracting_the_registration(city):
    """What the refusals say: retract the registration, register again with the date."""
    (registration,) = city.json("agency", "history", "SNV")
    city.ok("correct", registration["id"], "--reason", "Sai ngày thành lập")
    city.ok("agency", "add", "SNV", "--name", "Sở Nội vụ", "--kind", "so", "--since", "01/01/2025")
    city.ok("agency", "head", "SNV", "--name", "Lê Thị Hoa", "--from", "01/01/2025")
    assert listed(city, "--on", "01/01/2025")["SNV"]["since"] == "2025-01-01"
    assert [r["version"] for r in city.json("agency", "history", "SNV")] == [1, 2, 3, 4]


def test_an_old_log_without_the_date_loads_verifies_and_rates_as_before(db_url):
    """A registration written before --since existed has no such field: the agency
    stands from before the ledger's first day, as it always did."""
    engine = make_engine(db_url)
    try:
        store = EventStore(engine, REGISTRY)
        store.append(
            "agency:SCT",
            [
                NewEvent(
                    "agency.registered",
                    {"code": "SCT", "name": "Sở Công Thương", "kind": "so"},
                    datetime(2019, 1, 2, 3, tzinfo=UTC),
                ),
                NewEvent(
                    "agency.head_appointed",
                    {"person": "Phan Văn A", "from": "2019-01-01"},
                    datetime(2018, 12, 31, 17, tzinfo=UTC),
                ),
            ],
        )
    finally:
        engine.dispose()
    nv = Nhiemvu(db_url)
    nv.ok("projections", "rebuild")
    assert nv.json("events", "verify")["ok"] is True
    sct = listed(nv, "--on", "01/01/2019")["SCT"]
    assert (sct["since"], sct["head"]) == (None, "Phan Văn A")
    (registration, _) = nv.json("agency", "history", "SCT")
    assert (registration["on"], registration["summary"]) == (
        None,
        "Sở Công Thương (Sở, ban, ngành)",
    )

    nv.ok("directive", "add", DIRECTIVE, "--date", "10/01/2019", "--title", "Kết luận")
    task_id = assign(nv, "--lead", "SCT", "--deadline", "31/03/2019")
    nv.ok("task", "complete", task_id, "--on", "20/03/2019")
    (score,) = nv.json("score", "--year", "2019")
    assert (score["agency"], score["score"], score["band"]) == ("SCT", 100.0, "HTXS")
    (rating,) = nv.json("rating", "compute", "--year", "2019")
    assert (rating["head"], rating["score"], rating["band"]) == ("Phan Văn A", 100.0, "HTXS")
    assert nv.json("projections", "verify")["ok"] is True


def test_export_and_import_keep_the_date(city, second_db_url, tmp_path):
    city.ok("agency", "head", "SNV", "--name", "Lê Thị Hoa", "--from", "01/03/2025")
    log = tmp_path / "log.jsonl"
    exported = city.json("events", "export", "--out", str(log))
    moved = Nhiemvu(second_db_url)
    moved.ok("events", "import", str(log))
    assert moved.json("events", "verify", "--expect-hash", exported["last_hash"])["ok"] is True
    assert listed(moved) == listed(city)
    assert listed(moved)["SNV"]["since"] == "2025-03-01"
    # The date holds in the imported ledger, not only in its lists.
    refused = moved.fails("agency", "deputy", "SNV", "--name", "Trần Văn Bình",
                          "--field", "tổ chức", "--from", "28/02/2025")  # fmt: skip
    assert refused.stderr == not_yet("28/02/2025")
