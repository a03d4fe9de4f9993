"""The README's walk-through, run as written (curl against the real app over HTTP, a real worker),
with every response compared to the output the README shows.

Shown output is JSON in which "…" stands for what varies: a string that is only "…" matches any
string, one with "…" inside must contain its other fragments in order. Keys shown must exist with
the value shown (or of the same type); keys not shown may exist. Conditions are compared by shape
only: their wording is the extractor's, and changes with it.
"""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, wait_for

SEED = Path(__file__).parent / "fixtures" / "coalition-peacekeeping.txt"
SHAPE_ONLY = {"conditions"}


def walkthrough() -> list[tuple[str, Any | None]]:
    """(command, the JSON shown after it or None) for each command of the walk-through block."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Walk-through", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, Any | None]] = []
    lines = block.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if line.startswith("# {"):
            shown = line[2:]
            while True:
                try:
                    parsed = json.loads(shown)
                    break
                except json.JSONDecodeError:
                    assert index < len(lines) and lines[index].startswith("#"), f"unparsable output: {shown}"
                    shown += lines[index][1:].strip()
                    index += 1
            command, previous = steps[-1]
            assert previous is None, f"two outputs shown for {command}"
            steps[-1] = (command, parsed)
            continue
        if line.startswith("#"):
            continue
        command = line
        while command.rstrip().endswith(("\\", "|")):
            command += "\n" + lines[index]
            index += 1
        steps.append((command, None))
    return steps


def assert_shape(shown: Any, actual: Any, path: str = "$") -> None:
    if isinstance(shown, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        for key, value in shown.items():
            assert key in actual, f"{path}.{key} is shown but not returned (returned: {sorted(actual)})"
            if key in SHAPE_ONLY:
                assert isinstance(actual[key], type(value)) and all(isinstance(c, str) for c in actual[key])
                assert actual[key], f"{path}.{key} is empty"
                continue
            assert_shape(value, actual[key], f"{path}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), f"{path}: {actual!r}"
        for i, (s, a) in enumerate(zip(shown, actual, strict=True)):
            assert_shape(s, a, f"{path}[{i}]")
    elif isinstance(shown, str) and "…" in shown:
        assert isinstance(actual, str), f"{path}: {actual!r} is not a string"
        pattern = ".*".join(re.escape(fragment) for fragment in shown.split("…"))
        assert re.fullmatch(pattern, actual, re.DOTALL), f"{path}: {actual!r} does not match {shown!r}"
    else:
        assert actual == shown and type(actual) is type(shown), f"{path}: {actual!r}, README shows {shown!r}"


def test_the_readme_walkthrough_prints_what_the_readme_shows(server: str, make_key: Any, worker: Any) -> None:
    key = make_key("ingest", "read", "admin")
    env = {**os.environ, "KEY": key}
    steps = walkthrough()
    assert steps[0][0].startswith("KEY=") and len(steps) >= 6
    compared = 0
    for command, shown in steps[1:]:
        runnable = command.replace("localhost:8000", server.removeprefix("http://")).replace(
            "@../shared/seed/coalition-peacekeeping.txt", f"@{SEED}"
        )
        done = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {runnable}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        output = json.loads(done.stdout)
        if "/v1/articles" in command and "POST" in command:
            article = output["id"]
            processed = wait_for(
                lambda article=article: _processed(server, key, article),
                timeout=120,
                message="the seed article",
            )
            assert processed["status"] == "processed"
            again = subprocess.run(
                ["bash", "-c", runnable], env=env, capture_output=True, text=True, timeout=60
            )
            assert json.loads(again.stdout)["id"] == article and json.loads(again.stdout)["created"] is False
        if shown is not None:
            assert_shape(shown, output)
            compared += 1
    assert compared == 3


def _processed(server: str, key: str, article: str) -> dict[str, Any] | None:
    detail = httpx.get(f"{server}/v1/articles/{article}", headers={"Authorization": f"Bearer {key}"}).json()
    return dict(detail) if detail["status"] not in ("pending", "processing") else None


def test_the_shape_comparison_catches_a_drift() -> None:
    shown = {
        "items": [{"stance": "conditional", "confidence": 0.8, "quote": "…renounce…", "conditions": ["…"]}]
    }
    actual = {
        "items": [
            {"stance": "conditional", "confidence": 0.85, "quote": "to renounce it", "conditions": ["x"]}
        ]
    }
    try:
        assert_shape(shown, actual)
    except AssertionError as exc:
        assert "confidence" in str(exc)
    else:
        raise AssertionError("a different confidence went unnoticed")
    assert_shape({**shown, "items": [{**shown["items"][0], "confidence": 0.85}]}, actual)
