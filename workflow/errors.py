"""Domain errors. Messages are Vietnamese: they say what is wrong and how to fix it."""

from __future__ import annotations

import difflib


class DomainError(Exception):
    """A command that the rules of the process refuse. Nothing is written."""


class NotFound(DomainError):
    """`what` (Vietnamese, "cơ quan") `key` is not in the ledger; `known` are the keys
    that are, for suggestions of what the user may have meant."""

    def __init__(self, what: str, key: str, known: list[str] | None = None):
        self.what = what
        self.key = key
        close = difflib.get_close_matches(key.upper(), [k.upper() for k in known or []], n=3)
        by_upper = {k.upper(): k for k in known or []}
        self.suggestions = [by_upper[s] for s in close]
        self.none_known = known is not None and not known
        hint = ""
        if self.suggestions:
            hint = f" Có phải ý bạn là: {', '.join(self.suggestions)}?"
        elif self.none_known:
            hint = f" Chưa có {what} nào trong sổ."
        super().__init__(f"Không tìm thấy {what} '{key}'.{hint}")
