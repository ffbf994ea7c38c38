"""The App a command runs on, opened once per process and closed with it, and how a
write's result is shown."""

from __future__ import annotations

import click

from cli_support import emit_json, someone_watching, warn


def get_app(ctx: click.Context, quick: bool = False, catch_up: bool = True):
    """The command's App. `quick`: if none is open yet, one over the bare driver when
    the database allows it (App.quick), which spares the process SQLAlchemy.
    `catch_up`: False for the commands that must work whatever state the projection
    is in (App)."""
    from application.app import App

    root = ctx.find_root()
    if not quick and getattr(root.obj.get("app"), "quick", False):
        close_app(root)  # what comes next needs SQLAlchemy
    if "app" not in root.obj:
        app = App.quick(root.obj["db"], root.obj["actor"]) if quick else None
        app = app or App(root.obj["db"], root.obj["actor"], catch_up=catch_up)
        if someone_watching():  # a long wait is said, not sat through
            app.store.on_wait = say_waiting
        root.obj["app"] = app
        root.call_on_close(lambda: close_app(root))
    return root.obj["app"]


def say_waiting() -> None:
    from events.driver import SQLITE_BUSY_TIMEOUT_S

    click.echo(
        "Đang chờ lượt ghi: một lệnh khác (có thể của người khác) đang ghi vào sổ, ví dụ "
        f"nhập sổ Excel hay dựng lại bảng dẫn xuất. Lệnh này chờ tối đa {SQLITE_BUSY_TIMEOUT_S} "
        "giây.",
        err=True,
    )


def close_app(root: click.Context) -> None:
    app = root.obj.pop("app", None)
    if app is not None:
        app.close()


class LedgerCommands:
    """The ledger's commands for the CLI: on a quick App when the database allows it;
    a command that needs SQLAlchemy after all raises NeedsFullEngine having written
    nothing (its transaction rolled back), and runs again on the full App."""

    def __init__(self, ctx: click.Context) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str):
        def run(*args, **kwargs):
            from events.driver import NeedsFullEngine

            try:
                return getattr(get_app(self._ctx, quick=True).ledger, name)(*args, **kwargs)
            except NeedsFullEngine:
                close_app(self._ctx.find_root())
                return getattr(get_app(self._ctx).ledger, name)(*args, **kwargs)

        return run


def today_or(ctx, value):
    return value or get_app(ctx, quick=True).today()


def stored_key(result) -> str:
    """The key as the ledger stores it (NV-00018), not as it was typed (nv-00018 )."""
    return result.stream_id.split(":", 1)[1]


def report_result(
    result, as_json: bool, human: str, data: dict | None = None, retractable: bool = True
) -> None:
    """A write's warnings, then its result: as JSON (`data`, by default the key, the
    stream and the event ids), or `human` followed by the id of the event it recorded,
    which `nhiemvu correct` takes should it have been recorded by mistake (unless it
    is not `retractable`): for a document or an assessment, the clerk sees it nowhere
    else at hand."""
    warn(result.warnings)
    if as_json:
        emit_json(data if data is not None else result_json(result))
        return
    click.echo(human)
    if retractable:
        click.echo(f"Mã sự kiện (để rút lại nếu ghi nhầm): {result.events[0].event_id}")


def result_json(result) -> dict:
    """A write's result as `--json` gives it by default."""
    return {
        "key": result.key,
        "stream": result.stream_id,
        "events": [e.event_id for e in result.events],
    }
