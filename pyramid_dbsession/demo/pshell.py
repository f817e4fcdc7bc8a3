"""``pshell development.ini`` set-up: the session store at hand, as in "Using sessions out of views"."""

from __future__ import annotations

from typing import Any

from pyramid_dbsession import SessionRecord, get_store


def setup(env: dict[str, Any]) -> None:
    """Add ``store`` (the app's :class:`SessionStore`) and ``SessionRecord`` to the shell.

    ``store.get(cookie_value)`` returns a :class:`SessionRecord`, whose
    ``get_decoded()`` is the session dict.
    """
    env["store"] = get_store(env["registry"])
    env["SessionRecord"] = SessionRecord
