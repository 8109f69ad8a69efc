"""A minified (single-line) Anthropic Message Batches document is read a piece at a time (issue 15): its peak memory
stays near that of the same requests as JSON lines, never the size of the line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kib(*args) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, sys.executable, "-m", "costcalc", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB (Linux)")
def test_a_single_line_batch_document_stays_near_json_lines(tmp_path):
    text = "x" * (60 << 10)  # 60 KiB of prompt per request: 1,000 requests, about 60 MB in all
    requests = [
        {
            "custom_id": f"r{index}",
            "params": {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": text}]},
        }
        for index in range(1000)
    ]
    document = tmp_path / "batch.json"
    document.write_text(json.dumps({"requests": requests}, separators=(",", ":")))  # one line
    lines = tmp_path / "batch.jsonl"
    lines.write_text("".join(json.dumps(request) + "\n" for request in requests))
    assert document.read_bytes().count(b"\n") == 0 and document.stat().st_size > 55 << 20
    as_lines = _peak_kib("request", str(lines), "--nl")
    as_document = _peak_kib("request", str(document), "--nl")
    assert as_document < as_lines + 25 * 1024, (as_document, as_lines)  # main read the 60 MB line whole (~+120 MB)
