"""A department formed by merging others (`agency add NEW --since DATE --merging OLD …`).

Vietnam's 2025 reorganisation formed a new "Sở Nội vụ" from 01/03/2025 by merging
the old Sở Nội vụ (SNV) and the Sở Lao động - Thương binh và Xã hội (SLDTBXH). One
command registers the new agency and records, for each old one, the merger `agency
dissolve OLD --on DATE --into NEW` records — all of it or nothing — and the new one
may keep the old one's name, which closes the day it opens.
"""

from __future__ import annotations

import json

import pytest
from nhiemvu_cli import Nhiemvu
from openpyxl import Workbook

DIRECTIVE = "1/TB-UBND"
DECISION = "Quyết định 12/QĐ-UBND"
MERGE = [
    "agency", "add", "SNV-2025", "--name", "Sở Nội vụ", "--kind", "so", "--since", "01/03/2025",
    "--merging", "SNV", "--merging", "sldtbxh", "--reason", DECISION,
]  # fmt: skip


class City(Nhiemvu):
    """The two departments, each with a head since 2024, Sở Xây dựng, and tasks."""

    def assign(self, *args: str) -> str:
        return self.json(
            "task", "assign", "--directive", DIRECTIVE, "--title", "Việc", *args
        )["id"]  # fmt: skip

    def agencies(self, *args: str) -> dict[str, dict]:
        return {r["code"]: r for r in self.json("agency", "list", *args)}

    def leads(self, task_id: str, *args: str) -> list[str]:
        return self.task(task_id, *args)["leads"]


def build_city(db_url: str) -> tuple[City, dict[str, str]]:
    city = City(db_url)
    city.ok("agency", "add", "SNV", "--name", "Sở Nội vụ", "--kind", "so")
    city.ok("agency", "add", "SLDTBXH", "--name", "Sở Lao động - Thương binh và Xã hội",
            "--kind", "so")  # fmt: skip
    city.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    city.ok("agency", "head", "SNV", "--name", "Ông Nội Vụ", "--from", "01/01/2024")
    city.ok("agency", "head", "SLDTBXH", "--name", "Bà Lao Động", "--from", "01/01/2024")
    city.ok("directive", "add", DIRECTIVE, "--date", "10/01/2025", "--title", "Kết luận")
    tasks = {
        "snv": city.assign("--lead", "SNV", "--deadline", "31/03/2025"),
        "lao_dong": city.assign(
            "--lead", "SLDTBXH", "--coordinate", "SXD", "--deadline", "30/06/2025"
        ),  # fmt: skip
        "done": city.assign("--lead", "SLDTBXH", "--deadline", "20/02/2025"),
        "both": city.assign("--lead", "SNV", "--lead", "SLDTBXH", "--deadline", "30/04/2025"),
        "sxd": city.assign("--lead", "SXD", "--coordinate", "SNV", "--deadline", "30/06/2025"),
    }
    city.ok("task", "complete", tasks["done"], "--on", "15/02/2025")
    city.ok("task", "complete", tasks["snv"], "--on", "20/03/2025")
    return city, tasks


@pytest.fixture
def city(db_url) -> City:
    return build_city(db_url)[0]


@pytest.fixture
def tasks(db_url) -> tuple[City, dict[str, str]]:
    return build_city(db_url)


def test_the_new_department_is_registered_and_the_old_ones_merged_into_it(tasks):
    city, t = tasks
    before = city.event_count()
    result = city.ok(*MERGE)
    registration = city.json("agency", "history", "SNV-2025")[0]["id"]
    assert result.stdout == (
        "Đã đăng ký cơ quan SNV-2025, thành lập từ ngày 01/03/2025 do sáp nhập 2 cơ quan:\n"
        f"  SNV: chuyển 2 nhiệm vụ sang ({t['snv']}, {t['both']})\n"
        f"  SLDTBXH: chuyển 2 nhiệm vụ sang ({t['lao_dong']}, {t['both']})\n"
        f"Mã sự kiện (để rút lại nếu ghi nhầm): {registration}\n"
    )
    # The registration, two mergers and four moves (the task both led moves twice).
    assert city.event_count() == before + 7

    # What `agency dissolve OLD --on 01/03/2025 --into SNV-2025` records, caused by
    # the registration.
    for code in ("SNV", "SLDTBXH"):
        merger = city.json("agency", "history", code)[-1]
        assert (merger["label"], merger["on"]) == ("Sáp nhập cơ quan", "2025-03-01")
        event = city.event(merger["id"])
        assert (event.type, event.data) == (
            "agency.merged",
            {"on": "2025-03-01", "reason": DECISION, "into": "SNV-2025"},
        )
        assert event.causation_id == registration
    # Open on the date (completed after it, too) moved; completed before it stayed.
    assert {key: city.leads(task_id) for key, task_id in t.items()} == {
        "snv": ["SNV-2025"],
        "lao_dong": ["SNV-2025"],
        "done": ["SLDTBXH"],
        "both": ["SNV-2025"],
        "sxd": ["SXD"],
    }
    assert city.leads(t["both"], "--as-of", "28/02/2025") == ["SNV", "SLDTBXH"]
    assert city.task(t["lao_dong"])["coordinators"] == ["SXD"]
    last_move = city.json("task", "history", t["lao_dong"])[-1]
    assert (last_move["label"], last_move["on"]) == ("Giao lại", "2025-03-01")
    move = city.event(last_move["id"])
    assert move.data == {
        "on": "2025-03-01",
        "from": ["SLDTBXH"],
        "to": ["SNV-2025"],
        "reason": "SLDTBXH sáp nhập vào SNV-2025",
    }
    assert move.causation_id == city.json("agency", "history", "SLDTBXH")[-1]["id"]
    assert city.json("projections", "verify")["ok"] is True


def test_the_old_name_passes_to_the_new_department(city, tmp_path):
    city.ok(*MERGE)
    later = city.agencies("--on", "15/03/2025")
    assert {code: (a["name"], a["closure"]) for code, a in later.items()} == {
        "SLDTBXH": (
            "Sở Lao động - Thương binh và Xã hội",
            "sáp nhập vào SNV-2025 từ ngày 01/03/2025",
        ),
        "SNV": ("Sở Nội vụ", "sáp nhập vào SNV-2025 từ ngày 01/03/2025"),
        "SNV-2025": ("Sở Nội vụ", None),
        "SXD": ("Sở Xây dựng", None),
    }
    assert later["SNV-2025"]["since"] == "2025-03-01"
    before = city.agencies("--on", "28/02/2025")
    assert "SNV-2025" not in before
    assert (before["SNV"]["closure"], before["SNV"]["head"]) == (None, "Ông Nội Vụ")

    # The Excel importer finds the new department by the name.
    path = book(tmp_path / "so.xlsx", task_row("5/TB-UBND", "05/03/2025", "Việc mới", "Sở Nội vụ"))
    (row,) = city.json("import", "xlsx", path)["rows"]
    assert city.leads(row["task"]) == ["SNV-2025"]

    # Two open agencies still never bear one name.
    refused = city.fails("agency", "add", "SNV-2", "--name", "Sở Nội vụ", "--kind", "so")
    assert refused.stderr.startswith("Lỗi: 'Sở Nội vụ' là tên của cơ quan SNV-2025: hai cơ quan")


BOOK_HEADINGS = (
    "Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ", "Đơn vị chủ trì",
    "Đơn vị phối hợp", "Ngày giao", "Thời hạn", "Tình trạng", "Ngày hoàn thành",
)  # fmt: skip


def task_row(number, issued, title, lead, deadline="30/06/2025", *, coordinators=None,
             assigned=None, done=None) -> tuple:  # fmt: skip
    """A row of the tracking workbook; `done`: the day the task was completed."""
    status = "Đã hoàn thành" if done else None
    return (number, issued, "Kết luận", title, lead, coordinators, assigned, deadline, status,
            done)  # fmt: skip


def book(path, *rows: tuple) -> str:
    workbook = Workbook()
    workbook.active.append(BOOK_HEADINGS)
    for values in rows:
        workbook.active.append(values)
    workbook.save(path)
    return str(path)


def test_the_importer_names_the_departments_as_they_were_on_the_row_s_day(city, tmp_path):
    """In January 2025 "Sở Nội vụ" was the old department (the new one was not yet
    established); from 01/03/2025 it is the new one. A row's day is its own, else its
    directive's — in the ledger, or on a row above that registers it."""
    city.ok(*MERGE)
    path = book(
        tmp_path / "so.xlsx",
        task_row(DIRECTIVE, None, "Hồ sơ tinh giản biên chế", "Sở Nội vụ", "28/02/2025",
                 assigned="15/01/2025", done="20/02/2025"),
        # Given on the directive's day, 10/01/2025.
        task_row(DIRECTIVE, None, "Khảo sát việc làm", "Sở Xây dựng", "28/02/2025",
                 coordinators="Sở Nội vụ; Sở Lao động - Thương binh và Xã hội", done="25/02/2025"),
        task_row("7/TB-UBND", "01/03/2025", "Kiện toàn tổ chức", "Sở Nội vụ"),
        task_row("8/TB-UBND", "20/01/2025", "Tổng kết năm", "Sở Xây dựng", done="10/02/2025"),
        # Its directive's day is the row above's.
        task_row("8/TB-UBND", None, "Báo cáo biên chế", "Sở Nội vụ", done="10/02/2025"),
        # The old department on the day, which closed since with the task still open.
        task_row(DIRECTIVE, None, "Đề án vị trí việc làm", "Sở Nội vụ", assigned="28/02/2025"),
    )  # fmt: skip
    before = city.event_count()
    dry = city.run("import", "xlsx", path, "--dry-run", "--json")
    assert dry.exit_code == 1, dry.stderr
    rows = json.loads(dry.stdout)["rows"]
    assert [r["status"] for r in rows] == ["would_create"] * 5 + ["invalid"]
    assert rows[5]["errors"][0].startswith(
        "Cơ quan SNV đã sáp nhập vào SNV-2025 từ ngày 01/03/2025: nhiệm vụ giao cho cơ quan này "
        "từ ngày 28/02/2025"
    )
    assert city.event_count() == before

    report = city.json("import", "xlsx", path, "--skip-invalid")
    assert [r["status"] for r in report["rows"]] == ["created"] * 5 + ["invalid"]
    tasks = [city.task(r["task"]) for r in report["rows"][:5]]
    assert [(t["leads"], t["coordinators"]) for t in tasks] == [
        (["SNV"], []),
        (["SXD"], ["SNV", "SLDTBXH"]),
        (["SNV-2025"], []),
        (["SXD"], []),
        (["SNV"], []),
    ]


def test_a_second_import_finds_the_task_a_row_gave_the_old_department(city, tmp_path):
    """A row naming its directive by the number alone, which a later year's directive
    has taken since: the task of the earlier directive, as its agencies were named then."""
    city.ok(*MERGE)
    row = task_row("3/TB-UBND", "10/01/2024", "Rà soát biên chế", "Sở Nội vụ", "31/03/2024",
                   done="20/03/2024")  # fmt: skip
    (first,) = city.json("import", "xlsx", book(tmp_path / "first.xlsx", row))["rows"]
    assert city.leads(first["task"]) == ["SNV"]
    city.ok("directive", "add", "3/TB-UBND", "--date", "10/04/2025", "--title", "Kết luận khác")

    before = city.event_count()
    undated = ("3/TB-UBND", None, *row[2:])
    (again,) = city.json("import", "xlsx", book(tmp_path / "again.xlsx", undated))["rows"]
    assert (again["status"], again["task"], again["directive"]) == (
        "exists", first["task"], "3/TB-UBND"
    )  # fmt: skip
    assert city.event_count() == before


def test_work_given_to_an_old_department_after_the_day_is_sent_to_the_new_one(city):
    """The reorganisation's commonest slip: a task, a head, a deputy recorded for the old
    department after it closed. The refusal said only that it had closed."""
    city.ok(*MERGE)
    refusals = [
        city.fails("task", "assign", "--directive", DIRECTIVE, "--title", "Việc", "--lead",
                   "SLDTBXH", "--deadline", "30/06/2025", "--assigned-on", "10/03/2025"),
        city.fails("agency", "head", "SLDTBXH", "--name", "Bà Mới", "--from", "10/03/2025"),
        city.fails("agency", "deputy", "SNV", "--name", "Ông Phó", "--field", "nội vụ",
                   "--from", "01/03/2025"),
    ]  # fmt: skip
    for refusal, old in zip(refusals, ("SLDTBXH", "SLDTBXH", "SNV"), strict=True):
        assert refusal.stderr == (
            f"Lỗi: Cơ quan {old} đã sáp nhập vào SNV-2025 từ ngày 01/03/2025: không ghi gì "
            "cho cơ quan từ ngày đó. Hãy kiểm tra lại ngày, hoặc ghi cho cơ quan kế thừa "
            "SNV-2025; nếu việc sáp nhập ghi nhầm, hãy rút lại nó (mã sự kiện trong `nhiemvu "
            f"agency history {old}`).\n"
        )
    city.ok("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so")
    city.ok("agency", "dissolve", "SYT", "--on", "01/04/2025", "--reason", "QĐ")
    dissolved = city.fails("agency", "rename", "SYT", "--name", "Sở YT", "--on", "02/04/2025")
    assert dissolved.stderr == (
        "Lỗi: Cơ quan SYT đã giải thể từ ngày 01/04/2025: không ghi gì cho cơ quan từ ngày đó. "
        "Hãy kiểm tra lại ngày, hoặc chọn cơ quan khác; nếu việc giải thể ghi nhầm, hãy rút lại "
        "nó (mã sự kiện trong `nhiemvu agency history SYT`).\n"
    )


def test_a_year_s_scores_are_those_of_registering_then_merging_one_by_one(tasks, second_db_url):
    """The 2025 scores: the old departments for the part of the year they stood,
    the new one for its part — as recording it the old way (a temporary name, each
    merger, a rename) gives them."""
    city, t = tasks
    city.ok(*MERGE)
    old_way, _ = build_city(second_db_url)
    old_way.ok("agency", "add", "SNV-2025", "--name", "Sở Nội vụ (mới)", "--kind", "so",
               "--since", "01/03/2025")  # fmt: skip
    for code in ("SNV", "SLDTBXH"):
        old_way.ok("agency", "dissolve", code, "--on", "01/03/2025", "--into", "SNV-2025",
                   "--reason", DECISION)  # fmt: skip
    old_way.ok("agency", "rename", "SNV-2025", "--name", "Sở Nội vụ", "--on", "01/03/2025")

    scores = city.json("score", "--year", "2025")
    assert scores == old_way.json("score", "--year", "2025")
    counted = {s["agency"]: {task["task_id"] for task in s["tasks"]} for s in scores}
    # The tasks moved count for the new department.
    assert counted == {
        "SLDTBXH": {t["done"]},
        "SNV": set(),
        "SNV-2025": {t["snv"], t["lao_dong"], t["both"]},
        "SXD": {t["sxd"]},
    }
    assert city.json("score", "--year", "2024") == old_way.json("score", "--year", "2024")
    assert [s["agency"] for s in city.json("score", "--year", "2024")] == [
        "SLDTBXH",
        "SNV",
        "SXD",
    ]


def test_the_json_names_the_merged_agencies_and_the_tasks_moved(tasks):
    """Each merger by its event id under the key every other output gives one
    (`event_id`: directive list, report reprimands, report assessments…)."""
    city, t = tasks
    out = city.json(*MERGE)
    histories = {code: city.json("agency", "history", code) for code in ("SNV", "SLDTBXH")}
    assert out == {
        "key": "SNV-2025",
        "stream": "agency:SNV-2025",
        "events": [city.json("agency", "history", "SNV-2025")[0]["id"]],
        "merged": [
            {
                "code": "SNV",
                "event_id": histories["SNV"][-1]["id"],
                "moved_tasks": [t["snv"], t["both"]],
            },
            {
                "code": "SLDTBXH",
                "event_id": histories["SLDTBXH"][-1]["id"],
                "moved_tasks": [t["lao_dong"], t["both"]],
            },
        ],
    }
    # Without --merging the output is what it was.
    plain = city.json("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so")
    assert sorted(plain) == ["events", "key", "stream"]


def test_the_new_department_s_history_names_the_agencies_merged_into_it(city):
    """The mergers are events of the old agencies' streams: `agency history NEW` lists
    them after its own events, with their ids, and says which its registration recorded."""
    city.ok(*MERGE)
    city.ok("agency", "add", "SNGV", "--name", "Sở Ngoại vụ", "--kind", "so")
    city.ok("agency", "dissolve", "SNGV", "--on", "01/04/2025", "--into", "SNV-2025",
            "--reason", "Quyết định 30/QĐ-UBND")  # fmt: skip
    merger = {code: city.json("agency", "history", code)[-1]["id"] for code in
              ("SNV", "SLDTBXH", "SNGV")}  # fmt: skip

    shown = city.ok("agency", "history", "snv-2025").stdout
    own, mergers = shown.split("\n\n")
    assert own.splitlines()[2].startswith("1  01/03/2025  Đăng ký cơ quan")
    assert mergers.splitlines() == [
        "Các cơ quan đã sáp nhập vào SNV-2025 (sự kiện sáp nhập nằm trong lịch sử của cơ quan "
        "cũ, `nhiemvu agency history MÃ_CQ`):",
        "Mã       Tên cơ quan                          Ngày sáp nhập  Ghi cùng việc đăng ký "
        "SNV-2025  Mã sự kiện",
        "-------  -----------------------------------  -------------  "
        "------------------------------  ------------------------------------",
        f"SLDTBXH  Sở Lao động - Thương binh và Xã hội  01/03/2025     có                    "
        f"          {merger['SLDTBXH']}",
        f"SNV      Sở Nội vụ                            01/03/2025     có                    "
        f"          {merger['SNV']}",
        f"SNGV     Sở Ngoại vụ                          01/04/2025     không                 "
        f"          {merger['SNGV']}",
    ]
    # The JSON stays the list of the agency's own events (SNV-2025#1, …).
    (registration,) = city.json("agency", "history", "SNV-2025")
    assert registration["type"] == "agency.registered"

    # A merger retracted is no longer one; an agency nothing merged into shows none.
    city.ok("correct", merger["SNGV"], "--reason", "Ghi nhầm")
    assert merger["SNGV"] not in city.ok("agency", "history", "SNV-2025").stdout
    assert "\n\n" not in city.ok("agency", "history", "SXD").stdout


def test_merging_needs_the_date_and_the_reason(city):
    command = ["agency", "add", "SNV-2025", "--name", "Sở Nội vụ", "--kind", "so",
               "--merging", "SNV"]  # fmt: skip
    for given, missing in (
        (["--reason", DECISION], "--since NGÀY"),
        (["--since", "01/03/2025"], '--reason "Quyết định …"'),
        ([], '--since NGÀY và --reason "Quyết định …"'),
    ):
        refused = city.fails(*command, *given, code=2)
        assert (
            f"Lỗi: --merging cần thêm {missing}: các cơ quan cũ sáp nhập vào cơ quan mới từ "
            "ngày thành lập của nó, theo một căn cứ.\n"
        ) in refused.stderr, given
    alone = city.fails("agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "so",
                       "--reason", DECISION, code=2)  # fmt: skip
    assert "Lỗi: --reason chỉ dùng cùng --merging (căn cứ sáp nhập).\n" in alone.stderr
    empty = city.fails(*command, "--since", "01/03/2025", "--reason", " ")
    assert empty.stderr == "Lỗi: Lý do sáp nhập (--reason) không được để trống.\n"
    assert "SNV-2025" not in city.agencies()


def refused(city: City, *args: str) -> str:
    """The refusal of MERGE changed by `args`: nothing written, SNV and SLDTBXH open."""
    command = list(MERGE)
    for option, value in zip(args[::2], args[1::2], strict=True):
        if option == "--merging":
            command += [option, value]
        else:
            command[command.index(option) + 1] = value
    result = city.fails(*command)
    agencies = city.agencies()
    assert "SNV-2025" not in agencies
    assert agencies["SNV"]["closed_on"] is None and agencies["SLDTBXH"]["closed_on"] is None
    return result.stderr


def test_an_unknown_closed_repeated_or_same_agency_is_refused(city):
    assert refused(city, "--merging", "SXYZ") == (
        "Lỗi: Không tìm thấy cơ quan 'SXYZ'. Danh sách cơ quan: `nhiemvu agency list`; "
        "đăng ký cơ quan: `nhiemvu agency add`.\n"
    )
    assert refused(city, "--merging", "snv") == (
        "Lỗi: SNV được ghi nhiều lần ở --merging: hãy ghi mỗi cơ quan một lần.\n"
    )
    same = city.fails("agency", "add", "SNV", "--name", "Sở Nội vụ", "--kind", "so", "--since",
                      "01/03/2025", "--merging", "SNV", "--reason", DECISION)  # fmt: skip
    assert same.stderr == (
        "Lỗi: SNV vừa là mã cơ quan mới vừa được ghi ở --merging: cơ quan mới không sáp nhập "
        "chính nó. Nếu cơ quan mới giữ tên của SNV, hãy đăng ký nó với mã khác (ví dụ "
        "SNV-2025) và --merging SNV.\n"
    )
    city.ok("agency", "add", "SKHDT", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")
    city.ok("agency", "dissolve", "SKHDT", "--on", "01/02/2025", "--reason", "Giải thể")
    assert refused(city, "--merging", "SKHDT") == (
        "Lỗi: Cơ quan SKHDT đã giải thể từ ngày 01/02/2025; không ghi giải thể hay sáp nhập "
        "lần nữa. Nếu lần trước ghi sai, hãy rút lại sự kiện đó bằng `nhiemvu correct "
        "MÃ_SỰ_KIỆN --reason …` rồi ghi lại.\n"
    )


def test_a_date_the_old_agencies_cannot_close_on_is_refused(city):
    """The checks of `agency dissolve`, naming --since for the date."""
    city.ok("agency", "head", "SLDTBXH", "--name", "Ông Mới", "--from", "01/03/2025")
    assert refused(city) == (
        "Lỗi: SLDTBXH: ngày giải thể, sáp nhập 01/03/2025 không sau ngày bắt đầu của người "
        "đứng đầu Ông Mới (từ 01/03/2025). Nhiệm kỳ phải bắt đầu trước ngày giải thể, sáp "
        "nhập: hãy kiểm tra lại ngày (--since), hoặc rút lại lần bổ nhiệm ghi nhầm bằng "
        "`nhiemvu correct`.\n"
    )
    city.ok("correct", "SLDTBXH#3", "--reason", "Ghi nhầm")

    city.ok("commend", "--doc", "9/QĐ-UBND", "--on", "05/03/2025", "--agency", "SNV")
    assert refused(city).startswith(
        "Lỗi: SNV đã nhận văn bản 9/QĐ-UBND từ ngày 01/03/2025 trở đi: không giải thể, sáp "
        "nhập trước ngày của văn bản."
    )
    city.ok("correct", "9/QĐ-UBND", "--reason", "Ghi nhầm")

    city.ok("agency", "add", "SKHDT", "--name", "Sở Kế hoạch và Đầu tư", "--kind", "so")
    city.ok("agency", "dissolve", "SKHDT", "--on", "15/03/2025", "--into", "SNV",
            "--reason", "x")  # fmt: skip
    assert refused(city).startswith(
        "Lỗi: SKHDT (từ ngày 15/03/2025) đã sáp nhập vào SNV: không giải thể, sáp nhập SNV từ "
        "ngày 01/03/2025, trước khi nhận cơ quan đó. Kiểm tra lại ngày (--since);"
    )
    city.ok("correct", "SKHDT#2", "--reason", "Ghi nhầm")

    # Another open agency's name is still refused.
    assert refused(city, "--name", "Sở Xây dựng").startswith(
        "Lỗi: 'Sở Xây dựng' là tên của cơ quan SXD: hai cơ quan không mang cùng một tên"
    )
    city.ok(*MERGE)


def test_all_or_nothing_when_the_second_agency_fails(tasks):
    """SNV could merge, SLDTBXH not: neither the registration nor SNV's merger and
    moves are written."""
    city, t = tasks
    city.ok("commend", "--doc", "9/QĐ-UBND", "--on", "02/03/2025", "--agency", "SLDTBXH")
    assert "Lỗi: SLDTBXH đã nhận văn bản 9/QĐ-UBND" in refused(city)
    assert city.leads(t["snv"]) == ["SNV"]
    assert city.leads(t["both"]) == ["SNV", "SLDTBXH"]
    assert [h["label"] for h in city.json("agency", "history", "SNV")] == [
        "Đăng ký cơ quan",
        "Ghi người đứng đầu",
    ]
    assert city.fails("agency", "history", "SNV-2025").stderr.startswith(
        "Lỗi: Không tìm thấy cơ quan 'SNV-2025'"
    )
    assert city.json("projections", "verify")["ok"] is True


def test_retracting_the_registration_retracts_the_mergers_made_with_it(tasks):
    """Its own undo: the mergers refer to the new agency, and it bears the name of
    SNV, which SNV could not get back while it stands."""
    city, t = tasks
    city.ok(*MERGE)
    registration = city.json("agency", "history", "SNV-2025")[0]["id"]
    before = city.event_count()
    result = city.ok("correct", registration, "--reason", "Ghi nhầm")
    assert result.stdout == f"Đã rút lại sự kiện {registration} (Đăng ký cơ quan).\n"
    # Last first: the task both led went on from SNV's merger to SLDTBXH's.
    assert result.stderr == (
        "Lưu ý: Rút lại cả việc sáp nhập SLDTBXH vào SNV-2025 ghi cùng lần đăng ký này: "
        "SLDTBXH hoạt động trở lại.\n"
        f"Lưu ý: Rút lại cả việc chuyển 2 nhiệm vụ do lần sáp nhập đó ghi ({t['lao_dong']}, "
        f"{t['both']}): các nhiệm vụ đó trở lại SLDTBXH chủ trì.\n"
        "Lưu ý: Rút lại cả việc sáp nhập SNV vào SNV-2025 ghi cùng lần đăng ký này: SNV hoạt "
        "động trở lại.\n"
        f"Lưu ý: Rút lại cả việc chuyển 2 nhiệm vụ do lần sáp nhập đó ghi ({t['snv']}, "
        f"{t['both']}): các nhiệm vụ đó trở lại SNV chủ trì.\n"
    )
    assert city.event_count() == before + 7
    agencies = city.agencies()
    assert "SNV-2025" not in agencies
    assert agencies["SNV"]["closed_on"] is None and agencies["SLDTBXH"]["closed_on"] is None
    assert city.leads(t["snv"]) == ["SNV"] and city.leads(t["both"]) == ["SNV", "SLDTBXH"]
    assert city.json("projections", "verify")["ok"] is True
    # Recorded again, right this time.
    city.ok(*MERGE)
    assert city.leads(t["both"]) == ["SNV-2025"]


def test_a_reason_too_long_is_refused_as_such_not_as_a_merger_s_failure(tasks):
    """Every retraction the registration's makes carries the reason: checked on the
    first (a merger's), it was refused as if that merger could not be retracted."""
    city, _ = tasks
    city.ok(*MERGE)
    registration = city.json("agency", "history", "SNV-2025")[0]["id"]
    refusal = city.fails("correct", registration, "--reason", "x" * 10_001)
    assert refusal.stderr == (
        "Lỗi: Lý do (--reason) dài 10.001 ký tự, quá 10.000 ký tự cho phép: "
        f"'{'x' * 40}…'. Hãy viết gọn lại.\n"
    )
    assert "SNV-2025" in city.agencies()


def test_the_registration_stays_while_something_else_refers_to_the_new_agency(tasks):
    city, t = tasks
    city.ok(*MERGE)
    registration = city.json("agency", "history", "SNV-2025")[0]["id"]
    later = city.assign("--lead", "SNV-2025", "--deadline", "30/06/2025",
                        "--assigned-on", "10/03/2025")  # fmt: skip
    refusal = city.fails("correct", registration, "--reason", "Ghi nhầm")
    assert refusal.stderr == (
        "Lỗi: Không rút lại được việc đăng ký cơ quan SNV-2025: cơ quan này còn được nhắc đến "
        f"ở nhiệm vụ (chủ trì hoặc phối hợp) {later}. Hãy rút lại những sự kiện đó trước. Nếu "
        "chỉ ghi sai tên, hãy dùng `nhiemvu agency rename`.\n"
    )
    # The mergers stand: the refusal wrote nothing.
    assert city.agencies()["SNV"]["merged_into"] == "SNV-2025"
    assert city.leads(t["both"]) == ["SNV-2025"]
    city.ok("correct", f"{later}#1", "--reason", "Ghi nhầm")

    # A task the new agency gave on since: that move goes first.
    city.ok("task", "reassign", t["lao_dong"], "--lead", "SXD", "--on", "10/03/2025")
    moved_on = city.fails("correct", registration, "--reason", "Ghi nhầm")
    assert moved_on.stderr.startswith(
        "Lỗi: Rút lại việc đăng ký SNV-2025 rút lại cả việc sáp nhập SLDTBXH ghi cùng lần đó, "
        f"nhưng: Không rút lại được lần sáp nhập này: {t['lao_dong']} đã được chuyển tiếp"
    )
    city.ok("correct", f"{t['lao_dong']}#3", "--reason", "Ghi nhầm")
    city.ok("correct", registration, "--reason", "Ghi nhầm")
    assert "SNV-2025" not in city.agencies()
