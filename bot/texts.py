"""Every user-facing text, in Chinese (default) and English. Handlers never hard-code wording.

The wording lives in `bot/locales/<domain>.yaml` (common, policy, care, filing, staff, alerts), one entry per key
with its translations side by side (`key: {zh: ..., en: ...}`). They are all loaded at import, strictly: a key
written twice in one file or defined in two files, an entry without `zh`, or a value that is not a string is an
error naming the file and the key, so a typo fails at start-up rather than in front of a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.nodes import MappingNode

LOCALES_DIR = Path(__file__).parent / "locales"

#: The YAML loader's base: libyaml's parser when PyYAML was built with it (several times faster).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Texts = Mapping[str, Mapping[str, str]]


class LocaleError(ValueError):
    """A locale file breaks the rules (duplicate or missing key, wrong type); the message names file and key."""


class _UniqueKeyLoader(_SafeLoader):
    """A safe loader that refuses a key written twice in one mapping (PyYAML would keep the last silently)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise LocaleError(f"key {key!r} is written twice (lines {seen[key]} and {line})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _check_entries(data: object) -> dict[str, dict[str, str]]:
    """The entries of one file, checked: `{key: {lang: text}}` with a Chinese text in each."""
    if not isinstance(data, dict):
        raise LocaleError("expected a mapping of text keys")
    for key, variants in data.items():
        if not isinstance(key, str):
            raise LocaleError(f"key {key!r} is not a string")
        if not isinstance(variants, dict):
            raise LocaleError(f"{key}: expected a mapping like {{zh: ..., en: ...}}")
        if "zh" not in variants:
            raise LocaleError(f"{key}: no Chinese (zh) text")
        for lang, text in variants.items():
            if not isinstance(lang, str) or not isinstance(text, str):
                raise LocaleError(f"{key}: the {lang!r} value is not a string: {text!r}")
    return data


def load_locale_file(path: Path) -> dict[str, dict[str, str]]:
    """The checked entries of one locale file; `LocaleError` names the file and what is wrong."""
    try:
        with path.open(encoding="utf-8") as stream:
            return _check_entries(yaml.load(stream, Loader=_UniqueKeyLoader))
    except (LocaleError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LocaleError(f"{path.name}: {exc}") from exc


def load_locales(directory: Path = LOCALES_DIR) -> dict[str, dict[str, dict[str, str]]]:
    """Every `*.yaml` of `directory`, by domain (the file's stem); a key may be defined in one file only."""
    domains: dict[str, dict[str, dict[str, str]]] = {}
    owner: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        entries = load_locale_file(path)
        for key in entries:
            if key in owner:
                raise LocaleError(f"{path.name}: key {key!r} is already defined in {owner[key]}")
            owner[key] = path.name
        domains[path.stem] = entries
    if not domains:
        raise LocaleError(f"no locale files (*.yaml) in {directory}")
    return domains


_DOMAINS = load_locales()
#: Every text by key, all domains together (read-only).
TEXTS: Texts = MappingProxyType({key: entry for entries in _DOMAINS.values() for key, entry in entries.items()})


def texts_of(domain: str) -> Texts:
    """The texts of one locale file (`care`, `policy`, ...), read-only, e.g. to ask whether a key exists."""
    try:
        return MappingProxyType(_DOMAINS[domain])
    except KeyError:
        raise KeyError(f"no locale file {domain}.yaml (known: {', '.join(sorted(_DOMAINS))})") from None


def t(key: str, lang: str = "zh", /, **values: object) -> str:
    """The text for `key` in `lang` (falling back to Chinese), with `values` filled in.

    `key` and `lang` are positional-only, so a placeholder may itself be called `key` or `lang`.
    """
    variants = TEXTS[key]
    template = variants.get(lang) or variants["zh"]
    return template.format(**values) if values else template


def join_names(names: list[str], lang: str = "zh") -> str:
    """Join names for a sentence: 厦门市、张家港市 / Xiamen, Zhangjiagang."""
    return t("list_separator", lang).join(names)
