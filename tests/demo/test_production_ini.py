"""production.ini: the demo starts from it, with its secret in secret.ini, secure cookies and no toolbar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from pyramid.paster import get_app, get_appsettings

from pyramid_dbsession.codec import resolve_serializer
from pyramid_dbsession.scripts.check import main as check_main
from pyramid_dbsession.settings import parse_settings

from ..conftest import SECRET, Clock
from .conftest import serving

ROOT = Path(__file__).resolve().parents[2]
#: The example's database, which each test points at its backend.
EXAMPLE_URL = "postgresql+psycopg://demo@db.internal:5432/demo"


@pytest.fixture
def production_ini(tmp_path: Path, settings: dict[str, Any]) -> Path:
    """A copy of production.ini on the backend's database, beside a secret.ini made as its comment says."""
    text = (ROOT / "production.ini").read_text()
    assert EXAMPLE_URL in text
    ini = tmp_path / "production.ini"
    ini.write_text(text.replace(EXAMPLE_URL, settings["dbsession.url"]))
    (tmp_path / "secret.ini").write_text(f"[app:secret]\nuse = egg:pyramid_dbsession\ndbsession.secret = {SECRET}\n")
    return ini


@pytest.fixture
def testapp(production_ini: Path, clock: Clock, demo_tables: None) -> Iterator[webtest.TestApp]:
    """The app production.ini builds, reached over https as through the TLS proxy."""
    with serving(get_app(str(production_ini)), clock) as app:
        yield webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https"})


def test_production_ini_sends_a_host_prefixed_secure_cookie(testapp):
    cookie = testapp.get("/counter").headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and {"Path=/", "secure", "HttpOnly", "SameSite=Lax"} <= set(
        cookie.split("; ")
    )


def test_production_ini_serves_no_toolbar(testapp):
    testapp.get("/_debug_toolbar/", status=404)


def test_production_ini_stores_json_with_an_absolute_timeout(production_ini):
    settings = parse_settings(get_appsettings(str(production_ini)))
    assert type(settings.serializer) is type(resolve_serializer("json")) and settings.absolute_timeout is not None


def test_production_ini_passes_the_deploy_check_with_no_finding(production_ini, demo_tables):
    out, err = io.StringIO(), io.StringIO()
    status = check_main([str(production_ini), "--fail-level", "warning"], stdout=out, stderr=err)
    assert (status, err.getvalue()) == (0, "") and "dbsession." not in out.getvalue()
