"""Names of the PostgreSQL databases the test suite makes, and which of them a killed
run left behind.

Every one is `nhiemvu_<kind>_<where>_<pid>_<random>`, and so is each role a test
makes (kind `r`): <where> tells this machine's (and PID namespace's) processes from
those of another sharing the server, <pid> is the pytest process that made it. Several runs may share a server at once (CI and a
developer's); a run drops only what it made, and the leftovers of runs here whose
process is gone.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import uuid

OURS = re.compile(r"^nhiemvu_(?:t|tpl|r)_(?P<where>[0-9a-f]{6})_(?P<pid>[0-9]+)_[0-9a-f]+$")


def _where() -> str:
    """This machine and PID namespace, in six hex digits: where a PID names a process."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return hashlib.sha256(f"{socket.gethostname()}/{namespace}".encode()).hexdigest()[:6]


WHERE = _where()


def new_name(kind: str = "t") -> str:
    return f"nhiemvu_{kind}_{WHERE}_{os.getpid()}_{uuid.uuid4().hex[:12]}"


def _is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's: alive
        return False
    return False


def leftovers(names, where: str = WHERE) -> list[str]:
    """Of these database names, those a killed run of this suite left here: made on
    this machine by a process that is gone. Another machine's, a live run's (its PID
    taken again by another process, too: it waits for a later run), and any name of
    another making are not ours to drop."""
    found = []
    for name in names:
        match = OURS.match(name)
        if match and match["where"] == where and _is_gone(int(match["pid"])):
            found.append(name)
    return found
