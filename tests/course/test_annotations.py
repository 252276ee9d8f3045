"""Every public function of the package has type hints (mypy checks them: ``pyproject.toml``, ``[tool.mypy]``).

Public: a module-level function or a method of a public class whose name does
not start with ``_`` (``__init__`` and ``__call__`` count). Read from the source,
not imported. The modules in :data:`NOT_YET_ANNOTATED` are the debt left when the
check came in; a new module is held to it at once, and a module that becomes
fully annotated must leave the list.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.course import REPO

#: module path -> what is left to do there (issue 15, item 4)
NOT_YET_ANNOTATED: dict[str, str] = {}


def unannotated(path: Path) -> list[str]:
    """``name(missing, ...)`` of each public function of the module lacking a parameter's or the return's hint."""
    missing: list[str] = []

    def visit(node: ast.AST, prefix: str, public: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", public and not child.name.startswith("_"))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not public or (child.name.startswith("_") and child.name not in ("__init__", "__call__")):
                    continue
                args = child.args
                params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                if prefix and params and params[0].arg in ("self", "cls"):
                    params = params[1:]
                params += [arg for arg in (args.vararg, args.kwarg) if arg is not None]
                lacking = [param.arg for param in params if param.annotation is None]
                if child.returns is None and child.name != "__init__":
                    lacking.append("return")
                if lacking:
                    missing.append(f"{prefix}{child.name}({', '.join(lacking)})")

    visit(ast.parse(path.read_text(encoding="utf-8")), "", True)
    return missing


MODULES = sorted(str(path.relative_to(REPO)) for path in (REPO / "gradebook_tools").rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_public_functions_are_annotated(module):
    missing = unannotated(REPO / module)
    if module in NOT_YET_ANNOTATED:
        assert missing, f"{module} is annotated now: take it off NOT_YET_ANNOTATED"
    else:
        assert missing == [], f"{module}: public functions without type hints"


def test_the_check_sees_a_missing_hint(tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        "def shown(x: int) -> int:\n    return x\n\n\n"
        "def bare(x, *rest) -> None:\n    pass\n\n\n"
        "def _private(x):\n    pass\n"
    )
    assert unannotated(source) == ["bare(x, rest)"]
