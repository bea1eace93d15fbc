"""Optional YAML word lists shipped in `knowledge/` (glossary, synonyms)."""

from __future__ import annotations

from pathlib import Path

import yaml


def optional_yaml_list(path: Path) -> list:
    """The list a YAML file holds; empty when the file is missing or empty."""
    if not path.exists():
        return []
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []
