"""Importing the secretariat's tracking workbook (sổ theo dõi nhiệm vụ) into the ledger.

One row of the workbook is one task: the directive it comes from (số, ngày,
trích yếu), its content, lead and coordinating agencies, deadline and status.
Every row goes through the same Ledger commands as the CLI, so the same
validation applies and the projections follow. All rows run inside one
transaction, each in its own savepoint: a refused row leaves no trace, and the
whole import is committed only when every row passed (or `skip_invalid`) and it
is not a dry run. So the dry run and the real import run exactly the same
checks.

Re-importing is idempotent: a task's id is derived from what identifies it in
the workbook (directive number, clause, content, leads), so the second import
finds the task already there and reports the row as "đã có".

Also here: the template workbook (`nhiemvu import template`) and the sample
workbook shipped in application/data/ (`python -m application.xlsx_import`
regenerates both).
"""

from .cells import parse_deadline
from .columns import COLUMNS, fold_header
from .importer import STATUS_LABELS, import_workbook
from .rows import task_id_for
from .sheet import STRAY_GAP, read_sheet
from .workbooks import (
    SAMPLE_FILE,
    SAMPLE_FIRST_ROW,
    SAMPLE_ROWS,
    TEMPLATE_FILE,
    write_sample,
    write_template,
)

__all__ = [
    "COLUMNS",
    "SAMPLE_FILE",
    "SAMPLE_FIRST_ROW",
    "SAMPLE_ROWS",
    "STATUS_LABELS",
    "STRAY_GAP",
    "TEMPLATE_FILE",
    "fold_header",
    "import_workbook",
    "parse_deadline",
    "read_sheet",
    "task_id_for",
    "write_sample",
    "write_template",
]
