"""MariaDB with ``innodb_snapshot_isolation = ON``: a write over a row changed since the snapshot is refused.

The store's own write transaction starts with its UPDATE, which reads the
row's newest version, so on its own it never sees error 1020: the version
check finds the conflict. An app whose transaction read first (the Pyramid
starter's ``request.dbsession``, sessions written through it) holds an older
snapshot when the session is written: InnoDB then refuses the UPDATE, or the
replay's ``SELECT ... FOR UPDATE``, with 1020, which the store raises as a
SessionConflict and pyramid_retry replays.
"""

from __future__ import annotations

from ..load.check import check_sessions
from ..load.client import LoadPlan
from .harness import SECRET, TopologyRun, empty_table, kind_lines, needs_topologies, servers, topology

pytestmark = needs_topologies

PLAN = LoadPlan(duration=8, readers=3, writers=3, pairs=3, visitors=2)
READ_FIRST = {"dbsession.request_dbsession": "dbsession"}
#: Requests that may fail because every replay lost its conflict again, at most.
EXHAUSTED_BOUND = 0.01


def run_load(tmp_path, figures, extra, includes):
    url = topology("snapshot", "url")
    with empty_table(url) as engine, servers([url], tmp_path, extra, includes) as urls:
        run = TopologyRun(urls, PLAN)
        run.start()
        report = run.join()
        lines, retried, failed = kind_lines(urls)
        check = check_sessions(engine, SECRET, report.sessions)
    figures.add(*report.lines(), *lines, *check.lines())
    conflicts = {kind: count for kind, count in failed.items() if kind != "ViewFailed"}
    assert all(kind.startswith(("SessionConflict", "SnapshotConflict")) for kind in conflicts), failed
    assert sum(conflicts.values()) <= EXHAUSTED_BOUND * report.requests
    assert report.unexpected_count == sum(conflicts.values()), report.unexpected
    assert check.lost == 0 and check.exact == check.checked, check.problems
    return retried


def test_store_alone_never_meets_a_stale_snapshot(tmp_path, figures):
    retried = run_load(tmp_path, figures, {}, ())
    assert "SnapshotConflict 1020" not in retried and retried.get("SessionConflict", 0) > 0


def test_app_reading_first_gets_its_stale_writes_replayed(tmp_path, figures):
    retried = run_load(tmp_path, figures, READ_FIRST, ("tests.topologies.app.read_first",))
    assert retried.get("SnapshotConflict 1020", 0) > 0
