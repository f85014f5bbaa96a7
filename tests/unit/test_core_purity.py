"""The core stays pure: standard library only, and no clock, I/O, threads or randomness.

This is the executable form of docs/architecture.md's first rule (the import-linter contract in
pyproject.toml says the same for third-party packages; this test also bans the standard library's
impure modules and builtins, which import-linter cannot see).
"""

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "smartbms" / "core"

IMPURE_MODULES = frozenset(
    {
        "asyncio", "concurrent", "ctypes", "datetime", "http", "io", "logging",
        "multiprocessing", "os", "pathlib", "queue", "random", "sched", "secrets", "select",
        "selectors", "shutil", "signal", "socket", "sqlite3", "subprocess", "sys", "tempfile",
        "threading", "time", "urllib", "uuid", "zoneinfo",
    }
)  # fmt: skip
IMPURE_BUILTINS = frozenset({"open", "print", "input", "exec", "eval", "__import__", "breakpoint"})


def _core_modules() -> list[Path]:
    modules = sorted(CORE.rglob("*.py"))
    assert modules, f"no modules found under {CORE}"
    return modules


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                roots.add("<relative>")
            elif node.module is not None:
                roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", _core_modules(), ids=lambda p: p.name)
def test_core_imports_only_the_pure_standard_library(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    roots = _imported_roots(tree)
    foreign = {r for r in roots if r != "smartbms" and r not in sys.stdlib_module_names}
    assert not foreign, f"{module.name} imports outside the standard library: {sorted(foreign)}"
    impure = roots & IMPURE_MODULES
    assert not impure, f"{module.name} imports impure modules: {sorted(impure)}"
    assert "<relative>" not in roots, f"{module.name} uses a relative import"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("smartbms"):
            assert node.module.startswith("smartbms.core"), (
                f"{module.name} imports {node.module}: core must not depend on outer layers"
            )


@pytest.mark.parametrize("module", _core_modules(), ids=lambda p: p.name)
def test_core_calls_no_impure_builtin(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & IMPURE_BUILTINS, f"{module.name} calls {sorted(called & IMPURE_BUILTINS)}"


def test_purity_check_catches_a_forbidden_import() -> None:
    """The check itself can fail: a module importing time is caught."""
    tree = ast.parse("import time\nfrom numpy import array\n")
    roots = _imported_roots(tree)
    assert roots & IMPURE_MODULES == {"time"}
    assert "numpy" not in sys.stdlib_module_names
    assert "numpy" in roots
