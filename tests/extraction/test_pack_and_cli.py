"""The domain pack contract and the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from services.extraction import cli
from services.extraction.domain import DEFAULT_PACK_PATH, DomainPackError, load_domain_pack

PACKAGE = Path(cli.__file__).parent


def test_the_default_pack_loads_and_is_cached() -> None:
    pack = load_domain_pack()
    assert pack is load_domain_pack(None)
    assert {a.id for a in pack.actors} >= {"russia", "ukraine", "united-states", "coalition-of-the-willing"}
    assert len(pack.topics) == 10


def test_an_invalid_pack_names_the_file_and_the_field(tmp_path: Path) -> None:
    raw = DEFAULT_PACK_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(raw.replace("  - id: ceasefire\n", "  - id: ceasefire\n    colour: red\n", 1))
    with pytest.raises(DomainPackError) as caught:
        load_domain_pack(broken)
    message = str(caught.value)
    assert str(broken) in message
    assert "topics.0.colour" in message


def test_a_pack_without_cues_is_rejected(tmp_path: Path) -> None:
    pack = load_domain_pack().model_dump()
    pack["topics"][0]["cues"] = []
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack))
    with pytest.raises(DomainPackError, match=r"topics\.0\.cues"):
        load_domain_pack(path)


def test_a_missing_pack_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DomainPackError, match="cannot read domain pack"):
        load_domain_pack(tmp_path / "absent.yaml")


def test_the_code_names_no_actor_or_topic() -> None:
    pack = load_domain_pack()
    names = set()
    for actor in pack.actors:
        names.update([actor.id, actor.name, *actor.aliases, *actor.capitals, *actor.demonyms])
        names.update(person.name for person in actor.persons)
    names.update(topic.id for topic in pack.topics)
    names = {n for n in names if len(n) > 3}
    for source in PACKAGE.glob("*.py"):
        # The default pack's file name is configuration, not a rule.
        text = re.sub(r'"[\w./-]+\.(?:yaml|json)"', '""', source.read_text(encoding="utf-8"))
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), f"{source.name} mentions {name!r}"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(cli.extract)
    return app


def test_cli_jsonl_keeps_the_input_path(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Rome said it backed new sanctions on Russia.")
    doc = tmp_path / "b.json"
    doc.write_text(
        json.dumps({"body": "Ankara offered to host peace talks.", "published_at": "2025-03-01T00:00:00Z"})
    )
    result = CliRunner().invoke(_app(), ["--format", "jsonl", str(text), str(doc)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["input"] for row in rows] == [str(text), str(doc)]
    assert rows[0]["claims"][0]["actor"] == "italy"
    assert set(rows[0]["claims"][0]) >= {
        "actor",
        "topic",
        "stance",
        "conditions",
        "speaker",
        "quote",
        "confidence",
    }


def test_cli_table_and_json(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Kyiv accepted a ceasefire only if Russia stops its attacks.")
    table = CliRunner().invoke(_app(), ["--format", "table", str(text)])
    assert table.exit_code == 0 and "conditional" in table.stdout
    as_json = CliRunner().invoke(_app(), ["--format", "json", str(text)])
    assert json.loads(as_json.stdout)["results"][0]["claims"]


def test_cli_rejects_an_unknown_format(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Nothing here.")
    result = CliRunner().invoke(_app(), ["--format", "xml", str(text)])
    assert result.exit_code != 0


def test_cli_reports_a_broken_pack_without_a_traceback(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Nothing here.")
    broken = tmp_path / "pack.yaml"
    broken.write_text("name: x\nversion: '1'\nactors: []\n")
    result = CliRunner().invoke(_app(), ["--pack", str(broken), str(text)])
    assert result.exit_code == 2
    assert "invalid domain pack" in result.output
