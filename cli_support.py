"""Click plumbing shared by the commands: errors, dates, output (JSON or a table)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any

import click
import orjson

import cli_messages
from workflow.text import clipped, display_width, grouped, printable

cli_messages.install()


# The parts of a usage line, which click spells in English outside its gettext
# messages (`Cách dùng: nhiemvu task show [TÙY_CHỌN] MÃ_NV`).
OPTIONS_METAVAR = "[TÙY_CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [THAM_SỐ]..."


class NhiemvuCommand(click.Command):
    """A command whose usage line is in Vietnamese, and which refuses an option of one
    value given twice: click would keep the last silently (`--status overdue --status
    done_late` listed only the second)."""

    def __init__(self, *args, options_metavar: str | None = OPTIONS_METAVAR, **kwargs) -> None:
        super().__init__(*args, options_metavar=options_metavar, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            name: option
            for option in self.params
            if isinstance(option, click.Option) and not option.is_flag and not option.count
            for name in option.opts
        }
        given: dict[str, str] = {}
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                break
            name, equals, _ = token.partition("=")
            option = takes_value.get(name)
            if option is None:
                continue
            if not equals:
                next(tokens, None)  # its value, whatever it looks like
            if option.multiple:
                continue
            if option.name in given:
                first = given[option.name]
                twice = (
                    f"Tùy chọn {name} được ghi hai lần"
                    if first == name
                    else f"{first} và {name} là cùng một tùy chọn"
                )
                raise click.UsageError(f"{twice}; hãy ghi một lần.", ctx)
            given[option.name] = name
        return super().parse_args(ctx, args)


class NhiemvuGroup(click.Group):
    """A group whose usage line is in Vietnamese, as are its commands' and groups'.

    At the top, it turns the errors that mean "bad input" into `Lỗi: …` and exit
    status 1. Parameter conversion runs inside the parent's invoke, so catching
    there also covers dates that do not exist and unknown codes found while parsing.
    """

    command_class = NhiemvuCommand
    group_class = type  # subgroups are NhiemvuGroups too

    def __init__(
        self,
        *args,
        options_metavar: str | None = OPTIONS_METAVAR,
        subcommand_metavar: str | None = SUBCOMMAND_METAVAR,
        **kwargs,
    ) -> None:
        super().__init__(
            *args, options_metavar=options_metavar, subcommand_metavar=subcommand_metavar, **kwargs
        )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 in an argument reach Python as lone surrogates
        # (a terminal in another encoding): stored, they failed with a traceback.
        for number, arg in enumerate(args, start=1):
            if any("\udc80" <= c <= "\udcff" for c in arg):
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise click.UsageError(
                    f"Tham số thứ {number} ('{shown}') có byte không phải chữ UTF-8: hãy đặt "
                    "bảng mã của cửa sổ dòng lệnh là UTF-8 rồi gõ lại.",
                    ctx,
                )
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        from events.errors import EventStoreError, explained
        from workflow.errors import DomainError

        try:
            return super().invoke(ctx)
        except (DomainError, EventStoreError) as exc:
            if ctx.parent is not None:
                raise
            click.echo(f"Lỗi: {exc}{where_to_look(exc)}", err=True)
            ctx.exit(1)
        except Exception as exc:
            # The driver's own error, where the code expects the schema it migrated
            # and a lock it waits for: a few kinds of it people can act on.
            known = explained(exc)
            if ctx.parent is not None:
                raise
            if known is None and isinstance(exc, OSError):
                ctx.exit(_output_failed(ctx, exc))
            if known is None:
                raise
            click.echo(f"Lỗi: {known}", err=True)
            ctx.exit(1)


# What the system says of a failed write, in the words a clerk reads.
_OS_REASONS = {
    errno.ENOSPC: "đĩa đã đầy",
    errno.EPIPE: "nơi nhận kết quả đã đóng",
    errno.EIO: "lỗi đọc ghi của thiết bị",
    errno.EACCES: "không có quyền ghi",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
}


def _output_failed(ctx: click.Context, exc: OSError) -> int:
    """An error of the system while the command wrote its result — standard output
    full or closed, most often. If the command had committed its events, they are
    in the log: exit 0 and say so, for a script that retries on failure would
    record them twice. Otherwise the usual `Lỗi:` and exit 1; a reader gone away
    (`| head`) ends the command quietly."""
    app = ctx.find_root().obj.get("app") if ctx.find_root().obj else None
    committed = app.store.committed_events if app is not None else 0
    reason = _OS_REASONS.get(exc.errno, exc.strerror or str(exc))
    where = f"tệp '{exc.filename}'" if exc.filename else "đầu ra"
    # Python flushes standard output once more at exit, and would fail again on what
    # is left in its buffer (a traceback, exit 120): let that go nowhere.
    with contextlib.suppress(OSError, ValueError):
        nowhere = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, sys.stdout.fileno())
        os.close(nowhere)
    with contextlib.suppress(OSError):
        if committed:
            click.echo(
                f"Lưu ý: đã ghi {committed} sự kiện vào sổ, nhưng không ghi được kết quả ra "
                f"{where} ({reason}). Đừng chạy lại lệnh (sẽ ghi hai lần): xem điều đã ghi "
                "bằng các lệnh xem, như `nhiemvu task history MÃ_NV`.",
                err=True,
            )
        elif not isinstance(exc, BrokenPipeError):
            click.echo(f"Lỗi: Không ghi được ra {where}: {reason}.", err=True)
    return 0 if committed else 1


# Where to find the right key when a NotFound had nothing close to suggest: the
# list of what there is, and how to add one (alone when there is nothing yet).
_LOOK_UP = {
    "nhiệm vụ": ("Danh sách nhiệm vụ: `nhiemvu task list`", "giao nhiệm vụ: `nhiemvu task assign`"),
    "cơ quan": (
        "Danh sách cơ quan: `nhiemvu agency list`",
        "đăng ký cơ quan: `nhiemvu agency add`",
    ),
    "văn bản chỉ đạo": (
        "Danh sách văn bản: `nhiemvu directive list`",
        "ghi văn bản: `nhiemvu directive add`",
    ),
    # What `nhiemvu correct` takes (application.corrections).
    "sự kiện hoặc văn bản": (
        "Hãy ghi mã sự kiện; số văn bản nhắc nhở, phê bình, biểu dương (`nhiemvu report "
        "reprimands`) hoặc số văn bản chỉ đạo (`nhiemvu directive list`); MÃ_NV#N, sự kiện "
        "thứ N trong `nhiemvu task history MÃ_NV`; hoặc MÃ_CQ#N, trong `nhiemvu agency "
        "history MÃ_CQ`",
        None,
    ),
    "nhiệm vụ hoặc cơ quan": (
        "Số thứ tự sự kiện: `nhiemvu task history MÃ_NV` hoặc `nhiemvu agency history MÃ_CQ`",
        None,
    ),
}


def where_to_look(exc: Exception) -> str:
    from workflow.errors import NotFound

    if not isinstance(exc, NotFound) or exc.suggestions or exc.what not in _LOOK_UP:
        return ""
    listed, added = _LOOK_UP[exc.what]
    if exc.none_known:
        return f" Hãy {added}." if added else ""
    return f" {listed}" + (f"; {added}." if added else ".")


def typed_as(param: click.Parameter | None, what: str) -> str:
    """`what` with the option as the user types it — `ngày (--date)` — rather than the
    parameter's name in the code (`issued_on`), which is no flag at all."""
    flags = [o for o in param.opts if o.startswith("--")] if param is not None else []
    return f"{what} ({max(flags, key=len)})" if flags else what


class DateParam(click.ParamType):
    """`31/03/2023` or `2023-03-31`; an impossible date is a domain error (exit 1)."""

    name = "NGÀY"

    def convert(self, value, param, ctx):
        from workflow.dates import parse_date

        if not isinstance(value, str):
            return value
        return parse_date(value, typed_as(param, "ngày"))


DATE = DateParam()


class YearParam(click.ParamType):
    """A year, `2023`. One that no date may name (workflow.dates.check_year) is a
    domain error (exit 1), as such a date is: year 0 crashed the date arithmetic."""

    name = "NĂM"

    def convert(self, value, param, ctx):
        from workflow.dates import check_year

        if isinstance(value, int) and not isinstance(value, bool):
            year = value
        else:
            try:
                year = int(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' không phải là một năm (ví dụ: 2023).", param, ctx)
        return check_year(year, typed_as(param, "năm"), value)


YEAR = YearParam()


class HashParam(click.ParamType):
    """An event's SHA-256 hash as verify and export print it: 64 hexadecimal digits,
    any case. Anything else (a dot copied with it, a truncated copy) is a usage error,
    not a log found rewritten."""

    name = "MÃ_BĂM"

    def convert(self, value, param, ctx):
        text = str(value).strip().lower()
        if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
            self.fail(
                f"'{value}' không phải mã băm: mã băm gồm đúng 64 chữ số hệ mười sáu (0–9, "
                "a–f), như `nhiemvu events verify` và `nhiemvu events export` in ra.",
                param,
                ctx,
            )
        return text


HASH = HashParam()


class StatusParam(click.ParamType):
    """A task status, in any case; another word is a usage error (exit 2), as a wrong
    choice is everywhere else. The statuses are read when a value comes, not at import:
    `--help` stays quick."""

    name = "TRẠNG_THÁI"

    def convert(self, value, param, ctx):
        from workflow.tasks import STATUSES

        status = str(value).strip().lower()
        if status not in STATUSES:
            self.fail(
                f"'{value}' không phải trạng thái nhiệm vụ; chọn một trong: {', '.join(STATUSES)}.",
                param,
                ctx,
            )
        return status


STATUS = StatusParam()


class DecimalParam(click.ParamType):
    """A number written either way: `7,5` (the Vietnamese decimal comma) or `7.5`."""

    name = "SỐ"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return float(value.strip().replace(",", ".", 1)) + 0.0  # -0 is 0
        except ValueError:
            self.fail(f"'{value}' không phải là một số (ví dụ: 8 hoặc 7,5).", param, ctx)


DECIMAL = DecimalParam()


class WholeNumbers(click.IntRange):
    """click's IntRange with its bounds in words: help shows `[từ 1 trở lên]` and the
    error "0 nằm ngoài khoảng cho phép: từ 1 trở lên", where click writes `x>=1`."""

    def _describe_range(self) -> str:
        low = None if self.min is None else self.min + self.min_open
        high = None if self.max is None else self.max - self.max_open
        if high is None:
            return f"từ {low} trở lên"
        if low is None:
            return f"không quá {high}"
        return f"{low}–{high}"


AT_LEAST_ONE = WholeNumbers(min=1)


class StoredNumber(WholeNumbers):
    """A whole number from 1 that is looked up in an INTEGER column (32 bits on
    PostgreSQL): a larger one names nothing there, and SQLite cannot even be asked
    about one beyond 64 bits (OverflowError)."""

    LIMIT = 2**31 - 1

    def __init__(self) -> None:
        super().__init__(min=1)

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number > self.LIMIT:
            self.fail(f"{number} quá lớn (lớn nhất là {grouped(self.LIMIT)}).", param, ctx)
        return number


STORED_NUMBER = StoredNumber()

json_option = click.option("--json", "as_json", is_flag=True, help="In ra JSON (ngày ISO).")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def emit_json_rows(rows: Iterable[Any]) -> None:
    """A list as `emit_json` writes it, byte for byte, one element at a time as the
    rows come: a city's task list is written before it is all read, and never held
    whole. Each element is dumped alone and indented one level further (a JSON
    string holds no line break, so only the dump's own lines are indented)."""
    opening = "[\n  "
    for row in rows:
        click.echo(opening + _json_element(row).replace("\n", "\n  "), nl=False)
        opening = ",\n  "
    click.echo("[]" if opening == "[\n  " else "\n]")


def _json_element(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2, default=str)`, by orjson (an
    eighth of the time) when it writes the same: for strings, integers, booleans and
    None, in lists and dicts. It writes a float otherwise (1e-7 for 1e-07); that, and
    what orjson refuses (an integer beyond 64 bits, a lone surrogate), go to json."""
    if _plain(value):
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        return all(map(_plain, value.values()))
    if kind is list:
        return all(map(_plain, value))
    return False


def cell_text(value: Any) -> str:
    """A table cell as people read it: a fraction with two decimals and the Vietnamese
    decimal comma (62,00 as scores are rounded, 16,67 % — the point would read as a
    thousands separator), a count from 10.000 on with the point between thousands
    (years, day counts and the like stay as they are); nothing for None."""
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return grouped(value)
    return printable(str(value))  # an escape sequence stored by an older version


def local_time_text(instant: str) -> str:
    """An ISO instant (as stored, UTC) on the secretariat's clock: `05/12/2026 08:30`."""
    from datetime import datetime

    from workflow.dates import LOCAL_TZ

    return datetime.fromisoformat(instant).astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    empty: str | None = None,
) -> str:
    """A plain text table with Vietnamese headings; columns are (key, heading). With
    no rows, `empty` says so in words, if given: headings over nothing read as if
    the command had failed to print."""
    if not rows and empty is not None:
        return empty
    cells = [[cell_text(row.get(key)) for key, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    widths = _widths(headings, cells, [0] * len(columns))
    lines = [headings, ["-" * w for w in widths], *cells]
    return "\n".join(_table_line(values, widths) for values in lines)


def echo_table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[tuple[str, str, int]],
    empty: str | None = None,
    lookahead: int = 500,
) -> None:
    """`render_table` written as the rows come — columns (key, heading, width) — its
    widths those of the first `lookahead` rows: a table no longer is laid out as
    `render_table` lays it out; in a longer one each column is at least its `width`
    (the clipped width of a title, of the leads), and a later cell wider than its
    column pushes the rest of its line. With no rows, `empty` says so (if given)."""
    rows = iter(rows)
    first = [[cell_text(row.get(key)) for key, _, _ in columns] for row in islice(rows, lookahead)]
    if not first and empty is not None:
        click.echo(empty)
        return
    longer = len(first) == lookahead  # more may come: leave them room
    headings = [heading for _, heading, _ in columns]
    widths = _widths(headings, first, [width if longer else 0 for _, _, width in columns])
    click.echo(_table_line(headings, widths))
    click.echo(_table_line(["-" * w for w in widths], widths))
    for cells in first:
        click.echo(_table_line(cells, widths))
    for row in rows:
        click.echo(_table_line([cell_text(row.get(key)) for key, _, _ in columns], widths))


def _widths(headings: list[str], cells: list[list[str]], at_least: list[int]) -> list[int]:
    """Each column as wide as its heading and its widest cell, and `at_least` that."""
    return [
        max([display_width(heading), least] + [display_width(row[i]) for row in cells])
        for i, (heading, least) in enumerate(zip(headings, at_least, strict=True))
    ]


def _table_line(values: list[str], widths: list[int]) -> str:
    """A table's line: each value padded to its column (by the columns it takes)."""
    return "  ".join(
        v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True)
    ).rstrip()


def output(
    data: Any,
    as_json: bool,
    human: Callable[[Any], str],
) -> None:
    if as_json:
        emit_json(data)
    else:
        click.echo(human(data))


def someone_watching() -> bool:
    """Whether a person reads standard error (a terminal): progress and waits are said."""
    return sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a progress bar by n, or None when nobody is watching."""
    if length and someone_watching():
        with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
            yield bar.update
    else:
        yield None


def warn(messages: Sequence[str]) -> None:
    for message in messages:
        click.echo(f"Lưu ý: {message}", err=True)


@contextlib.contextmanager
def unvacuumed_said() -> Iterator[None]:
    """Say which rewritten tables PostgreSQL would not vacuum for this role, once the
    command has done its work: the server's own warning never reaches the user."""
    from events.projections import vacuum_refusals  # noqa: PLC0415

    with vacuum_refusals() as refused:
        yield
    if refused:
        warn(
            [
                f"PostgreSQL không cho vai trò này dọn và thống kê lại (VACUUM ANALYZE) "
                f"{len(refused)} bảng dẫn xuất vừa ghi ({', '.join(refused)}): chỉ chủ sở hữu "
                "các bảng được làm; autovacuum sẽ làm sau. Muốn làm ngay, chạy lệnh này bằng "
                "vai trò chủ sở hữu (vai trò chạy `nhiemvu init`)."
            ]
        )


def ensure_utf8_stdout() -> None:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() != "utf-8":
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(encoding="utf-8")


def file_suffix(*suffixes: str):
    """An option callback refusing a file name that does not end in one of `suffixes`
    (any case): Excel and browsers open a file by its ending, and a name without it is
    most likely another file (a log's export, a draft) about to be written over."""

    def check(_ctx, _param, value: str | None) -> str | None:
        if value is None or value.lower().endswith(suffixes):
            return value
        example = "bao-cao" + suffixes[0]
        raise click.BadParameter(
            f"tên tệp '{value}' không có đuôi {' hoặc '.join(suffixes)}; ví dụ: {example}."
        )

    return check


def xlsx_options(func):
    """--xlsx FILE, a workbook of what the command shows, and --replace: a file already
    there (the secretariat's filled-in tracking workbook, a report edited since) is
    not written over unless asked."""
    func = click.option("--replace", is_flag=True, help="Ghi đè tệp --xlsx nếu tệp đó đã có.")(func)
    func = click.option(
        "--xlsx",
        "xlsx_path",
        default=None,
        metavar="TỆP",
        callback=file_suffix(".xlsx"),
        help="Xuất thêm ra tệp Excel (không ghi đè tệp đã có, trừ khi thêm --replace).",
    )(func)
    return func


# What a workbook already at the --xlsx target may be.
XLSX_KEPT = "có thể là sổ đã điền hoặc báo cáo đã được sửa"


def file_target(ctx: click.Context, path: str, keep=None) -> None:
    """Refuse now, before the command's work, a file it could not write at the end
    (application.files.check_target), the database --db names included: none is
    open yet to be protected."""
    from application.files import check_target, protect_database
    from events.locations import resolve_url

    protect_database(resolve_url(ctx.find_root().obj["db"]))
    check_target(path, keep)


def workbook_target(ctx: click.Context, xlsx_path: str | None, replace: bool):
    """The `keep` to write the --xlsx workbook with (application.xlsx.write_workbook),
    its target checked now."""
    from application.files import replaceable

    if replace and not xlsx_path:
        raise click.UsageError("--replace chỉ đi cùng --xlsx TỆP (tệp Excel được ghi đè).")
    keep = None if replace else replaceable(XLSX_KEPT)
    if xlsx_path:
        file_target(ctx, xlsx_path, keep)
    return keep


def workbook_written(xlsx_path: str | None, as_json: bool) -> None:
    """Say the workbook was written, after the report: on stderr with --json, whose
    stdout is the JSON alone."""
    if xlsx_path:
        click.echo(f"Đã ghi tệp Excel {xlsx_path}.", err=as_json)


def period_options(func):
    """--year / --quarter / --month / --from + --to: one window, checked by `window()`."""
    func = click.option("--to", "date_to", type=DATE, default=None, help="Đến ngày.")(func)
    func = click.option("--from", "date_from", type=DATE, default=None, help="Từ ngày.")(func)
    func = click.option("--month", default=None, metavar="2023-10", help="Một tháng.")(func)
    func = click.option("--quarter", default=None, metavar="2023Q1", help="Một quý.")(func)
    func = click.option("--year", type=YEAR, default=None, metavar="2023", help="Một năm.")(func)
    return func


rulebook_option = click.option(
    "--rulebook",
    "rulebook_path",
    default=None,
    metavar="TỆP",
    type=click.Path(exists=True, dir_okay=False),
    help="Dùng sổ quy tắc này thay cho sổ quy tắc có hiệu lực tại ngày chốt.",
)


def window(year, quarter, month, date_from, date_to, allow_none: bool = False):
    """The chosen window as (kind, start, end), or None when allowed and none given."""
    from workflow.dates import parse_period, parse_period_as

    given = [
        name
        for name, value in (
            ("--year", year),
            ("--quarter", quarter),
            ("--month", month),
            ("--from/--to", date_from or date_to),
        )
        if value
    ]
    if len(given) > 1:
        raise click.UsageError(f"Chỉ chọn một kỳ báo cáo; đang có: {', '.join(given)}.")
    if not given:
        if allow_none:
            return None
        raise click.UsageError("Hãy chọn kỳ: --year, --quarter, --month hoặc --from … --to ….")
    if year:
        start, end = parse_period(str(year))
        return "year", start, end
    if quarter:
        return "quarter", *parse_period_as("quarter", quarter)
    if month:
        return "month", *parse_period_as("month", month)
    if not (date_from and date_to):
        raise click.UsageError("--from và --to phải đi cùng nhau.")
    if date_to < date_from:
        raise click.UsageError("--to phải không trước --from.")
    return "range", date_from, date_to


def history_table(rows: list[dict]) -> str:
    """The events of a task or an agency as `task history` and `agency history` show them."""
    from workflow.dates import format_date, from_iso

    return render_table(
        [
            {
                **r,
                "on": format_date(from_iso(r["on"])),
                "summary": clipped(r["summary"], 90),
                "retracted": "đã rút lại" if r["retracted"] else "",
                "recorded_at": local_time_text(r["recorded_at"]),
            }
            for r in rows
        ],
        [
            ("version", "#"),
            ("on", "Ngày"),
            ("label", "Sự việc"),
            ("summary", "Nội dung"),
            # Only when there is something to say in it.
            *([("retracted", "Tình trạng")] if any(r["retracted"] for r in rows) else []),
            ("recorded_at", "Ghi lúc"),
            ("actor", "Người ghi"),
            ("id", "Mã sự kiện"),
        ],
    )
