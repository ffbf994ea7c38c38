"""Running `nhiemvu` in-process for the CLI tests, and looking at the log it leaves."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import cli
from events.catalog import REGISTRY
from events.database import make_engine
from events.store import EventStore


class Nhiemvu:
    """`nhiemvu --db URL --actor tester …` in-process, plus a look at the log it leaves."""

    def __init__(self, db_url: str, actor: str | None = "tester") -> None:
        self.db_url = db_url
        self.actor = actor
        self.runner = CliRunner()

    def run(self, *args: str):
        actor = ["--actor", self.actor] if self.actor else []
        return self.runner.invoke(cli, ["--db", self.db_url, *actor, *args])

    def ok(self, *args: str):
        result = self.run(*args)
        assert result.exit_code == 0, (
            f"nhiemvu {' '.join(args)} → exit {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result

    def json(self, *args: str):
        return json.loads(self.ok(*args, "--json").stdout)

    def fails(self, *args: str, code: int = 1):
        """A refused command: the given exit status, a message, and nothing written."""
        before = self.event_count()
        result = self.run(*args)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        # A crash also exits 1 under CliRunner; a refusal is a clean SystemExit.
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert self.event_count() == before
        return result

    def engine(self):
        return make_engine(self.db_url)

    def event_count(self) -> int:
        engine = self.engine()
        try:
            return EventStore(engine, REGISTRY).count()
        finally:
            engine.dispose()

    def event(self, event_id: str):
        engine = self.engine()
        try:
            return EventStore(engine, REGISTRY).get_event(event_id)
        finally:
            engine.dispose()

    def task(self, task_id: str, *extra: str) -> dict:
        return self.json("task", "show", task_id, *extra)
