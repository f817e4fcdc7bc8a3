"""The layering rules of the inspector, checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest


def modules_loaded_by(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in output.split()}


@pytest.mark.parametrize("module", ["source", "rows", "formatting"])
def test_data_modules_import_no_textual(module):
    assert "textual" not in modules_loaded_by(f"inspector.{module}")


def test_rows_import_no_sqlalchemy():
    assert "sqlalchemy" not in modules_loaded_by("inspector.rows")


@pytest.mark.parametrize("widget", ["session_table", "session_tree"])
def test_widgets_import_no_sqlalchemy(widget):
    assert "sqlalchemy" not in modules_loaded_by(f"inspector.widgets.{widget}")
