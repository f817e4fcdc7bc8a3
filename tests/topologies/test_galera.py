"""A 3-node Galera cluster with the load spread over two nodes: conflicts replayed, a killed node rejoining.

One app server per node (n1 and n2); each client's connection goes to one of
them, and the two halves of a pair to different ones, so that one session is
written on two nodes at once. Galera certifies each commit against the
writesets of the others: the loser gets error 1213, at COMMIT or, aborted by a
replicated writeset, in its statement, and pyramid_retry replays it. A replay
can lose again (its ``SELECT ... FOR UPDATE`` locks one node's copy only), so a
few requests may run out of attempts: they fail, and store nothing.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from pyramid_dbsession.models import sessions_table

from ..load.check import check_sessions
from ..load.client import LoadPlan
from ..load.server import RETRY_ATTEMPTS
from .harness import SECRET, TopologyRun, empty_table, kind_lines, needs_topologies, servers, topology, wait_for

pytestmark = needs_topologies

CONTENTION = LoadPlan(duration=10, readers=2, writers=2, pairs=4, visitors=2)
NODE_LOSS = LoadPlan(duration=30, readers=3, writers=3, pairs=2, visitors=2)
WARM_UP_REQUESTS = 1000
#: Requests that may fail because every replay lost its conflict again, at most.
EXHAUSTED_BOUND = 0.01
#: The only exceptions that may fail a request outside an outage: conflicts replayed until the attempts ran out.
CONFLICT_KINDS = ("SessionConflict", "TransientDatabaseError 1213", "OperationalError 1213")


def rows_of(url: str) -> set[tuple[str, int]]:
    """Every session's key and version, as one node holds them once it has applied what it received."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SET SESSION wsrep_sync_wait = 1"))
            rows = connection.execute(sa.select(sessions_table.c.session_key, sessions_table.c.version))
            return {(key, version) for key, version in rows}
    finally:
        engine.dispose()


def cluster_size(url: str) -> int:
    """The cluster size one node sees."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SHOW STATUS LIKE 'wsrep_cluster_size'")).one()[1])
    finally:
        engine.dispose()


def exhausted(failed: dict[str, int]) -> int:
    """The requests that failed on a conflict after every attempt; other failures are not counted."""
    return sum(count for kind, count in failed.items() if kind.startswith(CONFLICT_KINDS))


def test_one_session_written_on_two_nodes_is_replayed_and_loses_nothing(tmp_path, figures):
    nodes = [topology("galera", "url", "1"), topology("galera", "url", "2")]
    figures.add(f"app servers on {nodes[0]} and {nodes[1]}, {RETRY_ATTEMPTS} attempts, retry_jitter 0.05 s")
    with empty_table(nodes[0]) as engine, servers(nodes, tmp_path, {}) as urls:
        run = TopologyRun(urls, CONTENTION)
        run.start()
        report = run.join()
        lines, retried, failed = kind_lines(urls)
        check = check_sessions(engine, SECRET, report.sessions)
    figures.add(*report.lines(), *lines, *check.lines())
    assert sum(count for kind, count in retried.items() if "1213" in kind) > 0  # the nodes did conflict
    assert all(kind == "ViewFailed" or kind.startswith(CONFLICT_KINDS) for kind in failed), failed
    assert exhausted(failed) <= EXHAUSTED_BOUND * report.requests
    assert report.unexpected_count == exhausted(failed), report.unexpected  # every other answer kept its promise
    assert check.lost == 0 and check.exact == check.checked, check.problems


def test_killed_node_rejoins_and_its_app_recovers_without_restart(tmp_path, figures):
    nodes = [topology("galera", "url", "1"), topology("galera", "url", "2")]
    with empty_table(nodes[0]) as engine, servers(nodes, tmp_path, {}) as urls:
        run = TopologyRun(urls, NODE_LOSS, seed=3)
        survivor, victim = run.ports
        run.start()
        wait_for(lambda: run.requests >= WARM_UP_REQUESTS, 60, "the warm-up")
        run.outage_begins()
        killed = time.monotonic()
        topology("galera", "kill", "2")
        wait_for(lambda: cluster_size(nodes[0]) == 2, 30, "the cluster to evict node 2")
        evicted = time.monotonic()
        rejoin_line = topology("galera", "start", "2")
        synced = time.monotonic()
        wait_for(
            lambda: run.first_success(port=victim, since=synced, path="/incr") is not None, 30, "a write on n2's app"
        )
        recovered = run.first_success(port=victim, since=synced, path="/incr") or synced
        run.outage_ends()
        ended = time.monotonic()
        requests_before_end = run.requests
        report = run.join()
        lines, _, failed = kind_lines(urls)
        check = check_sessions(engine, SECRET, report.sessions)
    stall = run.longest_silence(survivor, killed, ended)
    survivor_failures = run.failure_count(port=survivor, since=killed, until=ended)
    figures.add(
        *report.lines(),
        *lines,
        f"node 2 killed at {run.at(killed):.1f} s, evicted {evicted - killed:.1f} s later; {rejoin_line}",
        f"n1's app: longest time without a success {stall:.1f} s, {survivor_failures} failures during the outage",
        f"n2's app: first write acknowledged {recovered - synced:.2f} s after node 2 was Synced, "
        f"{recovered - killed:.1f} s after the kill; {run.failure_count(port=victim, since=killed, until=ended)} "
        f"failures in between; {report.requests - requests_before_end} requests after the outage",
        *check.lines(),
    )
    consistent = [len(rows_of(topology("galera", "url", str(n)))) for n in (1, 2, 3)]
    figures.add(f"rows on n1, n2, n3 after the run: {consistent}")
    assert survivor_failures <= EXHAUSTED_BOUND * report.requests  # the survivor stalled, it did not fail
    assert report.requests > requests_before_end and recovered - synced <= 10  # n2's app recovered by itself
    assert report.unexpected_count <= exhausted(failed), report.unexpected
    assert check.lost == 0 and check.exact + check.with_unacknowledged == check.checked, check.problems
    assert rows_of(nodes[0]) == rows_of(nodes[1]) == rows_of(topology("galera", "url", "3"))
