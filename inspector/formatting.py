"""How times, sizes, keys and stored text read on screen: pure functions, the clock passed in."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

#: Short keys are this many hex digits of the stored digest.
SHORT_KEY = 12
_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def duration(seconds: float) -> str:
    """Render a positive span in its largest whole unit: ``3 h``, ``2 d``, ``45 s``."""
    whole = int(seconds)
    for name, size in _UNITS:
        if whole >= size:
            return f"{whole // size} {name}"
    return "0 s"


def expires(expire_date: datetime, now: datetime) -> str:
    """``in 3 h`` for a live session, ``expired 2 d ago`` for a dead one."""
    left = (expire_date - now).total_seconds()
    if left > 0:
        return f"in {duration(left)}"
    return f"expired {duration(-left)} ago"


def ago(moment: datetime, now: datetime) -> str:
    """``5 min ago`` (or ``in 5 min`` for a moment in the future)."""
    past = (now - moment).total_seconds()
    return f"{duration(past)} ago" if past >= 0 else f"in {duration(-past)}"


def short_key(session_key: str) -> str:
    """The first digits of a session key, enough to tell rows apart on screen."""
    return session_key[:SHORT_KEY]


def count(number: int) -> str:
    """A count with thousands separators."""
    return f"{number:,}"


def sessions(number: int) -> str:
    """``1 session``, ``1,234 sessions``."""
    return f"{number:,} session{'' if number == 1 else 's'}"


def printable(text: str) -> str:
    """``text`` with every character that ``repr`` would escape written as that escape: ``\\x1b``, ``\\u202e``.

    These are the characters :meth:`str.isprintable` refuses: C0 and C1
    controls, DEL, format characters such as the bidi overrides, line and
    paragraph separators, spaces other than U+0020, surrogates and unassigned
    code points. Stored data, typed searches and error messages pass through
    here before any widget shows them, so none of these characters reaches the
    terminal to retitle it, clear it, write its clipboard or reorder the text.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def safe_text(text: str, style: str = "") -> Text:
    """Untrusted ``text`` ready for a widget: escaped by :func:`printable`, and a ``Text``, so never read as markup."""
    return Text(printable(text), style=style)
