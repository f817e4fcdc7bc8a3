"""Every end-of-request decision, as a value: what to write, and which cookie follows its commit.

:func:`plan_write` is pure: the row as loaded, what the request did to its
session, the clock and the settings go in; a frozen :class:`WritePlan` comes
out. The rules, in the order they apply:

- An untouched session plans nothing.
- ``invalidate()`` and ``regenerate_id()`` delete the row that was read. A
  regenerated session carries that row's data to a new id, so its delete must
  find the row at the version read (else the request is a conflict): a row
  deleted meanwhile is never brought back.
- An emptied session deletes its row and its cookie; nothing is stored for an
  empty session, so a cookie that named no live session is deleted too.
- A session with data and no row to live in is inserted under a new id.
- A loaded session is rewritten when its serialized data differs from what
  was read (the data is compared only when the request changed it, or handed
  out a mutable value with ``detect_changes`` on), guarded by its version.
- The expiry is the idle timeout (or the session's own, ``set_expiry()``)
  from now, capped by the absolute timeout. A session first stored by a
  browser that never sent a session cookie is *unconfirmed*: its row lives at
  most the unconfirmed timeout (bots that never return leave short-lived
  rows), and the first request that presents its cookie confirms it, moving
  the expiry to the full timeout in one write. A stored row keeps its expiry
  until the reissue time has passed, the session's own expiry changed, or the
  new expiry is earlier; an unchanged row whose reissue time has passed is
  touched: only its expiry moves.
- The row records its principal: ``str()`` of the ``principal_key`` value.
  A row stored with a principal, or rewritten with a principal it did not
  have, counts against ``max_sessions_per_principal``; ``end_other_sessions()``
  ends the principal's other rows. (Rotation when the principal changes is
  the session's doing: it regenerates the id there and then.)
- The cookie is sent again only when the row's id or expiry changes, and
  only if the transaction that runs the plan commits.
- An update carries what merging it into a row changed meanwhile needs
  (:mod:`~pyramid_dbsession.merge`) when ``merge_conflicts`` is on and the
  request :attr:`~Recorded.may_merge`; every write reads the session's own
  expiry, since the new expiry depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from .merge import Access
from .settings import FOLLOW_TIMEOUT, CookieAge, Settings

#: The session key holding a session's own idle lifetime, set by ``set_expiry()``.
EXPIRY_KEY = "_expiry"


@dataclass(frozen=True)
class LoadedRow:
    """The live row a request read, with what a write to it depends on."""

    session_id: str
    session_key: str
    version: int
    created: datetime
    expire_date: datetime
    #: The serializer's bytes as stored, to tell whether the data changed.
    payload: bytes
    #: The session's own expiry (``_expiry``) as stored.
    own_expiry: int | None
    #: False for a row no request has presented the cookie of since it was stored.
    confirmed: bool = True


#: What loading a session returns: the live row read for the request (or None) and its data.
Loaded = tuple[LoadedRow | None, dict[str, Any]]


@dataclass(frozen=True)
class Policy:
    """The settings that plans depend on."""

    timeout: timedelta
    reissue: timedelta
    absolute: timedelta | None
    cookie_max_age: int | CookieAge | None
    detect_changes: bool
    unconfirmed: timedelta | None = None
    #: The session key naming the session's user, or None.
    principal_key: str | None = None
    rotate_on_principal_change: bool = True
    #: Whether a lost version check may be merged (``dbsession.merge_conflicts``).
    merge_conflicts: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """Take the plan's settings from validated :class:`Settings`."""
        absolute = settings.absolute_timeout
        unconfirmed = settings.unconfirmed_timeout
        return cls(
            timeout=timedelta(seconds=settings.timeout),
            reissue=timedelta(seconds=settings.reissue_time),
            absolute=None if absolute is None else timedelta(seconds=absolute),
            cookie_max_age=settings.cookie_max_age,
            detect_changes=settings.detect_changes,
            unconfirmed=None if unconfirmed is None else timedelta(seconds=unconfirmed),
            principal_key=settings.principal_key,
            rotate_on_principal_change=settings.rotate_on_principal_change,
            merge_conflicts=settings.merge_conflicts,
        )


@dataclass(frozen=True)
class Recorded:
    """What one request did to its session."""

    #: The data at the end of the request; None when the session was never loaded.
    data: Mapping[str, Any] | None
    #: When the session was created (the row's time, or when it started afresh).
    created: datetime
    #: Whether a mutation went through (a failed one, such as deleting a missing key, does not count).
    modified: bool = False
    #: Whether a mutable value was handed out, so it may have changed in place.
    exposed: bool = False
    invalidated: bool = False
    regenerated: bool = False
    #: Whether the browser sent a cookie of the session's name.
    cookie_sent: bool = False
    #: The principal of the data as loaded.
    principal_read: str | None = None
    #: Whether ``end_other_sessions()`` was called.
    end_others: bool = False
    #: Whether ``clear()`` was called, which drops keys the request never saw.
    cleared: bool = False
    read_keys: frozenset[str] = frozenset()
    written_keys: frozenset[str] = frozenset()
    #: Whether every key was read (iterating, ``len()``, ``==``, ``copy()``...).
    read_all: bool = False

    @property
    def may_merge(self) -> bool:
        """Whether this request's write may be merged into a row another request changed meanwhile.

        Never for intents about the whole session rather than some of its
        keys: ``clear()``, ``invalidate()``, ``regenerate_id()`` and
        ``set_expiry()`` (a write of ``_expiry``). A change of principal
        never merges either: the plan, which knows the principal, refuses it.
        """
        whole_session = self.cleared or self.invalidated or self.regenerated
        return not (whole_session or EXPIRY_KEY in self.written_keys)


@dataclass(frozen=True)
class Insert:
    """Store the data as a new row, under an id drawn when the plan runs."""

    payload: bytes
    created: datetime
    expire_date: datetime
    #: False while no later request has shown that the browser keeps the cookie.
    confirmed: bool = True
    principal: str | None = None


@dataclass(frozen=True)
class Update:
    """Rewrite a row, if it is still at the version read."""

    session_key: str
    version: int
    payload: bytes
    expire_date: datetime
    principal: str | None = None
    #: What merging the write into a row changed since it was read needs; None when it must not merge.
    merge: Access | None = None


@dataclass(frozen=True)
class Touch:
    """Move a row's expiry forward, leaving its data and version."""

    session_key: str
    expire_date: datetime


@dataclass(frozen=True)
class Delete:
    """Delete a row; with ``version``, only the row read at that version (else a conflict)."""

    session_key: str
    version: int | None = None


@dataclass(frozen=True)
class EndOthers:
    """End a principal's sessions but the one this request keeps."""

    principal: str
    #: The row kept; None for the row the plan inserts.
    session_key: str | None = None


class CookieAction(Enum):
    """What the response does with the session cookie."""

    KEEP = "keep"
    SET = "set"
    DELETE = "delete"


@dataclass(frozen=True)
class WritePlan:
    """The statements that end one request's session, and the cookie to send once they commit."""

    delete: Delete | None = None
    insert: Insert | None = None
    update: Update | None = None
    touch: Touch | None = None
    cookie: CookieAction = CookieAction.KEEP
    #: The cookie's Max-Age when it is set; None makes it a browser-session cookie.
    max_age: int | None = None
    #: When the session ends if it is not used again; None for an empty session.
    expire_date: datetime | None = None
    #: The other sessions of the principal to end (``end_other_sessions()``).
    end_others: EndOthers | None = None
    #: The principal that gained the written row, so its oldest sessions over the limit end.
    limit_principal: str | None = None

    @property
    def writes(self) -> bool:
        """Whether the plan has statements to run."""
        steps = (self.delete, self.insert, self.update, self.touch, self.end_others)
        return any(step is not None for step in steps)


#: The plan of a request that never used its session.
NOTHING = WritePlan()


def principal_of(data: Mapping[str, Any], principal_key: str | None) -> str | None:
    """``str()`` of the session's principal (the ``principal_key`` value), or None."""
    value = None if principal_key is None else data.get(principal_key)
    return None if value is None else str(value)


def own_expiry(data: Mapping[str, Any]) -> int | None:
    """The session's own idle lifetime in seconds, set by ``set_expiry()``, or None."""
    own = data.get(EXPIRY_KEY)
    return own if isinstance(own, int) and not isinstance(own, bool) else None


def _fresh_expiry(data: Mapping[str, Any], created: datetime, now: datetime, policy: Policy) -> datetime:
    own = own_expiry(data)
    expire = now + (timedelta(seconds=own) if own else policy.timeout)
    if policy.absolute is not None:
        expire = min(expire, created + policy.absolute)
    return expire


def _is_reissue_due(row: LoadedRow, expire: datetime, policy: Policy) -> bool:
    return expire >= row.expire_date and expire - row.expire_date >= policy.reissue


def _row_kept(loaded: LoadedRow | None, recorded: Recorded) -> LoadedRow | None:
    """The row the session's data lives in after the request, if it keeps one."""
    return None if recorded.invalidated or recorded.regenerated else loaded


def expiry(loaded: LoadedRow | None, recorded: Recorded, now: datetime, policy: Policy) -> datetime:
    """When the session ends if the request ends at ``now`` and it is not used again."""
    data = recorded.data or {}
    expire = _fresh_expiry(data, recorded.created, now, policy)
    row = _row_kept(loaded, recorded)
    if row is None and loaded is None and policy.unconfirmed is not None:
        return min(expire, now + policy.unconfirmed)
    if row is None or not row.confirmed or own_expiry(data) != row.own_expiry:
        return expire
    if expire < row.expire_date and recorded.modified:
        return expire
    return expire if _is_reissue_due(row, expire, policy) else row.expire_date


def _max_age(data: Mapping[str, Any], expire: datetime, now: datetime, policy: Policy) -> int | None:
    own = own_expiry(data)
    if own == 0:
        return None
    if own is None and policy.cookie_max_age is not FOLLOW_TIMEOUT:
        return policy.cookie_max_age
    return max(0, round((expire - now).total_seconds()))


def _delete_read_row(loaded: LoadedRow | None, recorded: Recorded) -> Delete | None:
    if loaded is None or _row_kept(loaded, recorded) is not None:
        return None
    # Carrying the read data to a new id needs proof that the row still held it.
    carries_data = recorded.regenerated and not recorded.invalidated and bool(recorded.data)
    return Delete(loaded.session_key, loaded.version if carries_data else None)


def _access(row: LoadedRow, recorded: Recorded, policy: Policy, principal: str | None) -> Access | None:
    # A change of principal (rotation off keeps the id) concerns the whole session.
    if not (policy.merge_conflicts and recorded.may_merge) or principal != recorded.principal_read:
        return None
    # The new expiry depends on the session's own, and the row's principal column on the
    # principal, so every write reads both: another writer's change to either conflicts.
    read_keys = recorded.read_keys | {EXPIRY_KEY}
    if policy.principal_key is not None:
        read_keys |= {policy.principal_key}
    return Access(row.payload, read_keys, recorded.written_keys, recorded.read_all)


def plan_write(
    loaded: LoadedRow | None,
    recorded: Recorded,
    now: datetime,
    policy: Policy,
    dumps: Callable[[dict[str, Any]], bytes],
) -> WritePlan:
    """Decide what ends the request's session: see the module's docstring for the rules."""
    data = recorded.data
    if data is None:
        return NOTHING
    delete = _delete_read_row(loaded, recorded)
    row = _row_kept(loaded, recorded)
    principal = principal_of(data, policy.principal_key)
    if not data:
        if row is not None:
            delete = Delete(row.session_key)
        sent = delete is not None or recorded.cookie_sent
        return WritePlan(delete=delete, cookie=CookieAction.DELETE if sent else CookieAction.KEEP)
    expire = expiry(loaded, recorded, now, policy)
    max_age = _max_age(data, expire, now, policy)
    if row is None:
        # Only a browser that presented a live session's cookie has shown it keeps cookies.
        confirmed = loaded is not None or policy.unconfirmed is None
        insert = Insert(dumps(dict(data)), recorded.created, expire, confirmed, principal)
        return WritePlan(
            delete=delete,
            insert=insert,
            cookie=CookieAction.SET,
            max_age=max_age,
            expire_date=expire,
            end_others=EndOthers(principal) if recorded.end_others and principal is not None else None,
            limit_principal=principal,
        )
    update = touch = None
    if not row.confirmed:
        # The cookie came back: confirm the row (its version leaves 0) with the full expiry.
        update = Update(
            row.session_key,
            row.version,
            dumps(dict(data)),
            expire,
            principal,
            merge=_access(row, recorded, policy, principal),
        )
    elif recorded.modified or (policy.detect_changes and recorded.exposed):
        payload = dumps(dict(data))
        # A touch only moves an expiry forward: an earlier one is written with the data.
        if payload != row.payload or expire < row.expire_date:
            update = Update(
                row.session_key,
                row.version,
                payload,
                expire,
                principal,
                merge=_access(row, recorded, policy, principal),
            )
    if update is None and expire != row.expire_date:
        touch = Touch(row.session_key, expire)
    gained = update is not None and principal is not None and principal != recorded.principal_read
    renews = expire != row.expire_date or own_expiry(data) != row.own_expiry
    cookie = CookieAction.SET if renews and (update or touch) else CookieAction.KEEP
    return WritePlan(
        update=update,
        touch=touch,
        cookie=cookie,
        max_age=max_age if cookie is CookieAction.SET else None,
        expire_date=expire,
        end_others=EndOthers(principal, row.session_key) if recorded.end_others and principal is not None else None,
        limit_principal=principal if gained else None,
    )
