"""Normalising what people type: Vietnamese text from any keyboard, codes."""

from __future__ import annotations

import re
import unicodedata


def nfc(text: str | None) -> str | None:
    """Unicode NFC with outer spaces removed and inner runs of spaces folded."""
    if text is None:
        return None
    return " ".join(unicodedata.normalize("NFC", text).split())


def code(text: str) -> str:
    """Agency codes are matched case-insensitively: stored upper-case."""
    return nfc(text).upper()


def folded(text: str) -> str:
    """Lower case without diacritics, to match what people type without them:
    "Quy hoạch Đô thị" and "quy hoach do thi" fold alike."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matches_words(text: str, query: str) -> bool:
    """Whether `text` holds the words of `query` one after another, folded (see
    `folded`), the last one possibly unfinished: "quy hoach do" finds "Quy hoạch đô
    thị", but "do thi" does not find "tiến độ … Chỉ thị"."""
    wanted = _WORD.findall(folded(query))
    if not wanted:
        return True
    words = _WORD.findall(folded(text))
    *whole, last = wanted
    n = len(wanted)
    return any(
        words[i : i + n - 1] == whole and words[i + n - 1].startswith(last)
        for i in range(len(words) - n + 1)
    )


_WORD = re.compile(r"\w+")


def same_field(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and nfc(a).casefold() == nfc(b).casefold()
