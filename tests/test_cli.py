"""The `stance` command as a user meets it: quiet stderr and conventional `--help` output."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMMANDS = [
    [],
    ["extract"],
    ["run"],
    ["api"],
    ["worker"],
    ["beat"],
    ["migrate"],
    ["keys"],
    ["keys", "create"],
    ["projections"],
    ["projections", "rebuild"],
]
# Typer's raw annotation labels, e.g. `<bool>`, `<list[Path]>`, `<int | None>`.
TYPE_LABEL = re.compile(r"<[A-Za-z_][\w\[\], |.]*>")


def stance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("stance")), *args],  # the entry point pip installed
        cwd=ROOT,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "stance")
def test_help_is_conventional_and_stderr_is_quiet(command: list[str]) -> None:
    done = stance(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Usage: stance" in done.stdout and "--help" in done.stdout
    assert TYPE_LABEL.findall(done.stdout) == []


def test_extract_help_names_its_arguments_as_click_does() -> None:
    out = stance("extract", "--help").stdout
    assert "FILES..." in out and "--format" in out and "TEXT" in out and "PATH" in out


def test_a_command_on_the_embedded_database_prints_no_runtime_dir_warning(tmp_path: Path) -> None:
    # The embedded mode (no URLs set) without XDG_RUNTIME_DIR, as in containers and CI.
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "STANCE_DATABASE_URL")}
    env["STANCE_HOME"] = str(tmp_path / "home")
    migrated = stance("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stderr == "database is at the latest migration\n"
    done = stance("keys", "create", "--scopes", "read", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("stk_") and done.stdout.count("\n") == 1
    assert "Warning" not in done.stderr and "XDG_RUNTIME_DIR" not in done.stderr, done.stderr
