"""Reading the project's imports from its source (AST), without importing anything.

Shared by the layering and the Windows tests: both are claims about which
module imports what, and both must hold on a machine where some of those
modules could not even be imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Directory of each top-level package we ship.
PACKAGES = {"terminal": ROOT / "src" / "terminal", "simulator": ROOT / "simulator"}


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, and whether it runs when the module loads."""

    module: str  # the importing module, dotted
    target: str  # the imported module (``from a.b import c`` gives ``a.b.c`` and ``a.b``)
    line: int
    at_load: bool  # False inside a function body: runs only when that function is called


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the shipped packages, as (dotted name, path)."""
    for package, directory in PACKAGES.items():
        for path in sorted(directory.rglob("*.py")):
            parts = [package, *path.relative_to(directory).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imports(module: str, path: Path) -> Iterator[Import]:
    """The imports in one module's source, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    yield from _walk(tree, module, is_package, at_load=True)


def _walk(node: ast.AST, module: str, is_package: bool, *, at_load: bool) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, module, is_package, at_load=False)
            continue
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield Import(module, alias.name, child.lineno, at_load)
        elif isinstance(child, ast.ImportFrom):
            base = _absolute(child, module, is_package)
            yield Import(module, base, child.lineno, at_load)
            for alias in child.names:
                yield Import(module, f"{base}.{alias.name}", child.lineno, at_load)
        yield from _walk(child, module, is_package, at_load=at_load)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base
