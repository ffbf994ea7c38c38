"""Files written for people: whole or not at all, and refused in Vietnamese."""

from __future__ import annotations

import pytest

from application.files import CannotWrite, folder_for_files, replaceable, written_whole
from workflow.errors import DomainError


def test_a_file_appears_only_when_written_whole(tmp_path):
    target = tmp_path / "bao-cao.xlsx"
    target.write_bytes(b"the report of last month")
    with pytest.raises(RuntimeError), written_whole(target) as handle:
        handle.write(b"half of")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"the report of last month"
    assert [p.name for p in tmp_path.iterdir()] == ["bao-cao.xlsx"]  # no partial left
    with written_whole(target, "w", durable=True) as handle:
        handle.write("Báo cáo tháng này")
    assert target.read_text("utf-8") == "Báo cáo tháng này"
    assert [p.name for p in tmp_path.iterdir()] == ["bao-cao.xlsx"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("khong-co/bao-cao.xlsx", "thư mục '{tmp}/khong-co' không tồn tại"),
        (".", "đây là một thư mục; hãy ghi rõ tên tệp"),
    ],
)
def test_a_target_that_cannot_be_written_says_why(tmp_path, name, why):
    target = tmp_path / name
    with pytest.raises(CannotWrite) as refused, written_whole(target) as handle:
        handle.write(b"x")
    assert str(refused.value) == (f"Không ghi được tệp '{target}': {why.format(tmp=tmp_path)}.")


def test_a_folder_for_files_is_made_with_its_parents(tmp_path):
    folder = folder_for_files(tmp_path / "cong-van" / "2023")
    assert folder.is_dir()
    blocked = tmp_path / "la-tep"
    blocked.write_text("", "utf-8")
    with pytest.raises(CannotWrite, match="Không ghi được tệp"):
        folder_for_files(blocked / "con")


def test_a_file_kept_is_kept_even_if_it_appears_while_being_written(tmp_path):
    """Refused at the start, and again at the rename: a file someone saved under that
    name meanwhile is theirs."""
    target = tmp_path / "bao-cao.xlsx"
    keep = replaceable("có thể là sổ đã điền")
    with (
        pytest.raises(DomainError, match="đã có: không ghi đè"),
        written_whole(target, keep=keep) as handle,
    ):
        handle.write(b"the report")
        target.write_bytes(b"saved meanwhile")
    assert target.read_bytes() == b"saved meanwhile"
    assert [p.name for p in tmp_path.iterdir()] == ["bao-cao.xlsx"]
    with pytest.raises(DomainError) as refused, written_whole(target, keep=keep):
        pass
    assert str(refused.value) == (
        f"Tệp '{target}' đã có: không ghi đè (có thể là sổ đã điền). Hãy chọn tên tệp khác, "
        "hoặc thêm --replace để ghi đè."
    )


def test_a_killed_run_s_hidden_folder_is_removed_by_the_next_run(tmp_path):
    """`letters` killed (SIGKILL, a power cut) while writing its set left a hidden
    `.nhiemvu-….partial` folder of drafts, which nothing removed. The next set
    written in that folder removes those of a process gone; a live process's, and one
    holding the files a killed run had replaced while moving, are left."""
    import os
    import subprocess
    import sys

    from application.files import written_together

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(gone.stdout)
    stale = tmp_path / f".nhiemvu-{dead_pid}-abc.partial"
    stale.mkdir()
    (stale / "SXD.docx").write_bytes(b"half a draft")
    moving = tmp_path / f".nhiemvu-{dead_pid}-def.partial"
    (moving / ".replaced").mkdir(parents=True)
    (moving / ".replaced" / "STC.docx").write_bytes(b"the only copy")
    live = tmp_path / f".nhiemvu-{os.getpid()}-ghi.partial"
    live.mkdir()
    older = tmp_path / ".nhiemvu-jkl.partial"  # named before the process was: whose?
    older.mkdir()

    with written_together(tmp_path) as files, files.file("SYT.docx") as handle:
        handle.write(b"draft")

    assert not stale.exists()
    assert (moving / ".replaced" / "STC.docx").read_bytes() == b"the only copy"
    assert live.exists() and older.exists()
    assert (tmp_path / "SYT.docx").read_bytes() == b"draft"
