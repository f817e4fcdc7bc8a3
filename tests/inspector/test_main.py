"""``dbsession-inspector``: settings from an .ini or the command line, one-line errors."""

from __future__ import annotations

from functools import partialmethod
from pathlib import Path

import pytest
from textual.app import App

from inspector.__main__ import main
from inspector.app import InspectorApp
from inspector.source import SessionSource
from inspector.widgets.session_table import SessionTable
from pyramid_dbsession import DBSessionFactory

from ..conftest import SECRET

on_sqlite = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[InspectorApp]:
    """Apps ``main`` would have run; running a terminal UI is not what these tests are about."""
    apps: list[InspectorApp] = []
    monkeypatch.setattr(InspectorApp, "run", lambda self: apps.append(self))
    return apps


def write_ini(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "app.ini"
    path.write_text("\n".join(["[app:main]", "use = egg:pyramid_dbsession", *lines, ""]))
    return str(path)


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@on_sqlite
def test_ini_settings_open_the_app_database(tmp_path, engine, launched):
    ini = write_ini(tmp_path, f"dbsession.url = {url_of(engine)}", f"dbsession.secret = {SECRET}")
    assert main([ini]) == 0
    assert launched[0].source.engine.url == engine.url


@on_sqlite
def test_ini_without_dbsession_url_falls_back_to_sqlalchemy_url(tmp_path, engine, launched):
    ini = write_ini(tmp_path, f"sqlalchemy.url = {url_of(engine)}", f"dbsession.secret = {SECRET}")
    main([ini])
    assert launched[0].source.engine.url == engine.url


@on_sqlite
def test_url_and_secret_options_work_without_an_ini(engine, launched):
    main(["--url", url_of(engine), "--secret", SECRET, "--serializer", "json"])
    assert type(launched[0].source.store.codec.serializer).__name__ == "JSONSerializer"


@on_sqlite
def test_read_only_and_refresh_options_reach_the_app(engine, launched):
    main(["--url", url_of(engine), "--secret", SECRET, "--read-only", "--refresh", "2.5"])
    assert (launched[0].read_only, launched[0].refresh_seconds) == (True, 2.5)


def assert_one_line_error(capsys: pytest.CaptureFixture[str], status: int, expected: str) -> None:
    err = capsys.readouterr().err
    assert (status, err.count("\n"), expected in err) == (2, 1, True), err


def test_missing_ini_is_a_one_line_error(tmp_path, capsys, launched):
    status = main([str(tmp_path / "missing.ini")])
    assert_one_line_error(capsys, status, "cannot read")


@on_sqlite
def test_missing_secret_is_a_one_line_error(tmp_path, engine, capsys, launched):
    status = main([write_ini(tmp_path, f"dbsession.url = {url_of(engine)}")])
    assert_one_line_error(capsys, status, "dbsession.secret is required")


def test_unreachable_database_is_a_one_line_error(tmp_path, capsys, launched):
    status = main(["--url", f"sqlite:///{tmp_path}/no/such/dir/x.sqlite", "--secret", SECRET])
    assert_one_line_error(capsys, status, "cannot read core_sessions in sqlite:///")


def test_database_without_the_table_is_a_one_line_error(tmp_path, capsys, launched):
    status = main(["--url", f"sqlite:///{tmp_path}/empty.sqlite", "--secret", SECRET])
    assert_one_line_error(capsys, status, "no such table: core_sessions")


def test_inspector_never_creates_the_table(tmp_path, capsys, launched):
    ini = write_ini(tmp_path, f"dbsession.url = sqlite:///{tmp_path}/new.sqlite", f"dbsession.secret = {SECRET}")
    with open(ini, "a") as file:
        file.write("dbsession.create_table = true\n")
    assert main([ini]) == 2 and not launched


def test_bad_url_is_a_one_line_error(capsys, launched):
    status = main(["--url", "nosuchdb://x", "--secret", SECRET])
    assert_one_line_error(capsys, status, "bad database URL")


def test_database_password_is_hidden():
    store = DBSessionFactory("postgresql+psycopg://inspector:s3cret@127.0.0.1:1/app", SECRET).store
    assert SessionSource(store).database == "postgresql+psycopg://inspector:***@127.0.0.1:1/app"


@pytest.mark.parametrize("arguments", [[], ["--url", "sqlite://"], ["x.ini", "--refresh", "-1"]])
def test_incomplete_command_line_exits_with_status_2(arguments, launched, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2 and not launched


@on_sqlite
def test_crash_exits_with_status_1(engine, monkeypatch):
    monkeypatch.setattr(InspectorApp, "run", partialmethod(App.run, headless=True))

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the table could not draw the page")

    monkeypatch.setattr(SessionTable, "show_page", crash)
    assert main(["--url", url_of(engine), "--secret", SECRET]) == 1
