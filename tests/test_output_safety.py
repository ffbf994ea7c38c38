"""What people type is shown and written inertly: no formula in a workbook, no escape
sequence on the terminal, no character a workbook or a letter cannot hold."""

from __future__ import annotations

import docx
import pytest
from nhiemvu_cli import Nhiemvu
from openpyxl import load_workbook

from workflow.text import nfc

FORMULA_NAME = '=HYPERLINK("http://evil","x")'


@pytest.fixture
def nv(db_url) -> Nhiemvu:
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", FORMULA_NAME, "--kind", "so")
    nv.ok("agency", "head", "SXD", "--name", "=1+2", "--from", "01/01/2023")
    nv.ok("directive", "add", "1/CT", "--date", "01/02/2023", "--title", "Chỉ thị")
    nv.ok("task", "assign", "--directive", "1/CT", "--title", "=SUM(A1:A9)", "--lead", "SXD",
          "--deadline", "31/03/2023")  # fmt: skip
    nv.ok("reprimand", "issue", "--kind", "phe-binh", "--doc", "=5/UBND", "--on", "10/03/2023",
          "--head", "SXD")  # fmt: skip
    return nv


@pytest.mark.parametrize(
    ("command", "typed"),
    [
        (["report", "tasks", "--year", "2023"], FORMULA_NAME),
        (["report", "reprimands", "--year", "2023"], "=5/UBND"),
        (["rating", "compute", "--year", "2023"], "=1+2"),
        (["score", "--year", "2023"], None),
    ],
)
def test_text_that_looks_like_a_formula_is_written_as_text(nv, tmp_path, command, typed):
    path = tmp_path / "out.xlsx"
    nv.ok(*command, "--xlsx", str(path))
    cells = [cell for ws in load_workbook(path) for row in ws.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    if typed is not None:
        assert typed in {cell.value for cell in cells}


def test_control_characters_are_not_kept_nor_shown(db_url, tmp_path):
    """An escape sequence in a name would clear the clerk's terminal or retitle it, and
    Excel and Word refuse the file: it goes at input, as invisible characters do."""
    assert (
        nfc("Sở Tài chính\x1b[2J\x1b]0;x\x07\x7f\x00 mới\tlắm\n") == "Sở Tài chính[2J]0;x mới lắm"
    )
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "STC", "--name", "Sở Tài chính\x1b[2J", "--kind", "so")
    nv.ok("directive", "add", "1/CT", "--date", "01/02/2023", "--title", "Chỉ thị")
    nv.ok("task", "assign", "--directive", "1/CT", "--title", "Việc\x1b]0;pwned\x07", "--lead",
          "STC", "--deadline", "31/03/2023")  # fmt: skip
    shown = nv.ok("task", "show", "NV-00001").stdout + nv.ok("agency", "list").stdout
    assert "\x1b" not in shown and "\x07" not in shown
    nv.ok("report", "tasks", "--year", "2023", "--xlsx", str(tmp_path / "r.xlsx"))
    nv.ok("letters", "--as-of", "30/05/2023", "--out", str(tmp_path / "thu"))
    (letter,) = (tmp_path / "thu").iterdir()
    assert "Việc]0;pwned" in "\n".join(
        cell.text for table in docx.Document(str(letter)).tables for cell in table._cells
    )
