"""The settings reference (docs/settings.md) names every setting the package reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from pyramid_dbsession.settings import ENGINE_PREFIX, SETTING_NAMES

SETTINGS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def documented_settings() -> set[str]:
    """The keys that start a row of the page's tables."""
    return set(re.findall(r"^\| `(dbsession\.[a-z_.*A-Z]+)` \|", SETTINGS_PAGE.read_text(), re.MULTILINE))


def test_settings_page_has_a_row_for_every_setting():
    assert set(SETTING_NAMES) - documented_settings() == set()


def test_settings_page_has_no_row_for_a_setting_that_does_not_exist():
    engine_rows = {ENGINE_PREFIX + "*", ENGINE_PREFIX + "connect_args.NAME"}
    assert documented_settings() - set(SETTING_NAMES) == engine_rows
