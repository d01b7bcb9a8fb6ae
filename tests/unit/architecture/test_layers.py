"""Dependencies point inward (ARCHITECTURE.md): the inner parts never import the outer ones.

Read from the source with `ast`, so an import inside a function counts as much as one at the
top: a lazy import is still a dependency, and it is how the one this test was written for hid.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "fundtrail"
OUTER = ("cli", "server", "web")
INNER = (
    "chains",
    "chainstore",
    "intelstore",
    "analysis",
    "intel",
    "cases",
    "screen",
    "prices",
    "pictures",
    "model",
)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every `fundtrail...` module that the file imports, with its line."""
    package = ".".join(("fundtrail", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(text: str, package: str) -> list[tuple[int, str]]:
    """The `fundtrail...` modules imported by source `text` of a module in `package`."""
    tree = ast.parse(text)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return [
        (line, name) for line, name in found if name == "fundtrail" or name.startswith("fundtrail.")
    ]


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def modules_in(part: str) -> list[Path]:
    return sorted((SRC / part).rglob("*.py"))


@pytest.mark.parametrize("part", INNER)
def test_inner_parts_never_import_the_cli_the_server_or_the_web(part: str) -> None:
    wrong = [
        f"{path.relative_to(SRC.parent)}:{line} imports {name}"
        for path in modules_in(part)
        for line, name in imports_of(path)
        if part_of(name) in OUTER
    ]
    assert not wrong, "\n".join(wrong)


def test_model_imports_nothing_of_ours_but_errors() -> None:
    wrong = [
        f"{path.relative_to(SRC.parent)}:{line} imports {name}"
        for path in modules_in("model")
        for line, name in imports_of(path)
        if part_of(name) not in ("model", "errors")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_lazy_import() -> None:
    """The walker must find an import inside a function body (how the first violation hid)."""
    text = "def f():\n    from fundtrail.cli.common import progress\n    from ..server import app\n"
    assert [n for _, n in imports_in(text, "fundtrail.chains.bitcoin")] == [
        "fundtrail.cli.common",
        "fundtrail.chains.server",
    ]
