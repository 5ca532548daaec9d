"""The sandbox's HTTP layer and its fault options: keep-alive, latency, errors, drops, truncation."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
import requests

from integration_tests.sandbox import Sandbox, SandboxOptions
from integration_tests.sandbox_checks import (
    assert_error,
    big_project,
    small,
)

# --------------------------------------------------------------------------- HTTP & faults


def test_keep_alive_connection_serves_many_requests_with_exact_content_length(
    sb: Sandbox,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        for _ in range(3):
            connection.request(
                "GET",
                f"/services/v5/projects/{big_project(sb)}/stories?limit=50",
                headers={"X-TrackerToken": sb.api_token},
            )
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(body)
            assert len(json.loads(body)) == 50
    finally:
        connection.close()


def test_latency_is_applied_per_request_without_serialising_others() -> None:
    with small(latency_ms=400) as sandbox:
        url = sandbox.url + "/me"
        headers = {"X-TrackerToken": sandbox.api_token}
        statuses: list[int] = []
        took: list[float] = []

        def fetch() -> None:
            started = time.perf_counter()
            statuses.append(requests.get(url, headers=headers, timeout=10).status_code)
            took.append(time.perf_counter() - started)

        threads = [threading.Thread(target=fetch) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 6
        # A busy machine only lengthens a request; the server counting two or more requests in
        # their wait at once is what shows the waits do not queue, however slow the machine.
        assert min(took) >= 0.4
        assert sandbox.stats["most_waiting_at_once"] > 1


def test_error_every_alternates_500_and_503_and_counts_them() -> None:
    with small(error_every=3) as sandbox:
        session = requests.Session()
        session.headers["X-TrackerToken"] = sandbox.api_token
        statuses = [session.get(sandbox.url + "/me", timeout=10).status_code for _ in range(7)]
        assert statuses == [200, 200, 500, 200, 200, 503, 200]
        stats = sandbox.stats
        assert stats["total"] == 7 and stats["by_status"] == {"200": 5, "500": 1, "503": 1}
        third = requests.get(sandbox.url + "/me", headers=session.headers, timeout=10)
        fourth = requests.get(sandbox.url + "/me", headers=session.headers, timeout=10)
        assert third.status_code == 200 and fourth.status_code == 500
        assert_error(fourth, 500, "api_internal_error")


def test_rate_limit_every_answers_429_with_retry_after() -> None:
    with small(rate_limit_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        first = requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        second = requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        assert first.status_code == 200
        body = assert_error(second, 429, "rate_limit_exceeded")
        assert second.headers["Retry-After"] == "1" and body["kind"] == "error"


def test_drop_every_closes_the_connection_without_answering() -> None:
    with small(drop_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        assert requests.get(sandbox.url + "/me", headers=headers, timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get(sandbox.url + "/me", headers=headers, timeout=10)
        assert requests.get(sandbox.url + "/me", headers=headers, timeout=10).status_code == 200
        assert sandbox.stats["by_status"]["dropped"] == 1


def test_truncate_every_sends_half_a_body_with_matching_content_length() -> None:
    with small(truncate_every=2) as sandbox:
        headers = {"X-TrackerToken": sandbox.api_token}
        pid = sandbox.store.projects[0].id
        url = f"{sandbox.url}/projects/{pid}/stories"
        whole = requests.get(url, headers=headers, timeout=10)
        cut = requests.get(url, headers=headers, timeout=10)
        assert whole.status_code == cut.status_code == 200
        assert int(cut.headers["Content-Length"]) == len(cut.content) == len(whole.content) // 2
        with pytest.raises(ValueError):
            cut.json()


def test_mutate_stories_makes_offset_paging_lose_stories_that_existed_throughout() -> None:
    with Sandbox(SandboxOptions(projects=1, stories=60, disabled_projects=0, mutate_stories=True)) as sandbox:
        store = sandbox.store
        project = store.projects[0]
        initial = set(store.truth("stories"))
        headers = {"X-TrackerToken": sandbox.api_token}
        seen: set[int] = set()
        offset = 0
        while True:
            page = requests.get(
                f"{sandbox.url}/projects/{project.id}/stories",
                params={"limit": "10", "offset": str(offset)},
                headers=headers,
                timeout=10,
            ).json()
            seen |= {s["id"] for s in page}
            offset += 10
            if len(page) < 10:
                break
        mutations = requests.get(f"{sandbox.base_url}/__sandbox/mutations", timeout=10).json()
        assert mutations["created"] and mutations["deleted"] and mutations["moved"]
        throughout = initial - set(mutations["deleted"])
        assert throughout - seen, "offset paging should have missed a story"
        now = set(store.truth("stories"))
        assert now == throughout | set(mutations["created"])
        assert not set(mutations["deleted"]) & now


def test_faults_never_touch_admin_endpoints() -> None:
    with small(error_every=1) as sandbox:
        admin = sandbox.base_url + "/__sandbox"
        assert requests.get(f"{admin}/requests", timeout=10).status_code == 200
        assert requests.get(f"{admin}/truth", params={"stream": "projects"}, timeout=10).status_code == 200
        assert requests.get(sandbox.url + "/me", timeout=10).status_code == 500
