"""``request.session`` keeps Pyramid's ISession contract, CSRF and the seed's test cookie."""

from __future__ import annotations

import datetime
import decimal

import pytest
from pyramid.config import Configurator
from pyramid.csrf import SessionCSRFStoragePolicy, check_csrf_token, get_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.interfaces import ISession
from pyramid.request import Request
from pyramid.response import Response
from zope.interface.verify import verifyObject

from .conftest import session_rows


def add_view(config: Configurator, name: str, view, **options) -> None:
    config.add_route(name, f"/{name}")
    config.add_view(view, route_name=name, **options)


def views(config: Configurator) -> None:
    def conforms(request: Request) -> Response:
        return Response(str(verifyObject(ISession, request.session)))

    def flash(request: Request) -> Response:
        request.session.flash(request.params["msg"], queue=request.params.get("queue", ""), allow_duplicate=False)
        return Response("ok")

    def peek(request: Request) -> dict:
        return {"default": request.session.peek_flash(), "errors": request.session.peek_flash("errors")}

    def pop(request: Request) -> dict:
        return {"default": request.session.pop_flash(), "errors": request.session.pop_flash("errors")}

    def token(request: Request) -> Response:
        return Response(get_csrf_token(request))

    def protected(request: Request) -> Response:
        return Response("accepted")

    def login(request: Request) -> Response:
        # The seed's test-cookie example, in Pyramid form.
        if request.method == "POST":
            if request.session.test_cookie_worked():
                request.session.delete_test_cookie()
                return Response("You're logged in.")
            return Response("Please enable cookies and try again.")
        request.session.set_test_cookie()
        return Response("login form")

    add_view(config, "conforms", conforms)
    add_view(config, "flash", flash)
    add_view(config, "peek", peek, renderer="json")
    add_view(config, "pop", pop, renderer="json")
    add_view(config, "token", token)
    add_view(config, "protected", protected, request_method="POST", require_csrf=True)
    add_view(config, "login", login)


@pytest.fixture
def app(make_testapp):
    return make_testapp(views)


def test_session_provides_isession(app):
    assert app.get("/conforms").text == "True"


def test_flash_messages_survive_until_popped(app):
    app.get("/flash", {"msg": "saved"})
    app.get("/flash", {"msg": "oops", "queue": "errors"})
    assert app.get("/peek").json == {"default": ["saved"], "errors": ["oops"]}
    assert app.get("/pop").json == {"default": ["saved"], "errors": ["oops"]}
    assert app.get("/pop").json == {"default": [], "errors": []}


def test_flash_without_duplicates_keeps_one_copy(app):
    app.get("/flash", {"msg": "saved"})
    app.get("/flash", {"msg": "saved"})
    assert app.get("/peek").json["default"] == ["saved"]


def test_popping_the_last_flash_ends_the_session(app, engine):
    app.get("/flash", {"msg": "once"})
    app.get("/pop")
    assert session_rows(engine) == []


def test_csrf_token_is_stable_within_a_session(app):
    assert app.get("/token").text == app.get("/token").text


def test_default_csrf_policy_accepts_the_sessions_token(app):
    token = app.get("/token").text
    assert app.post("/protected", {"csrf_token": token}).text == "accepted"


def test_default_csrf_policy_refuses_a_wrong_token(app):
    app.get("/token")
    app.post("/protected", {"csrf_token": "forged"}, status=400)


def test_session_csrf_storage_policy_works_with_the_session(make_testapp):
    def configure(config: Configurator) -> None:
        config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
        views(config)

    app = make_testapp(configure)
    token = app.get("/token").text
    assert app.post("/protected", {"csrf_token": token}).text == "accepted"


def test_check_csrf_token_uses_the_sessions_token(make_testapp):
    def configure(config: Configurator) -> None:
        def checked(request: Request) -> Response:
            try:
                return Response(str(check_csrf_token(request, raises=True)))
            except BadCSRFToken:
                return Response("refused")

        views(config)
        add_view(config, "checked", checked)

    app = make_testapp(configure)
    token = app.get("/token").text
    assert app.post("/checked", {"csrf_token": token}).text == "True"
    assert app.post("/checked", {"csrf_token": token[:-1]}).text == "refused"


def test_test_cookie_works_on_the_next_request(app):
    app.get("/login")
    assert app.post("/login").text == "You're logged in."


def test_test_cookie_fails_without_the_cookie(app):
    app.get("/login")
    app.reset()
    assert app.post("/login").text == "Please enable cookies and try again."


def test_deleting_the_test_cookie_ends_an_otherwise_empty_session(app, engine):
    app.get("/login")
    app.post("/login")
    assert session_rows(engine) == []


def test_any_pickleable_value_round_trips(make_testapp):
    def configure(config: Configurator) -> None:
        def store(request: Request) -> Response:
            request.session["value"] = {
                "when": datetime.date(2005, 8, 20),
                "amount": decimal.Decimal("1.10"),
                "ids": {1, 2},
            }
            return Response("stored")

        def load(request: Request) -> Response:
            return Response(repr(request.session["value"]))

        add_view(config, "store", store)
        add_view(config, "load", load)

    app = make_testapp(configure)
    app.get("/store")
    assert app.get("/load").text == "{'when': datetime.date(2005, 8, 20), 'amount': Decimal('1.10'), 'ids': {1, 2}}"


def test_json_serializer_stores_json_values(make_testapp):
    app = make_testapp(serializer="json")
    app.get("/set", {"fav_color": "blue"})
    assert app.get("/show").json == {"fav_color": "blue"}
