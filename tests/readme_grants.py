"""The GRANT script README.md gives for a secretariat's PostgreSQL role, as written
there: tests run it verbatim, so the README cannot drift from what works."""

from __future__ import annotations

import re

from nhiemvu_cli import REPO

README = REPO / "README.md"
SECTION = "## A PostgreSQL role for the secretariat"


def readme_grants(database: str, role: str) -> str:
    """The GRANT script of the README's section, for this database and role."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    script = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    script = re.sub(r"\bDATABASE nhiemvu\b", f'DATABASE "{database}"', script)
    return re.sub(r"\bnhiemvu_clerk\b", f'"{role}"', script)
