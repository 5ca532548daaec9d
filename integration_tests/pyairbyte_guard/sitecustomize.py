"""Loaded by every Python process of the PyAirbyte test (through PYTHONPATH): PyAirbyte and the
connector processes it starts, which inherit its environment.

The project's rule is loopback only, and PyAirbyte is someone else's code with a registry and
telemetry in it, so the rule is enforced where the test cannot look: a name lookup or connection
to anything but loopback is refused before a packet leaves (PermissionError), and noted. A file
written outside the test's folder (PT_GUARD_ROOT) is noted too. The test fails on any such note.
Every process also notes its start and the loopback addresses it connected to, which shows that
the guard was loaded at all; and a connector process keeps a copy of the config, catalog and state
files PyAirbyte handed it, so the test can run the very same read without PyAirbyte.

What it cannot see: sockets and files opened by C code that bypasses Python (DuckDB's own file).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import sys
import threading
from typing import Any

GUARD_DIR = os.environ.get("PT_GUARD_DIR", "")
ROOT = os.path.realpath(os.environ.get("PT_GUARD_ROOT", "/nonexistent"))
ALLOWED_FILES = {"/dev/null"}
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Events that change a path; (index of the path argument, index of its dir_fd or None).
PATH_EVENTS = {
    "os.mkdir": ((0, 2),),
    "os.remove": ((0, 1),),
    "os.rmdir": ((0, 1),),
    "os.rename": ((0, 2), (1, 3)),
    "os.replace": ((0, 2), (1, 3)),
    "os.symlink": ((1, 2),),
    "os.link": ((1, 3),),
    "os.truncate": ((0, None),),
}
_local = threading.local()  # .noting: this thread is writing a note
_connected: set[str] = set()


def _note(kind: str, detail: Any) -> None:
    if getattr(_local, "noting", False) or not GUARD_DIR:
        return
    _local.noting = True  # the note's own open() must not be judged
    try:
        line = json.dumps({"pid": os.getpid(), "argv": sys.argv[:2], "kind": kind, "detail": detail})
        with open(os.path.join(GUARD_DIR, f"guard-{os.getpid()}.jsonl"), "a") as log:
            log.write(line + "\n")
    finally:
        _local.noting = False


def _is_loopback(host: Any) -> bool:
    if host is None:  # getaddrinfo(None, port): an address to bind to, on this machine
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    name = str(host).strip("[]").split("%")[0].lower()
    if name in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _check_network(event: str, args: tuple[Any, ...]) -> None:
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        host = args[0]
    elif event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[1]
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets and netlink stay on this machine
        host = address[0]
        if _is_loopback(host) and event == "socket.connect" and f"{host}:{address[1]}" not in _connected:
            _connected.add(f"{host}:{address[1]}")
            _note("loopback", f"{host}:{address[1]}")
    else:
        return
    if not _is_loopback(host):
        _note("refused", f"{event} {host!r}")
        raise PermissionError(f"loopback-only test: {event} to {host!r} refused")


def _written_path(path: Any, dir_fd: Any) -> str | None:
    if isinstance(path, int):
        return None  # an open descriptor: its opening was judged already
    path = os.fsdecode(os.fspath(path))
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(path):  # -1: no dir_fd
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
    return os.path.realpath(path)


def _check_write(path: Any, dir_fd: Any, event: str) -> None:
    resolved = _written_path(path, dir_fd)
    if resolved is None or resolved in ALLOWED_FILES:
        return
    if resolved != ROOT and not resolved.startswith(ROOT + os.sep):
        _note("outside", f"{event} {resolved}")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if getattr(_local, "noting", False):
        return
    if event.startswith("socket."):
        _check_network(event, args)
    elif event == "open":
        path, mode, flags = args
        writes = (isinstance(flags, int) and flags & WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+")
        )
        if writes:
            _check_write(path, None, event)
    elif event in PATH_EVENTS:
        for path_at, dir_fd_at in PATH_EVENTS[event]:
            dir_fd = args[dir_fd_at] if dir_fd_at is not None else None
            _check_write(args[path_at], dir_fd, event)


def _keep_inputs() -> None:
    """A connector process: copies of the files named after --config, --catalog and --state."""
    argv = sys.argv
    for flag in ("--config", "--catalog", "--state"):
        if flag in argv[:-1]:
            copy = os.path.join(GUARD_DIR, f"{argv[1]}-{os.getpid()}-{flag[2:]}.json")
            shutil.copyfile(argv[argv.index(flag) + 1], copy)


if GUARD_DIR:
    _note("start", sys.argv)
    if os.path.basename(sys.argv[0]) == "source-pivotal-tracker" and len(sys.argv) > 1:
        _keep_inputs()
    sys.addaudithook(_hook)
