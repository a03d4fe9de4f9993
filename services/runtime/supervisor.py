"""`stance run`: the whole stack in one command, each piece a supervised child process."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from services.logging import get_logger
from services.settings import Settings

log = get_logger("stance.run")
RESTART_BACKOFF_SECONDS = (1, 2, 5, 10, 30)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.argv, env=env)
        self.started_at = time.monotonic()
        log.info("started", child=self.name, pid=self.process.pid)


def child_commands(settings: Settings) -> list[Child]:
    stance = [sys.executable, "-m", "services.cli"]
    return [
        Child("api", [*stance, "api"]),
        Child("worker", [*stance, "worker"]),
        Child("beat", [*stance, "beat"]),
    ]


def supervise(settings: Settings, env: dict[str, str]) -> int:
    """Run the children until SIGINT/SIGTERM, restarting any that dies; then stop them all."""
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    children = child_commands(settings)
    for child in children:
        child.start(env)
    next_restart: dict[str, float] = {}
    while not stopping:
        time.sleep(0.2)
        for child in children:
            assert child.process is not None
            if child.process.poll() is None or stopping:
                continue
            due = next_restart.setdefault(
                child.name,
                time.monotonic()
                + RESTART_BACKOFF_SECONDS[min(child.restarts, len(RESTART_BACKOFF_SECONDS) - 1)],
            )
            if time.monotonic() >= due:
                log.warning("restarting", child=child.name, exit_code=child.process.returncode)
                if time.monotonic() - child.started_at > 60:
                    child.restarts = 0
                child.restarts += 1
                next_restart.pop(child.name)
                child.start(env)
    log.info("stopping")
    stop_children(children)
    return 0


def stop_children(children: list[Child], timeout: float = 20) -> None:
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def child_env(settings: Settings, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "STANCE_DATABASE_URL": database_url,
        "STANCE_REDIS_URL": redis_url,
        "STANCE_HOME": str(settings.home.resolve()),
        "STANCE_PORT": str(settings.port),
    }
