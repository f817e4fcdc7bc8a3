"""check_sessions: compare every session a load run created with its row in ``core_sessions``."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession import BadSessionData
from pyramid_dbsession.codec import Codec, JSONSerializer
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table

from .client import SAMPLES, TrackedSession


@dataclass
class SessionCheck:
    """What the table holds compared with what the clients were told."""

    #: Counters checked (a tabs session holds two).
    checked: int = 0
    sessions: int = 0
    #: Counters whose stored value equals the increments acknowledged to their client.
    exact: int = 0
    #: Counters that also hold increments whose response failed during an outage.
    with_unacknowledged: int = 0
    #: Acknowledged increments missing from the table, summed over sessions.
    lost_increments: int = 0
    missing_rows: int = 0
    corrupt_rows: int = 0
    foreign_owner: int = 0
    #: Sessions holding data from a view that raised (which must never be stored).
    failed_view_data: int = 0
    #: Increments stored that no client asked for.
    phantom_increments: int = 0
    rows_in_table: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Everything that counts as lost or corrupted: zero when the run kept every promise."""
        return (
            self.lost_increments
            + self.missing_rows
            + self.corrupt_rows
            + self.foreign_owner
            + self.failed_view_data
            + self.phantom_increments
        )

    def note(self, problem: str) -> None:
        if len(self.problems) < SAMPLES:
            self.problems.append(problem)

    def lines(self) -> list[str]:
        """The figures, one line each, for the terminal."""
        return [
            f"sessions checked: {self.sessions} ({self.checked} counters; {self.rows_in_table} rows in the table); "
            f"counters equal to acknowledged increments: {self.exact}, also holding increments unacknowledged in "
            f"an outage: {self.with_unacknowledged}",
            f"lost: {self.lost} (increments {self.lost_increments}, rows missing {self.missing_rows}, corrupt "
            f"{self.corrupt_rows}, wrong owner {self.foreign_owner}, failed-view data {self.failed_view_data}, "
            f"phantom increments {self.phantom_increments})",
        ]


def check_sessions(engine: Engine, secret: str, sessions: list[TrackedSession]) -> SessionCheck:
    """Decode every tracked session's row and compare it with what its client saw."""
    codec = Codec((secret,), JSONSerializer())
    with engine.connect() as connection:
        rows = dict(connection.execute(sa.select(sessions_table.c.session_key, sessions_table.c.session_data)).all())
    check = SessionCheck(rows_in_table=len(rows), sessions=len({tracked.session_id for tracked in sessions}))
    for tracked in sessions:
        check.checked += 1
        session_key = session_key_for(tracked.session_id)
        if session_key not in rows:
            check.missing_rows += 1
            check.note(f"{tracked.owner}: no row")
            continue
        try:
            data = codec.decode(session_key, rows[session_key])
        except BadSessionData as exc:
            check.corrupt_rows += 1
            check.note(f"{tracked.owner}: {exc.reason}")
            continue
        if data.get("owner") != tracked.owner:
            check.foreign_owner += 1
            check.note(f"{tracked.owner}: row holds {data!r}")
        if "doomed" in data:
            check.failed_view_data += 1
            check.note(f"{tracked.owner}: a failed view's change was stored")
        _compare_counter(check, tracked, data.get(tracked.key, 0))
    return check


def _compare_counter(check: SessionCheck, tracked: TrackedSession, stored: int) -> None:
    if stored == tracked.acknowledged:
        check.exact += 1
    elif stored < tracked.acknowledged:
        check.lost_increments += tracked.acknowledged - stored
        check.note(f"{tracked.owner}: {tracked.key} {stored}, {tracked.acknowledged} acknowledged")
    elif stored <= tracked.acknowledged + tracked.unacknowledged:
        # A commit can succeed while its connection dies before the answer.
        check.with_unacknowledged += 1
    else:
        check.phantom_increments += stored - tracked.acknowledged - tracked.unacknowledged
        check.note(
            f"{tracked.owner}: {tracked.key} {stored}, only {tracked.acknowledged} + {tracked.unacknowledged} sent"
        )
