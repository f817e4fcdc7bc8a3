"""``dbsession-cleanup CONFIG_URI``: delete expired sessions in short batches.

Each batch is its own short transaction, so the cleanup can run beside live
traffic, from cron or a systemd timer. In a terminal it draws a progress bar;
otherwise (cron, journald) it writes plain lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

import sqlalchemy as sa

from ..db.purge import parallel_jobs
from ..db.store import SessionStore
from .appconfig import database_error, describe, start

#: Rows per transaction; see docs/production.md for the figures behind it.
DEFAULT_BATCH_SIZE = 5000
#: Two PostgreSQL connections deleting side by side beat one bulk DELETE; one gets 0.6-0.8x its speed.
DEFAULT_JOBS = 2
_BAR_WIDTH = 30
_PLAIN_INTERVAL = 10.0  # seconds between plain progress lines


def _at_least_one(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dbsession-cleanup", description="Delete expired sessions in short batches.")
    parser.add_argument("config_uri", metavar="CONFIG_URI", help="the app's settings, e.g. production.ini")
    parser.add_argument(
        "--batch-size",
        type=_at_least_one,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"rows deleted per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--jobs",
        type=_at_least_one,
        default=DEFAULT_JOBS,
        metavar="J",
        help=f"connections deleting batches at the same time on PostgreSQL (default {DEFAULT_JOBS})",
    )
    parser.add_argument("--dry-run", action="store_true", help="count the expired sessions, delete nothing")
    return parser


class ProgressBar:
    """Redraws one terminal line after each batch."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total

    def __call__(self, deleted: int) -> None:
        # Sessions expiring while the cleanup runs are deleted too: cap at 100 %.
        fraction = min(deleted / self.total, 1.0) if self.total else 1.0
        filled = round(fraction * _BAR_WIDTH)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        self.out.write(f"\r[{bar}] {fraction:4.0%} {deleted:,} of {self.total:,}")
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n")


class ProgressLines:
    """Writes a plain line at most every ten seconds, for logs."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total
        self._next = time.monotonic() + _PLAIN_INTERVAL

    def __call__(self, deleted: int) -> None:
        if time.monotonic() >= self._next:
            self.out.write(f"deleted {deleted:,} of {self.total:,} so far\n")
            self.out.flush()
            self._next = time.monotonic() + _PLAIN_INTERVAL

    def close(self) -> None:
        """Nothing to finish: every line is already whole."""


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``dbsession-cleanup``; return the exit status (0 done, 1 database error, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    started = start(_parser(), argv, err)
    if isinstance(started, int):
        return started
    args, store = started
    try:
        return _run(store, args.batch_size, args.jobs, args.dry_run, out)
    except sa.exc.DBAPIError as exc:
        err.write(f"dbsession-cleanup: {database_error(store, exc)}\n")
        return 1
    finally:
        store.dispose()


def _run(store: SessionStore, batch_size: int, jobs: int, dry_run: bool, out: TextIO) -> int:
    expired = store.clear_expired(batch_size, dry_run=True)
    if dry_run:
        out.write(f"{expired:,} expired sessions would be deleted from {describe(store)}\n")
        return 0
    jobs = parallel_jobs(store.engine, jobs)
    workers = f", {jobs} at a time" if jobs > 1 else ""
    out.write(f"deleting {expired:,} expired sessions from {describe(store)}, {batch_size:,} a batch{workers}\n")
    out.flush()
    progress = ProgressBar(out, expired) if out.isatty() else ProgressLines(out, expired)
    started = time.monotonic()
    deleted = store.clear_expired(batch_size, progress=progress, jobs=jobs)
    progress.close()
    out.write(f"deleted {deleted:,} expired sessions in {time.monotonic() - started:.1f} s\n")
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
