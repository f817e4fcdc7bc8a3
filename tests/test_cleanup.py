"""``dbsession-cleanup`` and the batching of ``SessionStore.clear_expired`` it shares."""

from __future__ import annotations

import io
import itertools
import secrets
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.codec import Codec, resolve_serializer
from pyramid_dbsession.db.store import SessionStore
from pyramid_dbsession.models import sessions_table
from pyramid_dbsession.scripts import cleanup
from pyramid_dbsession.scripts.cleanup import main

from .conftest import SECRET, Clock, listening, session_rows

LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2999, 1, 1, tzinfo=UTC)


class Terminal(io.StringIO):
    """An output stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def add_rows(engine: Engine, expire_dates: Iterable[datetime]) -> None:
    """Insert one row per expiry date, with random keys."""
    rows = [
        {
            "session_key": secrets.token_hex(32),
            "session_data": "x",
            "expire_date": expire_date,
            "created": expire_date - timedelta(days=14),
            "data_size": 1,
            "version": 1,
        }
        for expire_date in expire_dates
    ]
    with engine.begin() as connection:
        connection.execute(sessions_table.insert(), rows)


def expired(count: int) -> list[datetime]:
    """``count`` distinct expiry dates long past."""
    return [LONG_AGO + timedelta(seconds=second) for second in range(count)]


def write_ini(path: Path, settings: dict[str, Any]) -> str:
    lines = ["[app:main]", "use = egg:pyramid_dbsession", *(f"{key} = {value}" for key, value in settings.items())]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def config_uri(tmp_path: Path, settings: dict[str, Any]) -> str:
    """An .ini file whose app settings point at the test database."""
    return write_ini(tmp_path / "app.ini", settings)


@pytest.fixture
def store(engine: Engine, clock: Clock) -> SessionStore:
    return SessionStore(engine, Codec((SECRET,), resolve_serializer("json")), clock=clock)


def run(*argv: str, stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_cleanup_deletes_expired_rows_and_keeps_live_ones(engine: Engine, config_uri: str) -> None:
    add_rows(engine, [*expired(7), FAR_AHEAD, FAR_AHEAD])
    status, _, _ = run(config_uri, "--batch-size", "2")
    assert (status, [row.expire_date for row in session_rows(engine)]) == (0, [FAR_AHEAD, FAR_AHEAD])


def test_cleanup_reports_rows_deleted_and_time_taken(engine: Engine, config_uri: str) -> None:
    add_rows(engine, expired(3))
    _, out, _ = run(config_uri)
    assert out.splitlines()[-1].startswith("deleted 3 expired sessions in ")


def test_cleanup_dry_run_counts_and_deletes_nothing(engine: Engine, config_uri: str) -> None:
    add_rows(engine, [*expired(4), FAR_AHEAD])
    _, out, _ = run(config_uri, "--dry-run")
    assert (out.startswith("4 expired sessions would be deleted"), len(session_rows(engine))) == (True, 5)


def test_cleanup_in_a_terminal_draws_a_progress_bar(engine: Engine, config_uri: str) -> None:
    add_rows(engine, expired(4))
    _, out, _ = run(config_uri, "--batch-size", "2", stdout=Terminal())
    assert "\r[" + "#" * 30 + "] 100% 4 of 4" in out


def test_cleanup_under_cron_writes_only_whole_lines(engine: Engine, config_uri: str) -> None:
    add_rows(engine, expired(4))
    _, out, _ = run(config_uri, "--batch-size", "2")
    assert "\r" not in out and out.endswith(" s\n")


def test_cleanup_reads_sqlalchemy_url_when_dbsession_url_is_absent(engine: Engine, tmp_path: Path) -> None:
    add_rows(engine, expired(2))
    url = engine.url.render_as_string(hide_password=False)
    status, _, _ = run(write_ini(tmp_path / "app.ini", {"sqlalchemy.url": url, "dbsession.secret": SECRET}))
    assert (status, session_rows(engine)) == (0, [])


def test_cleanup_missing_config_file_exits_2_with_one_line(tmp_path: Path) -> None:
    status, _, err = run(str(tmp_path / "missing.ini"))
    assert (status, err.count("\n"), err.startswith("dbsession-cleanup: ")) == (2, 1, True)


def test_cleanup_missing_secret_exits_2_naming_the_setting(tmp_path: Path) -> None:
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://"}))
    assert (status, "dbsession.secret is required" in err, err.count("\n")) == (2, True, 1)


def test_cleanup_missing_url_exits_2(tmp_path: Path) -> None:
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.secret": SECRET}))
    assert (status, "dbsession.url or sqlalchemy.url is required" in err) == (2, True)


def test_cleanup_zero_batch_size_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://"}), "--batch-size", "0")
    assert (status, "--batch-size: must be at least 1" in capsys.readouterr().err) == (2, True)


def test_cleanup_unreachable_database_exits_1_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'sessions.sqlite'}"
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": url, "dbsession.secret": SECRET}))
    assert (status, err.count("\n"), "database error" in err) == (1, 1, True)


def test_clear_expired_small_batches_report_running_totals(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [clock.now - timedelta(seconds=second) for second in range(1, 8)])
    totals: list[int] = []
    store.clear_expired(3, progress=totals.append)
    assert totals == [3, 6, 7]


def test_clear_expired_deletes_a_row_expiring_now_and_keeps_a_later_one(store: SessionStore, clock: Clock) -> None:
    later = clock.now + timedelta(microseconds=1)
    add_rows(store.engine, [clock.now, later])
    store.clear_expired()
    assert [row.expire_date for row in session_rows(store.engine)] == [later]


def test_clear_expired_rows_tied_on_expiry_all_go(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [clock.now - timedelta(hours=1)] * 5)
    assert store.clear_expired(2) == 5


def test_clear_expired_dry_run_returns_the_count_and_keeps_rows(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [clock.now - timedelta(hours=1)] * 3)
    counted = store.clear_expired(dry_run=True)
    assert (counted, len(session_rows(store.engine))) == (3, 3)


def test_clear_expired_on_an_empty_table_deletes_nothing(store: SessionStore) -> None:
    assert store.clear_expired() == 0


def test_clear_expired_zero_batch_size_is_refused(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        store.clear_expired(0)


def test_clear_expired_count_matches_rows_gone(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [*(clock.now - timedelta(minutes=m) for m in range(1, 12)), clock.now + timedelta(days=1)])
    deleted = store.clear_expired(4)
    with store.engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(sessions_table)).scalar_one()
    assert (deleted, left) == (11, 1)


def test_cleanup_under_cron_writes_a_line_each_interval(
    engine: Engine, config_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cleanup, "_PLAIN_INTERVAL", 0.0)  # the interval is wall-clock time
    add_rows(engine, expired(4))
    _, out, _ = run(config_uri, "--batch-size", "2")
    assert "deleted 2 of 4 so far\n" in out


def test_cleanup_batch_size_that_is_not_a_number_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, _ = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://"}), "--batch-size", "many")
    assert (status, "must be a whole number, got 'many'" in capsys.readouterr().err) == (2, True)


def deleting_threads(engine: Engine, act: Any, meeting: threading.Barrier | None = None) -> set[str]:
    """The names of the threads that sent a DELETE on ``engine`` while ``act`` ran.

    With ``meeting``, the first DELETEs wait for each other there once they
    have run, before their commits: they pass only if that many ran at the
    same time without waiting for each other's locks.
    """
    names: set[str] = set()
    started = itertools.count(1)

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("DELETE"):
            names.add(threading.current_thread().name)
            if meeting is not None and next(started) <= meeting.parties:
                meeting.wait()

    with listening(engine, "after_cursor_execute", record):
        act()
    return names


def test_clear_expired_with_jobs_deletes_every_expired_row_in_parallel(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [*(clock.now - timedelta(seconds=s) for s in range(1, 41)), clock.now + timedelta(days=1)])
    parallel = store.engine.dialect.name == "postgresql"
    meeting = threading.Barrier(3, timeout=10) if parallel else None
    totals: list[int] = []
    threads = deleting_threads(store.engine, lambda: totals.append(store.clear_expired(3, jobs=3)), meeting)
    assert (totals, len(session_rows(store.engine))) == ([40], 1)
    if parallel:
        assert len(threads) == 3 and all(name.startswith("dbsession-purge") for name in threads)
    else:
        # SQLite and MariaDB delete one batch at a time, in the caller's thread.
        assert threads == {threading.current_thread().name}


def test_stopping_a_parallel_purge_keeps_the_batches_not_started(store: SessionStore, clock: Clock) -> None:
    add_rows(store.engine, [clock.now - timedelta(seconds=s) for s in range(1, 31)])
    batches = store.purge_batches(2, jobs=2)
    first = next(batches)
    batches.close()  # type: ignore[attr-defined]
    left = len(session_rows(store.engine))
    assert first == 2 and 0 < left <= 30 - first


def test_clear_expired_zero_jobs_is_refused(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        store.clear_expired(jobs=0)


def test_cleanup_deletes_two_batches_at_a_time_on_postgresql_by_default(engine: Engine, config_uri: str) -> None:
    add_rows(engine, [*expired(9), FAR_AHEAD])
    status, out, _ = run(config_uri, "--batch-size", "2")
    said = ", 2 at a time" in out.splitlines()[0]
    assert (status, len(session_rows(engine)), said) == (0, 1, engine.dialect.name == "postgresql")


def test_cleanup_one_job_deletes_one_batch_at_a_time(engine: Engine, config_uri: str) -> None:
    add_rows(engine, [*expired(9), FAR_AHEAD])
    status, out, _ = run(config_uri, "--batch-size", "2", "--jobs", "1")
    assert (status, len(session_rows(engine)), "at a time" in out.splitlines()[0]) == (0, 1, False)


def test_cleanup_zero_jobs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://"}), "--jobs", "0")
    assert (status, "--jobs: must be at least 1" in capsys.readouterr().err) == (2, True)


def test_postgresql_batches_commit_without_waiting_for_the_disk(store: SessionStore, clock: Clock) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    add_rows(store.engine, [clock.now - timedelta(seconds=s) for s in range(1, 8)])
    settings: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("DELETE"):
            cursor.execute("SHOW synchronous_commit")
            settings.append(cursor.fetchone()[0])

    with listening(store.engine, "before_cursor_execute", record):
        store.clear_expired(3)
    with store.engine.connect() as connection:
        after = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
    assert (settings, after) == (["off", "off", "off"], "on")
