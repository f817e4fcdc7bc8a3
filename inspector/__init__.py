"""The dbsession inspector: a terminal UI over the sessions stored in ``core_sessions``.

Run ``dbsession-inspector development.ini`` (or ``python -m inspector``).
"""

from __future__ import annotations

from .app import InspectorApp
from .source import SessionSource

__all__ = ["InspectorApp", "SessionSource"]
