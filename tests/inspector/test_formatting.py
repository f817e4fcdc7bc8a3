"""How untrusted text is made safe to show: the escapes, and markup left unread."""

from __future__ import annotations

import pytest

from inspector.formatting import printable, safe_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC: retitles the terminal
        ("\x1b]52;c;ZXZpbA==\x1b\\", "\\x1b]52;c;ZXZpbA==\\x1b\\"),  # OSC 52: writes the clipboard
        ("\x1b[2J", "\\x1b[2J"),  # CSI: clears the screen
        ("\x9b2J", "\\x9b2J"),  # C1 CSI
        ("a\rb\x08c\x7f\x00", "a\\rb\\x08c\\x7f\\x00"),
        ("one\ntwo\tthree", "one\\ntwo\\tthree"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),  # bidi override and isolate
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028break", "line\\u2028break"),
    ],
)
def test_unprintable_characters_are_shown_as_python_escapes(text, shown):
    assert printable(text) == shown


def test_printable_text_is_left_as_it_is():
    text = "Crème brûlée 日本 [bold red]x [/] \\x1b ✓"
    assert printable(text) is text


def test_safe_text_does_not_read_markup():
    text = safe_text("[bold red]x[/]")
    assert (text.plain, text.spans, str(text.style)) == ("[bold red]x[/]", [], "")
