"""`stance extract FILE...`: run the extractor offline over article files."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from services.extraction.schemas import ArticleText, Claim

FORMATS = ("jsonl", "json", "table")


def read_article(path: Path) -> ArticleText:
    """A `.json` file carries body, title and published_at; anything else is the body itself."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() != ".json":
        return ArticleText(body=text)
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        raise ValueError(f"{path}: a .json article needs a string 'body'")
    published = data.get("published_at")
    return ArticleText(
        body=data["body"],
        title=data.get("title"),
        published_at=datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None,
    )


def claim_row(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json")


def extract(
    files: Annotated[
        list[Path], typer.Argument(help="Article files: .txt bodies or .json with body/title/published_at.")
    ],
    format: Annotated[
        str, typer.Option("--format", help="jsonl (one line per file), json or table.")
    ] = "jsonl",
    pack: Annotated[Path | None, typer.Option("--pack", help="Domain pack file (YAML or JSON).")] = None,
    rules: Annotated[
        bool, typer.Option("--rules", help="The rules alone, without the learned decision.")
    ] = False,
) -> None:
    """Extract stance claims from article files, offline."""
    from services.extraction.domain import DomainPackError
    from services.extraction.service import get_extractor, rules_only

    if format not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        articles = [read_article(path) for path in files]
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        extractor = rules_only(pack) if rules else get_extractor(pack)
    except DomainPackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    results = extractor.extract_many(articles)
    if format == "jsonl":
        for path, claims in zip(files, results, strict=True):
            sys.stdout.write(
                json.dumps({"input": str(path), "claims": [claim_row(c) for c in claims]}) + "\n"
            )
    elif format == "json":
        payload = [
            {"input": str(path), "claims": [claim_row(c) for c in claims]}
            for path, claims in zip(files, results, strict=True)
        ]
        sys.stdout.write(json.dumps({"extractor": extractor.version, "results": payload}, indent=2) + "\n")
    else:
        for path, claims in zip(files, results, strict=True):
            typer.echo(_table(path, claims))


def _table(path: Path, claims: list[Claim]) -> str:
    lines = [f"{path}: {len(claims)} claim(s)"]
    if not claims:
        return lines[0]
    header = ("actor", "topic", "stance", "conf", "speaker")
    rows = [(c.actor, c.topic, c.stance, f"{c.confidence:.2f}", c.speaker or "-") for c in claims]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for claim, row in zip(claims, rows, strict=True):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        for condition in claim.conditions:
            lines.append(f"    if: {condition}")
        lines.append(f"    \u201c{claim.quote}\u201d")
    return "\n".join(lines)


if __name__ == "__main__":
    typer.run(extract)
