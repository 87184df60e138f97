"""The apps depend on each other one way only, read from every module's own imports.

accounts ← crm (the address book) ← pipeline ← reports. A lower app shows a higher app's
data by loading it from that app's URL, never by importing it. ``crm/urls.py`` and
``crm/settings.py`` are the composition root and may name every app; migrations are left
out (they name models by app label, not by import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("accounts", "crm", "pipeline", "reports")
COMPOSITION_ROOT = {"crm/urls.py", "crm/settings.py"}
FORBIDDEN = {
    "accounts": {"crm", "pipeline", "reports"},
    "crm": {"pipeline", "reports"},
    "pipeline": {"reports"},
    "reports": set(),
}


def modules() -> list[Path]:
    found = []
    for app in OURS:
        folder = ROOT / app
        if folder.is_dir():
            found += [p for p in folder.rglob("*.py") if "migrations" not in p.parts]
    return sorted(found)


def imported_apps(path: Path) -> set[str]:
    """The first-party packages a module imports, at any depth (functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(OURS)


def test_every_app_is_read():
    read = {path.relative_to(ROOT).parts[0] for path in modules()}
    assert {"accounts", "crm", "pipeline"} <= read


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_imports_no_app_above_its_own(path):
    relative = str(path.relative_to(ROOT))
    if relative in COMPOSITION_ROOT:
        return
    app = path.relative_to(ROOT).parts[0]
    assert not imported_apps(path) & FORBIDDEN[app], relative


def test_the_rule_catches_an_upward_import(tmp_path):
    module = tmp_path / "upward.py"
    module.write_text("def f():\n    from pipeline.models import Deal\n    return Deal\n")
    assert imported_apps(module) & FORBIDDEN["crm"] == {"pipeline"}
