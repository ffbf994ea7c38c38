"""Click's own words (help pages, usage errors) reach people in Vietnamese.

Click marks its messages with gettext and ships no catalogue; `cli_messages`
supplies the Vietnamese. These tests read click's installed source for the ids
it uses, so an upgrade that adds or rewords a message fails here instead of
showing English to a clerk.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import click
import pytest
from click.testing import CliRunner
from nhiemvu_cli import CLICK_ENGLISH

import cli_messages
from cli import cli
from cli_support import WholeNumbers

# Raised while commands are *declared* wrongly (a programming error, never reached
# by someone typing a command line), or by parts of click nhiemvu does not use.
NOT_FOR_PEOPLE = {
    "Could not determine name for option with declarations {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an "
    "argument instead? Did you mean to pass '--{name}'?",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.",
    "Name '{name}' defined twice",
    "Boolean option {decl!r} cannot use the same flag for true/false.",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}",
    "Unknown color {colour!r}",
    "Unknown standard stream '{name}'",
}


def _click_source_trees():
    for name in cli_messages.CLICK_MODULES:
        yield ast.parse(inspect.getsource(importlib.import_module(name)))


def _click_message_ids() -> tuple[set[str], set[tuple[str, str]]]:
    """The constant ids click passes to `_` and to `ngettext`."""
    single, plural = set(), set()
    for tree in _click_source_trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" and texts:
                single.add(texts[0])
            elif node.func.id == "ngettext":
                plural.add((texts[0], texts[1]))
    return single, plural


def _click_string_constants() -> set[str]:
    return {
        node.value
        for tree in _click_source_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_message_click_shows_people_has_a_vietnamese_text():
    single, plural = _click_message_ids()
    assert single, "no gettext ids found: has click stopped using gettext?"
    missing = single - set(cli_messages.MESSAGES) - NOT_FOR_PEOPLE
    assert not missing, f"add to cli_messages.MESSAGES: {sorted(missing)}"
    missing_plural = plural - set(cli_messages.PLURAL_MESSAGES)
    assert not missing_plural, f"add to cli_messages.PLURAL_MESSAGES: {sorted(missing_plural)}"


def test_no_translation_is_for_a_message_click_no_longer_has():
    constants = _click_string_constants()
    _, plural = _click_message_ids()
    assert set(cli_messages.MESSAGES) - constants == set()
    assert set(cli_messages.PLURAL_MESSAGES) - plural == set()


def test_translations_keep_the_placeholders_of_the_original():
    def fields(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)", text)) | set(re.findall(r"%\((\w+)\)", text))

    # number_type is click's English type name: left out on purpose.
    # {name} is click's word for a path, capitalised by str.title(): left out too.
    dropped = {"{value!r} is not a valid {number_type}.": {"number_type"}} | {
        original: {"name"}
        for original in cli_messages.MESSAGES
        if original.startswith("{name} {filename")
    }
    for original, vietnamese in cli_messages.MESSAGES.items():
        assert fields(vietnamese) == fields(original) - dropped.get(original, set()), original
    for (one, more), (vi_one, vi_more) in cli_messages.PLURAL_MESSAGES.items():
        assert fields(vi_one) <= fields(one) | fields(more), one
        assert fields(vi_more) == fields(more), more


def test_help_pages_are_vietnamese():
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"], prog_name="nhiemvu")
    assert top.exit_code == 0
    for text in ("Cách dùng: nhiemvu", "Tùy chọn:", "Lệnh:", "In hướng dẫn này rồi thoát."):
        assert text in top.output, (text, top.output)
    assign = runner.invoke(cli, ["task", "assign", "--help"], prog_name="nhiemvu")
    assert assign.exit_code == 0
    assert "[bắt buộc]" in assign.output
    for page in (top.output, assign.output):
        assert not re.search(r"Usage:|Options:|Commands:|Show this|\[required\]", page), page


def test_a_number_out_of_its_range_is_explained_in_words():
    result = CliRunner().invoke(
        cli, ["projections", "rebuild", "--workers", "0"], prog_name="nhiemvu"
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Lỗi: Giá trị không hợp lệ cho '--workers': 0 nằm ngoài khoảng cho phép: từ 1 trở lên."
    )
    page = CliRunner().invoke(cli, ["projections", "rebuild", "--help"], prog_name="nhiemvu")
    assert "[từ 1 trở lên]" in page.output


@pytest.mark.parametrize(
    ("bounds", "words"),
    [
        ({"min": 1}, "từ 1 trở lên"),
        ({"min": 0, "min_open": True}, "từ 1 trở lên"),
        ({"max": 5}, "không quá 5"),
        ({"max": 5, "max_open": True}, "không quá 4"),
        ({"min": 0, "max": 100}, "0–100"),
    ],
)
def test_whole_number_ranges_are_described_in_words(bounds, words):
    assert WholeNumbers(**bounds)._describe_range() == words


def test_an_unknown_option_is_explained_with_the_nearest_one():
    result = CliRunner().invoke(cli, ["task", "show", "NV-00001", "--jsn"], prog_name="nhiemvu")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Lỗi: Không có tùy chọn '--jsn'. Có phải ý bạn là '--json'?"
    )
    assert result.stderr.startswith("Cách dùng: nhiemvu task show [TÙY_CHỌN] MÃ_NV\n")
    assert "Xem 'nhiemvu task show --help' để biết cách dùng." in result.stderr
    assert not CLICK_ENGLISH.search(result.stderr), result.stderr


def test_a_missing_choice_lists_the_choices_in_vietnamese():
    result = CliRunner().invoke(
        cli, ["reprimand", "issue", "--doc", "1/TB", "--on", "01/04/2023"], prog_name="nhiemvu"
    )
    assert result.exit_code == 2
    assert "Lỗi: Thiếu tùy chọn bắt buộc '--kind'. Chọn một trong:" in result.stderr
    assert not CLICK_ENGLISH.search(result.stderr), result.stderr


def test_an_empty_ledger_says_so_instead_of_guessing(tmp_path):
    db = tmp_path / "empty.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "agency", "head", "SXD", "--name", "A", "--from", "01/01/2023"])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        "Lỗi: Không tìm thấy cơ quan 'SXD'. Chưa có cơ quan nào trong sổ. "
        "Hãy đăng ký cơ quan: `nhiemvu agency add`.\n"
    )


def _every_command(command: click.Command, path: tuple[str, ...] = ("nhiemvu",)):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _every_command(sub, (*path, name))


# Placeholders that are not words: a URL, a count, a time, an example value, a range.
LANGUAGE_NEUTRAL = re.compile(r"URL|N|HH:MM|\d{4}(Q\d|-\d{2})?|\d+-\d+|\[[a-z-]+(\|[a-z-]+)+\]")


@pytest.mark.parametrize(
    ("path", "command"),
    list(_every_command(cli)),
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_usage_line_and_placeholders_are_vietnamese(path, command):
    """`Cách dùng: nhiemvu task show [TÙY_CHỌN] MÃ_NV`, and `--on NGÀY`, `--lead MÃ_CQ`:
    click's own placeholders (TEXT, INTEGER, [OPTIONS], COMMAND) would be English."""
    ctx = click.Context(command, info_name=path[-1])
    usage = command.get_usage(ctx)
    assert not re.search(r"OPTIONS|COMMAND|ARGS", usage), usage
    for param in command.params:
        if getattr(param, "hidden", False) or getattr(param, "is_flag", False):
            continue
        if param.name in ("help", "version"):
            continue
        metavar = param.make_metavar(ctx)
        vietnamese = any(not ch.isascii() for ch in metavar.split(".")[0])
        assert vietnamese or LANGUAGE_NEUTRAL.fullmatch(metavar), (path, param.name, metavar)
        # The notes after an option's help: `[bắt buộc]`, `[từ 1 trở lên]`, not `[x>=1]`.
        extra = param.get_help_extra(ctx) if isinstance(param, click.Option) else {}
        assert not CLICK_ENGLISH.search(" ".join(map(str, extra.values()))), (path, extra)


def test_every_option_people_see_says_what_it_is_for():
    def commands(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from commands(sub, [*path, name])
        else:
            yield " ".join(path), command

    silent = [
        f"{path} {param.opts[0]}"
        for path, command in commands(cli, ["nhiemvu"])
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not param.help
    ]
    assert silent == []


def test_every_repeatable_option_says_so():
    """One document to several agencies, heads and people is the rule (DOMAIN §7), one
    task to several leads too: an option taken more than once says so, or people send
    one document per addressee."""
    silent = [
        f"{' '.join(path)} {param.opts[0]}"
        for path, command in _every_command(cli)
        for param in command.params
        if isinstance(param, click.Option)
        and param.multiple
        and "(lặp lại được)" not in (param.help or "")
    ]
    assert silent == []


@pytest.mark.parametrize("path", [("agency", "rename"), ("agency", "list")])
def test_a_date_that_defaults_to_today_says_so(path):
    page = CliRunner().invoke(cli, [*path, "--help"], prog_name="nhiemvu")
    assert page.exit_code == 0
    (on,) = [line for line in page.output.splitlines() if line.lstrip().startswith("--on")]
    assert on.rstrip().endswith("(mặc định: hôm nay)."), on
