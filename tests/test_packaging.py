"""Everything the product reads at run time ships in a built wheel: each data file under a package is covered
by a `[tool.setuptools.package-data]` pattern of pyproject.toml (a wheel leaves out any file that is not)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]


def _data_files(package: str) -> list[Path]:
    base = ROOT / package
    return [
        p.relative_to(base) for p in base.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]


@pytest.mark.parametrize("package", ["bot", "knowledge"])
def test_every_data_file_is_declared_as_package_data(package):
    declared = {p.relative_to(ROOT / package) for pattern in PACKAGE_DATA.get(package, [])
                for p in (ROOT / package).glob(pattern)}  # globbed from the package folder, as setuptools does
    data = _data_files(package)
    assert data, f"{package}/ has data files to check"
    missing = [str(p) for p in data if p not in declared]
    assert missing == [], f"not in the wheel: {missing}"
