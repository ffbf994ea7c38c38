"""Domain errors. Messages are Vietnamese: they say what is wrong and how to fix it."""

from __future__ import annotations

import difflib


class DomainError(Exception):
    """A command that the rules of the process refuse. Nothing is written."""


class NotFound(DomainError):
    def __init__(self, what: str, key: str, known: list[str] | None = None):
        self.key = key
        suggestions = difflib.get_close_matches(key.upper(), [k.upper() for k in known or []], n=3)
        by_upper = {k.upper(): k for k in known or []}
        hint = ""
        if suggestions:
            names = ", ".join(by_upper[s] for s in suggestions)
            hint = f" Có phải ý bạn là: {names}?"
        super().__init__(f"Không tìm thấy {what} '{key}'.{hint}")
