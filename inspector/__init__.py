"""The dbsession inspector: a terminal UI over the sessions stored in ``core_sessions``.

Run ``dbsession-inspector development.ini`` (or ``python -m inspector``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import InspectorApp
    from .source import SessionSource

__all__ = ["InspectorApp", "SessionSource"]


def __getattr__(name: str) -> Any:
    # Loaded on demand: ``inspector.source`` must stay importable without Textual.
    if name == "InspectorApp":
        from .app import InspectorApp

        return InspectorApp
    if name == "SessionSource":
        from .source import SessionSource

        return SessionSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
