"""What the search box's text makes of the query: pure, no database."""

from __future__ import annotations

import pytest

from inspector.rows import Filter, Query, Sort


@pytest.mark.parametrize(
    ("typed", "prefix", "principal"),
    [
        ("", "", None),
        ("ab12", "ab12", None),
        ("  ab12 ", "ab12", None),
        ("@42", "", "42"),
        (" @ alice@example.com ", "", "alice@example.com"),
        ("@", "", None),  # still typing: nothing to filter on yet
        ("@@x", "", "@x"),
        ("x@42", "x@42", None),
    ],
)
def test_search_text_becomes_a_key_prefix_or_a_principal(typed, prefix, principal):
    query = Query().searching(typed)
    assert (query.prefix, query.principal) == (prefix, principal)


def test_searching_keeps_the_order_and_filter_and_drops_data_matches():
    query = Query(Sort.SIZE, Filter.LIVE, prefix="ab", keys=("k",), principal="7").searching("@42")
    assert query == Query(Sort.SIZE, Filter.LIVE, principal="42")
