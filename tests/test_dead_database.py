"""A database that goes away fails requests cleanly, and sessions work again once it is back."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import webtest
from sqlalchemy.engine import Engine

from pyramid_dbsession import get_store
from pyramid_dbsession.models import create_table

from .conftest import SECRET
from .sessionapp import make_app


class TCPProxy:
    """Forward a loopback port to a database server; ``stop()`` kills it like a crash."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(engine: Engine) -> Iterator[TCPProxy]:
    if engine.dialect.name == "sqlite":
        pytest.skip("an embedded SQLite file cannot go down apart from the app")
    proxy = TCPProxy(engine.url.host or "127.0.0.1", engine.url.port or 0)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_app(proxy, engine, make_testapp, settings):
    url = engine.url.set(host="127.0.0.1", port=proxy.port)
    settings["dbsession.url"] = url.render_as_string(hide_password=False)
    return make_testapp(**{"engine.pool_timeout": "2"})


def test_dead_database_fails_the_request_with_a_logged_error(proxied_app, proxy, caplog):
    proxied_app.get("/set", {"a": "1"})
    proxy.stop()
    with caplog.at_level(logging.ERROR, logger="pyramid_dbsession"), pytest.raises(sa.exc.OperationalError):
        proxied_app.get("/show")
    assert any("session database" in record.getMessage() for record in caplog.records)


def test_sessions_work_again_once_the_database_is_back(proxied_app, proxy):
    proxied_app.get("/set", {"a": "1"})
    proxy.stop()
    with pytest.raises(sa.exc.OperationalError):
        proxied_app.get("/show")
    proxy.start()
    assert proxied_app.get("/show").json == {"a": "1"}
    assert proxied_app.get("/incr").json == 1


def test_database_dropping_connections_costs_no_request(proxied_app, proxy):
    proxied_app.get("/set", {"a": "1"})
    proxy.stop()
    proxy.start()
    assert proxied_app.get("/show").json == {"a": "1"}


def test_missing_sqlite_file_fails_cleanly_and_recovers(tmp_path, caplog):
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'sessions.sqlite'}"
    app = make_app({"dbsession.url": url, "dbsession.secret": SECRET})
    testapp = webtest.TestApp(app)
    testapp.set_cookie("session", "S" * 43)
    try:
        with caplog.at_level(logging.ERROR, logger="pyramid_dbsession"), pytest.raises(sa.exc.OperationalError):
            testapp.get("/show")
        assert any("unable to open database file" in record.getMessage() for record in caplog.records)
        folder.mkdir()
        create_table(get_store(app.registry).engine)
        testapp.reset()
        testapp.get("/set", {"a": "1"})
        assert testapp.get("/show").json == {"a": "1"}
    finally:
        get_store(app.registry).dispose()


def test_failed_write_hides_its_parameters_from_the_error_and_the_log(tmp_path, caplog):
    app = make_app({"dbsession.url": f"sqlite:///{tmp_path / 'no-table.sqlite'}", "dbsession.secret": SECRET})
    try:
        with caplog.at_level(logging.INFO, logger="pyramid_dbsession"), pytest.raises(sa.exc.DBAPIError) as failed:
            webtest.TestApp(app).get("/set", {"card": "4111-1111-1111-1111"})
    finally:
        get_store(app.registry).dispose()
    # The data goes to the database signed and base64-encoded: what must stay out is the parameter list.
    assert "parameters hidden" in str(failed.value) and "session_data" not in caplog.text
