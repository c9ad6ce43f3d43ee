"""The dependency rule of the design: portal -> backorders -> orders -> inventory, with
notifications a leaf any of them may call, restapi the API conventions they share, and
nothing importing portal. Checked on every import statement, including deferred ones."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"portal", "inventory", "orders", "backorders", "notifications", "restapi"}
ALLOWED = {
    "restapi": set(),
    "notifications": {"restapi"},
    "inventory": {"notifications", "restapi"},
    "orders": {"inventory", "notifications", "restapi"},
    "backorders": {"orders", "inventory", "notifications", "restapi"},
    "portal": PROJECT_PACKAGES - {"portal"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & PROJECT_PACKAGES


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_design_allows(package):
    offending = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        imported = _imported_packages(path) - {package} - ALLOWED[package]
        if imported:
            offending[str(path.relative_to(ROOT))] = sorted(imported)
    assert offending == {}
