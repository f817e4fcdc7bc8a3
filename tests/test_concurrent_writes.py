"""Concurrent requests of one session that write different keys both succeed, with no replay.

Threads share one session's cookie, each through its own ``webtest.TestApp``
of one app with pyramid_retry (3 attempts); ``retries`` counts the replays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from pyramid_dbsession import SessionConflict, SessionTooLarge, get_store
from pyramid_dbsession.models import sessions_table

from .conftest import Retries, commit_elsewhere, session_rows

#: How long a thread waits for the others before the test fails instead of hanging.
WAIT = 30


def browser(app: Any, cookie: str) -> webtest.TestApp:
    """A client of ``app`` presenting the session cookie ``cookie``."""
    client = webtest.TestApp(app)
    client.set_cookie("session", cookie)
    return client


def run_together(*clients: Callable[[], None]) -> None:
    """Run each client in a thread of its own; re-raise the first error one of them met."""
    errors: list[BaseException] = []

    def guarded(client: Callable[[], None]) -> None:
        try:
            client()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.fixture
def merges(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    """The number of merges the store logged so far."""
    caplog.set_level(logging.DEBUG, logger="pyramid_dbsession.merge")
    return lambda: sum(record.name == "pyramid_dbsession.merge" for record in caplog.records)


def test_two_writers_of_their_own_keys_are_never_replayed(make_testapp, retries, merges):
    testapp = make_testapp(retries.configure)
    testapp.get("/set", {"owner": "two tabs"})
    meet = threading.Barrier(2, timeout=WAIT)

    def writer(key: str) -> Callable[[], None]:
        client = browser(testapp.app, testapp.cookies["session"])

        def write() -> None:
            for _ in range(50):
                meet.wait()
                client.get("/incr", {"key": key})

        return write

    run_together(writer("a"), writer("b"))
    data = testapp.get("/show").json
    print(f"{merges()} of 50 rounds merged")
    assert (retries.seen, data["a"], data["b"]) == ([], 50, 50)


def test_four_writers_of_one_key_lose_no_increment_and_never_merge(make_testapp, retries, merges):
    testapp = make_testapp(retries.configure)
    testapp.get("/incr")
    meet = threading.Barrier(4, timeout=WAIT)
    successes: list[int] = []

    def writer() -> None:
        client = browser(testapp.app, testapp.cookies["session"])
        for _ in range(25):
            meet.wait()
            try:
                client.get("/incr")
            except SessionConflict:  # every attempt lost
                continue
            successes.append(1)

    run_together(*[writer] * 4)
    print(f"{len(successes)} of 100 increments succeeded after {len(retries.seen)} replays")
    assert (testapp.get("/show").json["counter"], merges()) == (len(successes) + 1, 0)


def test_write_of_b_from_a_read_of_a_written_meanwhile_is_replayed(make_testapp, retries):
    read_a, a_written = threading.Event(), threading.Event()

    def configure(config: Configurator) -> None:
        retries.configure(config)

        def copy_a_to_b(request: Request) -> Response:
            value = request.session["a"]
            read_a.set()
            a_written.wait(WAIT)
            request.session["b"] = value
            return Response(value)

        config.add_route("copy_a_to_b", "/copy_a_to_b")
        config.add_view(copy_a_to_b, route_name="copy_a_to_b")

    testapp = make_testapp(configure)
    testapp.get("/set", {"a": "1"})
    copier = browser(testapp.app, testapp.cookies["session"])

    def write_a() -> None:
        read_a.wait(WAIT)
        testapp.get("/set", {"a": "2"})
        a_written.set()

    run_together(lambda: copier.get("/copy_a_to_b"), write_a)
    assert (retries.seen, testapp.get("/show").json) == (["SessionConflict"], {"a": "2", "b": "2"})


def interrupted_by(retries: Retries, elsewhere: Callable[[Request], None]) -> Any:
    """``/interrupted?value=V``: loads the session, writes ``a``; ``elsewhere`` commits in between, once."""

    def configure(config: Configurator) -> None:
        retries.configure(config)
        config.add_view(lambda exc, request: Response("too large", status=413), context=SessionTooLarge)
        committed: list[bool] = []

        def interrupted(request: Request) -> Response:
            request.session.get("untouched")
            if not committed:
                elsewhere(request)
                committed.append(True)
            request.session["a"] = request.params["value"]
            return Response("written")

        config.add_route("interrupted", "/interrupted")
        config.add_view(interrupted, route_name="interrupted")

    return configure


def test_merged_session_over_max_size_fails_and_keeps_the_other_write(make_testapp, retries):
    testapp = make_testapp(
        interrupted_by(retries, lambda request: commit_elsewhere(request, b="x" * 600)), max_size=1000
    )
    testapp.get("/set", {"a": "1"})
    testapp.get("/interrupted", {"value": "y" * 600}, status=413)
    assert (retries.seen, testapp.get("/show").json) == ([], {"a": "1", "b": "x" * 600})


def test_merge_keeps_the_later_expiry(make_testapp, retries, engine):
    elsewhere = partial(commit_elsewhere, later=timedelta(days=1), b="elsewhere")
    testapp = make_testapp(interrupted_by(retries, elsewhere))
    testapp.get("/set", {"a": "1"})
    [before] = session_rows(engine)
    testapp.get("/interrupted", {"value": "2"})
    [after] = session_rows(engine)
    assert (retries.seen, after.expire_date - before.expire_date) == ([], timedelta(days=1))
    assert get_store(testapp.app.registry).decode(after) == {"a": "2", "b": "elsewhere"}


def test_row_rewritten_with_data_failing_its_signature_is_never_merged_into(make_testapp, retries):
    def tamper(request: Request) -> None:
        with get_store(request.registry).engine.begin() as connection:
            connection.execute(sessions_table.update().values(session_data="forged.data", version=99))

    testapp = make_testapp(interrupted_by(retries, tamper))
    testapp.get("/set", {"a": "1"})
    testapp.get("/interrupted", {"value": "2"})
    assert (retries.seen, testapp.get("/show").json) == (["SessionConflict"], {"a": "2"})
