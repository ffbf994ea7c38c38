"""`python -m application.xlsx_import`: regenerate the shipped workbooks."""

from .workbooks import DATA_DIR, SAMPLE_FILE, TEMPLATE_FILE, write_sample, write_template


def main() -> None:
    """Regenerate the workbooks shipped in application/data/."""
    DATA_DIR.mkdir(exist_ok=True)
    # The writers refuse an existing file (a user's filled-in workbook); these two
    # are the generators' own output.
    for shipped in (TEMPLATE_FILE, SAMPLE_FILE):
        shipped.unlink(missing_ok=True)
    for path in (write_template(TEMPLATE_FILE), write_sample(SAMPLE_FILE)):
        print(f"Đã ghi {path}")


if __name__ == "__main__":
    main()
