"""Merging a write into a row changed meanwhile, as tables: what counts as a read and a write, and the merge rules.

No database: sessions are loaded from a dict, and :func:`merge` gets its inputs by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pyramid_dbsession.merge import Access, merge
from pyramid_dbsession.plan import Policy
from pyramid_dbsession.session import Session
from pyramid_dbsession.settings import FOLLOW_TIMEOUT

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = Policy(
    timeout=timedelta(days=14), reissue=timedelta(days=1), absolute=None, cookie_max_age=FOLLOW_TIMEOUT,
    detect_changes=True, merge_conflicts=True,
)  # fmt: skip
STORED = {"a": 1, "cart": ["book"], "_f_": ["hello"], "_csrft_": "token"}


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


# -- what counts as a read and a write of a key ----------------------------------------------


@dataclass(frozen=True)
class KeysTouched:
    """What one use of the session records: the keys read, the keys written, whether all were read."""

    read: set[str]
    written: set[str]
    read_all: bool = False
    may_merge: bool = True


EVERY_KEY = set(STORED)
USES: dict[str, tuple[Callable[[Session], Any], KeysTouched]] = {
    "session[k] of an immutable value reads k": (lambda s: s["a"], KeysTouched({"a"}, set())),
    "session[k] of a mutable value reads and writes k": (lambda s: s["cart"], KeysTouched({"cart"}, {"cart"})),
    "get(k) of a missing key reads k": (lambda s: s.get("missing"), KeysTouched({"missing"}, set())),
    "k in session reads k": (lambda s: "a" in s, KeysTouched({"a"}, set())),
    "pop(k) reads and writes k": (lambda s: s.pop("a"), KeysTouched({"a"}, {"a"})),
    "pop(k, default) of a missing key only reads k": (
        lambda s: s.pop("missing", None),
        KeysTouched({"missing"}, set()),
    ),
    "setdefault(k) of a missing key reads and writes k": (lambda s: s.setdefault("n", 1), KeysTouched({"n"}, {"n"})),
    "del session[k] reads and writes k": (lambda s: s.__delitem__("a"), KeysTouched({"a"}, {"a"})),
    "assigning writes k without reading it": (lambda s: s.__setitem__("b", 2), KeysTouched(set(), {"b"})),
    "update() writes its keys": (lambda s: s.update({"b": 2}, c=3), KeysTouched(set(), {"b", "c"})),
    "iterating reads every key": (lambda s: list(s), KeysTouched(set(), set(), read_all=True)),
    "len() reads every key": (lambda s: len(s), KeysTouched(set(), set(), read_all=True)),
    "keys() reads every key": (lambda s: s.keys(), KeysTouched(set(), set(), read_all=True)),
    "values() reads every key and writes the mutable ones": (
        lambda s: s.values(),
        KeysTouched(set(), {"cart", "_f_"}, read_all=True),
    ),
    "== reads every key": (lambda s: s == {}, KeysTouched(set(), set(), read_all=True)),
    "copy() reads every key": (lambda s: s.copy(), KeysTouched(set(), {"cart", "_f_"}, read_all=True)),
    "changed() reads and writes every key": (lambda s: s.changed(), KeysTouched(set(), EVERY_KEY, read_all=True)),
    "flash() reads and writes its queue": (lambda s: s.flash("bye"), KeysTouched({"_f_"}, {"_f_"})),
    "pop_flash() reads and writes its queue": (lambda s: s.pop_flash(), KeysTouched({"_f_"}, {"_f_"})),
    "get_csrf_token() reads the token": (lambda s: s.get_csrf_token(), KeysTouched({"_csrft_"}, set())),
    "new_csrf_token() writes the token": (lambda s: s.new_csrf_token(), KeysTouched(set(), {"_csrft_"})),
    "clear() never merges": (lambda s: s.clear(), KeysTouched(set(), EVERY_KEY, may_merge=False)),
    "set_expiry() never merges": (lambda s: s.set_expiry(60), KeysTouched(set(), {"_expiry"}, may_merge=False)),
    "invalidate() never merges": (lambda s: s.invalidate(), KeysTouched(set(), EVERY_KEY, may_merge=False)),
    "regenerate_id() never merges": (lambda s: s.regenerate_id(), KeysTouched(set(), set(), True, may_merge=False)),
}


@pytest.mark.parametrize("use, recorded", USES.values(), ids=USES.keys())
def test_session_records_reads_and_writes(use: Callable[[Session], Any], recorded: KeysTouched) -> None:
    session = Session(lambda: (None, json.loads(json.dumps(STORED))), POLICY, lambda: NOW)
    use(session)
    done = session.recorded()
    assert KeysTouched(set(done.read_keys), set(done.written_keys), done.read_all, done.may_merge) == recorded


# -- the merge rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    read: dict[str, Any]
    final: dict[str, Any]
    current: dict[str, Any]
    read_keys: frozenset[str]
    written_keys: frozenset[str]
    merged: dict[str, Any] | None
    read_all: bool = False


def keys(*names: str) -> frozenset[str]:
    return frozenset(names)


CASES = {
    "writes of different keys merge": Case(
        {"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 2}, keys("a"), keys("a"), {"a": 2, "b": 2}
    ),
    "a key added elsewhere is kept": Case({"a": 1}, {"a": 2}, {"a": 1, "c": 1}, keys("a"), keys("a"), {"a": 2, "c": 1}),
    "a key removed elsewhere stays removed": Case(
        {"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1}, keys("a"), keys("a"), {"a": 2}
    ),
    "a key this request removed is removed from the merge": Case(
        {"a": 1, "b": 1}, {"b": 1}, {"a": 1, "b": 1, "c": 1}, keys("a"), keys("a"), {"b": 1, "c": 1}
    ),
    "a row whose version alone moved takes the writes": Case({"a": 1}, {"a": 2}, {"a": 1}, keys(), keys("a"), {"a": 2}),
    "a value written again unchanged elsewhere is no change": Case(
        {"a": 1, "b": [1]}, {"a": 2, "b": [1]}, {"a": 1, "b": [1]}, keys("a", "b"), keys("a"), {"a": 2, "b": [1]}
    ),
    "a key read here and changed elsewhere is write skew: no merge": Case(
        {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2, "b": 1}, keys("a", "b"), keys("b"), None
    ),
    "a key written here and elsewhere: no merge": Case(
        {"a": 1}, {"a": 2}, {"a": 3}, keys(), keys("a"), None
    ),
    "a key read here and removed elsewhere: no merge": Case(
        {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"b": 1}, keys("a"), keys("b"), None
    ),
    "a missing key looked up here and added elsewhere: no merge": Case(
        {"b": 1}, {"b": 2}, {"a": 1, "b": 1}, keys("a", "b"), keys("b"), None
    ),
    "every key read here and any change elsewhere: no merge": Case(
        {"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 2}, keys(), keys("a"), None, read_all=True
    ),
    "every key read here and nothing changed elsewhere: merge": Case(
        {"a": 1}, {"a": 2}, {"a": 1}, keys(), keys("a"), {"a": 2}, read_all=True
    ),
    "an equal value of another type is a change": Case(
        {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": True, "b": 1}, keys("a"), keys("b"), None
    ),
    "a value the serializer cannot write is a change": Case(
        {"a": {1}, "b": 1}, {"a": {1}, "b": 2}, {"a": {1}, "b": 1}, keys("a"), keys("b"), None
    ),
    "a merge that would leave no data is not made": Case(
        {"a": 1, "b": 1}, {"b": 1}, {"a": 1}, keys("a"), keys("a"), None
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_merge(case: Case) -> None:
    access = Access(dumps({}), case.read_keys, case.written_keys, case.read_all)
    assert merge(case.read, case.final, case.current, access, dumps) == case.merged
