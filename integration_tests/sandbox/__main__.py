"""CLI: `python -m integration_tests.sandbox --port 8765 [options]`; prints one JSON line.

With `--write-export DIR` it writes the world as Tracker export files instead (export_cli.py).
"""

from __future__ import annotations

import signal
import sys
import threading

import orjson

from .options import parse_options
from .server import Sandbox


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if any(a == "--write-export" or a.startswith("--write-export=") for a in arguments):
        from .export_cli import main as write_export

        return write_export(arguments)
    options = parse_options(arguments)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    sandbox = Sandbox(options).start()
    banner = {
        "url": sandbox.url,
        "api_token": sandbox.api_token,
        "username": sandbox.username,
        "password": sandbox.password,
    }
    sys.stdout.write(orjson.dumps(banner).decode() + "\n")
    sys.stdout.flush()
    try:
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
