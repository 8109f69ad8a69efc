"""Third-party warnings never reach stderr raw (issue 15): Pillow's UserWarning on a bad APNG becomes that file's
`warning`, naming it. Run as a real process: pytest would otherwise record the warning itself."""

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bad_apng() -> bytes:
    """A 2400 × 1600 PNG (resized for gpt-4o, so decoded) with an acTL chunk that says 0 frames: Pillow warns "Invalid APNG" and reads the still."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((2400, 1600)).save(out, "PNG")
    data = out.getvalue()
    ihdr_end = 8 + 8 + 13 + 4
    return data[:ihdr_end] + chunk(b"acTL", struct.pack(">II", 0, 0)) + data[ihdr_end:]


def test_pillows_warning_on_a_bad_apng_is_the_files_warning(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "odd.png").write_bytes(bad_apng())
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "PYTHONWARNINGS": "default",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "costcalc",
            "optimize",
            str(tmp_path / "src"),
            "-o",
            str(tmp_path / "out"),
            "-m",
            "gpt-4o",
            "--nl",
            "-j",
            "1",
        ],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert b"UserWarning" not in done.stderr and b"warnings.warn" not in done.stderr, done.stderr
    row = json.loads(done.stdout.splitlines()[0])
    assert row["status"] == "written" and "Invalid APNG" in row["warning"], row
