"""The import rules of docs/ARCHITECTURE.md, checked over every module of ``graphiff/``.

Every import counts, including the lazy ones inside functions. The rules:

- each top-level part of the package has a layer, and a module imports only from its own part
  or from a lower layer (the few imports between sibling parts that the document allows are
  listed in :data:`SIBLINGS`);
- the parts import each other without a cycle, and so do the modules at import time;
- no module uses another module's private ``_name``;
- ``tests/`` mirrors the package: one folder per part.

A failure lists every offending import with its file and line.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "graphiff"

#: layer of each top-level part, lowest first; "graphiff" is the package's ``__init__`` (the public API)
LAYERS: dict[str, int] = {
    "errors": 0,
    "model": 1,
    "stores": 2,
    "ingest": 3,
    "graph": 4, "alerts": 4, "casework": 4,
    "detectors": 5, "explore": 5, "charts": 5, "share": 5, "resolve": 5, "search": 5, "targeting": 5,
    "samples": 6, "demo": 6, "workbench": 6, "case_export": 6, "spark": 6,
    "graphiff": 7,
    "cli": 8,
}

#: imports allowed between parts of the same layer (importer, imported)
SIBLINGS: set[tuple[str, str]] = {
    ("alerts", "graph"),   # the alert codec reads alerts back from a store's tables
    ("demo", "samples"),   # the demo generates a sample world
    ("casework", "alerts"),  # triage keeps the alerts as last found
    ("workbench", "case_export"),  # the workbench exports cases as the CLI does
}


@dataclass(frozen=True)
class Import:
    """One import of a graphiff module by another: ``name`` is set for ``from module import name``."""

    importer: str
    module: str
    name: str | None
    file: str
    line: int
    top_level: bool  # executed when the importer is imported (not inside a function)

    def __str__(self) -> str:
        target = f"{self.module}.{self.name}" if self.name else self.module
        return f"{self.file}:{self.line}: {self.importer} imports {target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(module: str) -> bool:
    return MODULES.get(module, Path()).name == "__init__.py"


def part_of(module: str) -> str:
    """The top-level part a module belongs to (``graphiff`` for the package's own ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def owning_module(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a graphiff module, or None outside graphiff."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in MODULES:
            return candidate
    return None


class _Collector(ast.NodeVisitor):
    """Imports and private-name uses of one module."""

    def __init__(self, module: str, path: Path) -> None:
        self.module = module
        self.file = str(path.relative_to(ROOT))
        self.imports: list[Import] = []
        self.private: list[str] = []
        self.aliases: dict[str, str] = {}  # local name -> graphiff module it is bound to
        self.depth = 0

    def _visit_scope(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_scope

    def _add(self, module: str, name: str | None, line: int) -> None:
        self.imports.append(Import(self.module, module, name, self.file, line, self.depth == 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] != "graphiff":
                continue
            self._add(alias.name, None, node.lineno)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases.setdefault("graphiff", "graphiff")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.module.split(".")
            if not is_package(self.module):
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        if base.split(".")[0] != "graphiff":
            return
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in MODULES:  # `from package import module`
                self._add(submodule, None, node.lineno)
                self.aliases[alias.asname or alias.name] = submodule
            else:
                self._add(base, alias.name, node.lineno)
                if _private(alias.name) and owning_module(base) != self.module:
                    self.private.append(f"{self.file}:{node.lineno}: {self.module} imports {base}.{alias.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _private(node.attr):
            chain: list[str] = []
            value: ast.expr = node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in self.aliases:
                dotted = ".".join([self.aliases[value.id], *reversed(chain)])
                owner = owning_module(dotted)
                if owner == dotted and owner != self.module:
                    self.private.append(f"{self.file}:{node.lineno}: {self.module} uses {dotted}.{node.attr}")
        self.generic_visit(node)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _collect() -> tuple[list[Import], list[str]]:
    imports: list[Import] = []
    private: list[str] = []
    for module, path in MODULES.items():
        collector = _Collector(module, path)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        imports += collector.imports
        private += collector.private
    return imports, private


IMPORTS, PRIVATE_USES = _collect()


def _target_part(imp: Import) -> str:
    return part_of(owning_module(imp.module) or imp.module)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_part_has_a_layer():
    unknown = sorted({part_of(m) for m in MODULES} - set(LAYERS))
    assert not unknown, f"parts of graphiff without a layer in docs/ARCHITECTURE.md and LAYERS: {unknown}"


def test_no_upward_import():
    bad = []
    for imp in IMPORTS:
        src, dst = part_of(imp.importer), _target_part(imp)
        if src == dst or dst not in LAYERS or src not in LAYERS:
            continue
        if LAYERS[dst] > LAYERS[src] or (LAYERS[dst] == LAYERS[src] and (src, dst) not in SIBLINGS):
            bad.append(f"{imp}  ({src}, layer {LAYERS[src]} -> {dst}, layer {LAYERS[dst]})")
    assert not bad, "imports against the layers of docs/ARCHITECTURE.md:\n" + "\n".join(bad)


def test_no_cycle_between_parts():
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        src, dst = part_of(imp.importer), _target_part(imp)
        if src != dst:
            edges.setdefault(src, set()).add(dst)
    cycles = _cycles(edges)
    detail = [str(imp) for imp in IMPORTS if part_of(imp.importer) != _target_part(imp)
              and any(part_of(imp.importer) in c and _target_part(imp) in c for c in cycles)]
    assert not cycles, f"import cycles between parts {cycles}:\n" + "\n".join(detail)


def test_no_cycle_between_modules_at_import_time():
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        dst = owning_module(imp.module)
        if imp.top_level and dst and dst != imp.importer:
            edges.setdefault(imp.importer, set()).add(dst)
    cycles = _cycles(edges)
    detail = [str(imp) for imp in IMPORTS if imp.top_level
              and any(imp.importer in c and owning_module(imp.module) in c for c in cycles)]
    assert not cycles, f"module-level import cycles {cycles}:\n" + "\n".join(detail)


def test_no_private_name_of_another_module():
    assert not PRIVATE_USES, "private names used outside their module:\n" + "\n".join(PRIVATE_USES)


def test_tests_mirror_the_package():
    parts = {part_of(m) for m in MODULES}
    folders = sorted(p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    strays = [f for f in folders if f not in parts]
    assert not strays, f"tests/ folders that are not parts of graphiff/: {strays}"
    loose = sorted(p.name for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name)
    assert not loose, f"tests at the top of tests/ (move them into the folder of the part they test): {loose}"


def test_the_rules_see_lazy_imports():
    """The checker itself: imports inside functions count, and ``from package import module`` is a module."""
    lazy = [imp for imp in IMPORTS if imp.importer.startswith("graphiff.cli.") and not imp.top_level]
    assert lazy, "the CLI's lazy imports were not collected"
    assert owning_module("graphiff.detectors.registry.REGISTRY") == "graphiff.detectors.registry"
    assert part_of("graphiff") == "graphiff" and part_of("graphiff.graph.select") == "graph"
