"""The locale files (bot/locales/*.yaml) and their strict loader: a mistake in a file is a clear error naming the
file and the key, never a text silently lost or replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.texts import LOCALES_DIR, TEXTS, LocaleError, load_locales, t, texts_of

DOMAINS = {"common", "policy", "care", "filing", "staff", "alerts"}


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def _error(directory: Path) -> str:
    with pytest.raises(LocaleError) as caught:
        load_locales(directory)
    return str(caught.value)


def test_the_shipped_files_load_one_domain_each():
    domains = load_locales(LOCALES_DIR)
    assert set(domains) == DOMAINS
    assert sum(map(len, domains.values())) == len(TEXTS)
    for domain, entries in domains.items():
        assert dict(texts_of(domain)) == entries
    assert "care_label_营利性" in texts_of("care") and t("care_label_营利性", "en") == "for-profit"


def test_each_file_says_what_it_holds_and_that_placeholders_must_match():
    for path in LOCALES_DIR.glob("*.yaml"):
        head = path.read_text(encoding="utf-8").split("\n\n")[0]
        assert head.startswith("# ") and "placeholders must match between zh and en" in head, path.name


def test_texts_are_read_only_and_an_unknown_domain_is_named():
    with pytest.raises(TypeError):
        TEXTS["start"] = {"zh": "x"}  # type: ignore[index]
    with pytest.raises(KeyError, match="no locale file nope.yaml"):
        texts_of("nope")


def test_a_small_directory_loads(tmp_path):
    _write(tmp_path, "a.yaml", "hello:\n  zh: 你好，{name}\n  en: 'Hello, {name}'\nmulti:\n  zh: |-\n    一\n    二\n")
    _write(tmp_path, "b.yaml", "bye:\n  zh: 再见\n")
    assert load_locales(tmp_path) == {
        "a": {"hello": {"zh": "你好，{name}", "en": "Hello, {name}"}, "multi": {"zh": "一\n二"}},
        "b": {"bye": {"zh": "再见"}},
    }


def test_a_key_written_twice_in_one_file(tmp_path):
    _write(tmp_path, "care.yaml", "a:\n  zh: 一\nb:\n  zh: 二\na:\n  zh: 三\n")
    message = _error(tmp_path)
    assert "care.yaml" in message and "'a'" in message and "twice" in message and "lines 1 and 5" in message


def test_a_language_written_twice_in_one_entry(tmp_path):
    _write(tmp_path, "care.yaml", "a:\n  zh: 一\n  en: one\n  en: two\n")
    message = _error(tmp_path)
    assert "care.yaml" in message and "'en'" in message and "twice" in message


def test_a_key_in_two_files(tmp_path):
    _write(tmp_path, "care.yaml", "shared:\n  zh: 一\n")
    _write(tmp_path, "staff.yaml", "own:\n  zh: 二\nshared:\n  zh: 三\n")
    message = _error(tmp_path)
    assert "staff.yaml" in message and "'shared'" in message and "care.yaml" in message


def test_an_entry_without_chinese(tmp_path):
    _write(tmp_path, "policy.yaml", "fine:\n  zh: 好\nno_zh:\n  en: English only\n")
    message = _error(tmp_path)
    assert "policy.yaml" in message and "no_zh" in message and "zh" in message


@pytest.mark.parametrize(
    "value",
    [
        "42",  # a number
        "no",  # YAML 1.1 reads a bare no/yes/on/off as a boolean
        "",  # null
        "[a, b]",  # a list
        "{x: y}",  # a mapping
    ],
)
def test_a_value_that_is_not_a_string(tmp_path, value):
    _write(tmp_path, "alerts.yaml", f"fine:\n  zh: 好\nbad:\n  zh: 坏\n  en: {value}\n")
    message = _error(tmp_path)
    assert "alerts.yaml" in message and "bad" in message and "not a string" in message


def test_an_entry_that_is_not_a_mapping(tmp_path):
    _write(tmp_path, "common.yaml", "flat: 只有一句\n")
    message = _error(tmp_path)
    assert "common.yaml" in message and "flat" in message


def test_broken_yaml_and_an_empty_directory(tmp_path):
    assert "no locale files" in _error(tmp_path)
    _write(tmp_path, "filing.yaml", "a:\n  zh: '没有结束\n")
    assert "filing.yaml" in _error(tmp_path)


def test_a_file_that_is_not_utf8(tmp_path):
    (tmp_path / "staff.yaml").write_bytes("a:\n  zh: 工作人员\n".encode("gbk"))
    assert "staff.yaml" in _error(tmp_path)
