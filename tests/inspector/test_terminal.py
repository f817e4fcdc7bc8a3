"""Runs of the real inspector in tmux, on hostile data: what reaches the terminal, byte for byte."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ..conftest import SECRET, session_rows

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

#: Keys a visitor can store, ended by ST rather than BEL: rich drops a BEL, which would leave them unfinished.
HOSTILE = {
    "\x1b]2;pwned\x1b\\": "retitle the terminal",
    "\x1b]52;c;ZXZpbA==\x1b\\": "write its clipboard",
    "\x1b[2Jgone": "clear the screen",
    "\x9b2Jc1": "clear it with a C1 CSI",
}
#: What the data would send if it reached the terminal as stored; Textual itself sends none of these.
FORBIDDEN = (b"\x1b]2;", b"\x1b]52;", b"\x1b[2J", "\x9b".encode())
PANE = "inspector"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Run tmux commands on a private server, killed afterwards; skip where tmux is missing, but fail on CI."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed: .ci/run must install it")
        pytest.skip("tmux is not installed")
    socket = str(tmp_path / "tmux.sock")

    def run(*arguments: str) -> str:
        command = ["tmux", "-S", socket, "-f", os.devnull, *arguments]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=10).stdout

    yield run
    subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, timeout=10)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition`` until it holds: the inspector runs in another process, at its own pace."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_inspector(tmux: Callable[..., str], engine: Engine, sent: Path) -> str:
    """Run the inspector in a new pane whose every byte goes to ``sent``; return the pane's title before it ran."""
    sent.touch()  # read before pipe-pane's cat has opened it
    url = engine.url.render_as_string(hide_password=False)
    inspector = [sys.executable, "-m", "inspector", "--url", url, "--secret", SECRET, "--refresh", "0"]
    # The pane waits for "go" so that pipe-pane records the inspector's output from its first byte.
    command = f"tmux wait-for go && exec {shlex.join(inspector)}"
    tmux("new-session", "-d", "-s", PANE, "-x", "120", "-y", "30", "-e", "TEXTUAL_ANIMATIONS=none", command)
    tmux("set-option", "-s", "set-clipboard", "on")  # an OSC 52 that got through would fill a buffer
    tmux("set-option", "-w", "-t", PANE, "remain-on-exit", "on")  # keep the pane, and its title, after q
    tmux("pipe-pane", "-t", PANE, "-o", f"cat > {shlex.quote(str(sent))}")
    title = tmux("display-message", "-p", "-t", PANE, "#{pane_title}")
    tmux("wait-for", "-S", "go")
    return title


def quit_inspector(tmux: Callable[..., str], sent: Path) -> tuple[list[bytes], str, str]:
    """Quit with q; return the forbidden sequences the pane received, its title and tmux's paste buffers."""
    tmux("send-keys", "-t", PANE, "q")
    wait_for(lambda: tmux("display-message", "-p", "-t", PANE, "#{pane_dead}") == "1\n", "the inspector to quit")
    wait_for(lambda: b"\x1b[?1049l" in sent.read_bytes(), "its last output")  # leaving the alternate screen
    output = sent.read_bytes()
    found = [sequence for sequence in FORBIDDEN if sequence in output]
    return found, tmux("display-message", "-p", "-t", PANE, "#{pane_title}"), tmux("list-buffers")


def test_hostile_data_sends_no_escape_sequence_to_the_terminal(tmux, visit, engine, tmp_path):
    visit(**HOSTILE)
    sent = tmp_path / "pane.out"
    title = start_inspector(tmux, engine, sent)

    # Wait on the bytes sent, not on the pane's screen: data that got through would garble the screen.
    wait_for(lambda: b"gone" in sent.read_bytes(), "the table")
    tmux("send-keys", "-t", PANE, "Enter")
    wait_for(lambda: b"signature valid" in sent.read_bytes(), "the detail view")
    assert quit_inspector(tmux, sent) == ([], title, "")


def test_logging_out_a_hostile_user_sends_no_escape_sequence_to_the_terminal(tmux, visit, engine, tmp_path):
    for _ in range(2):
        visit(**{"auth.userid": "\x1b]2;pwned\x1b\\\x9b2Jc1"})
    sent = tmp_path / "pane.out"
    title = start_inspector(tmux, engine, sent)

    wait_for(lambda: b"auth.userid" in sent.read_bytes(), "the table")
    tmux("send-keys", "-t", PANE, "u")
    wait_for(lambda: b"End all 2 sessions of user" in sent.read_bytes(), "the question")
    tmux("send-keys", "-t", PANE, "y")
    wait_for(lambda: b"Ended 2 sessions of user" in sent.read_bytes(), "the notification")
    assert (*quit_inspector(tmux, sent), session_rows(engine)) == ([], title, "", [])
