"""pgbouncer in transaction pooling mode: with psycopg's prepared statements off, nothing fails or is lost.

psycopg prepares a statement on its fifth run on a connection; in transaction
pooling the next transaction may run on another server connection, which does
not know it (or knows another of the same name). ``prepare_threshold = None``
turns that off: through ``dbsession.engine.connect_args``, given as a dict.
"""

from __future__ import annotations

from ..load.check import check_sessions
from ..load.client import LoadPlan
from .harness import SECRET, TopologyRun, empty_table, kind_lines, needs_topologies, servers, topology

pytestmark = needs_topologies

PLAN = LoadPlan(duration=10, readers=4, writers=4, pairs=2, visitors=2)
NO_PREPARED_STATEMENTS = {"dbsession.engine.connect_args": {"prepare_threshold": None}}


def test_pgbouncer_serves_every_request_and_loses_nothing(tmp_path, figures):
    url = topology("pgbouncer", "url")
    figures.add(f"through {url}, 8 server threads with 8 + 8 pooled connections, pgbouncer pool of 10")
    with (
        empty_table(topology("pgbouncer", "direct-url")) as direct,
        servers([url], tmp_path, NO_PREPARED_STATEMENTS) as urls,
    ):
        run = TopologyRun(urls, PLAN)
        run.start()
        report = run.join()
        lines, _, failed = kind_lines(urls)
        check = check_sessions(direct, SECRET, report.sessions)
    figures.add(*report.lines(), *lines, *check.lines())
    assert report.unexpected_count == 0, report.unexpected
    assert set(failed) <= {"ViewFailed"}, failed  # only the views that raise on purpose
    assert check.lost == 0 and check.exact == check.checked, check.problems
