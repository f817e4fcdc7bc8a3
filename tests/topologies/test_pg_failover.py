"""A primary killed mid-load and its synchronous standby promoted: the app follows through its multi-host URL.

The app's URL names both servers, libpq's way, with
``target_session_attrs=read-write``: a new connection goes to whichever
accepts writes. Once the standby is promoted the app recovers by itself (the
store drops its pooled connections when one fails), and no increment that was
acknowledged is missing from the promoted server.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from ..load.check import check_sessions
from ..load.client import LoadPlan
from .harness import SECRET, TopologyRun, empty_table, kind_lines, needs_topologies, servers, topology, wait_for

pytestmark = needs_topologies

PLAN = LoadPlan(duration=20, readers=3, writers=3, pairs=2, visitors=2)
WARM_UP_REQUESTS = 2000
#: How long the standby stays a standby after the kill, as a failover manager takes to decide.
DECISION_TIME = 2.0
#: From the promotion to the first increment acknowledged by the new primary, at most.
RECOVERY_BOUND = 10.0


def serving_port(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT inet_server_port()")).scalar_one())
    finally:
        engine.dispose()


def test_failover_to_the_promoted_standby_recovers_without_restart_and_loses_nothing(tmp_path, figures):
    url = topology("pg-failover", "url")
    assert serving_port(url) == 5441, "the primary is not the first host: run .ci/topologies/pg-failover.sh up"
    figures.add(f"app URL: {url}")
    with empty_table(url), servers([url], tmp_path, {}) as urls:
        run = TopologyRun(urls, PLAN, seed=2)
        run.start()
        wait_for(lambda: run.requests >= WARM_UP_REQUESTS, 60, "the warm-up")
        run.outage_begins()
        killed = time.monotonic()
        topology("pg-failover", "kill-primary")
        # Every pooled connection has failed (and been dropped) before the standby takes over.
        wait_for(lambda: run.outage_failures >= 2 * PLAN.threads, 30, "the clients to see the primary gone")
        time.sleep(max(0.0, killed + DECISION_TIME - time.monotonic()))
        promoting = time.monotonic()
        topology("pg-failover", "promote")
        promoted = time.monotonic()
        wait_for(lambda: run.first_success(since=promoted, path="/incr") is not None, 30, "a write on the new primary")
        recovered = run.first_success(since=promoted, path="/incr") or promoted
        run.outage_ends()
        requests_before_end = run.requests
        report = run.join()
        lines, _, _ = kind_lines(urls)
    promoted_server = sa.create_engine(topology("pg-failover", "standby-url"))
    try:
        check = check_sessions(promoted_server, SECRET, report.sessions)
    finally:
        promoted_server.dispose()
    figures.add(
        *report.lines(),
        *lines,
        f"primary killed at {run.at(killed):.1f} s; promotion took {promoted - promoting:.2f} s; first write "
        f"acknowledged {recovered - promoted:.2f} s after it, {recovered - killed:.2f} s after the kill; "
        f"{report.provoked.get('database down', 0)} requests failed in between; "
        f"{report.requests - requests_before_end} requests after",
        *check.lines(),
    )
    assert report.unexpected_count == 0, report.unexpected  # nothing failed outside the outage: no restart needed
    assert report.requests > requests_before_end
    assert recovered - promoted <= RECOVERY_BOUND
    assert check.lost == 0 and check.exact + check.with_unacknowledged == check.checked, check.problems
