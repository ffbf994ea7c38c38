"""When the result cannot be printed (standard output full, or closed by its reader),
the exit status still says whether the log was written: 0 for a command whose events
were committed — a script that retries on failure would record them twice —, 1 for
one that wrote nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from nhiemvu_cli import REPO, Nhiemvu, busy_task

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")


@pytest.fixture
def ledger(tmp_path) -> tuple[Nhiemvu, str]:
    nv = Nhiemvu(str(tmp_path / "nhiemvu.db"))
    nv.ok("init")
    return nv, busy_task(nv)


def nhiemvu_process(nv: Nhiemvu, stdout, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import cli; cli.main()", "--db", nv.db_url, *args],
        cwd=REPO,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


def closed_pipe() -> int:
    """The writing end of a pipe whose reader has gone (`nhiemvu … | true`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_a_write_whose_output_fills_the_disk_says_it_was_recorded(ledger):
    nv, task_id = ledger
    before = nv.event_count()
    with open("/dev/full", "w") as full:
        done = nhiemvu_process(nv, full, "task", "progress", task_id, "--percent", "60", "--on", "20/04/2023")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert nv.event_count() == before + 1
    assert "đã ghi 1 sự kiện vào sổ" in done.stderr
    assert "đĩa đã đầy" in done.stderr and "Đừng chạy lại lệnh" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_write_whose_reader_went_away_says_it_was_recorded(ledger):
    nv, task_id = ledger
    before = nv.event_count()
    write_end = closed_pipe()
    try:
        done = nhiemvu_process(nv, write_end, "task", "complete", task_id, "--on", "25/04/2023")
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert nv.event_count() == before + 1
    assert "nơi nhận kết quả đã đóng" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_refused_write_with_output_full_still_fails_and_writes_nothing(ledger):
    nv, task_id = ledger
    before = nv.event_count()
    with open("/dev/full", "w") as full:
        done = nhiemvu_process(nv, full, "task", "progress", task_id, "--percent", "150", "--on", "20/04/2023")  # fmt: skip
    assert done.returncode == 1
    assert nv.event_count() == before
    assert "0–100" in done.stderr


def test_a_read_whose_output_fills_the_disk_is_an_error_in_words(ledger):
    nv, _ = ledger
    with open("/dev/full", "w") as full:
        done = nhiemvu_process(nv, full, "task", "list")
    assert done.returncode == 1
    assert done.stderr.strip() == "Lỗi: Không ghi được ra đầu ra: đĩa đã đầy."


def test_a_read_whose_reader_went_away_ends_quietly(ledger):
    nv, _ = ledger
    write_end = closed_pipe()
    try:
        done = nhiemvu_process(nv, write_end, "task", "list")
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""
