"""Start-up cost: `costcalc estimate --size 1024x1024 -m gpt-4o` and `import costcalc; image_tokens(...)`.

    python benchmarks/bench_startup.py [--runs 30] [--baseline CHECKOUT]

Runs, interleaved so that machine noise hits all alike, N times each:
  bare     - python -c pass
  click    - python -c "import click"          (every command needs click)
  estimate - python -m costcalc estimate --size 1024x1024 -m gpt-4o
  api      - python -c "import costcalc; costcalc.image_tokens(1024, 1024, model='gpt-4o')"
and prints the median wall time of each, each costcalc figure over bare Python, and the heavy modules
the command imported (it should import none of them). With --baseline, the same two importing costcalc
from another source checkout (an older commit's worktree) run interleaved too, for before/after ratios.
Goals (issue 18): estimate <= 50 ms above bare Python; the API call <= 30 ms above it.
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
    "estimate": [sys.executable, "-m", "costcalc", "estimate", "--size", "1024x1024", "-m", "gpt-4o"],
    "api": [sys.executable, "-c", "import costcalc; costcalc.image_tokens(1024, 1024, model='gpt-4o')"],
}
GOALS = {"estimate": 50, "api": 30}
"""Milliseconds above bare Python each may take (issue 18)."""
HEAVY = ("numpy", "PIL", "httpx2", "httpcore2", "av", "genai_prices", "pydantic", "tiktoken", "openai", "anthropic")


NEUTRAL = tempfile.gettempdir()
"""Each command runs from here: `python -m`/`-c` put the working directory first on sys.path, which would
otherwise pick the checkout the benchmark is started from over PYTHONPATH (and --baseline)."""


def _time(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=NEUTRAL)
    return time.perf_counter() - start


def heavy_imports(command: list[str]) -> list[str]:
    """The heavy top-level modules a command imports, from `python -X importtime`."""
    here = {**os.environ, "PYTHONPATH": os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))}
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
    here = {**os.environ, "PYTHONPATH": os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))}
    envs = {"estimate": here, "api": here}
    if args.baseline:
        for name in GOALS:
            commands[f"{name}@baseline"] = COMMANDS[name]
            envs[f"{name}@baseline"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_time(command, envs.get(name)))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name in commands:
        print(f"{name:<17} median {median[name] * 1000:7.1f} ms   best {min(times[name]) * 1000:7.1f} ms")
    for name, goal in GOALS.items():
        over = (median[name] - median["bare"]) * 1000
        print(f"{name}: +{over:.1f} ms over bare Python (goal <= {goal} ms: {'met' if over <= goal else 'NOT met'})")
        if args.baseline:
            before = (median[f"{name}@baseline"] - median["bare"]) * 1000
            print(
                f"  baseline +{before:.1f} ms over bare; baseline / now: {median[f'{name}@baseline'] / median[name]:.2f}x "
                f"wall, {before / max(over, 0.1):.2f}x over bare"
            )
    heavy = heavy_imports(COMMANDS["estimate"])
    print(f"heavy modules imported by estimate: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
