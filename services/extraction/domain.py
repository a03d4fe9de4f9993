"""Loading and validating domain packs (YAML or JSON files)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.extraction.schemas import DomainPack

DEFAULT_PACK_PATH = Path(__file__).parent / "packs" / "ukraine.yaml"


class DomainPackError(ValueError):
    """A domain pack that cannot be read or does not validate; the message names file and field."""


def load_domain_pack(path: Path | str | None = None) -> DomainPack:
    """The pack at `path` (the shipped default when None), validated; cached per resolved path."""
    resolved = Path(path).expanduser().resolve() if path is not None else DEFAULT_PACK_PATH
    return _load_cached(resolved)


@lru_cache(maxsize=8)
def _load_cached(path: Path) -> DomainPack:
    raw = _read(path)
    try:
        return DomainPack.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
            for error in exc.errors()
        )
        raise DomainPackError(f"invalid domain pack {path}: {problems}") from exc


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DomainPackError(f"cannot read domain pack {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DomainPackError(
            f"domain pack {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"
        ) from exc
