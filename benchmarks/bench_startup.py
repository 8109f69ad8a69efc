"""Start-up cost: `costcalc estimate --size 1024x1024 -m gpt-4o` and `import costcalc; image_tokens(...)`.

    python benchmarks/bench_startup.py [--runs 30] [--baseline CHECKOUT]

Runs, interleaved so that machine noise hits all alike, N times each:
  bare     - python -c pass
  click    - python -c "import click"          (what every command but the plainest estimate lines needs)
  stdlib   - python -c "import re, decimal, datetime, fractions, zlib"
             (the standard library a lookup is made of: what any costcalc start-up pays)
  estimate - python -m costcalc estimate --size 1024x1024 -m gpt-4o   (cli/quick.py: no click)
  api      - python -c "import costcalc; costcalc.image_tokens(1024, 1024, model='gpt-4o')"
and prints the median wall time of each, each figure over bare Python, the load average, and the heavy
modules each imported (it should import none of them: not click, typing, dataclasses, inspect or pathlib,
which cost 5-35 ms each; costcalc.records stands in for dataclasses and typing). Then, in one process, what loading the
shipped tables costs: from their compiled form (catalog/compiled.py) against parsing and checking the
TOML, best of N. With --baseline, the two commands importing costcalc from another source checkout (an
older commit's worktree) run interleaved too, for before/after ratios.
Every child runs with bytecode caches on (PYTHONDONTWRITEBYTECODE unset) after one untimed warm-up round,
as an installed package runs. Goals (issue 18): estimate <= 50 ms above bare Python; the API call <= 30
ms above it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "bare": [sys.executable, "-c", "pass"],
    "click": [sys.executable, "-c", "import click"],
    "stdlib": [sys.executable, "-c", "import re, decimal, datetime, fractions, zlib"],
    "estimate": [sys.executable, "-m", "costcalc", "estimate", "--size", "1024x1024", "-m", "gpt-4o"],
    "api": [sys.executable, "-c", "import costcalc; costcalc.image_tokens(1024, 1024, model='gpt-4o')"],
}
GOALS = {"estimate": 50, "api": 30}
"""Milliseconds above bare Python each may take (issue 18)."""
HEAVY = ("numpy", "PIL", "httpx2", "httpcore2", "av", "genai_prices", "pydantic", "tiktoken", "openai", "anthropic")
HEAVY += ("click", "typing", "dataclasses", "inspect", "pathlib")


NEUTRAL = tempfile.gettempdir()
"""Each command runs from here: `python -m`/`-c` put the working directory first on sys.path, which would
otherwise pick the checkout the benchmark is started from over PYTHONPATH (and --baseline)."""


BASE_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode caches on, as in an installed package (without them every run compiles every module again)."""

TABLES = """
import sys, time
from costcalc.catalog import compiled, tables
folder = tables.tables_dir()
runs = int(sys.argv[1])

def best(load, reset):
    times = []
    for _ in range(runs):
        reset()
        start = time.perf_counter()
        found = load()
        found.model("gpt-4o"); found.price("gpt-4o")
        times.append(time.perf_counter() - start)
    return min(times)

def fresh():
    compiled._outer.cache_clear(); compiled._matches.cache_clear()

assert compiled.part("tables", folder, tables.compiled_files(folder)) is not None, "the compiled tables are stale"
print(best(lambda: tables._shipped(folder), fresh), best(lambda: tables.read_shipped(folder), fresh))
"""
"""One process: the shipped tables from the compiled file (read, checked against the TOML files, one model and
its price unpickled) against the TOML parsed and checked, best of N each."""


def _time(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or BASE_ENV, cwd=NEUTRAL
    )
    return time.perf_counter() - start


def heavy_imports(command: list[str]) -> list[str]:
    """The heavy top-level modules a command imports, from `python -X importtime`."""
    here = {**BASE_ENV, "PYTHONPATH": os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))}
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        capture_output=True,
        text=True,
        check=True,
        cwd=NEUTRAL,
        env=here,
    )
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(names & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline", metavar="CHECKOUT", help="another source checkout to time the same command from")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    here = {**BASE_ENV, "PYTHONPATH": os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))}
    envs = {"estimate": here, "api": here}
    if args.baseline:
        for name in GOALS:
            commands[f"{name}@baseline"] = COMMANDS[name]
            envs[f"{name}@baseline"] = {**BASE_ENV, "PYTHONPATH": os.path.abspath(args.baseline)}
    times: dict[str, list[float]] = {name: [] for name in commands}
    load = os.getloadavg()[0]
    for name, command in commands.items():  # warm-up: bytecode caches written, files in the page cache
        _time(command, envs.get(name))
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_time(command, envs.get(name)))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs); {args.runs} runs")
    for name in commands:
        over = (median[name] - median["bare"]) * 1000
        print(
            f"{name:<17} median {median[name] * 1000:7.1f} ms   best {min(times[name]) * 1000:7.1f} ms"
            f"   +{over:6.1f} ms over bare"
        )
    for name, goal in GOALS.items():
        over = (median[name] - median["bare"]) * 1000
        best = (min(times[name]) - min(times["bare"])) * 1000
        print(
            f"{name}: +{over:.1f} ms over bare Python (best of each: +{best:.1f} ms; "
            f"goal <= {goal} ms: {'met' if over <= goal else 'NOT met'})"
        )
        if args.baseline:
            before = (median[f"{name}@baseline"] - median["bare"]) * 1000
            print(
                f"  baseline +{before:.1f} ms over bare; baseline / now: {median[f'{name}@baseline'] / median[name]:.2f}x "
                f"wall, {before / max(over, 0.1):.2f}x over bare"
            )
    for name in GOALS:
        heavy = heavy_imports(COMMANDS[name])
        print(f"heavy modules imported by {name}: {', '.join(heavy) if heavy else 'none'}")
    done = subprocess.run(
        [sys.executable, "-c", TABLES, str(args.runs)],
        capture_output=True,
        text=True,
        check=True,
        env=here,
        cwd=NEUTRAL,
    )
    fast, slow = (float(value) for value in done.stdout.split())
    print(
        f"shipped tables, one process, best of {args.runs}: compiled {fast * 1000:.2f} ms, "
        f"TOML parsed and checked {slow * 1000:.1f} ms ({slow / fast:.0f}x)"
    )


if __name__ == "__main__":
    main()
