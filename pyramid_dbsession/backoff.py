"""RetryPause: a short random wait before pyramid_retry replays a request.

Two requests of one busy session that lost a conflict to each other would
otherwise be replayed at once and meet again; on a multi-writer cluster such as
Galera, where the replay's ``SELECT ... FOR UPDATE`` locks only one node's
copy of the row, they can keep colliding until the attempts run out. A random
pause of up to ``dbsession.retry_jitter`` seconds spreads them apart.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

from .errors import SettingsError

#: The default ``dbsession.retry_jitter``, in seconds.
DEFAULT_RETRY_JITTER = 0.05


def parse_retry_jitter(key: str, raw: Any) -> float:
    """Read the longest pause before a replay: seconds, a fraction allowed; 0 turns it off."""
    try:
        value = float(raw.strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{key} must be seconds (a fraction allowed, 0 turns it off), got {raw!r}") from None
    if isinstance(raw, bool) or not math.isfinite(value) or value < 0:
        raise SettingsError(f"{key} must be seconds, 0 or more, got {raw!r}")
    return value


class RetryPause:
    """Wait a random time of up to ``bound`` seconds: a subscriber to pyramid_retry's ``IBeforeRetry``."""

    def __init__(
        self,
        bound: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.bound = bound
        self._sleep = sleep
        self._draw = draw

    def __call__(self, event: Any) -> None:
        self._sleep(self._draw() * self.bound)
