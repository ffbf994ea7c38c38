"""`nhiemvu score`, `nhiemvu rating …`, `nhiemvu assess`: accountability and year-end ratings."""

from __future__ import annotations

import click

from cli_app import get_app, report_result
from cli_support import (
    DATE,
    DECIMAL,
    STORED_NUMBER,
    YEAR,
    NhiemvuCommand,
    NhiemvuGroup,
    emit_json,
    json_option,
    local_time_text,
    output,
    period_options,
    render_table,
    rulebook_option,
    warn,
    window,
    workbook_target,
    workbook_written,
    xlsx_options,
)

SCORE_COLUMNS = [
    ("agency", "Cơ quan"),
    ("score", "Điểm"),
    ("band", "Xếp loại"),
    ("N", "Số NV đến hạn"),
    ("on_time", "Đúng hạn"),
    ("late", "Quá hạn (đã xong)"),
    ("overdue", "Quá hạn (chưa xong)"),
    ("reminders", "Nhắc nhở/RKN"),
    ("criticisms", "Phê bình"),
    ("commendations", "Biểu dương"),
    ("T", "Điểm nhiệm vụ"),
    ("G", "Tiêu chí chung"),
    ("deductions", "Điểm trừ"),
    ("bonus", "Điểm thưởng"),
]
RATING_COLUMNS = [
    ("rank", "Hạng"),
    ("agency", "Cơ quan"),
    ("head", "Người đứng đầu"),
    ("days_in_office", "Số ngày giữ chức"),
    *SCORE_COLUMNS[1:],
]


def _app(ctx):
    return get_app(ctx)


def _export(path, keep, title, columns, rows, notes=()):
    from application.xlsx import Sheet, write_workbook

    explanations = [
        {"agency": r["agency"], "head": r.get("head", ""), "line": line}
        for r in rows
        for line in r["explanation"]
    ]
    write_workbook(
        path,
        [
            Sheet(title, columns, rows, notes=notes),
            Sheet(
                "Giải trình",
                # A score is an agency's: no head column, which would stay empty.
                [("agency", "Cơ quan")]
                + ([("head", "Người đứng đầu")] if any("head" in r for r in rows) else [])
                + [("line", "Nội dung")],
                explanations,
            ),
        ],
        keep,
    )


@click.command(cls=NhiemvuCommand)
@period_options
@click.option("--agency", default=None, metavar="MÃ_CQ", help="Chỉ cơ quan này.")
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="Ngày chốt số liệu (mặc định: ngày cuối kỳ, hoặc hôm nay nếu kỳ chưa hết).",
)
@rulebook_option
@json_option
@xlsx_options
@click.pass_context
def score(
    ctx,
    year,
    quarter,
    month,
    date_from,
    date_to,
    agency,
    as_of,
    rulebook_path,
    as_json,
    xlsx_path,
    replace,
):
    """Điểm trách nhiệm của từng cơ quan trong một kỳ (một trong --year,
    --quarter, --month, hoặc --from và --to).

    \b
    Ví dụ:
      nhiemvu score --quarter 2023Q3
      nhiemvu score --year 2023 --agency SXD --as-of 30/06/2023 --xlsx diem.xlsx
    """
    from application import rating
    from application.cutoffs import period_cutoff
    from workflow.reports import period_label
    from workflow.scoring import Window

    kind, start, end = window(year, quarter, month, date_from, date_to)
    keep = workbook_target(ctx, xlsx_path, replace)
    app = _app(ctx)
    label = period_label(kind, start, end)
    cutoff = period_cutoff(start, end, label, as_of, app.today())
    book = rating.choose_rulebook(cutoff, rulebook_path)
    with app.engine.connect() as connection:
        rows = rating.score(connection, Window(start, end), cutoff, book, agency)
        early = rating.before_the_records(connection, Window(start, end))
    warn([early] if early and rows else [])
    as_of_text = _as_of_text(cutoff, end, app.today())
    if xlsx_path:
        notes = [f"Điểm trách nhiệm {label} ({as_of_text})", f"Sổ quy tắc: {book.name}"]
        _export(xlsx_path, keep, "Điểm", SCORE_COLUMNS, rows, notes)
    output(
        rows,
        as_json,
        lambda rs: (
            f"ĐIỂM TRÁCH NHIỆM {label.upper()} ({as_of_text})\n"
            + render_table(rs, SCORE_COLUMNS, empty=NO_AGENCY)
            + f"\nSổ quy tắc: {book.name}"
        ),
    )
    workbook_written(xlsx_path, as_json)


def _as_of_text(cutoff, end, today) -> str:
    """The cut-off of figures for a period ending on `end`, provisional until it is over
    (see application.cutoffs.provisional)."""
    from application.cutoffs import provisional
    from workflow.dates import format_date

    text = f"số liệu đến ngày {format_date(cutoff)}"
    return text + (", tạm tính" if provisional(cutoff, end, today) else "")


@click.group(cls=NhiemvuGroup)
def rating():
    """Xếp loại người đứng đầu cuối năm."""


NO_AGENCY = (
    "Không có cơ quan nào hoạt động trong kỳ này theo sổ. Đăng ký cơ quan: `nhiemvu agency add`."
)
NO_HEAD = (
    "Không có người đứng đầu nào giữ chức trong năm theo sổ. Ghi người đứng đầu: "
    "`nhiemvu agency head`."
)


def _ranked(rows):
    """Rows as people read them: a head not rated (KXL) has that for a rank, on screen
    and in the workbook alike (JSON keeps null)."""
    return [{**r, "rank": r["rank"] or "KXL"} for r in rows]


def _rating_table(rows, book_name: str) -> str:
    table = render_table(_ranked(rows), RATING_COLUMNS, empty=NO_HEAD)
    lines = [table, "", f"Sổ quy tắc: {book_name}"]
    for r in rows:
        lines.append("")
        lines.append(f"{r['agency']} — {r['head']}:")
        lines.extend(f"  {line}" for line in r["explanation"])
    return "\n".join(lines)


@rating.command("compute")
@click.option("--year", type=YEAR, required=True, metavar="NĂM", help="Năm xếp loại.")
@click.option("--as-of", type=DATE, default=None, help="Ngày chốt số liệu trong năm.")
@rulebook_option
@json_option
@xlsx_options
@click.pass_context
def rating_compute(ctx, year, as_of, rulebook_path, as_json, xlsx_path, replace):
    """Tính xếp loại người đứng đầu (chưa ghi vào sổ)."""
    from datetime import date

    from application import rating as ratings
    from workflow.scoring import Window

    keep = workbook_target(ctx, xlsx_path, replace)
    app = _app(ctx)
    cutoff = ratings.rating_cutoff(year, as_of, app.today())
    book = ratings.choose_rulebook(cutoff, rulebook_path)
    with app.engine.connect() as connection:
        rows = ratings.rate(connection, year, cutoff, book)
        revision = ratings.finalized_revision(connection, year)
        early = ratings.before_the_records(connection, Window(date(year, 1, 1), cutoff))
    warn([early] if early and rows else [])
    state = (
        "chưa chốt"
        if revision is None
        else f"tính lại từ sổ; kết quả đã chốt (lần {revision}): `nhiemvu rating show`"
    )
    as_of_text = f"{_as_of_text(cutoff, date(year, 12, 31), app.today())}; {state}"
    if xlsx_path:
        notes = [f"Xếp loại người đứng đầu năm {year} ({as_of_text})", f"Sổ quy tắc: {book.name}"]
        _export(xlsx_path, keep, f"Xếp loại {year}", RATING_COLUMNS, _ranked(rows), notes)
    heading = f"XẾP LOẠI NGƯỜI ĐỨNG ĐẦU NĂM {year} ({as_of_text})"
    output(rows, as_json, lambda rs: heading + "\n" + _rating_table(rs, book.name))
    workbook_written(xlsx_path, as_json)


@rating.command("finalize")
@click.option("--year", type=YEAR, required=True, metavar="NĂM", help="Năm xếp loại.")
@rulebook_option
@click.option(
    "--reason", default=None, metavar="LÝ_DO", help="Bắt buộc khi chốt lại lần thứ hai trở đi."
)
@json_option
@click.pass_context
def rating_finalize(ctx, year, rulebook_path, reason, as_json):
    """Chốt kết quả xếp loại năm: ghi vào sổ sự kiện, không ghi đè."""
    from datetime import date

    from application import rating as ratings

    app = _app(ctx)
    book = ratings.choose_rulebook(date(year, 12, 31), rulebook_path)
    result = ratings.finalize(app.ledger, year, book, reason)
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"Đã chốt kết quả xếp loại năm {year}, lần {result['revision']} "
            f"({len(result['ratings'])} người đứng đầu, sổ quy tắc {book.name})."
        )


@rating.command("show")
@click.option("--year", type=YEAR, required=True, metavar="NĂM", help="Năm xếp loại.")
@click.option(
    "--revision",
    type=STORED_NUMBER,
    default=None,
    metavar="LẦN",
    help="Lần chốt, từ 1 (mặc định: lần mới nhất).",
)
@json_option
@xlsx_options
@click.pass_context
def rating_show(ctx, year, revision, as_json, xlsx_path, replace):
    """Xem kết quả xếp loại đã chốt."""
    from application import rating as ratings
    from workflow.dates import format_date, from_iso

    keep = workbook_target(ctx, xlsx_path, replace)
    app = _app(ctx)
    with app.engine.connect() as connection:
        data = ratings.show(connection, app.store, year, revision)
        data["changed_since"] = ratings.changed_since(connection, data)
        data["rulebook_edited"] = ratings.rulebook_edited(data)
    book = f"{data['rulebook']['id']} phiên bản {data['rulebook']['version']}"
    # What the official result is, on screen and in the workbook alike.
    heading = (
        f"Kết quả xếp loại người đứng đầu năm {year} (số liệu đến ngày "
        f"{format_date(from_iso(data['cutoff']))}) — chốt lần {data['revision']} lúc "
        f"{local_time_text(data['finalized_at'])} bởi {data['actor']}"
        + (f"; lý do: {data['reason']}" if data["reason"] else "")
    )
    if xlsx_path:
        notes = [heading, f"Sổ quy tắc: {book}"]
        ranked = _ranked(data["ratings"])
        _export(xlsx_path, keep, f"Xếp loại {year}", RATING_COLUMNS, ranked, notes)
    output(data, as_json, lambda d: f"{heading}\n{_rating_table(d['ratings'], book)}")
    workbook_written(xlsx_path, as_json)
    warn(_since_finalized(data, book, year))


def _since_finalized(data: dict, book: str, year: int) -> list[str]:
    """What no longer holds of a finalised rating: the log, or the rulebook itself."""
    again = f"Nếu cần, chốt lại bằng `nhiemvu rating finalize --year {year} --reason …`."
    differs = "; ".join(data["changed_since"] or [])
    if data["rulebook_edited"]:
        outcome = (
            f"tính lại thì khác — {differs}" if differs else "kết quả tính lại vẫn như đã chốt"
        )
        return [
            f"Sổ quy tắc {book} đã bị sửa sau lần chốt này mà vẫn giữ phiên bản ({outcome}). "
            "Sổ quy tắc đã sửa phải mang phiên bản mới (version), để mỗi kết quả nêu đúng "
            f"quy tắc đã dùng; hoặc trả tệp về như cũ. {again}"
        ]
    if differs:
        return [
            "Sổ đã đổi sau lần chốt này (một sự kiện được ghi hoặc rút lại về sau): tính lại "
            f"từ sổ hiện nay thì khác — {differs}. {again}"
        ]
    return []


@click.command(cls=NhiemvuCommand)
@click.argument("code", metavar="MÃ_CQ")
@click.option("--year", type=YEAR, required=True, metavar="NĂM", help="Năm được đánh giá.")
@click.option(
    "--criterion", required=True, metavar="TIÊU_CHÍ", help="tham_muu, phoi_hop hoặc che_do_bao_cao."
)
@click.option(
    "--points", type=DECIMAL, required=True, metavar="ĐIỂM", help="Số điểm, ví dụ 8 hoặc 7,5."
)
@click.option("--reason", required=True, metavar="LÝ_DO", help="Căn cứ của số điểm.")
@rulebook_option
@click.pass_context
def assess(ctx, code, year, criterion, points, reason, rulebook_path):
    """Ghi đánh giá tiêu chí chung (tham mưu, phối hợp, chế độ báo cáo) của cơ quan."""
    from datetime import date

    from application import rating as ratings

    book = ratings.choose_rulebook(date(year, 12, 31), rulebook_path)
    result = _app(ctx).ledger.record_assessment(code, year, criterion, points, reason, book)
    shown = _points(points)
    human = f"Đã ghi đánh giá {criterion} = {shown} điểm cho {code.upper()} năm {year}."
    report_result(result, False, human)


ASSESSMENT_COLUMNS = [
    ("agency", "Cơ quan"),
    ("criterion_label", "Tiêu chí"),
    ("points_text", "Điểm"),
    ("reason", "Căn cứ"),
    ("recorded_text", "Ghi lúc"),
    ("actor", "Người ghi"),
    ("counted_text", "Tính điểm"),
    ("event_id", "Mã sự kiện"),
]


@click.command("assessments", cls=NhiemvuCommand)
@click.option("--year", type=YEAR, required=True, metavar="NĂM", help="Năm được đánh giá.")
@click.option("--agency", default=None, metavar="MÃ_CQ", help="Chỉ cơ quan này.")
@rulebook_option
@json_option
@click.pass_context
def report_assessments(ctx, year, agency, rulebook_path, as_json):
    """Các đánh giá tiêu chí chung đã ghi cho một năm, với mã sự kiện để rút lại.

    \b
    Ví dụ:
      nhiemvu report assessments --year 2023
      nhiemvu report assessments --year 2023 --agency SXD --json
    """
    from datetime import date

    from application import rating
    from application.assessments import assessments_of

    book = rating.choose_rulebook(date(year, 12, 31), rulebook_path)
    with _app(ctx).engine.connect() as connection:
        rows = assessments_of(connection, year, book, agency)
    output(rows, as_json, lambda rs: _assessment_text(rs, year, agency))


def _assessment_text(rows, year: int, agency: str | None) -> str:
    whose = f" CỦA {agency.upper()}" if agency else ""
    if not rows:
        nobody = f"{agency.upper()} chưa" if agency else "Chưa có cơ quan nào"
        return (
            f"{nobody} được đánh giá tiêu chí chung năm {year}: mỗi tiêu chí được tính "
            "điểm tối đa. Ghi đánh giá bằng `nhiemvu assess MÃ_CQ --year …`."
        )
    shown = [
        {
            **r,
            "points_text": _points(r["points"])
            + (f" / {_points(r['max_points'])}" if r["max_points"] is not None else ""),
            "recorded_text": local_time_text(r["recorded_at"]),
            "counted_text": "có" if r["counted"] else _not_counted(r),
        }
        for r in rows
    ]
    return (
        f"ĐÁNH GIÁ TIÊU CHÍ CHUNG NĂM {year}{whose}\n"
        + render_table(shown, ASSESSMENT_COLUMNS)
        + "\nTiêu chí chưa được đánh giá thì được tính điểm tối đa. Đánh giá ghi sau thay "
        "đánh giá ghi trước cùng tiêu chí; ghi nhầm thì rút lại bằng `nhiemvu correct "
        "MÃ_SỰ_KIỆN --reason …`."
    )


def _points(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _not_counted(row) -> str:
    if row["max_points"] is None:
        return "không — sổ quy tắc không có tiêu chí này"
    return "không — đã có đánh giá ghi sau"
