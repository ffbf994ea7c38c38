"""SIGINT and SIGTERM handed to a thread of their own, which does the stopping.

A Python signal handler runs on the main thread between two of its bytecodes,
wherever it happens to be: inside `Event.wait` with the event's lock held, inside
APScheduler's main loop or its executor with theirs. A handler that takes such a lock
itself (`Event.set`, a scheduler's `shutdown`) waits for its own thread for ever, and
the process no longer stops. The handler here only puts the signal on a
`queue.SimpleQueue`, whose `put` is reentrant; the thread takes it from there, with
whatever locks stopping needs, while the main thread goes on to release them.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger("nhiemvu.scheduler")


class StopOnSignals:
    """While entered: each of `signals` calls `on_signal(signum)` on the relay thread."""

    def __init__(
        self,
        on_signal: Callable[[int], None],
        signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM),
    ) -> None:
        self._on_signal = on_signal
        self._signals = tuple(signals)
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._relay = threading.Thread(target=self._run, name="nhiemvu-signals", daemon=True)
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignals:
        # Only the main thread may set handlers: signal.signal says so if it is not,
        # before the relay is started (it would wait for ever). A signal between the
        # two waits in the queue.
        self._previous = {s: signal.signal(s, self._note) for s in self._signals}
        try:
            self._relay.start()
        except BaseException:
            self._restore()  # signals noted with no relay would stop nothing
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._restore()
        self._queue.put(None)
        self._relay.join()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _note(self, signum: int, _frame) -> None:
        self._queue.put(signum)

    def _run(self) -> None:
        while (signum := self._queue.get()) is not None:
            try:
                self._on_signal(signum)
            except Exception:  # noqa: BLE001 - the next signal must still be heard
                log.exception("Lỗi khi xử lý tín hiệu %s.", signal.Signals(signum).name)
