"""Alembic migrations of the nhiemvu schema.

HEAD names the revision the code expects; a test checks it is Alembic's single head.
"""

from pathlib import Path

HEAD = "0005"
DIRECTORY = Path(__file__).resolve().parent
