"""Draft urging letters (công văn đôn đốc), one .docx per agency with overdue tasks.

A draft, not a document of record: the number is left as "Số: …/VP-TH" and the
signature block empty, for the secretariat to finish in its document system.
Layout follows the usual administrative form (Nghị định 30/2020/NĐ-CP): A4,
Times New Roman, the two-column heading, "Kính gửi", "Nơi nhận".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Connection

from workflow.agencies import Agency
from workflow.dates import format_date, iso
from workflow.tasks import Task
from workflow.text import code as norm_code

from . import loading
from .cutoffs import check_not_future
from .files import folder_for_files, written_whole

FONT = "Times New Roman"
TABLE_HEADINGS = (
    "STT",
    "Văn bản chỉ đạo",
    "Mục",
    "Nội dung nhiệm vụ",
    "Thời hạn",
    "Số ngày quá hạn",
)
# Centimetres; the text width of A4 with 3 cm + 2 cm margins is 16 cm.
COLUMN_WIDTHS = (1.0, 2.6, 1.2, 7.4, 2.2, 1.6)


@dataclass(frozen=True)
class Letter:
    agency: str
    path: Path
    tasks: list[str]

    def to_dict(self) -> dict:
        return {"agency": self.agency, "file": str(self.path), "tasks": self.tasks}


def file_name(agency_code: str, as_of: date) -> str:
    # Codes are checked when registered; an older or imported one may still hold a
    # character that would take the file out of its folder.
    safe = re.sub(r"[^\w.-]", "_", agency_code).lstrip(".") or "_"
    return f"{safe}_don-doc_{iso(as_of)}.docx"


def overdue_by_agency(
    connection: Connection, as_of: date, agency: str | None = None
) -> dict[str, list[Task]]:
    """Tasks open at `as_of` past the deadline then in force, grouped by each lead.

    Urging follows the escalation clock: an extension approved late moves it (a task
    given until 30/04 is not urged on 20/04), though scoring still counts the task
    overdue from its effective deadline. A task with two leads is in both letters:
    each lead is fully accountable. The leads are those of `as_of`; the tasks are not
    pre-filtered by agency in SQL, whose lead table holds today's leads, not those
    before a reassignment.
    """
    result: dict[str, list[Task]] = {}
    # Open on `as_of`: the tasks settled before are not read.
    overdue = [
        state.id
        for state in loading.task_states(connection, as_of, active_since=as_of)
        if state.days_to_urge(as_of)
    ]
    whole = loading.tasks_by_id(connection, overdue, as_of)
    for task in (whole[task_id] for task_id in overdue):
        for lead in task.leads:
            if agency is None or lead == agency:
                result.setdefault(lead, []).append(task)
    for tasks in result.values():
        tasks.sort(key=lambda t: (t.current_deadline, t.directive, t.clause or "", t.id))
    return dict(sorted(result.items()))


def write_letters(
    connection: Connection, as_of: date, out_dir: Path, today: date, agency: str | None = None
) -> list[Letter]:
    """Write one draft per agency with overdue tasks; returns what was written."""
    check_not_future(as_of, today)
    if agency is not None:
        agency = norm_code(agency)
        loading.load_agency(connection, agency)  # NotFound, with suggestions
    groups = overdue_by_agency(connection, as_of, agency)
    agencies = loading.load_agencies(connection)
    out_dir = folder_for_files(out_dir)
    letters = []
    for code, tasks in groups.items():
        document = build_letter(agencies.get(code), code, tasks, as_of)
        path = out_dir / file_name(code, as_of)
        with written_whole(path) as handle:
            document.save(handle)
        letters.append(Letter(code, path, [t.id for t in tasks]))
    return letters


def build_letter(agency: Agency | None, code: str, tasks: list[Task], as_of: date):
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    name = agency.name_on(as_of) if agency is not None else code
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    # Without the East Asian font slot, Word may pick another font for some
    # Vietnamese letters with diacritics.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(0)

    def para(container, text="", bold=False, italic=False, size=None, align=None, indent=False):
        paragraph = container.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph.paragraph_format.first_line_indent = Cm(1)
            paragraph.paragraph_format.space_after = Pt(6)
        if text:
            run = paragraph.add_run(text)
            run.bold, run.italic = bold, italic
            if size is not None:
                run.font.size = Pt(size)
        return paragraph

    center = WD_ALIGN_PARAGRAPH.CENTER
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY

    # Heading: issuing body on the left, national motto on the right.
    heading = document.add_table(rows=1, cols=2)
    left, right = heading.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    left.paragraphs[0].add_run("ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG").font.size = Pt(12)
    left.paragraphs[0].alignment = center
    para(left, "VĂN PHÒNG", bold=True, size=13, align=center)
    para(left, "Số: …/VP-TH", align=center)
    para(left, "V/v đôn đốc thực hiện nhiệm vụ quá hạn", size=12, align=center)
    motto = right.paragraphs[0]
    motto.alignment = center
    run = motto.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    run.bold, run.font.size = True, Pt(12)
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align=center)
    para(right)
    para(
        right,
        f"Hải Phòng, ngày {as_of.day:02d} tháng {as_of.month:02d} năm {as_of.year}",
        italic=True,
        align=center,
    )

    para(document)
    para(document, f"Kính gửi: {name}.", align=center)
    para(document)
    para(
        document,
        "Thực hiện nhiệm vụ theo dõi, đôn đốc việc thực hiện các nhiệm vụ do Ủy ban nhân dân "
        "thành phố, Chủ tịch Ủy ban nhân dân thành phố giao, Văn phòng Ủy ban nhân dân thành "
        f"phố nhận thấy: tính đến ngày {format_date(as_of)}, {name} còn {len(tasks)} nhiệm vụ "
        "chủ trì thực hiện đã quá thời hạn nhưng chưa hoàn thành, cụ thể như sau:",
        align=justify,
        indent=True,
    )

    table = document.add_table(rows=1, cols=len(TABLE_HEADINGS))
    table.style = "Table Grid"
    for cell, heading_text, width in zip(
        table.rows[0].cells, TABLE_HEADINGS, COLUMN_WIDTHS, strict=True
    ):
        cell.width = Cm(width)
        cell.paragraphs[0].alignment = center
        run = cell.paragraphs[0].add_run(heading_text)
        run.bold, run.font.size = True, Pt(12)
    for number, task in enumerate(tasks, start=1):
        values = (
            str(number),
            task.directive,
            task.clause or "",
            task.title,
            format_date(task.current_deadline),
            str(task.days_to_urge(as_of)),
        )
        cells = table.add_row().cells
        for index, (cell, value, width) in enumerate(
            zip(cells, values, COLUMN_WIDTHS, strict=True)
        ):
            cell.width = Cm(width)
            if index != 3:  # the task's text reads better left-aligned
                cell.paragraphs[0].alignment = center
            cell.paragraphs[0].add_run(value).font.size = Pt(12)

    para(document)
    para(
        document,
        f"Văn phòng Ủy ban nhân dân thành phố đề nghị {name} khẩn trương tập trung chỉ đạo "
        "hoàn thành các nhiệm vụ nêu trên; báo cáo kết quả thực hiện, nêu rõ nguyên nhân "
        "chậm trễ, khó khăn, vướng mắc (nếu có) và đề xuất thời hạn hoàn thành, gửi Văn "
        "phòng Ủy ban nhân dân thành phố trước ngày …/…/…… để tổng hợp, báo cáo Chủ tịch "
        "Ủy ban nhân dân thành phố.",
        align=justify,
        indent=True,
    )
    para(
        document,
        f"Văn phòng Ủy ban nhân dân thành phố thông báo để {name} biết, thực hiện./.",
        align=justify,
        indent=True,
    )
    para(document)

    signature = document.add_table(rows=1, cols=2)
    recipients, signer = signature.rows[0].cells
    recipients.width, signer.width = Cm(8), Cm(8)
    run = recipients.paragraphs[0].add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in (
        "- Như trên;",
        "- CT, các PCT UBND TP (để báo cáo);",
        "- CVP, các PCVP;",
        "- Lưu: VT, TH.",
    ):
        para(recipients, line, size=11)
    signer.paragraphs[0].alignment = center
    signer.paragraphs[0].add_run("KT. CHÁNH VĂN PHÒNG").bold = True
    para(signer, "PHÓ CHÁNH VĂN PHÒNG", bold=True, align=center)
    para(signer, "(Ký, ghi rõ họ tên)", italic=True, align=center)
    for _ in range(3):
        para(signer)
    para(signer, "……………………", align=center)
    return document
