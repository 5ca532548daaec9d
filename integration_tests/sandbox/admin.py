"""Sandbox-only endpoints under /__sandbox/ (no auth, not counted, never faulted)."""

from __future__ import annotations

from typing import Any

import orjson

from . import resources
from .stats import RequestStats
from .store import Store


class AdminApi:
    def __init__(self, store: Store, stats: RequestStats) -> None:
        self.store = store
        self.stats = stats

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            status, payload = self._route(method, path.rstrip("/") or "/", query, body)
        except (KeyError, ValueError, TypeError) as exc:
            status, payload = 400, {"error": f"{type(exc).__name__}: {exc}"}
        return status, orjson.dumps(payload)

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        store = self.store
        if method == "GET" and path == "/truth":
            ids = query.get("project_ids")
            project_ids = [int(i) for i in ids.split(",") if i.strip()] if ids else None
            return 200, store.truth(query["stream"], project_ids)
        if method == "GET" and path == "/requests":
            return 200, self.stats.snapshot()
        if method == "POST" and path == "/requests/reset":
            self.stats.reset()
            return 200, self.stats.snapshot()
        if method == "GET" and path == "/mutations":
            with store.lock:
                return 200, {key: list(values) for key, values in store.mutations.items()}
        if method == "POST" and path == "/stories":
            fields = orjson.loads(body) if body.strip() else {}
            story = store.create_story(int(query["project_id"]), **fields)
            return 200, resources.story_dict(story, resources.Ctx(store))
        if method in ("POST", "PUT") and path.startswith("/stories/"):
            fields = orjson.loads(body) if body.strip() else {}
            story = store.update_story(int(path.rsplit("/", 1)[1]), **fields)
            return 200, resources.story_dict(story, resources.Ctx(store))
        if method == "GET" and path == "/health":
            return 200, {"ok": True, "projects": [p.id for p in store.projects]}
        return 404, {"error": f"no admin endpoint {method} {path}"}
