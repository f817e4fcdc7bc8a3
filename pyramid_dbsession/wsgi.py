"""SessionMiddleware, at the import path WSGI apps and PasteDeploy use."""

from __future__ import annotations

from .adapters.wsgi import ENVIRON_KEY, SessionMiddleware, filter_factory

__all__ = ["ENVIRON_KEY", "SessionMiddleware", "filter_factory"]
