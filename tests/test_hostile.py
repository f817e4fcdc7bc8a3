"""Hostile cookies and stored data get a fresh empty session: never a 500, never another's data.

The generated cases run through hypothesis; ``--hypothesis-show-statistics``
prints how many inputs each test tried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import pickle
import string
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.engine import Engine

from pyramid_dbsession import SessionTooLarge, get_store
from pyramid_dbsession.codec import Codec
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table
from pyramid_dbsession.settings import DEFAULT_TIMEOUT

from .conftest import session_rows

VICTIM_DATA = {"owner": "victim", "secret": "victim-only-data"}

hostile = settings(
    max_examples=100,
    deadline=None,
    database=None,  # no example directory in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- strategies -------------------------------------------------------------------------

ID_ALPHABET = string.ascii_letters + string.digits + "-_"
right_shaped_ids = st.text(alphabet=ID_ALPHABET, min_size=43, max_size=43)
#: Any text, as a WSGI server hands it on: code points above 255 arrive as UTF-8 read as latin-1.
any_text = st.text(st.characters(blacklist_categories=("Cs",))).map(lambda text: text.encode("utf-8").decode("latin-1"))
any_bytes = st.binary(max_size=2000).map(lambda data: data.decode("latin-1"))
cookie_values = st.one_of(right_shaped_ids, any_text, any_bytes, st.sampled_from(['"', "", ";", "=", "\\"]))
huge_values = st.integers(min_value=4_000, max_value=200_000).map(lambda n: "session=" + "A" * n)
several_with_our_name = st.lists(cookie_values, min_size=2, max_size=6).map(
    lambda values: "; ".join(f"session={value}" for value in values)
)
cookie_headers = st.one_of(
    any_text,
    any_bytes,
    right_shaped_ids.map(lambda value: f"session={value}"),
    cookie_values.map(lambda value: f"session={value}"),
    huge_values,
    several_with_our_name,
)
#: Text a row could hold on every backend (PostgreSQL text refuses NUL).
stored_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=3000)


# -- helpers --------------------------------------------------------------------------


@pytest.fixture
def victim(testapp: webtest.TestApp) -> str:
    """The session id of another client, whose data no hostile request may see."""
    testapp.get("/set", VICTIM_DATA)
    return testapp.cookies["session"]


@pytest.fixture
def victim_text(engine: Engine, victim: str) -> str:
    """The signed text stored for the victim, read before any example overwrites it."""
    return stored_row(engine, victim).session_data


def stranger(testapp: webtest.TestApp) -> webtest.TestApp:
    """A client with an empty cookie jar, on the same app."""
    return webtest.TestApp(testapp.app)


def with_cookie(testapp: webtest.TestApp, session_id: str) -> webtest.TestApp:
    """A client that sends ``session_id`` as its session cookie."""
    client = stranger(testapp)
    client.set_cookie("session", session_id)
    return client


def store_text(engine: Engine, session_id: str, text: str) -> None:
    """Overwrite the stored data of ``session_id``'s row, as someone with write access to the table could."""
    with engine.begin() as connection:
        connection.execute(
            sessions_table.update()
            .where(sessions_table.c.session_key == session_key_for(session_id))
            .values(session_data=text)
        )


def issued_id(response: webtest.TestResponse) -> str:
    """The session id a response's Set-Cookie header gives the client."""
    (header,) = [value for name, value in response.headerlist if name == "Set-Cookie"]
    name, _, rest = header.partition("=")
    assert name == "session"
    return rest.split(";")[0]


def stored_row(engine: Engine, session_id: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sessions_table).where(sessions_table.c.session_key == session_key_for(session_id))
        ).one()


def ignored_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "ignoring stored session" in record.getMessage()
    ]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


# -- cookie headers -----------------------------------------------------------------------


@hostile
@given(header=cookie_headers)
def test_hostile_cookie_header_gets_fresh_empty_session(testapp, victim, header):
    response = stranger(testapp).get("/show", headers={"Cookie": header})
    assert response.status_int == 200 and response.json == {}


@hostile
@given(header=cookie_headers)
def test_hostile_cookie_header_never_has_its_value_adopted(testapp, engine, victim, header):
    issued = issued_id(stranger(testapp).get("/set", {"mine": "1"}, headers={"Cookie": header}))
    assert issued not in header and issued != victim
    assert with_cookie(testapp, victim).get("/show").json == VICTIM_DATA


@hostile
@given(session_id=right_shaped_ids)
def test_right_shaped_unknown_id_gets_fresh_empty_session(testapp, victim, session_id):
    assert with_cookie(testapp, session_id).get("/show").json == {}


def test_expired_session_id_gets_fresh_empty_session(testapp, victim, clock):
    clock.advance(DEFAULT_TIMEOUT + 1)
    assert with_cookie(testapp, victim).get("/show").json == {}


def test_deleted_session_id_gets_fresh_empty_session(testapp, victim):
    get_store(testapp.app.registry).delete(victim)
    assert with_cookie(testapp, victim).get("/show").json == {}


def test_expired_session_id_is_not_revived_by_a_write(testapp, engine, victim, clock):
    clock.advance(DEFAULT_TIMEOUT + 1)
    issued = issued_id(with_cookie(testapp, victim).get("/set", {"mine": "1"}))
    assert issued != victim
    assert with_cookie(testapp, issued).get("/show").json == {"mine": "1"}


def test_stored_digest_as_cookie_in_every_position_gets_fresh_session(testapp, engine, victim):
    digest = session_key_for(victim)
    header = f"session={digest}; other=1; session={digest[:43]}; session={digest[-43:]}"
    assert stranger(testapp).get("/show", headers={"Cookie": header}).json == {}


def test_stale_cookie_sent_first_does_not_hide_the_live_one(testapp, victim):
    # Browsers send a cookie left at an older path, or set by a sibling subdomain, first.
    header = f"session={'S' * 43}; session={victim}"
    assert stranger(testapp).get("/show", headers={"Cookie": header}).json == VICTIM_DATA


def test_live_id_behind_three_unknown_ones_is_not_looked_up(testapp, victim):
    header = "; ".join([f"session={letter * 43}" for letter in "STU"] + [f"session={victim}"])
    assert stranger(testapp).get("/show", headers={"Cookie": header}).json == {}


def test_id_sent_only_in_the_query_string_is_ignored(testapp, victim):
    assert stranger(testapp).get("/show", {"session": victim}).json == {}


# -- stored data --------------------------------------------------------------------------


@hostile
@given(text=stored_text)
def test_random_stored_text_gives_empty_session_and_a_warning(testapp, engine, victim, caplog, text):
    caplog.clear()
    store_text(engine, victim, text)
    assert with_cookie(testapp, victim).get("/show").json == {}
    assert ignored_warnings(caplog)


@hostile
@given(payload=st.binary(max_size=2000), mac=st.binary(max_size=64))
def test_random_bytes_in_the_stored_shape_give_empty_session_and_a_warning(
    testapp, engine, victim, caplog, payload, mac
):
    caplog.clear()
    store_text(engine, victim, f"{b64(payload)}.{b64(mac)}")
    assert with_cookie(testapp, victim).get("/show").json == {}
    assert ignored_warnings(caplog)


@hostile
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_truncated_stored_text_gives_empty_session_and_a_warning(testapp, engine, victim, victim_text, caplog, cut):
    caplog.clear()
    store_text(engine, victim, victim_text[: cut % len(victim_text)])
    assert with_cookie(testapp, victim).get("/show").json == {}
    assert ignored_warnings(caplog)


@hostile
@given(garbage=st.binary(max_size=2000))
def test_valid_signature_over_garbage_gives_empty_session_and_a_warning(testapp, engine, victim, caplog, garbage):
    caplog.clear()
    codec = get_store(testapp.app.registry).codec
    # 0xff is no pickle opcode, so the payload can never load as a dict.
    store_text(engine, victim, codec.sign(session_key_for(victim), b"\xff" + garbage))
    assert with_cookie(testapp, victim).get("/show").json == {}
    assert ignored_warnings(caplog)


def test_signed_pickle_of_a_non_dict_gives_empty_session_and_a_warning(testapp, engine, victim, caplog):
    codec = get_store(testapp.app.registry).codec
    store_text(engine, victim, codec.sign(session_key_for(victim), pickle.dumps(["not", "a", "dict"])))
    assert with_cookie(testapp, victim).get("/show").json == {}
    assert ignored_warnings(caplog) == [
        f"ignoring stored session {session_key_for(victim)[:12]}: data is a list, not a dict"
    ]


OLD_SECRET = "the-old-secret-that-signed-these-rows"
NEW_SECRET = "the-new-secret-that-signs-from-now-on"


def test_data_signed_with_a_retired_secret_gives_empty_session_and_a_warning(make_testapp, caplog):
    before = make_testapp(secret=OLD_SECRET)
    before.get("/set", VICTIM_DATA)
    after = make_testapp(secret=NEW_SECRET)
    assert with_cookie(after, before.cookies["session"]).get("/show").json == {}
    assert ignored_warnings(caplog)


def test_data_signed_with_a_secret_still_listed_is_read(make_testapp):
    before = make_testapp(secret=OLD_SECRET)
    before.get("/set", VICTIM_DATA)
    after = make_testapp(secret=f"{NEW_SECRET}\n{OLD_SECRET}")
    assert with_cookie(after, before.cookies["session"]).get("/show").json == VICTIM_DATA


#: Markers appended by :func:`run_exploit`, which only an unpickled payload calls.
EXPLOITS: list[str] = []


def run_exploit(marker: str) -> dict[str, Any]:
    """What a planted pickle would run: here it only leaves a marker."""
    EXPLOITS.append(marker)
    return {"role": "admin"}


class Exploit:
    """Pickles into a call of :func:`run_exploit`."""

    def __reduce__(self) -> tuple[Callable[[str], dict[str, Any]], tuple[str]]:
        return run_exploit, ("code ran",)


EXPLOIT_PAYLOAD = pickle.dumps(Exploit())


def unsigned(session_key: str, codec: Codec) -> str:
    return b64(EXPLOIT_PAYLOAD)


def signed_with_a_wrong_key(session_key: str, codec: Codec) -> str:
    mac = hmac.digest(b"attacker-key", session_key.encode() + b"\0" + EXPLOIT_PAYLOAD, "sha256")
    return f"{b64(EXPLOIT_PAYLOAD)}.{b64(mac)}"


def signed_for_another_row(session_key: str, codec: Codec) -> str:
    return codec.sign(hashlib.sha256(b"another row").hexdigest(), EXPLOIT_PAYLOAD)


def bare_mac_of_the_payload(session_key: str, codec: Codec) -> str:
    return f"{b64(EXPLOIT_PAYLOAD)}.{b64(hashlib.sha256(EXPLOIT_PAYLOAD).digest())}"


@pytest.mark.parametrize("forge", [unsigned, signed_with_a_wrong_key, signed_for_another_row, bare_mac_of_the_payload])
def test_planted_pickle_never_runs(testapp, engine, victim, caplog, forge):
    EXPLOITS.clear()
    store_text(engine, victim, forge(session_key_for(victim), get_store(testapp.app.registry).codec))
    response = with_cookie(testapp, victim).get("/show")
    assert EXPLOITS == [] and response.json == {}
    assert ignored_warnings(caplog)


def test_planted_pickle_would_run_if_validly_signed(testapp, engine, victim):
    # The control for the test above: the payload is live, only the signature stops it.
    EXPLOITS.clear()
    store_text(engine, victim, get_store(testapp.app.registry).codec.sign(session_key_for(victim), EXPLOIT_PAYLOAD))
    with_cookie(testapp, victim).get("/show")
    assert EXPLOITS == ["code ran"]


# -- oversized sessions ---------------------------------------------------------------------


def test_oversized_new_session_fails_naming_the_limit(make_testapp, engine):
    testapp = make_testapp(max_size="400")
    with pytest.raises(SessionTooLarge, match=r"over dbsession\.max_size of 400 bytes"):
        testapp.get("/set", {"blob": "x" * 1000})
    assert session_rows(engine) == []


def test_oversized_session_keeps_the_stored_row(make_testapp, engine):
    testapp = make_testapp(max_size="400")
    testapp.get("/set", {"small": "1"})
    (before,) = session_rows(engine)
    with pytest.raises(SessionTooLarge, match=r"over dbsession\.max_size of 400 bytes"):
        testapp.get("/set", {"blob": "x" * 1000})
    assert session_rows(engine) == [before]
    assert testapp.get("/show").json == {"small": "1"}


def test_default_limit_refuses_a_session_over_one_mebibyte(testapp, engine):
    with pytest.raises(SessionTooLarge, match=r"dbsession\.max_size of 1048576 bytes"):
        testapp.get("/set", {"blob": "x" * 1_100_000})
    assert session_rows(engine) == []


# -- session fixation ------------------------------------------------------------------------


def add_login(config: Configurator) -> None:
    def login(request: Request) -> Response:
        request.session.regenerate_id()
        request.session["user"] = request.params["user"]
        return Response("logged in")

    config.add_route("login", "/login")
    config.add_view(login, route_name="login")


def test_planted_unknown_id_never_reaches_the_victims_data(testapp, engine):
    planted = "P" * 43
    victim_browser = with_cookie(testapp, planted)
    victim_browser.get("/set", {"user": "alice"})
    assert with_cookie(testapp, planted).get("/show").json == {}
    assert session_key_for(planted) not in {row.session_key for row in session_rows(engine)}


def test_planted_live_id_is_worthless_after_login_regenerates_it(make_testapp):
    testapp = make_testapp(add_login)
    attacker = stranger(testapp)
    attacker.get("/set", {"attacker": "1"})
    planted = attacker.cookies["session"]
    with_cookie(testapp, planted).get("/login", {"user": "alice"})
    assert attacker.get("/show").json == {}


def test_old_id_replayed_after_regenerate_cannot_write_into_the_new_session(testapp):
    testapp.get("/set", {"user": "alice"})
    old = testapp.cookies["session"]
    testapp.get("/regenerate")
    issued = issued_id(with_cookie(testapp, old).get("/set", {"user": "mallory"}))
    assert issued not in {old, testapp.cookies["session"]}
    assert testapp.get("/show").json == {"user": "alice"}


def test_old_cookie_replayed_after_invalidate_sees_neither_old_nor_new_data(testapp):
    testapp.get("/set", {"user": "alice"})
    old = testapp.cookies["session"]
    testapp.get("/invalidate", {"anonymous": "yes"})
    assert with_cookie(testapp, old).get("/show").json == {}


def test_old_cookie_replayed_after_invalidate_writes_into_a_fresh_session(testapp, engine):
    testapp.get("/set", {"user": "alice"})
    old = testapp.cookies["session"]
    testapp.get("/invalidate")
    issued = issued_id(with_cookie(testapp, old).get("/set", {"user": "mallory"}))
    assert issued != old
    assert [row.session_key for row in session_rows(engine)] == [session_key_for(issued)]
