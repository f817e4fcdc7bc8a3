"""run_plan: write a session's plan in the caller's transaction, and learn whether it committed.

Both adapters run their plans here: in the request's ``tm`` (pyramid_tm), in
an outer ``transaction`` manager's transaction (repoze.tm2 and the like), or,
with neither, in a transaction of the store's own that commits at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy.orm import Session as ORMSession

from ..db.principals import NO_CLIENT, ClientInfo
from ..db.store import Executor, SessionStore
from ..plan import CookieAction, WritePlan


class Outcome:
    """What became of a plan: whether its transaction committed, and the id a new row got."""

    def __init__(self) -> None:
        #: True once the transaction that ran the plan committed; never True for one that aborted.
        self.committed = False
        #: The session id of the row the plan inserted, if it inserted one.
        self.session_id: str | None = None
        self._ended: list[Callable[[bool], None]] = []

    def on_end(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(committed)`` when the plan's transaction ends, or at once if it has."""
        self._ended.append(callback)

    def end(self, committed: bool) -> None:
        """Record how the transaction ended (an after-commit or after-abort hook)."""
        self.committed = committed
        for callback in self._ended:
            callback(committed)


def joined_dbsession(store: SessionStore, manager: transaction.TransactionManager) -> ORMSession:
    """A SQLAlchemy session on the store's engine, joined to ``manager``'s current transaction."""
    dbsession = ORMSession(store.engine)
    zope.sqlalchemy.datamanager.join_transaction(dbsession, transaction_manager=manager)
    return dbsession


def run_plan(
    plan: WritePlan,
    store: SessionStore,
    manager: transaction.TransactionManager | None,
    dbsession: Callable[[], ORMSession] | None = None,
    client: ClientInfo = NO_CLIENT,
) -> Outcome:
    """Run ``plan`` in ``manager``'s current transaction, or in one of its own when ``manager`` is None.

    ``dbsession`` returns the SQLAlchemy session to write through (the
    app's ``request.dbsession``, or one made once per request); by default
    one is joined to the transaction here. ``client`` is recorded on a row
    the plan inserts. The outcome is filled in when the
    transaction ends. Errors (a conflict, an oversized session, a dead
    database) propagate, so the caller's transaction aborts.
    """
    outcome = Outcome()
    if not plan.writes and plan.cookie is CookieAction.KEEP:
        return outcome  # a read: nothing waits on the transaction's end
    if manager is None:
        if plan.writes:
            with store.engine.begin() as connection:
                outcome.session_id = _write(plan, store, connection, client)
        outcome.end(True)
        return outcome
    current = manager.get()
    if plan.writes:
        executor = dbsession() if dbsession is not None else joined_dbsession(store, manager)
        outcome.session_id = _write(plan, store, executor, client)
        zope.sqlalchemy.mark_changed(executor, transaction_manager=manager)
    current.addAfterCommitHook(_record_commit, (outcome,))
    current.addAfterAbortHook(_record_abort, (outcome,))
    return outcome


def _write(plan: WritePlan, store: SessionStore, executor: Executor, client: ClientInfo) -> str | None:
    store.begin_write(executor)
    return store.apply(plan, executor, client)


def _record_commit(status: bool, outcome: Outcome) -> None:
    outcome.end(status)


def _record_abort(outcome: Outcome, *args: Any) -> None:
    outcome.end(False)
