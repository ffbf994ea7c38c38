"""Text as people type and read it: Vietnamese from any keyboard, codes, numbers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

# Characters that show nothing (zero-width spaces and joiners, the soft hyphen, the
# byte-order mark, direction marks): pasted from a web page or a PDF, they made
# "612/UBND-TH" and a look-alike two documents, counted twice.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Control characters (line breaks and tabs aside, which fold into spaces): typed or
# pasted into a name, an escape sequence cleared the clerk's terminal or retitled
# it, and Excel and Word files refuse them outright.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def nfc(text: str | None) -> str | None:
    """Unicode NFC without invisible characters, outer spaces removed and inner runs of
    spaces folded."""
    if text is None:
        return None
    return " ".join(printable(_INVISIBLE.sub("", unicodedata.normalize("NFC", text))).split())


def printable(text: str) -> str:
    """`text` without control characters but line breaks and tabs: what is shown or
    written to a file of what an older version let into the log."""
    return _CONTROL.sub("", text)


def optional(text: str | None) -> str | None:
    """An optional value as stored: None when nothing but spaces was typed."""
    return nfc(text) or None


def code(text: str) -> str:
    """Agency codes are matched case-insensitively: stored upper-case."""
    return nfc(text).upper()


def fold(text: Any) -> str:
    """Lower case ASCII words, to match what people type with or without diacritics:
    'Đơn vị  CHỦ TRÌ' → 'don vi chu tri'."""
    text = unicodedata.normalize("NFC", str(text)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def matches_words(text: str, query: str) -> bool:
    """Whether `text` holds the words of `query` one after another, folded (see
    `fold`), the last one possibly unfinished: "quy hoach do" finds "Quy hoạch đô
    thị", but "do thi" does not find "tiến độ … Chỉ thị"."""
    return words_matcher(query)(text)


def words_matcher(query: str) -> Callable[[str], bool]:
    """`matches_words` of `query`, which is folded once for the many texts it is
    matched against (every task's title, for `task list --search`)."""
    wanted = fold(query).split()
    if not wanted:
        return lambda text: True
    *whole, last = wanted
    n = len(wanted)

    def matches(text: str) -> bool:
        words = fold(text).split()
        return any(
            words[i : i + n - 1] == whole and words[i + n - 1].startswith(last)
            for i in range(len(words) - n + 1)
        )

    return matches


def same_field(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and nfc(a).casefold() == nfc(b).casefold()


def grouped(whole: int) -> str:
    """An integer with the Vietnamese thousands separator: 1145997 → '1.145.997'."""
    return f"{whole:,}".replace(",", ".")


def id_order(key: str) -> tuple[int, str]:
    """The sort key of a task id as people read it, its number as a number: NV-99949
    before NV-100000, which as text comes first ("1" < "9"). SQL orders alike by
    `length(task_id), task_id` (application.loading.TASK_ORDER)."""
    return len(key), key


def listed(keys: list[str], shown: int = 10, more_of: str = "mục") -> str:
    """The first few keys, and how many more ("NV-1, NV-2 và 3 nhiệm vụ khác")."""
    more = len(keys) - shown
    return ", ".join(keys[:shown]) + (f" và {more} {more_of} khác" if more > 0 else "")


def _columns(ch: str) -> int:
    """The columns a character takes in a terminal: none for a combining mark (NFD
    diacritics) or a joiner, two for a wide one (an emoji, a Chinese character)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


# Characters of one column each, which make up most text here (Vietnamese in NFC,
# codes, dates, punctuation): a text of them alone is as wide as it is long. A table
# of a city's tasks measures some 500,000 cells.
_ONE_COLUMN = re.compile("[ -~\u00a0-\u00ac\u00ae-\u02ff\u1e00-\u1eff\u2010-\u2027]*")


def display_width(text: str) -> int:
    if _ONE_COLUMN.fullmatch(text):
        return len(text)
    return sum(map(_columns, text))


def clipped(text: str, width: int) -> str:
    """`text` on one line in at most `width` columns: when it is longer, cut after the
    last whole word that fits (a mid-word cut only for a word longer than a third of
    the width) and marked with "…", so a shortened title never reads as a whole one."""
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    cut = text[: width - 1] if _ONE_COLUMN.fullmatch(text) else _first_columns(text, width - 1)
    if text[len(cut)] != " ":  # the cut fell inside a word
        start = cut.rfind(" ")
        if start >= len(cut) * 2 // 3:
            cut = cut[:start]
    return cut.rstrip(" ,;:.-–") + "…"


def _first_columns(text: str, width: int) -> str:
    """The longest start of `text` that fits in `width` columns."""
    kept, used = [], 0
    for ch in text:
        used += _columns(ch)
        if used > width:
            break
        kept.append(ch)
    return "".join(kept)
