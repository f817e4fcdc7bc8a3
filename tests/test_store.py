"""Sessions outside views: the seed's get_decoded(), the store in pshell, and the codec."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import BadSessionData, SessionRecord, get_store
from pyramid_dbsession.codec import Codec, PickleSerializer

from .conftest import SECRET, session_rows

OLD_SECRET = "the-old-secret-that-signed-these-rows"
NEW_SECRET = "the-new-secret-that-signs-from-now-on"


@pytest.fixture
def store(testapp):
    return get_store(testapp.app.registry)


def test_get_returns_the_record_with_its_expiry(testapp, store, clock):
    testapp.get("/set", {"user_id": "42"})
    record = store.get(testapp.cookies["session"])
    assert record.expire_date > clock.now and record.get_decoded() == {"user_id": "42"}


def test_get_of_an_unknown_cookie_is_none(store):
    assert store.get("U" * 43) is None and store.get("garbage") is None


def test_record_loaded_through_the_orm_decodes(testapp, store, engine):
    testapp.get("/set", {"user_id": "42"})
    (row,) = session_rows(engine)
    with ORMSession(engine) as dbsession:
        assert dbsession.get(SessionRecord, row.session_key).get_decoded() == {"user_id": "42"}


def test_delete_ends_the_session_for_its_user(testapp, store):
    testapp.get("/set", {"user_id": "42"})
    assert store.delete(testapp.cookies["session"]) is True
    assert testapp.get("/show").json == {}


def test_clear_expired_deletes_only_expired_rows(make_testapp, engine, clock):
    testapp = make_testapp(timeout=600)
    testapp.get("/set", {"old": "1"})
    testapp.reset()
    clock.advance(500)
    testapp.get("/set", {"new": "1"})
    clock.advance(200)
    assert get_store(testapp.app.registry).clear_expired() == 1
    assert len(session_rows(engine)) == 1


def test_decode_verifies_the_signature(testapp, store, engine):
    testapp.get("/set", {"user_id": "42"})
    (row,) = session_rows(engine)
    assert store.decode(row) == {"user_id": "42"}


def test_rotated_secret_still_reads_old_sessions():
    old = Codec((OLD_SECRET,), PickleSerializer())
    text = old.encode("k" * 64, {"a": 1})
    assert Codec((NEW_SECRET, OLD_SECRET), PickleSerializer()).decode("k" * 64, text) == {"a": 1}


def test_rotated_secret_signs_with_the_first():
    new = Codec((NEW_SECRET, OLD_SECRET), PickleSerializer())
    text = new.encode("k" * 64, {"a": 1})
    assert Codec((NEW_SECRET,), PickleSerializer()).decode("k" * 64, text) == {"a": 1}


def test_data_copied_to_another_key_fails_its_signature():
    codec = Codec((SECRET,), PickleSerializer())
    text = codec.encode("a" * 64, {"a": 1})
    with pytest.raises(BadSessionData, match="signature"):
        codec.decode("b" * 64, text)


def test_core_modules_never_import_pyramid():
    code = (
        "import sys, pyramid_dbsession, pyramid_dbsession.wsgi, pyramid_dbsession.db.store;"
        "print(sorted(m for m in sys.modules if m == 'pyramid' or m.startswith('pyramid.')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
