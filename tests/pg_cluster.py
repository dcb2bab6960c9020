"""A throwaway PostgreSQL cluster for the board tests and load scripts: initdb in a temp folder, a free
port on 127.0.0.1, its socket in that folder, all removed afterwards. Nothing of the machine's own
PostgreSQL is touched (Debian's package only supplies the binaries).

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user that
Debian's package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEBIAN_BIN_DIRS = "/usr/lib/postgresql/*/bin"
RUN_AS_WHEN_ROOT = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries, or a cluster that would not start; the message says which."""


def bin_dir() -> Path:
    """Where initdb and pg_ctl are: on PATH, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    versions = sorted(glob.glob(DEBIAN_BIN_DIRS), key=lambda path: [int(n) for n in re.findall(r"\d+", path)])
    if not versions or not (Path(versions[-1]) / "initdb").exists():
        raise PostgresUnavailable(
            f"no PostgreSQL: initdb is neither on PATH nor in {DEBIAN_BIN_DIRS} (apt install postgresql)"
        )
    return Path(versions[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """One running cluster; ``url(database)`` gives SQLAlchemy URLs, ``new_database()`` an empty database."""

    def __init__(self, durable: bool = False):
        self.bin = bin_dir()
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="vae-pg-"))
        self.data = self.folder / "data"
        self.durable = durable  # False: fsync off, as tests need no power-cut safety; load figures want it on
        self._databases = 0
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(RUN_AS_WHEN_ROOT)
            except KeyError:
                raise PostgresUnavailable(f"as root, PostgreSQL needs a {RUN_AS_WHEN_ROOT!r} user to run as") from None
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", RUN_AS_WHEN_ROOT, "--"]

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._prefix, str(self.bin / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = (self.folder / "log").read_text(errors="replace")[-2000:] if (self.folder / "log").exists() else ""
            raise PostgresUnavailable(f"{tool} failed ({result.returncode}): {result.stderr[-2000:]}{log}")

    def start(self) -> Cluster:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options
        )
        return self

    def stop(self) -> None:
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of its own (a test's isolation); returns its URL."""
        import psycopg

        self._databases += 1
        name = f"board_test_{self._databases}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def throwaway_cluster(durable: bool = False) -> Iterator[Cluster]:
    """A started cluster, stopped and deleted on exit. PostgresUnavailable if it cannot start."""
    cluster = Cluster(durable)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@contextlib.contextmanager
def cluster_or_skip(durable: bool = False) -> Iterator[Cluster]:
    """For pytest fixtures: skip without PostgreSQL locally; in CI (CI=true) fail instead."""
    import pytest

    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(throwaway_cluster(durable))
        except PostgresUnavailable as err:
            if IN_CI:
                pytest.fail(f"{err} (CI=true: PostgreSQL must be present)")
            pytest.skip(str(err))
        yield cluster
