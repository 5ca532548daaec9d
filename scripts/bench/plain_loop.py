"""The Python limit: `requests` + `orjson` fetching the stories pages and printing RECORD messages.

`python scripts/bench/plain_loop.py CONFIG.json [WORKERS]`. Fetches the same pages as the
connector (limit=500, the same fields, no empty trailing page) with WORKERS threads, and prints
the message each record becomes in the connector, with none of the CDK's per-record machinery.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import orjson
import requests

PAGE = 500
FIELDS = ":default,story_priority"
_local = threading.local()


def _get(url: str, token: str, params: dict[str, Any]) -> requests.Response:
    # One keep-alive session per thread, as the CDK keeps one pooled session per stream.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    response = session.get(url, params=params, headers={"X-TrackerToken": token}, timeout=60)
    response.raise_for_status()
    return response


def _read_project(api: str, token: str, project: int, pages: queue.Queue[Optional[bytes]]) -> None:
    offset = 0
    while True:
        params = {"limit": PAGE, "offset": offset, "fields": FIELDS}
        response = _get(f"{api}/projects/{project}/stories", token, params)
        pages.put(response.content)
        offset += int(response.headers["X-Tracker-Pagination-Returned"])
        if offset >= int(response.headers["X-Tracker-Pagination-Total"]):
            return


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    api, token = config["api_url"].rstrip("/"), config["credentials"]["api_token"]
    projects = [p["id"] for p in _get(f"{api}/projects", token, {}).json()]
    # Bounded, so pages are written as they come and memory stays at a few pages.
    pages: queue.Queue[Optional[bytes]] = queue.Queue(maxsize=4 * workers)
    out = sys.stdout.buffer

    failures: list[BaseException] = []

    def produce() -> None:
        try:
            with ThreadPoolExecutor(workers) as pool:
                for future in [pool.submit(_read_project, api, token, p, pages) for p in projects]:
                    future.result()
        except BaseException as error:  # noqa: BLE001 - reported by the exit code below
            failures.append(error)
        finally:
            pages.put(None)  # the end, even after a failure: the writer must not wait forever

    threading.Thread(target=produce, daemon=True).start()
    while (body := pages.get()) is not None:
        tail = b',"emitted_at":%d}}\n' % int(time.time() * 1000)
        for record in orjson.loads(body):
            out.write(b'{"type":"RECORD","record":{"stream":"stories","data":' + orjson.dumps(record) + tail)
    out.flush()
    if failures:
        print(f"plain loop failed: {failures[0]!r}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
