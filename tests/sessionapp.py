"""A small Pyramid app whose views exercise ``request.session`` for the tests."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.router import Router
from pyramid.view import view_config


class ViewFailed(Exception):
    """Raised by the views that test aborted transactions."""


@view_config(route_name="show", renderer="json")
def show(request: Request) -> dict[str, Any]:
    return dict(request.session)


@view_config(route_name="set", renderer="json")
def set_keys(request: Request) -> dict[str, Any]:
    request.session.update(request.params)
    return dict(request.session)


@view_config(route_name="incr", renderer="json")
def increment(request: Request) -> int:
    key = request.params.get("key", "counter")
    request.session[key] = request.session.get(key, 0) + 1
    return request.session[key]


@view_config(route_name="append", renderer="json")
def append_in_place(request: Request) -> list[str]:
    cart = request.session.setdefault("cart", [])
    cart.append(request.params["item"])
    return cart


@view_config(route_name="delete", renderer="json")
def delete_key(request: Request) -> dict[str, Any]:
    del request.session[request.params["key"]]
    return dict(request.session)


@view_config(route_name="clear", renderer="json")
def clear(request: Request) -> dict[str, Any]:
    request.session.clear()
    return {}


@view_config(route_name="invalidate", renderer="json")
def invalidate(request: Request) -> dict[str, Any]:
    request.session.invalidate()
    request.session.update(request.params)
    return dict(request.session)


@view_config(route_name="regenerate", renderer="json")
def regenerate(request: Request) -> dict[str, Any]:
    request.session.regenerate_id()
    return dict(request.session)


@view_config(route_name="expiry", renderer="json")
def set_expiry(request: Request) -> str:
    seconds = request.params["seconds"]
    request.session.set_expiry(None if seconds == "none" else int(seconds))
    return request.session.expire_date.isoformat()


@view_config(route_name="untouched", renderer="json")
def untouched(request: Request) -> str:
    return "ok"


@view_config(route_name="fail", renderer="json")
def fail(request: Request) -> None:
    request.session["doomed"] = True
    raise ViewFailed("the view failed after changing the session")


@view_config(route_name="raise_redirect")
def raise_redirect(request: Request) -> None:
    request.session["redirected"] = "raised"
    raise HTTPFound("/show")


@view_config(route_name="return_redirect")
def return_redirect(request: Request) -> HTTPFound:
    request.session["redirected"] = "returned"
    return HTTPFound("/show")


@view_config(route_name="meta", renderer="json")
def meta(request: Request) -> dict[str, Any]:
    session = request.session
    return {"new": session.new, "created": session.created, "expire_date": session.expire_date.isoformat()}


ROUTES = [
    "show", "set", "incr", "append", "delete", "clear", "invalidate", "regenerate", "expiry",
    "untouched", "fail", "raise_redirect", "return_redirect", "meta",
]  # fmt: skip


def make_app(settings: dict[str, Any], configure: Any = None) -> Router:
    """Build the app with ``config.include('pyramid_dbsession')`` and these views."""
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")
        for name in ROUTES:
            config.add_route(name, f"/{name}")
        config.scan(__name__)
        if configure is not None:
            configure(config)
    return config.make_wsgi_app()
