"""`nhiemvu report html`: the period's report as one HTML page for the leaders.

Registered on the `report` group of cli_reports.py (see cli.py).
"""

from __future__ import annotations

import click

from cli_app import get_app
from cli_support import DATE, YEAR, NhiemvuCommand, file_suffix, rulebook_option


@click.command("html", cls=NhiemvuCommand)
@click.option("--year", type=YEAR, default=None, metavar="2023", help="Báo cáo năm.")
@click.option("--quarter", default=None, metavar="2023Q1", help="Báo cáo quý.")
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="Mọi nhiệm vụ giao đến ngày này; văn bản và xếp loại từ đầu năm đến ngày này.",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    metavar="TỆP.html",
    type=click.Path(dir_okay=False, writable=True),
    callback=file_suffix(".html", ".htm"),
    help="Tệp HTML sẽ ghi (ghi đè nếu đã có).",
)
@rulebook_option
@click.pass_context
def report_html(ctx, year, quarter, as_of, out_path, rulebook_path):
    """Báo cáo HTML một tệp (mở không cần mạng, in ra A4): số liệu chính, biểu đồ,
    xếp loại người đứng đầu, danh sách nhiệm vụ quá hạn."""
    from application import html_report
    from workflow.dates import LOCAL_TZ

    given = [
        name
        for name, value in (("--year", year), ("--quarter", quarter), ("--as-of", as_of))
        if value is not None
    ]
    if len(given) > 1:
        raise click.UsageError(f"Chỉ chọn một kỳ báo cáo; đang có: {', '.join(given)}.")
    if not given:
        raise click.UsageError("Hãy chọn kỳ báo cáo: --year, --quarter hoặc --as-of.")
    app = get_app(ctx)
    now = app.ledger.now().astimezone(LOCAL_TZ)
    window = html_report.report_window(now.date(), year=year, quarter=quarter, as_of=as_of)
    with app.engine.connect() as connection:
        page = html_report.build(connection, window, now, rulebook_path)
    written = html_report.write_file(out_path, page)
    what = window.label
    if window.kind != "as_of":
        counted = "tạm tính đến ngày" if window.provisional else "số liệu đến ngày"
        what += f" ({counted} {window.cutoff:%d/%m/%Y})"
    size = len(page.encode("utf-8")) // 1024
    click.echo(f"Đã ghi báo cáo {what} vào {written} ({size} KB).")
