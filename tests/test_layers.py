"""The package's imports point one way, as ARCHITECTURE.md's `Layers:` list says, and form no circle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "costcalc"


def layers() -> dict[str, int]:
    """Each top-level module or package of costcalc → its layer number, read from ARCHITECTURE.md."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    block = text.split("Layers:", 1)[1]
    found: dict[str, int] = {}
    for line in block.splitlines()[1:]:
        match = re.match(r"\s*(\d+)\.\s+(.*)", line)
        if not match:
            if found:
                break
            continue
        for name in re.findall(r"`([\w.]+)`", match[2]):
            found[name] = int(match[1])
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every costcalc module `path` imports, at any depth of the file (function-level imports too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("costcalc"):
                continue
            for alias in node.names:  # `from . import x` may name a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("costcalc"))
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    known = layers()
    missing = sorted({top(module_name(p)) for p in PACKAGE.rglob("*.py")} - set(known))
    assert not missing, f"modules or packages without a layer in ARCHITECTURE.md: {missing}"


def test_no_import_points_down_the_layers():
    known = layers()
    wrong = [f"{module_name(path)} (layer {known[top(module_name(path))]}) imports {target} "
             f"(layer {known[top(target)]})"
             for path in sorted(PACKAGE.rglob("*.py")) for target in sorted(imports(path))
             if known[top(target)] > known[top(module_name(path))]]
    assert not wrong, "imports against the layer order in ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_no_import_circle():
    graph = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                circles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_catalog_modules_and_functions_stay_small():
    """The table code in modules under 600 lines (rows, loading, lookup) and functions under 60."""
    for path in sorted((Path(__file__).resolve().parent.parent / "costcalc" / "catalog").glob("*.py")):
        source = path.read_text()
        assert source.count("\n") < 600, path
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno + 1 < 60, f"{path.name}: {node.name}"
