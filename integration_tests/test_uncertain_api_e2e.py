"""The connector against the other answers Tracker may have given where the API's behaviour was
never recorded (tagged UNCERTAIN in the API notes): each is a sandbox option, and the connector
must read the same records whichever answer the real server gave.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integration_tests.conftest import api_token_config, primary_keys, sync, truth
from integration_tests.sandbox import Sandbox

PAGED_STREAMS = ["releases", "activity", "story_transitions", "iterations"]


def test_small_page_maxima_of_the_unrecorded_endpoints_lose_and_repeat_nothing(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # The connector asks for 500 a page; a server that clamps to 7 makes it follow the headers.
    sandbox = make_sandbox(
        projects=2, stories=150, disabled_projects=0, listing_max_limit=7, iterations_max_limit=7
    )
    run = sync(api_token_config(sandbox), PAGED_STREAMS, incremental=False)
    assert run.exit_code == 0, run.stderr[-2000:]
    for stream in PAGED_STREAMS:
        records = run.records[stream]
        assert len(truth(sandbox, stream)) > 7, stream
        assert primary_keys(records, stream) == truth(sandbox, stream), stream
        assert len(records) == len(truth(sandbox, stream)), f"{stream}: a record read twice"


@pytest.mark.parametrize(("unpaged", "ignore_filters"), [(True, False), (False, True), (True, True)])
def test_project_story_transitions_are_read_whole_paged_or_not_filtered_or_not(
    make_sandbox: Callable[..., Sandbox], unpaged: bool, ignore_filters: bool
) -> None:
    sandbox = make_sandbox(
        projects=2,
        stories=300,
        disabled_projects=0,
        listing_max_limit=50,
        transitions_unpaged=unpaged,
        transitions_ignore_filters=ignore_filters,
    )
    run = sync(api_token_config(sandbox), ["story_transitions"], incremental=False)
    assert run.exit_code == 0, run.stderr[-2000:]
    records = run.records["story_transitions"]
    assert all(
        len(sandbox.store.project_transitions(p)) > 50 for p in sandbox.store.projects
    )  # paged: 2+ pages
    assert primary_keys(records, "story_transitions") == truth(sandbox, "story_transitions")
    assert len(records) == len(truth(sandbox, "story_transitions"))


def test_no_page_asks_beyond_an_endpoint_maximum_in_case_tracker_refused_it(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    # Maxima: stories 500 (recorded), iterations 50 (a client's comment), the others 500 (assumed).
    sandbox = make_sandbox(projects=2, stories=150, disabled_projects=0, over_max_limit="reject")
    streams = [*PAGED_STREAMS, "stories", "comments"]
    run = sync(api_token_config(sandbox), streams, incremental=False)
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.errors == []
    for stream in streams:
        assert primary_keys(run.records[stream], stream) == truth(sandbox, stream), stream
