"""Bad input is refused with a Vietnamese message, exit status 1 and nothing written.

Table-driven: each case is one command line against the same small ledger. A
refusal must be clean (a `SystemExit`, not a crash that CliRunner also reports
as status 1), start with `Lỗi:` on stderr, print nothing on stdout, and leave
the log and the projection tables exactly as they were. Usage errors (a form
Click itself rejects) exit 2 and write nothing either.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa
from nhiemvu_cli import CLICK_ENGLISH
from nhiemvu_cli import Nhiemvu as CliTool

from application import tables as t
from application.app import App
from application.ledger import DeadlineInput
from events.database import make_engine
from workflow.documents import Addressees

DIRECTIVE = "129/TB-UBND"


class Nhiemvu(CliTool):
    """The shared CLI helper, plus a snapshot of everything the database holds."""

    def state(self) -> tuple[int, dict[str, list[str]]]:
        """The number of events and every projection row, canonical and sorted."""
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as connection:
                count = connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
                rows = {
                    table.name: sorted(
                        json.dumps(dict(row), sort_keys=True, default=str)
                        for row in connection.execute(sa.select(table)).mappings()
                    )
                    for table in t.PROJECTION_TABLES
                }
        finally:
            engine.dispose()
        return count, rows


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    """A small ledger to refuse things against, seeded through the Ledger itself.

    Seeding goes through `application.app.App` rather than the CLI: the CLI opens a
    new engine per command, which made the ~60 cases × 2 backends slow, and the
    setup is not what these tests are about.
    """
    app = App(db_url, "tester")
    try:
        ledger = app.ledger
        ledger.register_agency("SXD", "Sở Xây dựng", "so")
        ledger.register_agency("STC", "Sở Tài chính", "so")
        ledger.register_agency("SKHDT", "Sở Kế hoạch và Đầu tư", "so")
        ledger.appoint_head("SXD", "Nguyễn Văn An", date(2023, 1, 1))
        ledger.dissolve_agency("SKHDT", date(2023, 3, 1), "Giải thể")
        ledger.register_directive(DIRECTIVE, date(2023, 3, 15), "Kết luận", None, None)

        def assign(deadline: DeadlineInput) -> str:
            return ledger.assign_task(DIRECTIVE, "Việc", ["SXD"], deadline).key

        due = DeadlineInput("date", date(2023, 3, 31))
        assert assign(due) == "NV-00001"  # open
        assert assign(due) == "NV-00002"  # completed
        ledger.complete("NV-00002", date(2023, 3, 20), None)
        assert assign(due) == "NV-00003"  # cancelled
        ledger.cancel("NV-00003", date(2023, 3, 20), "Không cần")
        assert assign(DeadlineInput("none")) == "NV-00004"  # continuous duty
        ledger.issue_document(
            "nhac_nho", "10/TB-VP", date(2023, 4, 1), Addressees(agencies=("SXD",))
        )
    finally:
        app.close()
    return Nhiemvu(db_url)


ASSIGN = ["task", "assign", "--directive", DIRECTIVE, "--title", "Việc mới"]
FUTURE = "01/01/2099"

# (case id, command line, fragments the message must contain)
REFUSALS = [
    # unknown names, with the nearest known one suggested
    (
        "unknown-lead",
        [*ASSIGN, "--lead", "SXDD", "--no-deadline"],
        ["Không tìm thấy cơ quan 'SXDD'", "Có phải ý bạn là: SXD"],
    ),
    (
        "unknown-coordinator",
        [*ASSIGN, "--lead", "SXD", "--coordinate", "STCC", "--no-deadline"],
        ["Không tìm thấy cơ quan 'STCC'", "STC"],
    ),
    (
        "unknown-agency-head",
        ["agency", "head", "sxdd", "--name", "A", "--from", "01/02/2023"],
        ["Không tìm thấy cơ quan 'SXDD'", "Có phải ý bạn là: SXD"],
    ),
    (
        "unknown-agency-reprimand",
        [
            "reprimand",
            "issue",
            "--kind",
            "nhac-nho",
            "--doc",
            "11/TB-VP",
            "--on",
            "01/04/2023",
            "--agency",
            "SKHD",
        ],
        ["Không tìm thấy cơ quan 'SKHD'", "SKHDT"],
    ),
    # files that cannot be written
    (
        "xlsx-into-a-missing-folder",
        ["report", "tasks", "--year", "2023", "--xlsx", "khong-co-thu-muc/bao-cao.xlsx"],
        ["Không ghi được tệp 'khong-co-thu-muc/bao-cao.xlsx': thư mục 'khong-co-thu-muc'"],
    ),
    (
        "template-into-a-missing-folder",
        ["import", "template", "--out", "khong-co-thu-muc/mau.xlsx"],
        ["Không ghi được tệp 'khong-co-thu-muc/mau.xlsx'"],
    ),
    (
        "unknown-lead-nothing-close",
        [*ASSIGN, "--lead", "QWERTY", "--no-deadline"],
        ["Không tìm thấy cơ quan 'QWERTY'. Danh sách cơ quan: `nhiemvu agency list`"],
    ),
    (
        "unknown-agency-list",
        ["task", "list", "--agency", "SXX"],
        ["Không tìm thấy cơ quan 'SXX'", "SXD"],
    ),
    (
        "unknown-directive",
        [
            "task",
            "assign",
            "--directive",
            "130/TB-UBND",
            "--title",
            "X",
            "--lead",
            "SXD",
            "--no-deadline",
        ],
        ["Không tìm thấy văn bản chỉ đạo '130/TB-UBND'", DIRECTIVE],
    ),
    (
        "unknown-task-progress",
        ["task", "progress", "NV-09999", "--percent", "10", "--on", "01/04/2023"],
        ["Không tìm thấy nhiệm vụ 'NV-09999'", "Danh sách nhiệm vụ: `nhiemvu task list`"],
    ),
    ("unknown-task-show", ["task", "show", "NV-09999", "--json"], ["Không tìm thấy nhiệm vụ"]),
    ("unknown-task-history", ["task", "history", "NV-09999"], ["Không tìm thấy nhiệm vụ"]),
    # a task that exists, asked about before it was assigned or recorded
    (
        "show-before-assignment",
        ["task", "show", "NV-00001", "--as-of", "14/03/2023"],
        [
            "Lỗi: Nhiệm vụ NV-00001 được giao ngày 15/03/2023, sau ngày 14/03/2023 được hỏi "
            "(--as-of): khi đó chưa có nhiệm vụ này. Hãy xem tại một ngày từ 15/03/2023 trở đi."
        ],
    ),
    (
        "show-known-later-before-assignment",
        ["task", "show", "NV-00001", "--as-of", "14/03/2023", "--known-at", "31/12/2099"],
        ["Nhiệm vụ NV-00001 được giao ngày 15/03/2023, sau ngày 14/03/2023 được hỏi (--as-of)"],
    ),
    (
        "show-known-before-recorded",
        ["task", "show", "NV-00001", "--as-of", "01/04/2023", "--known-at", "01/01/2020"],
        ["Nhiệm vụ NV-00001 được ghi vào sổ ngày ", "sau ngày 01/01/2020 được hỏi (--known-at)"],
    ),
    (
        "show-unknown-task-known-at",
        ["task", "show", "NV-00009", "--known-at", "01/01/2020"],
        ["Không tìm thấy nhiệm vụ 'NV-00009'. Có phải ý bạn là:"],
    ),
    (
        "unknown-task-in-document",
        [
            "reprimand",
            "issue",
            "--kind",
            "nhac-nho",
            "--doc",
            "11/TB-VP",
            "--on",
            "01/04/2023",
            "--agency",
            "SXD",
            "--task",
            "NV-09999",
        ],
        ["Không tìm thấy nhiệm vụ 'NV-09999'"],
    ),
    (
        "unknown-event",
        ["correct", "00000000-0000-0000-0000-000000000000", "--reason", "x"],
        ["Không tìm thấy sự kiện", "`nhiemvu task history MÃ_NV`"],
    ),
    # dates against the assignment and today
    (
        "deadline-before-assignment",
        [*ASSIGN, "--lead", "SXD", "--deadline", "14/03/2023"],
        ["Thời hạn 14/03/2023 trước ngày giao 15/03/2023"],
    ),
    (
        "assigned-years-before-its-directive",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--assigned-on", "15/03/2003"],
        [
            "Ngày giao 15/03/2003 trước ngày ban hành văn bản 129/TB-UBND (15/03/2023) hơn một năm",
            "năm của ngày giao (--assigned-on), hoặc số văn bản (--directive)",
        ],
    ),
    (
        "assigned-in-future",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--assigned-on", FUTURE],
        ["ở tương lai"],
    ),
    (
        "completion-before-assignment",
        ["task", "complete", "NV-00001", "--on", "14/03/2023"],
        ["trước ngày giao nhiệm vụ 15/03/2023"],
    ),
    (
        "completion-in-future",
        ["task", "complete", "NV-00001", "--on", FUTURE],
        ["ở tương lai", "sổ chỉ ghi việc đã xảy ra. Hãy kiểm tra lại ngày (năm gõ nhầm?)"],
    ),
    (
        "progress-before-assignment",
        ["task", "progress", "NV-00001", "--percent", "10", "--on", "14/03/2023"],
        ["trước ngày giao nhiệm vụ"],
    ),
    (
        "progress-in-future",
        ["task", "progress", "NV-00001", "--percent", "10", "--on", FUTURE],
        ["ở tương lai"],
    ),
    (
        # Period reads rely on it: a task closes on or after its assignment day.
        "cancel-before-assignment",
        ["task", "cancel", "NV-00001", "--on", "14/03/2023", "--reason", "x"],
        ["trước ngày giao nhiệm vụ 15/03/2023"],
    ),
    (
        "cancel-in-future",
        ["task", "cancel", "NV-00001", "--on", FUTURE, "--reason", "x"],
        ["ở tương lai"],
    ),
    (
        "directive-in-future",
        ["directive", "add", "1/KH-UBND", "--date", FUTURE, "--title", "x"],
        ["ở tương lai"],
    ),
    (
        "document-in-future",
        [
            "reprimand",
            "issue",
            "--kind",
            "phe-binh",
            "--doc",
            "11/TB-VP",
            "--on",
            FUTURE,
            "--agency",
            "SXD",
        ],
        ["ở tương lai"],
    ),
    # percent
    (
        "percent-negative",
        ["task", "progress", "NV-00001", "--percent", "-1", "--on", "01/04/2023"],
        ["-1%", "0–100"],
    ),
    (
        "percent-over-100",
        ["task", "progress", "NV-00001", "--percent", "101", "--on", "01/04/2023"],
        ["101%", "0–100"],
    ),
    # the task's state
    (
        "second-completion",
        ["task", "complete", "NV-00002", "--on", "25/03/2023"],
        ["lần thứ hai", "nhiemvu correct"],
    ),
    (
        "progress-on-cancelled",
        ["task", "progress", "NV-00003", "--percent", "50", "--on", "25/03/2023"],
        ["đã bị hủy"],
    ),
    ("complete-cancelled", ["task", "complete", "NV-00003", "--on", "25/03/2023"], ["đã bị hủy"]),
    (
        "cancel-completed",
        ["task", "cancel", "NV-00002", "--on", "25/03/2023", "--reason", "x"],
        ["đã hoàn thành"],
    ),
    (
        "reassign-cancelled",
        ["task", "reassign", "NV-00003", "--lead", "STC", "--on", "25/03/2023"],
        ["đã bị hủy"],
    ),
    (
        "reassign-to-same-lead",
        ["task", "reassign", "NV-00001", "--lead", "sxd", "--on", "25/03/2023"],
        ["đã là cơ quan chủ trì"],
    ),
    (
        "extension-to-same-deadline",
        ["task", "extend", "NV-00001", "--to", "31/03/2023", "--on", "25/03/2023"],
        ["phải sau hạn hiện tại 31/03/2023"],
    ),
    (
        "extension-to-earlier-date",
        ["task", "extend", "NV-00001", "--to", "30/03/2023", "--on", "25/03/2023"],
        ["phải sau hạn hiện tại"],
    ),
    (
        "extension-without-deadline",
        ["task", "extend", "NV-00004", "--to", "30/06/2023", "--on", "25/03/2023"],
        ["không có thời hạn"],
    ),
    (
        "refusal-without-deadline",
        ["task", "extend", "NV-00004", "--refuse", "--to", "30/06/2023", "--on", "25/03/2023"],
        ["Nhiệm vụ NV-00004 không có thời hạn nên không cần gia hạn"],
    ),
    (
        "refusal-of-a-date-before-the-assignment",
        ["task", "extend", "NV-00001", "--refuse", "--to", "01/01/2023", "--on", "25/03/2023"],
        ["Hạn đề nghị 01/01/2023 phải sau hạn hiện tại 31/03/2023"],
    ),
    (
        "refusal-of-the-current-deadline",
        ["task", "extend", "NV-00001", "--refuse", "--to", "31/03/2023", "--on", "25/03/2023"],
        ["Hạn đề nghị 31/03/2023 phải sau hạn hiện tại 31/03/2023"],
    ),
    (
        "refusal-for-a-completed-task",
        ["task", "extend", "NV-00002", "--refuse", "--to", "30/06/2023", "--on", "25/03/2023"],
        ["đã hoàn thành", "không thể xử lý đề nghị gia hạn"],
    ),
    (
        "extension-of-completed",
        ["task", "extend", "NV-00002", "--to", "30/06/2023", "--on", "25/03/2023"],
        ["đã hoàn thành"],
    ),
    (
        "extension-to-a-date-before-its-approval",
        ["task", "extend", "NV-00001", "--to", "05/04/2023", "--on", "12/04/2023"],
        ["Hạn mới 05/04/2023 trước ngày phê duyệt gia hạn 12/04/2023", "đảo hai ngày"],
    ),
    (
        "extension-approved-before-a-recorded-completion",
        ["task", "extend", "NV-00002", "--to", "30/04/2023", "--on", "18/03/2023"],
        [
            "NV-00002 đã được ghi hoàn thành ngày 20/03/2023, sau ngày 18/03/2023 muốn gia hạn",
            "(`nhiemvu correct ",
            "rồi ghi lại việc hoàn thành",
        ],
    ),
    (
        "extension-approved-before-a-recorded-cancellation",
        ["task", "extend", "NV-00003", "--to", "30/04/2023", "--on", "18/03/2023"],
        ["đã được ghi hủy ngày 20/03/2023", "rồi ghi lại việc hủy"],
    ),
    (
        "agency-code-with-a-slash",
        ["agency", "add", "UB/HP", "--name", "Thử", "--kind", "khac"],
        ["Mã cơ quan 'UB/HP' không hợp lệ", "Ví dụ: SXD, UBND-HA"],
    ),
    (
        "agency-code-out-of-its-folder",
        ["agency", "add", "../BQL", "--name", "Ban Quản lý dự án", "--kind", "khac"],
        ["Mã cơ quan '../BQL' không hợp lệ"],
    ),
    (
        "agency-code-with-a-space",
        ["agency", "add", "SO XD", "--name", "Sở Xây dựng 2", "--kind", "so"],
        ["Mã cơ quan 'SO XD' không hợp lệ"],
    ),
    # documents and agencies
    (
        "reprimand-without-addressee",
        ["reprimand", "issue", "--kind", "phe-binh", "--doc", "11/TB-VP", "--on", "01/04/2023"],
        ["chưa có nơi nhận", "--agency"],
    ),
    (
        "commend-without-addressee",
        ["commend", "--doc", "11/TB-VP", "--on", "01/04/2023"],
        ["chưa có nơi nhận"],
    ),
    (
        "head-of-agency-without-head",
        [
            "reprimand",
            "issue",
            "--kind",
            "phe-binh",
            "--doc",
            "11/TB-VP",
            "--on",
            "01/04/2023",
            "--head",
            "STC",
        ],
        ["STC chưa có người đứng đầu"],
    ),
    (
        "head-appointed-same-day",
        ["agency", "head", "SXD", "--name", "Lê B", "--from", "01/01/2023"],
        ["không sau ngày bắt đầu", "Nguyễn Văn An"],
    ),
    (
        "head-appointed-before",
        ["agency", "head", "SXD", "--name", "Lê B", "--from", "31/12/2022"],
        ["không sau ngày bắt đầu"],
    ),
    (
        "head-with-blank-name",
        ["agency", "head", "SXD", "--name", "   ", "--from", "01/02/2023"],
        ["Họ tên người đứng đầu (--name) không được để trống"],
    ),
    (
        "deputy-with-blank-name",
        ["agency", "deputy", "SXD", "--name", " ", "--field", "xây dựng", "--from", "01/02/2023"],
        ["Họ tên cấp phó (--name) không được để trống"],
    ),
    (
        "rename-to-blank",
        ["agency", "rename", "SXD", "--name", "   ", "--on", "01/02/2023"],
        ["Tên mới của cơ quan (--name) không được để trống"],
    ),
    (
        "head-in-future",
        ["agency", "head", "SXD", "--name", "Lê B", "--from", FUTURE],
        ["Ngày bắt đầu giữ chức vụ 01/01/2099 ở tương lai"],
    ),
    (
        "deputy-in-future",
        ["agency", "deputy", "SXD", "--name", "Lê B", "--field", "xây dựng", "--from", FUTURE],
        ["Ngày bắt đầu phụ trách 01/01/2099 ở tương lai"],
    ),
    (
        "rename-in-future",
        ["agency", "rename", "SXD", "--name", "Sở Xây dựng mới", "--on", FUTURE],
        ["Ngày đổi tên cơ quan 01/01/2099 ở tương lai"],
    ),
    (
        "dissolve-in-future",
        ["agency", "dissolve", "STC", "--on", FUTURE, "--reason", "Giải thể"],
        ["Ngày giải thể, sáp nhập 01/01/2099 ở tương lai"],
    ),
    (
        "dissolve-a-dissolved-agency",
        ["agency", "dissolve", "SKHDT", "--on", "01/02/2023", "--reason", "Giải thể"],
        ["Cơ quan SKHDT đã giải thể từ ngày 01/03/2023", "không ghi giải thể hay sáp nhập lần nữa"],
    ),
    (
        "dissolve-on-the-head-s-first-day",
        ["agency", "dissolve", "SXD", "--on", "01/01/2023", "--reason", "Giải thể"],
        [
            "SXD: ngày giải thể, sáp nhập 01/01/2023 không sau ngày bắt đầu của người đứng đầu "
            "Nguyễn Văn An (từ 01/01/2023)"
        ],
    ),
    (
        "merge-before-open-tasks-were-assigned",
        ["agency", "dissolve", "SXD", "--on", "10/03/2023", "--reason", "x", "--into", "STC"],
        [
            "Ngày sáp nhập 10/03/2023 trước ngày nhiệm vụ về SXD (giao hoặc giao lại), mà việc "
            "sáp nhập phải chuyển sang STC: NV-00001 (từ 15/03/2023), NV-00002 (từ 15/03/2023), "
            "NV-00003 (từ 15/03/2023), NV-00004 (từ 15/03/2023)."
        ],
    ),
    (
        "dissolve-leaving-open-tasks-with-nobody",
        ["agency", "dissolve", "SXD", "--on", "01/04/2023", "--reason", "Giải thể"],
        ["SXD chủ trì 2 nhiệm vụ chưa xong trước ngày 01/04/2023", "NV-00001, NV-00004", "--into"],
    ),
    (
        "dissolve-with-blank-reason",
        ["agency", "dissolve", "STC", "--on", "01/04/2023", "--reason", "  "],
        ["Lý do giải thể, sáp nhập (--reason) không được để trống"],
    ),
    (
        "lead-in-dissolved-agency",
        [*ASSIGN, "--lead", "SKHDT", "--no-deadline"],
        ["SKHDT", "giải thể"],
    ),
    (
        "lead-and-coordinator",
        [*ASSIGN, "--lead", "SXD", "--coordinate", "sxd", "--no-deadline"],
        ["vừa là cơ quan chủ trì vừa là cơ quan phối hợp"],
    ),
    (
        "cancel-with-blank-reason",
        ["task", "cancel", "NV-00001", "--on", "25/03/2023", "--reason", "   "],
        ["lý do"],
    ),
    # figures on a day that has not come: every task due before it would read overdue
    (
        "rating-of-a-year-not-begun",
        ["rating", "compute", "--year", "2099"],
        ["Năm 2099 chưa bắt đầu (hôm nay là"],
    ),
    ("score-of-a-year-not-begun", ["score", "--year", "2099"], ["Năm 2099 chưa bắt đầu"]),
    (
        "task-report-of-a-quarter-not-begun",
        ["report", "tasks", "--quarter", "2099Q1"],
        ["Quý I năm 2099 chưa bắt đầu"],
    ),
    (
        "reprimand-report-of-a-month-not-begun",
        ["report", "reprimands", "--month", "2099-01"],
        ["Tháng 1 năm 2099 chưa bắt đầu"],
    ),
    (
        "reprimand-naming-a-task-before-it-was-assigned",
        [
            "reprimand",
            "issue",
            "--kind",
            "phe-binh",
            "--doc",
            "613/UBND-TH",
            "--on",
            "10/03/2023",
            "--agency",
            "SXD",
            "--task",
            "NV-00001",
        ],
        [
            "Văn bản ngày 10/03/2023 nêu nhiệm vụ NV-00001, mà nhiệm vụ này được giao ngày 15/03/2023"
        ],
    ),
    # a period of another kind than the option: the report would be labelled by the option
    (
        "task-report-quarter-given-a-year",
        ["report", "tasks", "--quarter", "2023"],
        ["Quý '2023' không hợp lệ. Hãy nhập dạng 2023Q2."],
    ),
    (
        "reprimand-report-month-given-a-quarter",
        ["report", "reprimands", "--month", "2023Q2"],
        ["Tháng '2023Q2' không hợp lệ. Hãy nhập dạng 2023-10."],
    ),
    ("score-quarter-given-a-month", ["score", "--quarter", "2023-05"], ["Quý '2023-05'"]),
    ("score-month-given-a-year", ["score", "--month", "2023"], ["Tháng '2023' không hợp lệ"]),
    (
        "report-month-thirteen",
        ["report", "tasks", "--month", "2023-13"],
        ["Tháng '2023-13' không hợp lệ. Hãy nhập dạng 2023-10."],
    ),
    (
        "rating-as-of-in-the-future",
        ["rating", "compute", "--year", "2099", "--as-of", FUTURE],
        ["Ngày chốt 01/01/2099 ở tương lai", "--as-of không sau hôm nay"],
    ),
    # A year's rating is cut off in that year: a later day would count what followed.
    (
        "rating-as-of-after-its-year",
        ["rating", "compute", "--year", "2023", "--as-of", "15/03/2024"],
        ["Ngày chốt số liệu --as-of phải thuộc năm 2023."],
    ),
    (
        "score-as-of-in-the-future",
        ["score", "--year", "2023", "--as-of", FUTURE],
        ["Ngày chốt 01/01/2099 ở tương lai"],
    ),
    (
        "score-as-of-before-its-period",
        ["score", "--quarter", "2023Q2", "--as-of", "31/03/2023"],
        ["Ngày chốt --as-of 31/03/2023 trước ngày đầu quý II năm 2023 (01/04/2023)"],
    ),
    (
        "task-report-as-of-in-the-future",
        ["report", "tasks", "--as-of", FUTURE],
        ["Ngày chốt 01/01/2099 ở tương lai"],
    ),
    ("task-list-in-the-future", ["task", "list", "--as-of", FUTURE], ["ở tương lai"]),
    ("task-show-in-the-future", ["task", "show", "NV-00001", "--as-of", FUTURE], ["ở tương lai"]),
    # what people type
    (
        "impossible-date-completion",
        ["task", "complete", "NV-00001", "--on", "31/02/2023"],
        ["'31/02/2023' không tồn tại"],
    ),
    (
        "impossible-date-deadline",
        [*ASSIGN, "--lead", "SXD", "--deadline", "31/02/2023"],
        ["không tồn tại"],
    ),
    (
        "impossible-date-directive",
        ["directive", "add", "1/KH-UBND", "--date", "2023-02-29", "--title", "x"],
        ["không tồn tại"],
    ),
    # the flag as typed, not the parameter's name in the code (--issued-on, --start)
    (
        "impossible-date-names-date",
        ["directive", "add", "1/TB", "--date", "30/02/2023", "--title", "x"],
        ["Ngày (--date) '30/02/2023' không tồn tại trong lịch"],
    ),
    (
        "impossible-date-names-from",
        ["agency", "head", "SXD", "--name", "Lê B", "--from", "31/02/2023"],
        ["Ngày (--from) '31/02/2023' không tồn tại trong lịch"],
    ),
    (
        "impossible-date-names-to",
        ["report", "reprimands", "--from", "01/02/2023", "--to", "2023-02-30"],
        ["Ngày (--to) '2023-02-30' không tồn tại trong lịch"],
    ),
    (
        "malformed-date",
        ["task", "complete", "NV-00001", "--on", "2023/03/25"],
        ["không đúng định dạng", "dd/mm/yyyy"],
    ),
    ("bad-period", [*ASSIGN, "--lead", "SXD", "--period", "2023Q5"], ["2023Q5", "không hợp lệ"]),
    # years outside 1900–9998: date arithmetic near 31/12/9999 overflowed (a traceback)
    (
        "period-of-year-zero",
        [*ASSIGN, "--lead", "SXD", "--period", "0000"],
        ["Kỳ '0000': năm 0 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "quarter-of-year-zero",
        [*ASSIGN, "--lead", "SXD", "--period", "0000Q1"],
        ["Kỳ '0000Q1': năm 0 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "report-month-of-year-9999",
        ["report", "tasks", "--month", "9999-12"],
        ["Kỳ '9999-12': năm 9999 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "known-at-the-last-day-python-knows",
        ["task", "show", "NV-00001", "--known-at", "31/12/9999"],
        ["'31/12/9999': năm 9999 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "deadline-in-year-9999",
        [*ASSIGN, "--lead", "SXD", "--deadline", "31/12/9999"],
        ["'31/12/9999': năm 9999 nằm ngoài khoảng cho phép"],
    ),
    (
        "extension-to-year-9999",
        ["task", "extend", "NV-00001", "--to", "31/12/9999", "--on", "25/03/2023"],
        ["'31/12/9999': năm 9999 nằm ngoài khoảng cho phép"],
    ),
    (
        "escalate-as-of-year-9999",
        ["escalate", "--as-of", "31/12/9999", "--dry-run"],
        ["'31/12/9999': năm 9999 nằm ngoài khoảng cho phép"],
    ),
    (
        "rating-of-year-zero",
        ["rating", "compute", "--year", "0"],
        ["Năm (--year) '0': năm 0 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "rating-of-year-99999",
        ["rating", "compute", "--year", "99999"],
        ["năm 99999 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    (
        "finalize-year-zero",
        ["rating", "finalize", "--year", "0", "--reason", "x"],
        ["năm 0 nằm ngoài khoảng cho phép"],
    ),
    (
        "assess-year-negative",
        [
            "assess",
            "SXD",
            "--year",
            "-5",
            "--criterion",
            "phoi_hop",
            "--points",
            "8",
            "--reason",
            "x",
        ],
        ["năm -5 nằm ngoài khoảng cho phép"],
    ),
    (
        "score-year-9999",
        ["score", "--year", "9999"],
        ["năm 9999 nằm ngoài khoảng cho phép"],
    ),
    (
        "html-report-year-zero",
        ["report", "html", "--year", "0", "--out", "khong-co-thu-muc/bao-cao.html"],
        ["năm 0 nằm ngoài khoảng cho phép"],
    ),
    (
        "working-days-beyond-fourteen-years",
        [*ASSIGN, "--lead", "SXD", "--within-working-days", "100000000"],
        ["Thời hạn 100000000 ngày làm việc quá dài: tối đa 3650 ngày làm việc (khoảng 14 năm"],
    ),
    (
        "list-as-of-year-one",
        ["task", "list", "--as-of", "01/01/0001"],
        ["'01/01/0001': năm 1 nằm ngoài khoảng cho phép 1900–9998"],
    ),
    # duplicates
    (
        "duplicate-agency-code",
        ["agency", "add", "sxd", "--name", "Sở khác", "--kind", "so"],
        ["SXD đã được đăng ký"],
    ),
    (
        "duplicate-directive",
        ["directive", "add", DIRECTIVE, "--date", "15/03/2023", "--title", "Lần hai"],
        ["đã được ghi"],
    ),
    (
        "duplicate-document",
        [
            "reprimand",
            "issue",
            "--kind",
            "phe-binh",
            "--doc",
            "10/TB-VP",
            "--on",
            "02/04/2023",
            "--agency",
            "SXD",
        ],
        ["10/TB-VP đã được ghi"],
    ),
    (
        "duplicate-task-id",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--id", "NV-00001"],
        ["NV-00001 đã tồn tại"],
    ),
    # task ids given with --id: `correct NV-00001#3` splits at the last '#'
    (
        "blank-task-id",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--id", "   "],
        ["Mã nhiệm vụ (--id) không được để trống", "bỏ --id"],
    ),
    (
        "task-id-with-hash",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--id", "NV-7#2"],
        ["Mã nhiệm vụ 'NV-7#2' không được chứa dấu # hay khoảng trắng"],
    ),
    (
        "task-id-with-space",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--id", "nv 7"],
        ["Mã nhiệm vụ 'NV 7' không được chứa dấu # hay khoảng trắng"],
    ),
]

# What PostgreSQL's columns would refuse (and SQLite would keep): refused on both.
REFUSALS += [
    (
        "agency-code-too-long",
        ["agency", "add", "S" * 51, "--name", "Sở dài", "--kind", "so"],
        ["Mã cơ quan dài 51 ký tự, quá 50 ký tự cho phép"],
    ),
    (
        "directive-number-too-long",
        ["directive", "add", "9" * 101, "--date", "15/03/2023", "--title", "Dài"],
        ["Số hiệu văn bản dài 101 ký tự, quá 100"],
    ),
    (
        "task-id-too-long",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--id", "NV-" + "1" * 98],
        ["Mã nhiệm vụ (--id) dài 101 ký tự, quá 100"],
    ),
    (
        "document-number-too-long",
        ["commend", "--doc", "8" * 101, "--on", "02/04/2023", "--agency", "SXD"],
        ["Số văn bản (--doc) dài 101 ký tự"],
    ),
    (
        "actor-too-long",
        ["--actor", "Ng" * 101, "agency", "add", "SMT", "--name", "Sở MT", "--kind", "so"],
        ["Tên người ghi (--actor) dài 202 ký tự, quá 200"],
    ),
]

# Typed text with no column to refuse it: a paste gone wrong, refused on both.
REFUSALS += [
    (
        "task-title-too-long",
        ["task", "assign", "--directive", DIRECTIVE, "--title", "Rà soát " * 1_251]
        + ["--lead", "SXD", "--no-deadline"],
        ["Nội dung (--title) dài 10.007 ký tự, quá 10.000 ký tự cho phép: 'Rà soát"],
    ),
    (
        "directive-title-too-long",
        ["directive", "add", "7/KH-UBND", "--date", "15/03/2023", "--title", "x" * 10_001],
        # A directive's summary, not a task's content (the event's key is "title" too).
        ["Trích yếu văn bản (--title) dài 10.001 ký tự, quá 10.000"],
    ),
    (
        "progress-note-too-long",
        ["task", "progress", "NV-00001", "--percent", "10", "--on", "20/03/2023"]
        + ["--note", "n" * 10_001],
        ["Ghi chú (--note) dài 10.001 ký tự"],
    ),
    (
        "cancel-reason-too-long",
        ["task", "cancel", "NV-00001", "--on", "20/03/2023", "--reason", "r" * 10_001],
        ["Lý do (--reason) dài 10.001 ký tự"],
    ),
    (
        "clause-too-long",
        [*ASSIGN, "--lead", "SXD", "--no-deadline", "--clause", "2." * 51],
        ["Mục, điểm trong văn bản (--clause) dài 102 ký tự, quá 100"],
    ),
    (
        "completion-doc-too-long",
        ["task", "complete", "NV-00001", "--on", "20/03/2023", "--doc", "1" * 101],
        ["Số văn bản (--doc) dài 101 ký tự, quá 100"],
    ),
    (
        "head-name-too-long",
        ["agency", "head", "SXD", "--name", "Lê " * 68, "--from", "01/02/2023"],
        ["Họ tên (--name) dài 203 ký tự, quá 200"],
    ),
    (
        "deputy-field-too-long",
        ["agency", "deputy", "SXD", "--name", "Lê B", "--field", "f" * 301]
        + ["--from", "01/02/2023"],
        ["Lĩnh vực (--field) dài 301 ký tự, quá 300"],
    ),
    (
        "addressed-person-too-long",
        ["commend", "--doc", "9/UBND", "--on", "02/04/2023", "--person", "Lê " * 68],
        ["Tên cá nhân nhận văn bản (--person) dài 203 ký tự, quá 200"],
    ),
]

REFUSALS += [
    pytest.param(
        "duplicate-directive-other-case",
        ["directive", "add", "129/tb-ubnd", "--date", "15/03/2023", "--title", "Lần hai"],
        ["đã được ghi"],
    ),
    pytest.param(
        "duplicate-document-other-case",
        ["commend", "--doc", "10/tb-vp", "--on", "02/04/2023", "--agency", "SXD"],
        ["đã được ghi"],
    ),
]


def _ids(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize(("case", "args", "fragments"), REFUSALS, ids=[_ids(c) for c in REFUSALS])
def test_bad_input_is_refused_and_writes_nothing(nv, case, args, fragments):
    before = nv.state()
    result = nv.run(*args)
    assert result.exit_code == 1, (case, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), f"{case}: crashed with {result.exception!r}"
    assert result.stderr.startswith("Lỗi: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert result.stdout == ""
    assert nv.state() == before


USAGE_ERRORS = [
    ("bad-status", ["task", "list", "--status", "late"]),
    # A byte that is not UTF-8, as a terminal in another encoding passes it (a lone
    # surrogate): it failed with a traceback when stored.
    (
        "non-utf8-argument",
        ["directive", "add", "9/\udcffX", "--date", "01/02/2023", "--title", "x"],
    ),
    ("two-deadline-forms", [*ASSIGN, "--lead", "SXD", "--deadline", "31/03/2023", "--no-deadline"]),
    (
        "period-and-working-days",
        [*ASSIGN, "--lead", "SXD", "--period", "2023Q2", "--within-working-days", "5"],
    ),
    ("no-deadline-form", [*ASSIGN, "--lead", "SXD"]),
    (
        "missing-title",
        ["task", "assign", "--directive", DIRECTIVE, "--lead", "SXD", "--no-deadline"],
    ),
    ("missing-lead", [*ASSIGN, "--no-deadline"]),
    ("missing-on", ["task", "complete", "NV-00001"]),
    ("missing-task-id", ["task", "progress", "--percent", "10", "--on", "01/04/2023"]),
    ("zero-working-days", [*ASSIGN, "--lead", "SXD", "--within-working-days", "0"]),
    ("year-in-words", ["rating", "compute", "--year", "hai nghìn"]),
    # more than any stored revision: SQLite could not be asked (OverflowError)
    ("revision-beyond-32-bits", ["rating", "show", "--year", "2023", "--revision", "2147483648"]),
    (
        "percent-not-a-number",
        ["task", "progress", "NV-00001", "--percent", "mười", "--on", "01/04/2023"],
    ),
    (
        "unknown-reprimand-kind",
        [
            "reprimand",
            "issue",
            "--kind",
            "canh-cao",
            "--doc",
            "11/TB-VP",
            "--on",
            "01/04/2023",
            "--agency",
            "SXD",
        ],
    ),
    ("unknown-agency-kind", ["agency", "add", "SYT", "--name", "Sở Y tế", "--kind", "bo"]),
    ("unknown-option", ["task", "complete", "NV-00001", "--on", "25/03/2023", "--late"]),
]


@pytest.mark.parametrize(("case", "args"), USAGE_ERRORS, ids=[c[0] for c in USAGE_ERRORS])
def test_usage_errors_exit_2_and_write_nothing(nv, case, args):
    before = nv.state()
    result = nv.run(*args)
    assert result.exit_code == 2, (case, result.stdout, result.stderr, result.exception)
    assert "Lỗi:" in result.stderr  # Click's explanation, in Vietnamese
    assert not CLICK_ENGLISH.search(result.stderr), result.stderr
    assert result.stdout == ""
    assert nv.state() == before


def test_a_task_given_at_the_meeting_before_its_notice_is_recorded_with_a_warning(nv):
    """Up to a year before its directive (366 days), an assignment day is the meeting
    whose conclusions the notice records; a day further back is refused (a typo)."""
    for day in ("05/03/2023", "14/03/2022"):
        given = nv.run(*ASSIGN, "--lead", "SXD", "--no-deadline", "--assigned-on", day)
        assert given.exit_code == 0, given.stderr
        assert f"Lưu ý: Ngày giao {day} trước ngày ban hành văn bản" in given.stderr
    before = nv.state()
    refused = nv.run(*ASSIGN, "--lead", "SXD", "--no-deadline", "--assigned-on", "13/03/2022")
    assert refused.exit_code == 1 and "hơn một năm" in refused.stderr
    assert nv.state() == before


def test_the_two_deadline_forms_message_is_vietnamese(nv):
    result = nv.run(*ASSIGN, "--lead", "SXD", "--deadline", "31/03/2023", "--period", "2023Q1")
    assert result.exit_code == 2
    assert "Hãy chọn đúng một dạng thời hạn" in result.stderr


def test_an_option_of_one_value_given_twice_is_a_usage_error(db_url):
    from nhiemvu_cli import Nhiemvu

    nv = Nhiemvu(db_url)
    for args, name in (
        (["task", "list", "--status", "overdue", "--status", "done_late"], "--status"),
        (["task", "show", "NV-00001", "--as-of=01/06/2023", "--as-of", "02/06/2023"], "--as-of"),
    ):
        refused = nv.run(*args)
        assert refused.exit_code == 2, refused.output
        assert f"Tùy chọn {name} được ghi hai lần; hãy ghi một lần." in refused.stderr
    # A value that looks like an option is a value; options meant to repeat still do.
    nv.ok("agency", "add", "SXD", "--name", "--name", "--kind", "so")
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so")
    nv.ok("directive", "add", "1/TB", "--date", "01/03/2023", "--title", "Thông báo")
    task = nv.json("task", "assign", "--directive", "1/TB", "--title", "Việc", "--lead", "SXD",
                   "--lead", "STC", "--no-deadline")  # fmt: skip
    assert nv.json("task", "show", task["id"])["leads"] == ["SXD", "STC"]
    assert [a["name"] for a in nv.json("agency", "list")] == ["Sở Tài chính", "--name"]


# Nothing listens on port 1: were such a URL let through, it would reach no database.
BAD_POSTGRES_URLS = [
    (
        "postgresql+psycopg://thu_ky:mat-khau@127.0.0.1:abc/nhiemvu",
        "postgresql+psycopg://thu_ky:***@127.0.0.1:abc/nhiemvu",
        "cổng 'abc' không phải là một số",
    ),
    (
        "postgresql://thu_ky:mat-khau@[::1/nhiemvu",
        "postgresql+psycopg://thu_ky:***@[::1/nhiemvu",
        "nằm trọn trong ngoặc vuông",
    ),
    # libpq would pick a database by the user's name, and `init` migrate it
    ("postgresql+psycopg://thu_ky:mat-khau@127.0.0.1:1", None, "thiếu tên cơ sở dữ liệu"),
    ("postgresql+psycopg://thu_ky@127.0.0.1:1/", None, "thiếu tên cơ sở dữ liệu"),
    # libpq's list of servers, which SQLAlchemy reads as one host and a port "1,…"
    (
        "postgresql+psycopg://thu_ky:mat-khau@127.0.0.1:1,127.0.0.2:1/nhiemvu",
        "postgresql+psycopg://thu_ky:***@127.0.0.1:1,127.0.0.2:1/nhiemvu",
        "nhiều máy chủ phải ghi mỗi máy một tham số host, không nối bằng dấu phẩy; ví dụ: "
        "postgresql+psycopg://thu_ky:***@/nhiemvu?host=127.0.0.1:1&host=127.0.0.2:1"
        "&target_session_attrs=read-write (",
    ),
]
DATABASE_COMMANDS = [
    ["init"],
    ["task", "list"],
    ["task", "show", "NV-00001"],
    ["task", "progress", "NV-00001", "--percent", "5", "--on", "01/01/2025"],
]


@pytest.mark.parametrize(
    ("url", "shown", "problem"),
    BAD_POSTGRES_URLS,
    ids=["port", "ipv6", "no-database", "empty", "several-hosts"],
)
def test_a_malformed_postgres_url_is_explained_without_its_password(url, shown, problem):
    from nhiemvu_cli import Nhiemvu

    for args in DATABASE_COMMANDS:
        result = Nhiemvu(url).run(*args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
            args,
            result.exception,
        )
        assert result.stderr.startswith("Lỗi: URL cơ sở dữ liệu PostgreSQL '"), result.stderr
        assert problem in result.stderr and "mat-khau" not in result.stderr
        if shown is not None:
            assert f"'{shown}'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["agency", "add", "STC", "--name", "Sở Tài chính", "--kind", "so"],  # the bare driver
        ["agency", "list"],
        ["projections", "rebuild"],
    ],
    ids=lambda args: "-".join(args[:2]),
)
def test_a_postgres_session_ended_mid_command_is_explained(postgres_server, monkeypatch, args):
    from events.sql import Raw

    url = postgres_server.new_database()
    nv = CliTool(url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    database = sa.engine.make_url(url).database
    execute = Raw.execute

    def after_the_server_ended_it(raw, *args, **kwargs):  # pg_terminate_backend, a restart
        postgres_server.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        )
        return execute(raw, *args, **kwargs)

    monkeypatch.setattr(Raw, "execute", after_the_server_ended_it)
    result = nv.run(*args)
    monkeypatch.undo()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (
        result.exception,
        result.stderr,
    )
    assert result.stderr.startswith("Lỗi: Mất kết nối với máy chủ PostgreSQL giữa chừng (")
    assert "việc ghi có thể đã được lưu" in result.stderr
    assert [agency["code"] for agency in nv.json("agency", "list")] == ["SXD"]


def test_the_url_suggested_for_several_servers_is_one_that_works(postgres_server):
    """A standby's address beside the primary's, written as libpq writes it, is refused
    with the URL SQLAlchemy takes instead: that URL reaches the database."""
    from nhiemvu_cli import Nhiemvu

    one = postgres_server.new_database()
    server, database = one.rsplit("/", 1)
    host = server.rsplit("@", 1)[1]
    refused = Nhiemvu(f"{server},{host}/{database}").run("agency", "list")
    assert refused.exit_code == 1 and "nhiều máy chủ phải ghi" in refused.stderr
    suggested = re.search(r"ví dụ: (\S+) \(", refused.stderr).group(1)
    assert suggested.count("host=") == 2
    nv = Nhiemvu(suggested)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    assert [a["code"] for a in Nhiemvu(one).json("agency", "list")] == ["SXD"]
    assert nv.event_count() == 1


@pytest.mark.parametrize(
    ("args", "option", "suffixes"),
    [
        (["score", "--year", "2023", "--xlsx"], "--xlsx", ".xlsx"),
        (["report", "tasks", "--year", "2023", "--xlsx"], "--xlsx", ".xlsx"),
        (["rating", "compute", "--year", "2023", "--xlsx"], "--xlsx", ".xlsx"),
        (["report", "html", "--year", "2023", "--out"], "--out", ".html hoặc .htm"),
        (["import", "template", "--out"], "--out", ".xlsx"),
    ],
    ids=["score", "report-tasks", "rating", "report-html", "import-template"],
)
def test_a_file_named_without_its_kind_s_ending_is_refused_and_left_as_it_was(
    nv, tmp_path, args, option, suffixes
):
    """`--xlsx diem.csv` wrote a workbook named .csv, and `report html --out log.jsonl`
    wrote the page over a log's export (it replaces what is there, by design)."""
    export = tmp_path / "log.jsonl"
    export.write_text('{"position": 1}\n', encoding="utf-8")
    before = nv.state()
    refused = nv.run(*args, str(export))
    assert refused.exit_code == 2, (refused.stdout, refused.stderr)
    said = f"Lỗi: Giá trị không hợp lệ cho '{option}': tên tệp '{export}' không có đuôi "
    assert said + f"{suffixes}; ví dụ: bao-cao" in refused.stderr
    assert export.read_text(encoding="utf-8") == '{"position": 1}\n'
    assert nv.state() == before
    # The ending in capitals is the same ending.
    target = tmp_path / ("BAO-CAO.HTML" if ".html" in suffixes else "BAO-CAO.XLSX")
    assert nv.run(*args, str(target)).exit_code == 0 and target.exists()
