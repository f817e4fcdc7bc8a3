"""dbsession.fallback_serializer: moving a site from pickle to JSON logs nobody out."""

from __future__ import annotations

import pytest

from pyramid_dbsession import BadPayload, get_store
from pyramid_dbsession.codec import Codec, JSONSerializer, PickleSerializer
from pyramid_dbsession.settings import parse_settings

from .conftest import SECRET, session_rows


@pytest.fixture
def pickled_client(make_testapp):
    """A client whose session was stored by the app while it still used pickle."""
    before = make_testapp(serializer="pickle")
    before.get("/set", {"user_id": "42"})
    return before


def test_fallback_reads_sessions_stored_in_the_old_format(make_testapp, pickled_client):
    after = make_testapp(serializer="json", fallback_serializer="pickle")
    after.cookiejar = pickled_client.cookiejar
    assert after.get("/show").json == {"user_id": "42"}


def test_next_write_stores_the_session_in_the_new_format(make_testapp, pickled_client, engine):
    after = make_testapp(serializer="json", fallback_serializer="pickle")
    after.cookiejar = pickled_client.cookiejar
    after.get("/incr")
    [row] = session_rows(engine)
    json_only = Codec((SECRET,), JSONSerializer())
    assert json_only.decode(row.session_key, row.session_data) == {"user_id": "42", "counter": 1}


def test_without_a_fallback_old_sessions_start_empty(make_testapp, pickled_client):
    after = make_testapp(serializer="json")
    after.cookiejar = pickled_client.cookiejar
    assert after.get("/show").json == {}


def test_fallback_still_refuses_what_neither_serializer_reads(make_testapp):
    store = get_store(make_testapp(serializer="json", fallback_serializer="pickle").app.registry)
    with pytest.raises(BadPayload, match="fallback"):
        store.codec.loads(b"neither json nor pickle")


def test_fallback_serializer_none_is_no_fallback():
    settings = parse_settings(
        {"dbsession.url": "sqlite://", "dbsession.secret": SECRET, "dbsession.fallback_serializer": "none"}
    )
    assert settings.fallback_serializer is None


JSON_WITH_FALLBACK = Codec((SECRET,), JSONSerializer(), PickleSerializer())
PICKLE_ONLY = Codec((SECRET,), PickleSerializer())
KEY = "a" * 64
FORMAT_CASES = {
    "a row of the fallback's format": (PICKLE_ONLY.encode(KEY, {"user_id": 42}), True),
    "a row of the current format": (JSON_WITH_FALLBACK.encode(KEY, {"user_id": 42}), False),
    "a row signed with another secret": (Codec(("x" * 32,), PickleSerializer()).encode(KEY, {}), False),
    "a row that is not signed text": ("garbage", False),
}


@pytest.mark.parametrize(("text", "expected"), FORMAT_CASES.values(), ids=FORMAT_CASES.keys())
def test_codec_tells_the_old_format(text, expected):
    assert JSON_WITH_FALLBACK.is_old_format(KEY, text) is expected
