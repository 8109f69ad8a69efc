"""No module of costcalc over 600 lines of code and no function over 60 (issue 16).

A line of code is a source line that is not blank, not a comment and not inside a docstring or any other
string-expression statement; a function's lines include those of the functions nested in it. Counted on the
tree as it is, which `ruff format` (line length 120) keeps formatted.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "costcalc"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60

STILL_OVER: dict[str, tuple[str, ...]] = {}
"""The offenders left (issue 16), by module: none; a module or function named here is let through by the first test
while a branch splits it (the test of the whole package stays strict)."""


def _string_statements(tree: ast.AST) -> list[tuple[int, int]]:
    """The line ranges of docstrings and other string-expression statements."""
    return [
        (node.lineno, node.end_lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    ]


def _code_lines(lines: list[str], start: int, end: int, strings: list[tuple[int, int]]) -> int:
    """Lines `start`..`end` (1-based, inclusive) that are code: not blank, not a comment, not in a string."""
    count = 0
    for number in range(start, end + 1):
        text = lines[number - 1].strip()
        if not text or text.startswith("#") or any(a <= number <= b for a, b in strings):
            continue
        count += 1
    return count


def offenders(source: str, where: str) -> list[tuple[str, str, int]]:
    """(where, what, code lines) of the module `source` and each of its functions over the limits."""
    tree = ast.parse(source)
    lines = source.splitlines()
    strings = _string_statements(tree)
    found = []
    total = _code_lines(lines, 1, len(lines), strings)
    if total > MAX_MODULE_LINES:
        found.append((where, "the module", total))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            count = _code_lines(lines, node.lineno, node.end_lineno, strings)
            if count > MAX_FUNCTION_LINES:
                found.append((where, node.name, count))
    return found


def package_offenders() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += offenders(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    return found


def _shown(found: list[tuple[str, str, int]]) -> str:
    return "\n".join(f"{where}: {what} has {count} lines of code" for where, what, count in found)


def test_the_counter_skips_blanks_comments_and_strings():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    source = textwrap.dedent(
        '''\
        """Module docstring."""


        def f(a):
            """A docstring
            of two lines."""
            # a comment

            """A string statement."""
        '''
    )
    at_limit = source + body + "\n"  # def line + 59 assignments: 60 lines of code
    assert offenders(at_limit, "m.py") == []
    over = at_limit + "    return a\n"
    assert offenders(over, "m.py") == [("m.py", "f", 61)]
    nested = "def outer():\n" + textwrap.indent(over, "    ")
    assert offenders(nested, "m.py") == [("m.py", "outer", 62), ("m.py", "f", 61)]
    module = "\n".join(f"y{i} = {i}" for i in range(MAX_MODULE_LINES + 1)) + '\n"""not code"""\n# nor this\n'
    assert offenders(module, "m.py") == [("m.py", "the module", MAX_MODULE_LINES + 1)]


def test_no_new_module_or_function_over_the_limits():
    """Strict for everything but the offenders other branches are splitting."""
    new = [item for item in package_offenders() if item[1] not in STILL_OVER.get(item[0], ())]
    assert not new, "over the limits of issue 16 (600 lines a module, 60 a function):\n" + _shown(new)


def test_no_module_over_600_lines_and_no_function_over_60():
    found = package_offenders()
    assert not found, "over the limits of issue 16 (600 lines a module, 60 a function):\n" + _shown(found)


def test_no_formatter_escapes():
    """`ruff format` formats every file whole (issue 16): no `fmt: skip` / `fmt: off` left to hide a long line."""
    marker = "fmt" + ":"  # not the marker itself, so this file does not match
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("costcalc", "tests", "benchmarks", "tables")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if f"# {marker} skip" in line or f"# {marker} off" in line
    ]
    assert not found, found
