"""Every cross-reference in the docstrings and the docs names something that exists.

Read from the docstrings of ``gradebook_tools/``, ``tests/`` and ``benchmarks/``
(parsed, not run) and from ``README.md`` and ``docs/*.md``:

- dotted names (``gradebook_tools.<layer>.<module>.<name>``) resolve to a module, or to a name in one
  (a function, class, constant, trait or dataclass field);
- the roles ``:mod:``, ``:func:``, ``:class:``, ``:meth:``, ``:attr:``,
  ``:data:`` and ``:exc:`` resolve, relative names from where they are written;
- ``layer.module`` names in double backticks (``engine.task``) are read
  relative to the package and resolve too;
- paths of the repository (``gradebook_tools/...``, ``tests/...``, ``docs/...``,
  ``benchmarks/...``, ``scripts/...``), file names such as ``kernel_client.py``,
  and the docs' links to other files exist.

Names with placeholders (``<id>``, ``*``) are patterns, not references.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.support.course import REPO

PACKAGE = "gradebook_tools"
LAYERS = {path.name for path in (REPO / PACKAGE).iterdir() if path.is_dir() and (path / "__init__.py").exists()}
ROOTS = ("gradebook_tools", "tests", "docs", "benchmarks", "scripts")

DOTTED = re.compile(r"(?<![\w/.-])(gradebook_tools(?:\.\w+)+)")
ROLE = re.compile(r":(mod|func|class|meth|attr|data|exc|obj):`(~?\.?[A-Za-z_][\w.]*)(?:\(\))?`")
BACKTICKED = re.compile(r"``([A-Za-z_][\w.]*)``")
PATH = re.compile(r"(?<![\w/.~-])((?:" + "|".join(ROOTS) + r")/[\w./<>*{}-]*)")
FILE = re.compile(r"(?<![\w/<>*.-])([\w/-]*[A-Za-z_][\w-]*\.(?:py|md|sh))\b")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PLACEHOLDER = re.compile(r"[<>*{}]")
#: ``gradebook.db``, ``docs/gradebook_tools.md``: file names, not dotted names
FILE_SUFFIXES = {"py", "md", "db", "sh", "csv", "json", "html", "ipynb", "toml", "log", "j2", "txt"}


@dataclass(frozen=True)
class Text:
    """A docstring or a doc, and where it was written (for relative names)."""

    where: str  # file:line
    text: str
    path: Path
    module: str | None = None  # the module of a docstring
    scope: str | None = None  # the class whose docstring or method's docstring it is


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _docstrings(path: Path) -> list[Text]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    found: list[Text] = []
    relative = path.relative_to(REPO)

    def visit(node: ast.AST, scope: str | None) -> None:
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                line = node.body[0].lineno
                found.append(Text(f"{relative}:{line}", doc, path, module, scope))
        for child in body or ():
            if isinstance(child, ast.ClassDef):
                visit(child, child.name if scope is None else f"{scope}.{child.name}")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, scope)

    visit(tree, None)
    return found


def texts() -> list[Text]:
    found: list[Text] = []
    for folder in ("gradebook_tools", "tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found += _docstrings(path)
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        found.append(Text(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"), path))
    return found


@cache
def _module(name: str) -> object | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated aliases warn on import
        try:
            return importlib.import_module(name)
        except ImportError:
            return None


@cache
def _assigned_names(module_file: str) -> frozenset[str]:
    """Names assigned anywhere in a module's source (``self.x = ...`` too): attributes made at run time."""
    names = set()
    for node in ast.walk(ast.parse(Path(module_file).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def _has(owner: object, name: str, module: object) -> bool:
    if hasattr(owner, name):
        return True
    fields = getattr(owner, "__dataclass_fields__", {})
    annotations = getattr(owner, "__annotations__", {})
    if name in fields or name in annotations:
        return True
    source = getattr(module, "__file__", None)
    return isinstance(owner, type) and source is not None and name in _assigned_names(source)


def resolves(dotted: str) -> bool:
    """Whether ``a.b.c`` is a module, or a name (a chain of attributes) in the longest module prefix."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        module = _module(".".join(parts[:split]))
        if module is None:
            continue
        owner: object = module
        for name in parts[split:]:
            if not _has(owner, name, module):
                return False
            owner = getattr(owner, name, None)
        return True
    return False


def role_resolves(target: str, text: Text) -> bool:
    target = target.strip().lstrip("~").rstrip("()")
    candidates = []
    if target.startswith("."):
        name = target.lstrip(".")
        module = text.module or PACKAGE
        package = module.rsplit(".", 1)[0]
        candidates += [f"{module}.{name}", f"{package}.{name}", f"{PACKAGE}.{name}"]
    else:
        if text.module:
            if text.scope:
                candidates.append(f"{text.module}.{text.scope}.{target}")
            candidates.append(f"{text.module}.{target}")
            candidates.append(f"{text.module.rsplit('.', 1)[0]}.{target}")
        candidates += [target, f"{PACKAGE}.{target}"]
    if "." not in target and (hasattr(builtins, target) or target in _defined_in_package()):
        return True  # a bare name: a builtin, or defined somewhere in the package
    return any(resolves(candidate) for candidate in candidates)


@cache
def _defined_in_package() -> frozenset[str]:
    names: set[str] = set()
    for path in (REPO / PACKAGE).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return frozenset(names)


@cache
def _repository_files() -> tuple[str, ...]:
    files = []
    for root in ("gradebook_tools", "tests", "docs", "benchmarks", "scripts", ".githooks"):
        files += [str(p.relative_to(REPO)) for p in (REPO / root).rglob("*") if "__pycache__" not in p.parts]
    files += [p.name for p in REPO.iterdir() if p.is_file()]
    return tuple(files)


def file_exists(name: str) -> bool:
    """A path from the repository's root, or the end of one (``kernel_client.py``, ``engine/task.py``)."""
    name = name.rstrip("/")
    if (REPO / name).exists():
        return True
    return any(path == name or path.endswith("/" + name) for path in _repository_files())


def broken_references(text: Text) -> list[str]:
    broken = []
    for name in DOTTED.findall(text.text):
        if name.rsplit(".", 1)[1] not in FILE_SUFFIXES and not resolves(name):
            broken.append(name)
    for _, target in ROLE.findall(text.text):
        if not role_resolves(target, text):
            broken.append(f"`{target}`")
    for name in BACKTICKED.findall(text.text):
        first = name.split(".")[0]
        if "." in name and first in LAYERS and name.rsplit(".", 1)[1] not in FILE_SUFFIXES:
            if not resolves(f"{PACKAGE}.{name}"):
                broken.append(f"``{name}``")
    for path in PATH.findall(text.text):
        path = path.rstrip(".,;:")
        if not PLACEHOLDER.search(path) and not (REPO / path).exists():
            broken.append(path)
    for name in FILE.findall(text.text):
        if name.startswith("/") or PLACEHOLDER.search(name):
            continue  # a system path, or a pattern
        if "/" not in name and text.path.suffix == ".md":
            continue  # the docs name files the reader makes (nbgrader_config.py, ...): paths only
        if not file_exists(name):
            broken.append(name)
    if text.path.suffix == ".md":
        for link in LINK.findall(text.text):
            if "://" in link or link.startswith("mailto:") or PLACEHOLDER.search(link) or not re.search(r"[./]", link):
                continue
            if not (text.path.parent / link).exists():
                broken.append(f"({link})")
    return sorted(set(broken))


TEXTS = texts()
FILES = sorted({str(text.path.relative_to(REPO)) for text in TEXTS})


def test_references_are_found_in_docstrings_and_docs():
    """The reading itself works: the guide's references are seen, and broken ones are caught."""
    guide = next(text for text in TEXTS if text.where == "docs/developing.md")
    assert DOTTED.findall(guide.text) and PATH.findall(guide.text) and LINK.findall(guide.text)
    fake = Text(
        "example",
        "See :func:`.no_such`, gradebook_tools/batch/engines.py, ``batch.dask``.",
        REPO,
        "gradebook_tools.engine",
    )
    assert broken_references(fake) == ["`.no_such`", "``batch.dask``", "gradebook_tools/batch/engines.py"]


@pytest.mark.parametrize("file", FILES)
def test_every_cross_reference_resolves(file):
    broken = {
        text.where: found
        for text in TEXTS
        if str(text.path.relative_to(REPO)) == file
        if (found := broken_references(text))
    }
    assert broken == {}, "these name what does not exist"
