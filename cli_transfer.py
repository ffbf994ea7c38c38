"""Moving data in and out: `nhiemvu events export|import` and `nhiemvu import xlsx|template`.

`events_export` and `events_import` belong to the `events` group of cli.py;
`import_` is the `import` group. Long runs show a progress bar on stderr, only
when stderr is a terminal, so that scripts and logs get clean output.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import click

from cli_app import get_app
from cli_support import (
    HASH,
    NhiemvuCommand,
    NhiemvuGroup,
    emit_json,
    file_suffix,
    file_target,
    json_option,
    progress_bar,
    render_table,
    unvacuumed_said,
)
from workflow.text import clipped, grouped

# What a file already at the export's target may be: an earlier export, perhaps the
# only copy of a log since lost.
EXPORT_KEPT = "có thể là một bản xuất cần giữ"


@contextmanager
def _output(path: str, keep) -> Iterator[BinaryIO]:
    """The export target, written under a temporary name and renamed when complete:
    an interrupted export never leaves a file that looks like a (shorter) good one."""
    if path == "-":
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from application.files import written_whole

    with written_whole(path, durable=True, keep=keep) as handle:
        yield handle


@click.command("export", cls=NhiemvuCommand)
@click.option(
    "--out",
    "out_path",
    required=True,
    metavar="TỆP.jsonl",
    help="Tệp đích (JSON Lines, mỗi dòng một sự kiện, dòng cuối ghi số sự kiện và mã băm "
    "cuối); '-' để ghi ra stdout. Không ghi đè tệp đã có, trừ khi thêm --replace.",
)
@click.option("--replace", is_flag=True, help="Ghi đè tệp --out nếu tệp đó đã có.")
@json_option
@click.pass_context
def events_export(ctx, out_path, replace, as_json):
    """Xuất toàn bộ sổ sự kiện ra tệp JSON Lines (kiểm tra chuỗi mã băm khi đọc)."""
    from application.files import replaceable
    from events.transfer import export_log

    keep = None if replace else replaceable(EXPORT_KEPT)
    if out_path != "-":
        file_target(ctx, out_path, keep)
    app = get_app(ctx, catch_up=False)
    total = app.store.head_position()
    with progress_bar(total, "Đang xuất sổ sự kiện") as tick, _output(out_path, keep) as out:
        result = export_log(app.engine, out, progress=tick)
    to_stderr = out_path == "-"
    if as_json:
        data = {"file": out_path, "events": result.count, "last_hash": result.last_hash}
        if to_stderr:
            click.echo(json.dumps(data, ensure_ascii=False), err=True)
        else:
            emit_json(data)
        return
    click.echo(f"Đã xuất {grouped(result.count)} sự kiện vào {out_path}.", err=to_stderr)
    click.echo(f"Mã băm cuối: {result.last_hash}", err=to_stderr)
    click.echo(
        "Ghi lại mã này ở nơi khác: `nhiemvu events verify --expect-hash` đối chiếu với nó "
        "về sau (sổ bị viết lại cả các mã băm vẫn lộ).",
        err=to_stderr,
    )


@click.command("import", cls=NhiemvuCommand)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), metavar="TỆP")
@click.option(
    "--expect-hash",
    type=HASH,
    default=None,
    metavar="MÃ_BĂM",
    help="Mã băm cuối do lệnh export báo; từ chối tệp kết thúc ở chỗ khác.",
)
@json_option
@click.pass_context
def events_import(ctx, file, expect_hash, as_json):
    """Nạp sổ sự kiện từ tệp JSON Lines vào một cơ sở dữ liệu trống, rồi dựng lại các bảng
    dẫn xuất. Tệp bị sửa, bị cắt hoặc thiếu dòng bị từ chối; khi đó không ghi gì cả.
    TỆP là '-' thì đọc từ stdin (`events export --out - | … events import -`)."""
    from events.transfer import TransferError

    app = get_app(ctx)
    shown = "stdin" if file == "-" else file
    with _input(file) as handle:
        try:
            label = "Đang kiểm tra, nạp sổ sự kiện và dựng các bảng dẫn xuất"
            with progress_bar(_size(handle), label) as tick, unvacuumed_said():
                result, rebuilt = app.import_log(handle, progress=tick, expect_hash=expect_hash)
        except TransferError as exc:
            raise TransferError(
                f"{'Dữ liệu từ' if file == '-' else 'Tệp'} {shown}: {exc}"
            ) from None
    if as_json:
        emit_json(
            {
                "file": file,
                "events": result.count,
                "last_hash": result.last_hash,
                "projected": rebuilt,
            }
        )
        return
    click.echo(
        f"Đã nạp {grouped(result.count)} sự kiện từ {shown} (vị trí 1–{grouped(result.count)}), chuỗi mã băm "
        f"hợp lệ; mã băm cuối: {result.last_hash}. Đã dựng lại các bảng dẫn xuất."
    )


@contextmanager
def _input(path: str) -> Iterator[BinaryIO]:
    """The file to import, or standard input for '-' (left open: it is not ours)."""
    from events.transfer import TransferError

    if path == "-":
        stdin = sys.stdin.buffer
        if stdin.isatty():
            raise TransferError(
                "'-' là đọc từ stdin, nhưng stdin đang là bàn phím: hãy chuyển tệp vào, ví "
                "dụ `nhiemvu --db CŨ events export --out - | nhiemvu --db MỚI events "
                "import -`, hoặc ghi tên tệp."
            )
        yield stdin
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise TransferError(f"Không tìm thấy tệp '{path}'.") from None
    with handle:
        yield handle


def _size(handle: BinaryIO) -> int:
    """The bytes the progress bar counts to; 0 (no bar) for a pipe, whose end is unknown."""
    try:
        status = os.fstat(handle.fileno())
    except (OSError, ValueError):  # a stream with no file behind it
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


@click.group("import", cls=NhiemvuGroup)
def import_():
    """Nhập dữ liệu từ sổ theo dõi nhiệm vụ Excel."""


@import_.command("xlsx")
@click.argument("file", type=click.Path(dir_okay=False), metavar="TỆP")
@click.option(
    "--sheet",
    default=None,
    metavar="TÊN_TRANG",
    help="Trang cần đọc (mặc định: trang đầu tiên có dòng tiêu đề đủ cột).",
)
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và báo sẽ làm gì; không ghi gì.")
@click.option(
    "--skip-invalid", is_flag=True, help="Ghi các dòng hợp lệ, bỏ qua và liệt kê các dòng lỗi."
)
@json_option
@click.pass_context
def import_xlsx(ctx, file, sheet, dry_run, skip_invalid, as_json):
    """Nhập văn bản, nhiệm vụ và việc hoàn thành từ sổ theo dõi (.xlsx), mỗi dòng một
    nhiệm vụ. Có dòng lỗi thì không ghi gì (trừ khi --skip-invalid); nhập lại cùng tệp
    không tạo trùng."""
    from application.xlsx_import import import_workbook

    report = import_workbook(get_app(ctx), file, sheet, dry_run, skip_invalid)
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(_human_report(report))
    if report.refused:
        click.echo(
            f"Lỗi: có {report.count('invalid')} dòng không hợp lệ nên không ghi gì cả. Sửa các "
            "dòng đó rồi nhập lại, hoặc dùng --skip-invalid để chỉ ghi các dòng hợp lệ.",
            err=True,
        )
        ctx.exit(1)


def _human_report(report) -> str:
    from application.xlsx_import import STATUS_LABELS, STRAY_GAP

    lines = [f"Tệp {report.file}, trang '{report.sheet}', dòng tiêu đề {report.header_row}."]
    if report.ignored_columns:
        lines.append("Không dùng các cột: " + "; ".join(report.ignored_columns) + ".")
    for name in report.other_sheets:
        lines.append(
            f"Trang '{name}' cũng có bảng nhiệm vụ nhưng chưa được nhập: mỗi lần nhập một "
            f"trang; nhập trang đó bằng --sheet '{name}'."
        )
    if report.stray_cells:
        shown = ", ".join(report.stray_cells[:5]) + ("…" if len(report.stray_cells) > 5 else "")
        lines.append(
            f"Không đọc các ô ở xa bên dưới bảng, sau hơn {grouped(STRAY_GAP)} dòng trống: "
            f"{shown}. Nếu đó là dữ liệu, hãy chuyển lên ngay dưới bảng."
        )
    if report.skipped_rows:
        lines.append(
            "Bỏ qua các dòng không phải nhiệm vụ (tiêu đề nhóm, dòng ví dụ): "
            + ", ".join(str(r) for r in report.skipped_rows)
            + "."
        )
    if not report.rows:
        lines.append("Không có dòng nhiệm vụ nào.")
        return "\n".join(lines)
    lines.append("")
    lines.append(
        render_table(
            [
                {
                    "row": r.row,
                    "status": STATUS_LABELS[r.status],
                    "task": r.task or "",
                    "directive": r.directive or "",
                    "what": "; ".join(r.actions) if r.actions else _first_error(r),
                }
                for r in report.rows
            ],
            [
                ("row", "Dòng"),
                ("status", "Kết quả"),
                ("task", "Nhiệm vụ"),
                ("directive", "Văn bản"),
                ("what", "Việc làm / lý do"),
            ],
        )
    )
    problems = [r for r in report.rows if r.errors]
    if problems:
        lines.append("")
        lines.append("Các dòng lỗi:")
        for r in problems:
            for error in r.errors:
                lines.append(f"  Dòng {r.row}: {error}")
    noted = [r for r in report.rows if r.warnings]
    if noted:
        lines.append("")
        lines.append("Lưu ý:")
        for r in noted:
            for warning in r.warnings:
                lines.append(f"  Dòng {r.row}: {warning}")
    lines.append("")
    created, existing = report.count("created"), report.count("exists")
    would, invalid = report.count("would_create"), report.count("invalid")
    if report.written:
        lines.append(
            f"Đã ghi {created} nhiệm vụ mới; {existing} dòng đã có"
            + (f"; bỏ qua {invalid} dòng lỗi." if invalid else ".")
        )
    elif report.dry_run:
        lines.append(
            f"Chạy thử, không ghi gì: {would} dòng sẽ tạo, {existing} dòng đã có, "
            f"{invalid} dòng lỗi."
        )
    elif invalid and not report.skip_invalid:
        lines.append(f"Không ghi gì: {invalid} dòng lỗi; {would} dòng hợp lệ chưa được ghi.")
    else:
        lines.append(f"Không có gì mới để ghi: {existing} dòng đã có, {invalid} dòng lỗi.")
    return "\n".join(lines)


def _first_error(row) -> str:
    if not row.errors:
        return "đã có trong sổ" if row.status == "exists" else ""
    text = row.errors[0]
    return clipped(text, 60)


@import_.command("template")
@click.option(
    "--out",
    "out_path",
    required=True,
    metavar="TỆP.xlsx",
    callback=file_suffix(".xlsx"),
    help="Tệp sẽ ghi.",
)
@click.option(
    "--sample",
    is_flag=True,
    help="Ghi sổ ví dụ (nhiệm vụ của Báo cáo 71/BC-UBND, có cả dòng sai) thay cho tệp mẫu trống.",
)
@click.pass_context
def import_template(ctx, out_path, sample):
    """Ghi tệp Excel mẫu để điền sổ theo dõi nhiệm vụ (kèm trang hướng dẫn từng cột).
    Không ghi đè một tệp đã có."""
    from application.files import protect_database
    from application.xlsx_import import write_sample, write_template
    from events.locations import resolve_url

    # No database is opened here, so none is protected yet: the one --db names.
    protect_database(resolve_url(ctx.find_root().obj["db"]))

    if sample:
        write_sample(out_path)
        click.echo(
            f"Đã ghi sổ ví dụ {out_path}. Thử: nhiemvu demo, rồi "
            f"nhiemvu --db nhiemvu-demo.db import xlsx {out_path} --dry-run"
        )
    else:
        write_template(out_path)
        click.echo(f"Đã ghi tệp mẫu {out_path} (trang 'Nhiệm vụ' và trang 'Hướng dẫn').")
