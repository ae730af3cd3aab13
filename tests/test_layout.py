"""The house stays readable: small modules, names that cannot be confused, a README that shows the tree."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "webapp"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 400


def _packages() -> list[Path]:
    return sorted(p.parent for p in PACKAGE.rglob("__init__.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_line_limit(module):
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(ROOT)} has {lines} lines; split it by what it owns"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_owns(module):
    assert ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))), f"{module.relative_to(ROOT)} has no docstring"


def confusable(a: str, b: str) -> bool:
    """True when two names share most of their letters and differ only at the end (search/searching)."""
    shared = len(os.path.commonprefix([a, b]))
    return a != b and shared >= 5 and shared >= 0.7 * min(len(a), len(b))


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("search", "searching", True),
    ("compare", "comparison", True),
    ("related", "relating", True),
    ("labels", "links", False),
    ("records", "reconcile", False),
])
def test_confusable_names_are_recognised(a, b, expected):
    assert confusable(a, b) is expected


@pytest.mark.parametrize("package", _packages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_two_modules_of_a_package_differ_only_by_a_suffix(package):
    names = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    names += sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists())
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if confusable(a, b)]
    assert not pairs, f"names in {package.relative_to(ROOT)} that read alike: {pairs}"


def test_the_readme_layout_names_every_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Project layout", 1)[1].split("\n## ", 1)[0]
    missing = [str(p.relative_to(ROOT)) for p in _packages() if f"{p.relative_to(ROOT)}/" not in layout]
    assert not missing, f"README's Project layout does not show {missing}"
