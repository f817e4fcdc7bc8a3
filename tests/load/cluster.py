"""PrivateCluster: a throwaway PostgreSQL server that a test may stop and start at will.

The machine's shared server is never touched: the cluster lives in a temporary
directory, listens on a free port of 127.0.0.1 with trust authentication, and
is removed when the test ends. As root, the PostgreSQL tools run as ``postgres``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    """A PostgreSQL program failed; the message holds its output."""


class ClusterUnavailable(ClusterError):
    """No private cluster can be created here: the server programs or a user to run them are missing."""


def find_bindir() -> Path:
    """Return the directory holding ``initdb`` and ``pg_ctl``, or raise :class:`ClusterUnavailable`."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise ClusterUnavailable("initdb and pg_ctl are not installed (PostgreSQL server programs)")


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateCluster:
    """One PostgreSQL cluster in a temporary directory: :meth:`create`, then stop and start it freely."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.port = port
        self.data = root / "data"
        self.logfile = root / "postgresql.log"

    @classmethod
    def create(cls) -> PrivateCluster:
        """Initialise and start a new cluster; raise :class:`ClusterUnavailable` if that cannot be done here."""
        bindir = find_bindir()
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            raise ClusterUnavailable("running as root without runuser to start PostgreSQL as postgres")
        root = Path(tempfile.mkdtemp(prefix="dbsession-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, user="postgres")
        cluster = cls(bindir, root, free_port())
        try:
            cluster._run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
            cluster.start()
        except ClusterError as exc:
            cluster.remove()
            raise ClusterUnavailable(str(exc)) from exc
        return cluster

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "-o", options, "start")

    def stop(self) -> None:
        """Stop the server now, cutting every open connection (``-m fast``)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        """Tell whether the server's postmaster is up."""
        return self._pg_ctl_status() == 0

    def remove(self) -> None:
        """Stop the server if it runs, and delete its directory."""
        if self.data.exists() and self.is_running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl_status(self) -> int:
        return subprocess.run(self._command("pg_ctl", "-D", str(self.data), "status"), capture_output=True).returncode

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(self._command(program, *args), capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise ClusterError(f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")
