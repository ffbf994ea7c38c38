"""`nhiemvu init`, `nhiemvu events …`, `nhiemvu projections …`: the database, its log
and the tables built from it."""

from __future__ import annotations

import click

from cli_app import get_app
from cli_support import (
    AT_LEAST_ONE,
    HASH,
    NhiemvuCommand,
    NhiemvuGroup,
    emit_json,
    json_option,
    progress_bar,
    unvacuumed_said,
)
from workflow.text import grouped


@click.command(cls=NhiemvuCommand)
@click.pass_context
def init(ctx):
    """Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu."""
    from application.app import initialise
    from events.locations import shown

    url, restored = initialise(ctx.obj["db"])
    click.echo(f"Đã khởi tạo/nâng cấp cơ sở dữ liệu: {shown(url)}")
    if restored:
        click.echo(
            f"Đã đặt lại các trigger bảo vệ sổ sự kiện bị xóa hoặc tắt: {', '.join(restored)}. "
            "Hãy chạy `nhiemvu events verify` xem sổ có bị sửa trong lúc đó không."
        )


@click.group(cls=NhiemvuGroup)
def events():
    """Sổ sự kiện: kiểm tra, xuất, nhập."""


@events.command("verify")
@click.option(
    "--expect-hash",
    type=HASH,
    default=None,
    metavar="MÃ_BĂM",
    help="Mã băm đã ghi lại ở nơi khác (in ra khi kiểm tra hoặc xuất sổ): phải còn trong "
    "chuỗi, nếu không sổ đã bị viết lại cả các mã băm.",
)
@json_option
@click.pass_context
def events_verify(ctx, expect_hash, as_json):
    """Tính lại chuỗi mã băm của toàn bộ sổ; thoát với mã 1 nếu sổ bị sửa."""
    from events.guards import missing_guards
    from events.verify import verify_chain

    app = get_app(ctx, catch_up=False)
    with progress_bar(app.store.head_position(), "Đang kiểm tra sổ sự kiện") as tick:
        result = verify_chain(app.engine, progress=tick, expect_hash=expect_hash)
    with app.engine.connect() as connection:
        unguarded = missing_guards(connection)
    data = {
        "ok": result.ok and not unguarded,
        "unguarded": unguarded,
        "checked": result.checked,
        "broken_position": result.broken_position,
        "reason": result.reason,
        "last_hash": result.last_hash,
        "expected_hash_position": result.anchor_position,
    }
    if as_json:
        emit_json(data)
    else:
        _say_verified(result, unguarded)
    if not data["ok"]:
        ctx.exit(1)


def _say_verified(result, unguarded: list[str]) -> None:
    if result.ok:
        click.echo(f"Sổ sự kiện toàn vẹn: đã kiểm tra {grouped(result.checked)} sự kiện.")
        if result.anchor_position is not None:
            click.echo(
                f"Mã băm đối chiếu là của sự kiện ở vị trí {grouped(result.anchor_position)}."
            )
        if result.checked:
            # The hash alone on its line: a dot after it was copied with it.
            click.echo(f"Mã băm cuối: {result.last_hash}")
            click.echo(
                "Ghi lại mã này ở nơi khác (sổ, văn bản) để lần sau đối chiếu bằng "
                "--expect-hash: sổ bị viết lại cả các mã băm vẫn lộ."
            )
    else:
        where = (
            f"hỏng tại vị trí {grouped(result.broken_position)} ({result.reason})"
            if result.broken_position is not None
            else result.reason
        )
        click.echo(f"Sổ sự kiện KHÔNG toàn vẹn: {where}.", err=True)
    if unguarded:
        click.echo(
            "Cơ sở dữ liệu không còn tự từ chối sửa, xóa sự kiện: trigger "
            f"{', '.join(unguarded)} đã bị xóa hoặc tắt. Hãy chạy `nhiemvu init` bằng vai trò "
            "chủ sở hữu cơ sở dữ liệu để đặt lại.",
            err=True,
        )


@click.group(cls=NhiemvuGroup)
def projections():
    """Các bảng dẫn xuất từ sổ sự kiện."""


workers_option = click.option(
    "--workers",
    type=AT_LEAST_ONE,
    default=None,
    metavar="N",
    help="Số tiến trình dựng song song (mặc định: một tiến trình mỗi lõi CPU, tối đa 4; 1: không song song).",
)


@projections.command("rebuild")
@workers_option
@click.pass_context
def projections_rebuild(ctx, workers):
    """Dựng lại các bảng dẫn xuất từ đầu sổ sự kiện."""
    from events.projections import rebuild

    app = get_app(ctx, catch_up=False)
    with unvacuumed_said():
        count = rebuild(app.store, app.ledger.projection, workers=workers)
    click.echo(f"Đã dựng lại các bảng dẫn xuất từ {grouped(count)} sự kiện.")


@projections.command("verify")
@workers_option
@json_option
@click.pass_context
def projections_verify(ctx, workers, as_json):
    """So các bảng dẫn xuất với bản dựng lại từ sổ (không ghi gì); thoát với mã 1 nếu khác."""
    from events.projection_check import rows_to_read, verify_projection

    app = get_app(ctx, catch_up=False)
    projection = app.ledger.projection
    length = rows_to_read(app.store, projection)
    with progress_bar(length, "Đang so các bảng dẫn xuất với sổ") as tick, unvacuumed_said():
        result = verify_projection(app.store, projection, workers=workers, progress=tick)
    if as_json:
        emit_json(projection_check_data(result))
    elif result.ok:
        rows = sum(t.rows for t in result.tables)
        click.echo(
            f"Các bảng dẫn xuất khớp với sổ sự kiện: {len(result.tables)} bảng, "
            f"{grouped(rows)} dòng, đúng như dựng lại từ {grouped(result.head)} sự kiện."
        )
    else:
        click.echo(projection_check_text(result), err=True)
    if not result.ok:
        ctx.exit(1)


def projection_check_data(result) -> dict:
    def key(check, values) -> dict:
        return dict(zip(check.key_columns, values, strict=True))

    return {
        "ok": result.ok,
        "head": result.head,
        "checkpoint": result.checkpoint,
        "checkpoint_at_head": result.checkpoint_at_head,
        "tables": [
            {
                "table": t.table,
                "ok": t.ok,
                "rows": t.rows,
                "missing": {"count": t.missing_count, "keys": [key(t, k) for k in t.missing]},
                "extra": {"count": t.extra_count, "keys": [key(t, k) for k in t.extra]},
                "different": {
                    "count": t.different_count,
                    "rows": [{"key": key(t, k), "columns": c} for k, c in t.different],
                },
            }
            for t in result.tables
        ],
    }


def projection_check_text(result) -> str:
    from events.errors import REBUILD_REMEDY

    lines = [
        f"Các bảng dẫn xuất KHÔNG khớp với sổ sự kiện (so với bản dựng lại từ "
        f"{grouped(result.head)} sự kiện):"
    ]
    if not result.checkpoint_at_head:
        lines.append(f"  projection_checkpoints: {_checkpoint_text(result)}")
    for t in result.tables:
        listed = [
            ("thiếu", t.missing_count, [_key_text(k) for k in t.missing]),
            ("thừa", t.extra_count, [_key_text(k) for k in t.extra]),
            ("sai lệch", t.different_count,
             [_key_text(k) + (f" ({', '.join(c)})" if c else "") for k, c in t.different]),
        ]  # fmt: skip
        for what, count, keys in listed:
            if count:
                rest = f", và {grouped(count - len(keys))} dòng nữa" if count > len(keys) else ""
                lines.append(f"  {t.table}: {grouped(count)} dòng {what} — {', '.join(keys)}{rest}")
    lines.append(
        "Sổ sự kiện không bị ảnh hưởng, và lệnh này không ghi gì. Các bảng dẫn xuất thường "
        "lệch như vậy khi bị sửa trực tiếp, ngoài chương trình; nếu không ai sửa, đó là lỗi "
        "của nhiemvu: hãy giữ lại kết quả `nhiemvu projections verify --json` để báo lỗi, "
        f"rồi {REBUILD_REMEDY}"
    )
    return "\n".join(lines)


def _key_text(values) -> str:
    return "/".join(str(v) for v in values)


def _checkpoint_text(result) -> str:
    if result.checkpoint is None:
        return "không có mốc đã dựng của các bảng dẫn xuất, mà sổ đã có sự kiện"
    if result.checkpoint > result.head:
        return f"mốc đã dựng ở vị trí {grouped(result.checkpoint)}, vượt đầu sổ ({grouped(result.head)})"
    # Behind the head: the commands would take the events after it for new ones, which
    # the tables (as the rest of the check says) may hold already.
    return (
        f"mốc đã dựng ở vị trí {grouped(result.checkpoint)}, trước đầu sổ "
        f"({grouped(result.head)}): {grouped(result.head - result.checkpoint)} sự kiện cuối "
        "sẽ bị coi là chưa đưa vào các bảng"
    )
