"""Click plumbing shared by the commands: errors, dates, output (JSON or a table)."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import click


class NhiemvuGroup(click.Group):
    """Turns the errors that mean "bad input" into `Lỗi: …` and exit status 1.

    Parameter conversion runs inside the parent's invoke, so catching here also
    covers dates that do not exist and unknown codes found while parsing.
    """

    def invoke(self, ctx: click.Context):
        from events.errors import EventStoreError
        from workflow.errors import DomainError

        try:
            return super().invoke(ctx)
        except (DomainError, EventStoreError) as exc:
            if ctx.parent is not None:
                raise
            click.echo(f"Lỗi: {exc}", err=True)
            ctx.exit(1)


class DateParam(click.ParamType):
    """`31/03/2023` or `2023-03-31`; an impossible date is a domain error (exit 1)."""

    name = "NGÀY"

    def convert(self, value, param, ctx):
        from workflow.dates import parse_date

        if not isinstance(value, str):
            return value
        label = f"--{param.name.replace('_', '-')}" if param is not None else "ngày"
        return parse_date(value, f"ngày ({label})")


DATE = DateParam()

json_option = click.option("--json", "as_json", is_flag=True, help="In ra JSON (ngày ISO).")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain text table with Vietnamese headings; columns are (key, heading)."""
    cells = [
        [("" if row.get(key) is None else str(row.get(key))) for key, _ in columns] for row in rows
    ]
    headings = [heading for _, heading in columns]
    widths = [
        max([display_width(headings[i])] + [display_width(r[i]) for r in cells])
        for i in range(len(columns))
    ]

    def line(values):
        return "  ".join(
            v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    out = [line(headings), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def output(
    data: Any,
    as_json: bool,
    human: Callable[[Any], str],
) -> None:
    if as_json:
        emit_json(data)
    else:
        click.echo(human(data))


def warn(messages: Sequence[str]) -> None:
    for message in messages:
        click.echo(f"Lưu ý: {message}", err=True)


def ensure_utf8_stdout() -> None:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() != "utf-8":
            try:
                stream.reconfigure(encoding="utf-8")
            except (ValueError, OSError):
                pass
