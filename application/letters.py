"""Draft urging letters (công văn đôn đốc), one .docx per agency with overdue tasks.

A draft, not a document of record: the number is left as "Số: …/VP-TH" and the
signature block empty, for the secretariat to finish in its document system.
Layout follows the usual administrative form (Nghị định 30/2020/NĐ-CP): A4,
Times New Roman, the two-column heading, "Kính gửi", "Nơi nhận".
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy.engine import Connection

from workflow.agencies import Agency
from workflow.dates import LOCAL_TZ, document_date, format_date, iso
from workflow.errors import DomainError
from workflow.tasks import Task
from workflow.text import code as norm_code
from workflow.text import id_order, printable

from . import loading
from .authorship import AUTHOR
from .cutoffs import check_not_future
from .files import Keep, written_together

FONT = "Times New Roman"
SUBJECT = "V/v đôn đốc thực hiện nhiệm vụ quá hạn"
TABLE_HEADINGS = (
    "STT",
    "Văn bản chỉ đạo",
    "Mục",
    "Nội dung nhiệm vụ",
    "Thời hạn",
    "Số ngày quá hạn",
)
# Centimetres; the text width of A4 with 3 cm + 2 cm margins is 16 cm.
COLUMN_WIDTHS = (1.3, 3.0, 1.5, 5.7, 2.5, 2.0)
HEADING_WIDTHS = (6.0, 10.0)
SIGNATURE_WIDTHS = (8.0, 8.0)
# The rules under the issuing body (a third to a half of its line) and under the motto
# (as long as it), as Nghị định 30/2020/NĐ-CP draws them.
BODY_RULE, MOTTO_RULE = 1.6, 6.0
CELL_MARGINS = 0.38  # left and right padding of a table cell, together


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
        tasks.sort(key=lambda t: (t.current_deadline, t.directive, t.clause or "", id_order(t.id)))
    return dict(sorted(result.items()))


def write_letters(
    connection: Connection,
    as_of: date,
    out_dir: Path,
    today: date,
    agency: str | None = None,
    replace: bool = False,
) -> list[Letter]:
    """Write one draft per agency with overdue tasks; returns what was written. A
    draft already in the folder is someone's to finish: kept unless `replace`, and
    then nothing is written (not some letters of the set). The set is written whole
    or not at all, interrupted or failing part-way too (files.written_together): a
    few drafts left behind would make the next run refuse, as if edited."""
    check_not_future(as_of, today)
    if agency is not None:
        agency = norm_code(agency)
        _check_standing(loading.load_agency(connection, agency), as_of)
    groups = overdue_by_agency(connection, as_of, agency)
    if not groups:
        return []
    agencies = loading.load_agencies(connection)
    out_dir = Path(out_dir)
    paths = {code: out_dir / file_name(code, as_of) for code in groups}
    there = [path.name for path in paths.values() if path.exists()]
    if there and not replace:
        raise DomainError(
            f"Thư mục '{out_dir}' đã có dự thảo {', '.join(there)} (có thể đã được sửa): "
            "không ghi đè. Hãy chọn thư mục khác (--out), xóa các tệp đó, hoặc thêm "
            "--replace để lập lại."
        )
    letters = []
    with written_together(out_dir, None if replace else KEEP_DRAFTS) as drafts:
        for code, tasks in groups.items():
            # Made whole in memory, then written: a draft's zip left half written on a
            # full disk printed a traceback of its own at exit, after the refusal.
            made = io.BytesIO()
            build_letter(agencies.get(code), code, tasks, as_of).save(made)
            with drafts.file(paths[code].name) as handle:
                handle.write(made.getbuffer())
            letters.append(Letter(code, paths[code], [t.id for t in tasks]))
    return letters


# A draft saved under a letter's name while the set was being written.
KEEP_DRAFTS = Keep(
    "có thể là dự thảo đã được sửa",
    "chọn thư mục khác (--out), xóa tệp đó, hoặc thêm --replace để lập lại",
)


def _properties(properties, name: str, as_of: date) -> None:
    """What Word shows of the draft (File › Info) and a folder its Authors column:
    python-docx's own template said "python-docx", "generated by python-docx",
    created 23/12/2013. The draft is dated as the letter is, on its first minute."""
    properties.author = properties.last_modified_by = AUTHOR
    properties.title = SUBJECT
    properties.subject = printable(f"Kính gửi: {name}")
    properties.comments = ""
    properties.language = "vi-VN"
    # Written as UTC ("…Z"): the letter's day in Hải Phòng.
    dated = datetime.combine(as_of, time(), LOCAL_TZ).astimezone(UTC)
    properties.created = properties.modified = dated


def _check_standing(agency: Agency, as_of: date) -> None:
    """No letter goes to an agency closed by `as_of`: its tasks have moved to the
    successor, whose letter lists them."""
    if agency.is_active(as_of):
        return
    agency.check_opened(as_of)
    successor = agency.merged_into
    instead = (
        f" Các nhiệm vụ của cơ quan đã chuyển sang {successor}: `--agency {successor}`."
        if successor
        else ""
    )
    raise DomainError(
        f"{agency.code} đã {agency.closure()}: không lập công văn gửi cơ quan không còn "
        f"vào ngày {format_date(as_of)}.{instead}"
    )


def build_letter(agency: Agency | None, code: str, tasks: list[Task], as_of: date):
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    name = agency.name_on(as_of) if agency is not None else code
    document = docx.Document()
    _properties(document.core_properties, name, as_of)
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
            run = paragraph.add_run(printable(text))
            run.bold, run.italic = bold, italic
            if size is not None:
                run.font.size = Pt(size)
        return paragraph

    center = WD_ALIGN_PARAGRAPH.CENTER
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY

    # Heading: issuing body on the left, national motto on the right, each over its
    # rule; the number and the place-and-date on the next row, so on one line.
    heading = document.add_table(rows=2, cols=2)
    _column_widths(heading, HEADING_WIDTHS)
    (body, motto), (number, place) = (row.cells for row in heading.rows)
    # On two lines of its own, as the seeds write it (one line would not fit beside
    # the motto).
    _first(body, "ỦY BAN NHÂN DÂN", size=12)
    para(body, "THÀNH PHỐ HẢI PHÒNG", size=12, align=center)
    para(body, "VĂN PHÒNG", bold=True, size=13, align=center)
    _rule(body, HEADING_WIDTHS[0], BODY_RULE)
    _first(motto, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12)
    para(motto, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align=center)
    _rule(motto, HEADING_WIDTHS[1], MOTTO_RULE)
    _first(number, "Số: …/VP-TH", size=13)
    para(number, SUBJECT, size=12, align=center)
    _first(place, f"Hải Phòng, {document_date(as_of)}", italic=True, size=13)

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
    _column_widths(table, COLUMN_WIDTHS)
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
            cell.paragraphs[0].add_run(printable(value)).font.size = Pt(12)

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
    _column_widths(signature, SIGNATURE_WIDTHS)
    recipients, signer = signature.rows[0].cells
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


def _column_widths(table, widths: tuple[float, ...]) -> None:
    """Fixed column widths, in the table's grid and in every cell: LibreOffice lays a
    table out from its grid, Word from its cells."""
    from docx.shared import Cm

    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _first(cell, text: str, bold: bool = False, italic: bool = False, size: int = 13) -> None:
    """The cell's first line, centred, in its own first paragraph."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)


def _rule(cell, cell_width: float, length: float) -> None:
    """A centred horizontal line `length` cm long under the cell's text: the top
    border of an empty paragraph indented to that length."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    paragraph = cell.add_paragraph()
    side = Cm(max(cell_width - CELL_MARGINS - length, 0) / 2)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = side
    paragraph.paragraph_format.space_after = Pt(6)
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        top.set(qn(f"w:{key}"), value)
    borders.append(top)
    # The schema orders a paragraph's properties: the borders go before these.
    properties.insert_element_before(borders, *_AFTER_BORDERS)
    # An empty paragraph is as tall as its mark: a small one keeps the rule close.
    mark = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "8")  # half-points
    mark.append(size)
    properties.insert_element_before(mark, "w:sectPr", "w:pPrChange")


_AFTER_BORDERS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
    "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
    "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
    "w:pPrChange",
)  # fmt: skip
