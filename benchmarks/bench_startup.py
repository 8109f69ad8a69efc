"""Start-up cost of a command: `costcalc estimate --size 1x1 -m gpt-4o` against `python -c "import click"`.

    python benchmarks/bench_startup.py [--runs 30] [--baseline CHECKOUT]

Runs, interleaved so that machine noise hits all alike, N times each:
  bare     - python -c pass
  click    - python -c "import click"          (the floor: every command needs click)
  estimate - python -m costcalc estimate --size 1x1 -m gpt-4o
and prints the median wall time of each, costcalc's time over click's (a ratio),
and the heavy modules the command imported (it should import none of them). With --baseline,
the same command importing costcalc from another source checkout (an older commit's worktree)
runs interleaved too, for a before/after ratio.
Goal (issue 10): `import costcalc` and each command import only what they use.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "bare": [sys.executable, "-c", "pass"],
    "click": [sys.executable, "-c", "import click"],
    "estimate": [sys.executable, "-m", "costcalc", "estimate", "--size", "1x1", "-m", "gpt-4o"],
}
HEAVY = ("numpy", "PIL", "httpx2", "httpcore2", "av", "genai_prices", "pydantic", "tiktoken", "openai", "anthropic")


def _time(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def heavy_imports(command: list[str]) -> list[str]:
    """The heavy top-level modules a command imports, from `python -X importtime`."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, check=True)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(names & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline", metavar="CHECKOUT", help="another source checkout to time the same command from")
    args = parser.parse_args()
    commands = dict(COMMANDS)
    envs = {}
    if args.baseline:
        commands["baseline"] = COMMANDS["estimate"]
        envs["baseline"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(_time(command, envs.get(name)))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name in commands:
        print(f"{name:<9} median {median[name] * 1000:7.1f} ms   best {min(times[name]) * 1000:7.1f} ms")
    over_click = median["estimate"] - median["click"]
    print(f"estimate / click: {median['estimate'] / median['click']:.2f}x  (+{over_click * 1000:.1f} ms over importing click)")
    if args.baseline:
        print(f"baseline / estimate: {median['baseline'] / median['estimate']:.2f}x  "
              f"({(median['baseline'] - median['estimate']) * 1000:+.1f} ms saved)")
    heavy = heavy_imports(COMMANDS["estimate"])
    print(f"heavy modules imported by estimate: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
