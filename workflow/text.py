"""Normalising what people type: Vietnamese text from any keyboard, codes."""

from __future__ import annotations

import unicodedata


def nfc(text: str | None) -> str | None:
    """Unicode NFC with outer spaces removed and inner runs of spaces folded."""
    if text is None:
        return None
    return " ".join(unicodedata.normalize("NFC", text).split())


def code(text: str) -> str:
    """Agency codes are matched case-insensitively: stored upper-case."""
    return nfc(text).upper()


def same_field(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and nfc(a).casefold() == nfc(b).casefold()
