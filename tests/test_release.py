"""What a release carries: a changelog that starts with the version the package reports."""

from __future__ import annotations

from pathlib import Path

import pyramid_dbsession

CHANGES = Path(__file__).resolve().parents[1] / "CHANGES.rst"


def test_changes_start_with_the_packaged_version():
    heading = CHANGES.read_text().splitlines()[0]
    assert heading.split()[0] == pyramid_dbsession.__version__
