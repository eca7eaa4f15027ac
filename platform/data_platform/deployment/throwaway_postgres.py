"""A throwaway PostgreSQL server on 127.0.0.1 (the tests, the benchmark's storage figures):
Debian's ``postgresql`` binaries, a temporary data directory, password authentication (scram)
over TCP as production has it. Never a production database.

PostgreSQL refuses to run as root; CI runs as root, so the server runs as the ``postgres`` user
(Debian's package creates it) through ``runuser``. ``.ci/run`` installs the package when missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2

PASSWORD = "pg-throwaway-password"  # a throwaway server's, on loopback, for the tests' lifetime


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def create_database(self, name: str) -> dict[str, str]:
        """A new empty database; the variables ``deploy/dagster.yaml`` reads to reach it."""
        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'create database "{name}"')
        connection.close()
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": name,
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run installs it)")
    return Path(found[-1]).parent


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway server; stop it and delete its data on exit."""
    binaries = postgres_bin()
    as_root = os.geteuid() == 0
    runner = ["runuser", "-u", "postgres", "--"] if as_root else []
    work = Path(tempfile.mkdtemp(prefix="pg-"))
    data, sockets, password_file = work / "data", work / "sockets", work / "password"
    sockets.mkdir()
    password_file.write_text(PASSWORD + "\n")
    if as_root:
        owner = pwd.getpwnam("postgres")
        for path in (work, sockets, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    user = "dagster"
    subprocess.run(
        [*runner, str(binaries / "initdb"), "-D", str(data), "-U", user, f"--pwfile={password_file}", "--auth=scram-sha-256", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = work / "server.log"
    subprocess.run(
        [
            *runner,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c max_connections=200 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    server = PostgresServer("127.0.0.1", port, user, PASSWORD)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(host=server.host, port=port, user=user, password=PASSWORD, dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        subprocess.run([*runner, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
