"""The figures each topology test prints at the end of the run."""

from __future__ import annotations

import pytest

FIGURES = pytest.StashKey[list[tuple[str, list[str]]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for title, lines in config.stash.get(FIGURES, []):
        terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(line)


class Figures:
    """Lines a test wants printed in the terminal summary, even when it fails."""

    def __init__(self, config: pytest.Config, title: str) -> None:
        self._lines: list[str] = []
        config.stash[FIGURES].append((title, self._lines))

    def add(self, *lines: str) -> None:
        self._lines.extend(lines)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.config, request.node.nodeid)
