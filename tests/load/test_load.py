"""Under load, and through a PostgreSQL restart, no acknowledged write is lost.

A waitress server in a child process serves the test views with pyramid_tm
and pyramid_retry, on a private PostgreSQL cluster; the clients run here, in
threads. The figures (requests per second, latency percentiles, conflicts
retried, merges, sessions checked) are printed in the terminal summary. The
short runs belong to the normal suite; ``pytest tests/load --load-long`` runs
the load for two minutes and the restart for one, with three times the
clients; ``--load-no-merge`` serves them with ``dbsession.merge_conflicts``
off, for the figures of replaying every conflict.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ..conftest import Figures
from .check import check_sessions
from .client import LoadPlan, LoadReport, LoadRun
from .cluster import PrivateCluster
from .server import running_server

SECRET = "load-test-secret-that-is-long-enough-to-be-real"
SERVER_THREADS = 8
SHORT = LoadPlan(duration=8, readers=4, writers=4, pairs=2, visitors=2, tabs=2)
LONG = LoadPlan(duration=120, readers=12, writers=12, pairs=6, visitors=6, tabs=6)
RESTART = LoadPlan(duration=10, readers=3, writers=3, pairs=2, visitors=2, tabs=1)
LONG_RESTART = LoadPlan(duration=60, readers=9, writers=9, pairs=4, visitors=4, tabs=4)
#: Requests served before the database is stopped.
WARM_UP_REQUESTS = 1000


def is_long(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--load-long", default=False))


@pytest.fixture
def plan(request: pytest.FixtureRequest) -> LoadPlan:
    return LONG if is_long(request) else SHORT


@pytest.fixture
def restart_plan(request: pytest.FixtureRequest) -> LoadPlan:
    return LONG_RESTART if is_long(request) else RESTART


@pytest.fixture
def merging(request: pytest.FixtureRequest) -> bool:
    """Whether the server merges conflicts (the default) or replays them all (``--load-no-merge``)."""
    return not request.config.getoption("--load-no-merge", default=False)


def server_settings(merging: bool) -> dict[str, Any]:
    return {"dbsession.merge_conflicts": "true" if merging else "false"}


def stats(base_url: str) -> dict[str, Any]:
    """The retries pyramid_retry made in the server, by exception class, and the merges made instead."""
    with urllib.request.urlopen(f"{base_url}/stats", timeout=30) as response:
        return dict(json.load(response))


def replay_line(counts: dict[str, Any]) -> str:
    retried = counts["retries"]
    return (
        f"conflicts retried: {retried.get('SessionConflict', 0)} (all retries: {retried or 0}); "
        f"conflicts merged instead: {counts['merges']}"
    )


def test_load_keeps_every_acknowledged_increment(
    private_cluster: PrivateCluster,
    load_engine: Engine,
    plan: LoadPlan,
    merging: bool,
    tmp_path: Path,
    figures: Figures,
) -> None:
    settings = server_settings(merging)
    with running_server(private_cluster.url, SECRET, SERVER_THREADS, tmp_path / "server.log", settings) as base_url:
        run = LoadRun(base_url, plan)
        run.start()
        report = run.join()
        counts = stats(base_url)
    retried = counts["retries"]
    check = check_sessions(load_engine, SECRET, report.sessions)
    figures.add(*report.lines(), replay_line(counts), *check.lines())
    assert report.unexpected_count == 0, report.unexpected
    assert check.lost == 0 and check.exact == check.checked, check.problems
    assert report.server_errors == report.provoked.get("view raised", 0)
    assert retried.get("SessionConflict", 0) > 0  # the pairs did collide, and were replayed
    assert (counts["merges"] > 0) is merging  # the tabs did collide, and were merged unless told not to


def run_through_a_restart(cluster: PrivateCluster, base_url: str, plan: LoadPlan) -> tuple[LoadReport, int, int]:
    """Run the load, stop the database once it is warm, start it after the clients saw it fail.

    Returns the report, the sessions created before the outage, and the
    requests that started after it.
    """
    run = LoadRun(base_url, plan, seed=1)
    run.start()
    assert run.wait_until(lambda run: run.requests >= WARM_UP_REQUESTS, timeout=60), "the load never warmed up"
    sessions_before = len(run.sessions)
    run.outage_begins()
    cluster.stop()
    run.wait_until(lambda run: run.outage_failures >= 2 * plan.threads, timeout=30)
    cluster.start()
    run.outage_ends()
    requests_before_end = run.requests
    report = run.join()
    return report, sessions_before, report.requests - requests_before_end


def test_database_restart_fails_requests_cleanly_and_loses_nothing(
    private_cluster: PrivateCluster,
    load_engine: Engine,
    restart_plan: LoadPlan,
    merging: bool,
    tmp_path: Path,
    figures: Figures,
) -> None:
    log_path = tmp_path / "server.log"
    with running_server(private_cluster.url, SECRET, SERVER_THREADS, log_path, server_settings(merging)) as base_url:
        report, sessions_before, requests_after = run_through_a_restart(private_cluster, base_url, restart_plan)
        counts = stats(base_url)
    check = check_sessions(load_engine, SECRET, report.sessions)
    figures.add(
        *report.lines(),
        replay_line(counts),
        f"outage: {report.provoked.get('database down', 0)} requests failed while PostgreSQL was down; "
        f"{requests_after} requests after it; {sessions_before} sessions written before it",
        *check.lines(),
    )
    assert report.provoked.get("database down", 0) > 0 and requests_after > 0
    assert " ERROR pyramid_dbsession" in log_path.read_text()  # the failure was logged, naming the database
    assert report.unexpected_count == 0, report.unexpected
    assert check.lost == 0, check.problems
