"""A list with nothing in it says so in words, and how to fill it: headings over no
rows read as if the command had failed to print (and a newcomer's first commands
run on an empty ledger). JSON stays what scripts read: an empty list."""

from __future__ import annotations

import pytest
from nhiemvu_cli import Nhiemvu


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    return Nhiemvu(db_url)


@pytest.mark.parametrize(
    ("command", "said", "hint"),
    [
        (("agency", "list"), "Chưa có cơ quan nào trong sổ.", "`nhiemvu agency add`"),
        (("agency", "list", "--on", "01/01/2020"), "Ngày 01/01/2020 chưa có cơ quan nào", ""),
        (("directive", "list"), "Chưa có văn bản chỉ đạo nào", "`nhiemvu directive add`"),
        (("score", "--year", "2023"), "Không có cơ quan nào hoạt động", "`nhiemvu agency add`"),
        (
            ("rating", "compute", "--year", "2023"),
            "Không có người đứng đầu nào giữ chức",
            "`nhiemvu agency head`",
        ),
    ],
)
def test_an_empty_list_says_so_and_how_to_fill_it(nv, command, said, hint):
    shown = nv.ok(*command).stdout
    assert said in shown and hint in shown
    assert "----" not in shown  # no table underlining nothing
    assert nv.json(*command) == []


def test_a_report_of_no_documents_is_its_sentence_alone(nv):
    shown = nv.ok("report", "reprimands", "--year", "2023").stdout
    assert "không ban hành văn bản nhắc nhở" in shown
    assert "Số văn bản" not in shown and "----" not in shown
    data = nv.json("report", "reprimands", "--year", "2023")
    assert data["reminder_documents"] == data["criticism_documents"] == []


def test_a_list_with_rows_keeps_its_table(nv):
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    shown = nv.ok("agency", "list").stdout
    assert shown.splitlines()[0].startswith("Mã") and "Sở Xây dựng" in shown
    assert "Chưa có" not in shown


def test_an_empty_task_list_says_why(nv):
    assert nv.ok("task", "list").stdout == (
        "Chưa có nhiệm vụ nào trong sổ. Giao nhiệm vụ: `nhiemvu task assign`.\n"
    )
    assert nv.json("task", "list") == []
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    nv.ok("directive", "add", "1/TB", "--date", "10/03/2023", "--title", "Kết luận")
    nv.ok("task", "assign", "--directive", "1/TB", "--title", "Việc", "--lead", "SXD",
          "--no-deadline")  # fmt: skip
    before = nv.ok("task", "list", "--as-of", "01/01/2023").stdout
    assert before == "Ngày 01/01/2023 chưa có nhiệm vụ nào được giao.\n"
    unmatched = nv.ok("task", "list", "--search", "không có từ này").stdout
    assert unmatched == "Không có nhiệm vụ nào khớp điều kiện đã chọn.\n"
    listed = nv.ok("task", "list").stdout.splitlines()
    assert listed[0].startswith("Mã") and "Việc" in listed[2]
