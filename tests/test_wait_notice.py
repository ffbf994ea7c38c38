"""A writer queued behind another (an Excel import, a rebuild, a colleague's command)
is told so after a moment, instead of sitting up to half a minute in silence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from nhiemvu_cli import Nhiemvu

import events.store
from events import EventRegistry, EventStore, NewEvent
from events.database import make_engine

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register("load.noted")
    return registry


def event() -> NewEvent:
    return NewEvent("load.noted", {"n": 1}, T0)


class LockHolder:
    """A thread holding the log's write lock (a store of its own) until told to let go."""

    def __init__(self, db_url: str, append: bool = True) -> None:
        self.append = append
        self.engine = make_engine(db_url)
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        store = EventStore(self.engine, registry())
        with store.transaction() as tx:
            tx.lock()
            self.held.set()
            self.release.wait(60)  # only a failing test ever waits this long
            if self.append:
                tx.append("holder", [event()])

    def __enter__(self) -> LockHolder:
        self.thread.start()
        assert self.held.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(60)
        self.engine.dispose()


@pytest.fixture
def quick_notice(monkeypatch):
    monkeypatch.setattr(events.store, "WAIT_NOTICE_S", 0.05)


def test_a_writer_waiting_for_the_lock_is_told_then_writes(db_url, quick_notice):
    engine = make_engine(db_url)
    store = EventStore(engine, registry())
    with LockHolder(db_url) as holder:

        def waited() -> None:
            holder.release.set()  # the holder lets go only once the notice came

        store.on_wait = waited
        store.append("waiter", [event()])
    assert holder.release.is_set()
    with engine.connect() as connection:
        assert [e.stream_id for e in store.read_all(connection=connection)] == [
            "holder",
            "waiter",
        ]
    engine.dispose()


def test_a_writer_that_got_the_lock_leaves_no_timer_behind(db_url, monkeypatch):
    monkeypatch.setattr(events.store, "WAIT_NOTICE_S", 3600)
    engine = make_engine(db_url)
    store = EventStore(engine, registry())
    store.on_wait = lambda: pytest.fail("no one was holding the lock")
    before = set(threading.enumerate())
    store.append("alone", [event()])
    timers = [t for t in set(threading.enumerate()) - before if isinstance(t, threading.Timer)]
    assert not [t for t in timers if t.is_alive() and not t.finished.is_set()]
    engine.dispose()


def test_the_cli_says_a_command_is_waiting_for_its_turn(db_url, quick_notice, monkeypatch):
    import cli_app

    monkeypatch.setattr(cli_app, "someone_watching", lambda: True)
    nv = Nhiemvu(db_url)
    said = []
    real = cli_app.say_waiting

    with LockHolder(db_url, append=False) as holder:

        def say_and_release() -> None:
            said.append(True)
            real()
            holder.release.set()

        monkeypatch.setattr(cli_app, "say_waiting", say_and_release)
        result = nv.run("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    assert result.exit_code == 0, result.stderr
    assert said == [True]
    assert "Đang chờ lượt ghi: một lệnh khác" in result.stderr
    assert "tối đa 30 giây" in result.stderr
    assert [a["code"] for a in nv.json("agency", "list")] == ["SXD"]


def test_an_import_waiting_for_its_turn_says_so_too(db_url, quick_notice, monkeypatch, tmp_path):
    from openpyxl import Workbook

    import cli_app

    monkeypatch.setattr(cli_app, "someone_watching", lambda: True)
    nv = Nhiemvu(db_url)
    nv.ok("agency", "add", "SXD", "--name", "Sở Xây dựng", "--kind", "so")
    book = Workbook()
    sheet = book.active
    sheet.append(["Số văn bản", "Ngày văn bản", "Trích yếu", "Nội dung nhiệm vụ",
                  "Đơn vị chủ trì", "Thời hạn"])  # fmt: skip
    sheet.append(["5/TB-UBND", "05/04/2023", "Kết luận", "Việc", "SXD", "30/06/2023"])
    book.save(tmp_path / "b.xlsx")
    real = cli_app.say_waiting
    with LockHolder(db_url, append=False) as holder:

        def say_and_release() -> None:
            real()
            holder.release.set()

        monkeypatch.setattr(cli_app, "say_waiting", say_and_release)
        result = nv.run("import", "xlsx", str(tmp_path / "b.xlsx"))
    assert result.exit_code == 0, result.stderr
    assert "Đang chờ lượt ghi" in result.stderr
    assert [t["title"] for t in nv.json("task", "list")] == ["Việc"]
