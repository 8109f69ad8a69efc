"""Folder audit speed: `costcalc audit --json` against a plain-Pillow audit and against the floor.

    python benchmarks/bench_audit.py [--files 20000] [--tree DIR] [--repeat 3] [--baseline CHECKOUT]

Builds a tree of mixed files (PNG, JPEG with EXIF and large APPn segments,
WebP, still and animated GIF, a few broken ones), then times, as commands on the
same warm tree, in one run:
  floor   - walk the tree and read each file's first 4 KiB
  pillow  - walk, Image.open each file for size, format and animation, price it
  costcalc audit --json of one model, in one process (-j1) and with the default jobs
  costcalc audit --json of three models of three vendors (default jobs)
  costcalc audit of one model as a table for people (the default output)
Each figure is the best of --repeat runs (wall time, and CPU time and page faults of the command with its workers),
after one run of each to warm the page cache and to write the bytecode caches (as an installed package has them: PYTHONDONTWRITEBYTECODE is left out of the
commands' environment, or every run would compile costcalc anew, ~100 ms); peak memory is each
command's maxrss.
Then, in one process, what a file costs at each stage of the audit (the walk, bare reads of 4 and
16 KiB, the header read, judging and grouping, rendering).
Goals (issue 18): one model >= 10x plain Pillow and <= 1.5x the floor, the default jobs no slower
than -j1; three models >= 8x plain Pillow; peak memory < 150 MB.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WALK = r"""
import os, sys
def walk(folder):
    with os.scandir(folder) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                yield from walk(entry.path)
            elif entry.is_file(follow_symlinks=False):
                yield entry.path
"""

FLOOR = (
    WALK
    + r"""
total = 0
for path in walk(sys.argv[1]):
    fd = os.open(path, os.O_RDONLY)
    total += len(os.read(fd, 4096))
    os.close(fd)
print(total)
"""
)

PILLOW = (
    WALK
    + r"""
import json
from PIL import Image
import costcalc
out = sys.stdout
for path in walk(sys.argv[1]):
    try:
        with Image.open(path) as image:
            row = {"path": path, "format": image.format, "width": image.width, "height": image.height,
                   "animated": getattr(image, "is_animated", False)}
        row["tokens"] = costcalc.image_tokens(row["width"], row["height"], model="gpt-4o")
    except Exception as error:
        row = {"path": path, "error": str(error)}
    out.write(json.dumps(row) + "\n")
"""
)


THREE = ("gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview")
"""Three models of three vendors, for the audit that prices each file three times."""


BREAKDOWN = r"""
import os, sys, time
from costcalc.inspection.headers import inspect_path
from costcalc.inspection.walk import walk_fields
from costcalc.output.audit import format_for
from costcalc.runs import audit

files = list(walk_fields([sys.argv[1]]))
chunks = [files[at : at + audit.CHUNK] for at in range(0, len(files), audit.CHUNK)]
config = audit._config(["gpt-4o"], "auto", None, None, False, format_for("json", ["gpt-4o"], False), "standard", None,
                       (sys.argv[1],))

def reads(size):
    for path, *_ in files:
        fd = os.open(path, os.O_RDONLY)
        os.read(fd, size)
        os.close(fd)

def headers():
    for path, shown, *_ in files:
        try:
            inspect_path(path, name=shown, regular=True)
        except Exception:
            pass

stages = {
    "the walk": lambda: list(walk_fields([sys.argv[1]])),
    "open, read 4 KiB, close": lambda: reads(4096),
    "open, read 16 KiB, close": lambda: reads(16384),
    "headers read (inspect_path)": headers,
    "and judged, priced, grouped": lambda: [audit._chunk_files(config, chunk) for chunk in chunks],
    "and rendered, summed (a worker's chunk)": lambda: [audit._chunk_rendered(config, chunk) for chunk in chunks],
}
for name, stage in stages.items():
    times = []
    for _ in range(5):
        start = time.perf_counter()
        stage()
        times.append(time.perf_counter() - start)
    print(f"per file  {name:42} {min(times) * 1e6 / len(files):6.2f} us")
"""
"""In one process, best of 5 each: what a file costs at each stage of a one-model --json audit (each stage includes
the ones before it but the walk and the bare reads)."""


def build_tree(root: Path, files: int, seed: int = 3) -> None:
    """`files` files in nested folders, made from a few hundred encoded templates."""
    from PIL import Image

    rng = random.Random(seed)
    templates = []
    for index in range(240):
        width, height = rng.randint(16, 2400), rng.randint(16, 2400)
        small = Image.new("RGB", (min(width, 64), min(height, 64)), (index % 256, 90, 160))
        kind = index % 8
        out = io.BytesIO()
        if kind in (0, 1, 2):
            exif = Image.Exif()
            exif[0x0112] = 1 + index % 8
            icc = b"\0" * (20000 if kind == 2 else 0)  # some frame headers well past the first 4 KiB
            small.resize((width, height)).save(out, "JPEG", quality=40, exif=exif.tobytes(), icc_profile=icc or None)
        elif kind in (3, 4):
            small.resize((width // 4 + 1, height // 4 + 1)).save(out, "PNG", compress_level=1)
        elif kind == 5:
            small.save(out, "WEBP", quality=50)
        elif kind == 6:
            frames = [small.quantize(8), Image.new("RGB", small.size, "red").quantize(8)]
            frames[0].save(out, "GIF", save_all=index % 16 == 6, append_images=frames[1:])
        else:
            out.write(rng.choice([b"", b"not an image", b"\x89PNG\r\n\x1a\n\0\0", b"BM" + b"\0" * 60]))
        templates.append(out.getvalue())
    for number in range(files):
        folder = root / f"d{number % 50:02d}" / f"e{number % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{number:06d}.img").write_bytes(templates[number % len(templates)])


HERE = Path(__file__).resolve().parent.parent
"""This checkout: the commands import costcalc from it (or from --baseline), never from the folder they start in."""


def environment(checkout: Path = HERE) -> dict:
    """The commands' environment: costcalc from `checkout`, bytecode caches written and read."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(checkout)}


def run(command: list[str], env: dict | None = None) -> tuple[float, float, float, int]:
    """(seconds, peak resident MB, CPU seconds, page faults) of the command and the processes it waited for (its
    workers)."""
    env = env or environment()
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir()
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):  # 1: some files in the tree are meant to be unpriceable
        raise SystemExit(f"{command} failed with {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, usage.ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--tree", type=Path, help="reuse (or create) the tree here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also time `costcalc audit` from another source checkout (e.g. a git worktree of an "
        "older commit), interleaved in the same run: before/after as a ratio",
    )
    args = parser.parse_args()
    if args.build_only:
        build_tree(args.tree, args.files)
        return

    holder = None
    if args.tree is None:
        holder = tempfile.TemporaryDirectory(prefix="costcalc-bench-")
        args.tree = Path(holder.name)
    if not any(args.tree.glob("d*")):
        start = time.perf_counter()
        # in a child, so that this process never holds Pillow: a child's peak memory
        # (maxrss) counts the parent's pages it was forked with
        subprocess.run(
            [sys.executable, __file__, "--build-only", "--files", str(args.files), "--tree", str(args.tree)], check=True
        )
        print(f"built {args.files:,} files in {time.perf_counter() - start:.1f}s under {args.tree}")

    python = sys.executable
    audit = [python, "-m", "costcalc", "audit", str(args.tree), "-m", "gpt-4o", "--json"]
    commands = {
        "floor (4 KiB reads)": [python, "-c", FLOOR, str(args.tree)],
        "plain Pillow": [python, "-c", PILLOW, str(args.tree)],
        "costcalc audit -j1": [*audit, "-j1"],
        "costcalc audit": audit,
        "costcalc audit 3 models": [*audit, "-m", THREE[1], "-m", THREE[2]],
        "costcalc audit, table": audit[:-1],
    }
    ours = [name for name in commands if name.startswith("costcalc ")]
    envs: dict[str, dict] = {}
    if args.baseline:  # the same commands, importing costcalc from the other checkout
        for name in ours:
            commands[f"baseline {name[9:]}"] = commands[name]
            envs[f"baseline {name[9:]}"] = environment(args.baseline.resolve())
    for name, command in commands.items():  # warm the page cache, write the bytecode caches
        run(command, envs.get(name))
    results = {}
    for _ in range(args.repeat):
        for name, command in commands.items():  # interleaved, so drift hits every method alike
            seconds, peak, cpu, faults = run(command, envs.get(name))
            best = results.get(name, (float("inf"), 0.0, float("inf"), 1 << 62))
            results[name] = (min(best[0], seconds), max(best[1], peak), min(best[2], cpu), min(best[3], faults))
    files = sum(1 for _ in args.tree.rglob("*.img"))
    floor, pillow = results["floor (4 KiB reads)"][0], results["plain Pillow"][0]
    print(f"{files:,} files, best of {args.repeat}, {os.cpu_count()} CPUs")
    print(f"{files:,} files, --json; three models: {', '.join(THREE)}")
    print(
        f"{'command':30} {'seconds':>8} {'files/s':>10} {'vs Pillow':>10} {'vs floor':>9} {'peak MB':>8} {'CPU s':>6}"
        f" {'faults':>7}"
    )
    for name, (seconds, peak, cpu, faults) in results.items():
        print(
            f"{name:30} {seconds:8.3f} {files / seconds:10,.0f} {pillow / seconds:9.1f}x {seconds / floor:8.1f}x "
            f"{peak:8.0f} {cpu:6.3f} {faults:7,}"
        )
    if args.baseline:
        for name in ours:
            ratio = results[f"baseline {name[9:]}"][0] / results[name][0]
            print(f"this checkout against the baseline, {name[9:]}: {ratio:.2f}x as fast")
    serial, one, three = (results[name][0] for name in ours[:3])
    peak = max(results[name][1] for name in ours)
    for goal, met in (
        (f"one model >= 10x Pillow ({pillow / one:.1f}x)", pillow / one >= 10),
        (f"one model <= 1.5x the floor ({one / floor:.2f}x)", one / floor <= 1.5),
        (f"default jobs no slower than -j1 ({one / serial:.2f}x its time)", one <= serial),
        (f"three models >= 8x Pillow ({pillow / three:.1f}x)", pillow / three >= 8),
        (f"peak memory < 150 MB ({peak:.0f} MB)", peak < 150),
    ):
        print(f"goal {goal}: {'met' if met else 'NOT met'}")

    # What bounds the audit here: fixed start-up, and how far two processes scale.
    with tempfile.TemporaryDirectory() as empty:
        fixed = {
            "python -c pass": [python, "-c", "pass"],
            "python -c 'import click'": [python, "-c", "import click"],
            "costcalc audit (empty folder)": [python, "-m", "costcalc", "audit", empty, "-m", "gpt-4o", "--json"],
        }
        for name, command in fixed.items():
            print(f"start-up  {name:32} {min(run(command)[0] for _ in range(10)) * 1000:6.0f} ms")
    print(f"scaling   2 processes on a pure-Python loop: {two_process_scaling():.2f}x one")
    done = subprocess.run([python, "-c", BREAKDOWN, str(args.tree)], capture_output=True, text=True, env=environment())
    print(done.stdout.rstrip() or done.stderr.strip().splitlines()[-1])


def _spin(count: int) -> int:
    total = 0
    for value in range(count):
        total += value * value
    return total


def two_process_scaling(count: int = 3_000_000) -> float:
    """How much faster two processes run Python bytecode than one, on this machine now."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _spin(count)
    _spin(count)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [10, 10]))  # workers up
        start = time.perf_counter()
        list(pool.map(_spin, [count, count]))
        return serial / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
