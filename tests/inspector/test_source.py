"""SessionSource on every backend, over sessions written by the real app."""

from __future__ import annotations

import pickle
import sys
import types

from inspector.rows import Filter, Query, Sort, Status
from inspector.source import SessionSource
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table

from ..conftest import session_rows


def keys_in(page) -> list[str]:
    return [row.session_key for row in page.rows]


def all_keys_by_walking(source: SessionSource, query: Query) -> list[str]:
    page = source.page(query)
    walked = keys_in(page)
    while page.has_next:
        page = source.page(query, page.rows[-1].position)
        walked += keys_in(page)
    return walked


def test_first_page_holds_the_sessions_in_expiry_order(source, visit, clock):
    late = visit(expire_in=600, user="late")
    early = visit(expire_in=60, user="early")
    page = source.page(Query())
    assert keys_in(page) == [session_key_for(early), session_key_for(late)]


def test_walking_pages_visits_every_session_once(store, visit):
    cookies = [visit(n=str(n)) for n in range(7)]
    walked = all_keys_by_walking(SessionSource(store, page_size=3), Query())
    assert sorted(walked) == sorted(map(session_key_for, cookies))


def test_page_reports_whether_more_rows_follow(store, visit):
    for n in range(4):
        visit(n=str(n))
    page = SessionSource(store, page_size=3).page(Query())
    assert (page.has_next, page.has_previous) == (True, False)


def test_page_before_returns_the_rows_preceding_a_position(store, visit, clock):
    for n in range(7):
        visit(expire_in=60 + n, n=str(n))
    source = SessionSource(store, page_size=3)
    second = source.page(Query(), source.page(Query()).rows[-1].position)
    third = source.page(Query(), second.rows[-1].position)
    assert keys_in(source.page_before(Query(), third.rows[0].position)) == keys_in(second)


def test_page_before_the_second_page_is_the_first_page(store, visit):
    for n in range(4):
        visit(n=str(n))
    source = SessionSource(store, page_size=3)
    first = source.page(Query())
    second = source.page(Query(), first.rows[-1].position)
    assert source.page_before(Query(), second.rows[0].position) == first


def test_inclusive_page_starts_at_its_position(store, visit):
    for n in range(5):
        visit(n=str(n))
    source = SessionSource(store, page_size=2)
    second = source.page(Query(), source.page(Query()).rows[-1].position)
    assert source.page(Query(), second.start, inclusive=True) == second


def test_size_sort_puts_the_largest_session_first(source, visit):
    small = visit(a="x")
    large = visit(a="x" * 500)
    assert keys_in(source.page(Query(sort=Sort.SIZE))) == [session_key_for(large), session_key_for(small)]


def test_created_sort_puts_the_newest_session_first(source, visit, clock):
    old = visit(a="old")
    clock.advance(10)
    new = visit(a="new")
    assert keys_in(source.page(Query(sort=Sort.CREATED))) == [session_key_for(new), session_key_for(old)]


def test_walking_pages_by_size_with_ties_visits_every_session(store, visit):
    cookies = [visit(a="same") for _ in range(5)]
    walked = all_keys_by_walking(SessionSource(store, page_size=2), Query(sort=Sort.SIZE))
    assert sorted(walked) == sorted(map(session_key_for, cookies))


def test_live_filter_leaves_out_expired_sessions(source, visit, clock):
    visit(expire_in=60, who="gone")
    live = visit(who="here")
    clock.advance(120)
    assert keys_in(source.page(Query(filter=Filter.LIVE))) == [session_key_for(live)]


def test_expired_filter_keeps_only_expired_sessions(source, visit, clock):
    gone = visit(expire_in=60, who="gone")
    visit(who="here")
    clock.advance(120)
    assert keys_in(source.page(Query(filter=Filter.EXPIRED))) == [session_key_for(gone)]


def test_key_prefix_selects_keys_starting_with_it(source, visit):
    cookies = [visit(n=str(n)) for n in range(6)]
    key = session_key_for(cookies[0])
    found = keys_in(source.page(Query(prefix=key[:3].upper())))
    assert key in found and all(k.startswith(key[:3]) for k in found)


def test_key_prefix_of_all_f_has_no_upper_bound(source, store, visit):
    key = "f" * 64
    with store.engine.begin() as connection:
        store.insert(connection, key, store.codec.encode(key, {}), store.now(), store.now())
    assert keys_in(source.page(Query(prefix="ff"))) == [key]


def test_cookie_value_as_prefix_finds_its_session(source, visit):
    cookie = visit(user="alice")
    visit(user="bob")
    assert keys_in(source.page(Query(prefix=cookie))) == [session_key_for(cookie)]


def test_prefix_that_is_not_hex_matches_nothing(source, visit):
    visit(user="alice")
    assert source.page(Query(prefix="zz")).rows == ()


def log_in(visit, user: str, **options: int) -> str:
    """Start a session of ``user`` under the default principal key, ``auth.userid``; return its cookie."""
    return visit(**{"auth.userid": user}, **options)


def test_principal_selects_that_users_sessions_only(source, visit):
    mine = {log_in(visit, "42"), log_in(visit, "42")}
    log_in(visit, "421")
    log_in(visit, "4")
    visit(cart="3")
    assert sorted(keys_in(source.page(Query(principal="42")))) == sorted(map(session_key_for, mine))


def test_walking_a_users_pages_visits_each_of_their_sessions_once(store, visit):
    mine = [log_in(visit, "42") for _ in range(5)]
    for _ in range(3):
        log_in(visit, "7")
    walked = all_keys_by_walking(SessionSource(store, page_size=2), Query(principal="42"))
    assert sorted(walked) == sorted(map(session_key_for, mine))


def test_principal_and_live_filter_leave_out_the_users_expired_sessions(source, visit, clock):
    log_in(visit, "42", expire_in=60)
    live = log_in(visit, "42")
    clock.advance(120)
    assert keys_in(source.page(Query(filter=Filter.LIVE, principal="42"))) == [session_key_for(live)]


def test_row_carries_its_principal(source, visit):
    log_in(visit, "42", expire_in=60)
    visit(expire_in=120, cart="3")
    assert [row.principal for row in source.page(Query()).rows] == ["42", None]


def test_count_of_counts_a_users_live_and_expired_sessions(source, visit, clock):
    log_in(visit, "42", expire_in=60)
    log_in(visit, "42")
    log_in(visit, "7")
    clock.advance(120)
    assert source.count_of("42") == 2


def test_end_sessions_of_deletes_every_session_of_the_user_only(source, visit, engine):
    for _ in range(2):
        log_in(visit, "42")
    others = {log_in(visit, "7"), visit(cart="3")}
    ended = source.end_sessions_of("42")
    assert (ended, {row.session_key for row in session_rows(engine)}) == (2, set(map(session_key_for, others)))


def test_totals_count_all_live_expired_and_matching(source, visit, clock):
    visit(expire_in=60, who="gone")
    visit(who="here")
    visit(who="there")
    clock.advance(120)
    totals = source.totals(Query(filter=Filter.LIVE))
    assert (totals.all, totals.live, totals.expired, totals.matching) == (3, 2, 1, 2)


def test_totals_count_sessions_created_since_a_moment(source, visit, clock):
    visit(who="before")
    since = clock()
    clock.advance(5)
    visit(who="after")
    assert source.totals(Query(), since).created_since == 1


def test_row_preview_lists_top_level_keys(source, visit):
    visit(user="alice", cart="3")
    row = source.page(Query()).rows[0]
    assert (row.key_count, row.preview) == (2, "cart, user")


def test_detail_decodes_a_valid_session(source, visit):
    cookie = visit(user="alice")
    detail = source.detail(session_key_for(cookie))
    assert (detail.decoded.status, detail.decoded.data) == (Status.VALID, {"user": "alice"})


def test_detail_of_a_deleted_session_is_none(source):
    assert source.detail("0" * 64) is None


def test_detail_reports_tampered_data_with_the_reason(source, store, visit):
    key = session_key_for(visit(user="alice"))
    forged = store.codec.encode("1" * 64, {"user": "mallory"})  # signed for another row
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=forged))
    decoded = source.detail(key).decoded
    assert (decoded.status, decoded.reason) == (Status.TAMPERED, "signature does not match any configured secret")


def test_detail_reports_undecodable_data_with_the_reason(source, store, visit):
    key = session_key_for(visit(user="alice"))
    signed_list = store.codec.sign(key, pickle.dumps(["not", "a", "dict"]))
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=signed_list))
    decoded = source.detail(key).decoded
    assert (decoded.status, decoded.reason) == (Status.UNDECODABLE, "data is a list, not a dict")


def test_search_finds_sessions_whose_data_contains_the_text(source, visit):
    alice = visit(user="Alice Liddell")
    visit(user="bob")
    *_, last = source.search(Query(), "alice")
    assert (last.scanned, last.matches) == (2, (session_key_for(alice),))


def test_search_respects_the_filter(source, visit, clock):
    visit(expire_in=60, user="alice")
    clock.advance(120)
    *_, last = source.search(Query(filter=Filter.LIVE), "alice")
    assert last.matches == ()


def test_delete_removes_exactly_the_given_sessions(source, visit, engine):
    keep = visit(user="keep")
    drop = [visit(user="drop") for _ in range(2)]
    deleted = source.delete([session_key_for(cookie) for cookie in drop])
    assert (deleted, [row.session_key for row in session_rows(engine)]) == (2, [session_key_for(keep)])


def test_purge_deletes_expired_sessions_batch_by_batch(source, visit, clock, engine):
    for n in range(5):
        visit(expire_in=60 + n, n=str(n))
    live = visit(user="live")
    clock.advance(120)
    batches = list(source.purge_expired(batch_size=2))
    assert (batches, [row.session_key for row in session_rows(engine)]) == ([2, 2, 1], [session_key_for(live)])


def test_stopping_a_purge_leaves_the_remaining_expired_rows(source, visit, clock, engine):
    for n in range(5):
        visit(expire_in=60 + n, n=str(n))
    clock.advance(120)
    purge = source.purge_expired(batch_size=2)
    next(purge)
    purge.close()
    assert len(session_rows(engine)) == 3


def test_pickle_of_a_class_the_inspector_cannot_import_is_undecodable(source, store, visit, monkeypatch):
    key = session_key_for(visit(user="alice"))
    module = types.ModuleType("app_only_models")
    module.Cart = type("Cart", (), {"__module__": "app_only_models"})
    monkeypatch.setitem(sys.modules, "app_only_models", module)
    text = store.codec.encode(key, {"cart": module.Cart()})
    monkeypatch.delitem(sys.modules, "app_only_models")
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=text))
    decoded = source.detail(key).decoded
    assert (decoded.status, decoded.reason) == (Status.UNDECODABLE, "data cannot be deserialized: ModuleNotFoundError")
