"""Merging a request's write into a row another request changed since it was read.

:func:`merge` is pure: the data as read, the data this request ends with, the
row's current data and what this request read and wrote (:class:`Access`) go
in; the merged data comes out, or None when the result might differ from
what running the requests one after the other would give. The rules:

- The other writers' changes are the top-level keys whose value (or presence)
  differs between the data as read and the current data; values are compared
  by their serialized bytes, so only the same value counts as unchanged (a
  value the serializer cannot write counts as changed).
- No merge when this request read every key (iterating, ``len()``, ``==``...)
  and anything changed, or when a changed key is one this request read or
  wrote: what it computed may depend on the old value (write skew), or two
  writes of one key race.
- Otherwise the current data with this request's written keys set to its
  values (or removed, when it removed them) is what running this request
  after the others would have stored: the merge.
- A merge that would leave no data is not made: an emptied session deletes
  its row, which a replay decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_MISSING: Any = object()


@dataclass(frozen=True)
class Access:
    """What one request read and wrote of its session: what merging its write needs."""

    #: The serializer's bytes as read, to tell what the other writers changed.
    read_payload: bytes
    read_keys: frozenset[str]
    written_keys: frozenset[str]
    #: Whether the request read every key (iterated, compared or copied the session).
    read_all: bool = False


def _changed_keys(
    before: Mapping[str, Any], after: Mapping[str, Any], dumps: Callable[[dict[str, Any]], bytes]
) -> set[str]:
    """The top-level keys whose value or presence differs between ``before`` and ``after``."""
    shared = before.keys() & after.keys()
    return (before.keys() ^ after.keys()) | {key for key in shared if not _same(key, before, after, dumps)}


def _same(
    key: str, before: Mapping[str, Any], after: Mapping[str, Any], dumps: Callable[[dict[str, Any]], bytes]
) -> bool:
    try:
        return dumps({key: before[key]}) == dumps({key: after[key]})
    except Exception:  # a serializer may raise anything on a value it cannot write
        return False


def merge(
    read: Mapping[str, Any],
    final: Mapping[str, Any],
    current: Mapping[str, Any],
    access: Access,
    dumps: Callable[[dict[str, Any]], bytes],
) -> dict[str, Any] | None:
    """Return ``current`` with this request's writes on top, or None if they may not merge (see the module)."""
    theirs = _changed_keys(read, current, dumps)
    if theirs and (access.read_all or not theirs.isdisjoint(access.read_keys | access.written_keys)):
        return None
    merged = dict(current)
    for key in access.written_keys:
        value = final.get(key, _MISSING)
        if value is _MISSING:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged or None
