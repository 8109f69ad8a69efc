"""Video: the metadata-only estimate against decoding every frame, on the same clip; extraction speed.

    python benchmarks/bench_video.py [--seconds 20] [--repeat 3]

Builds a 1920 × 1080, 30 fps MPEG-4 clip with motion, then in one run times
`video_estimate` (container metadata, nothing decoded) against decoding every
frame with PyAV, and `extract_frames` at 1 frame a second and every 10th frame.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def build(path: Path, seconds: int, rate: int = 30) -> None:
    import av
    import numpy as np

    out = av.open(str(path), "w")
    stream = out.add_stream("mpeg4", rate=rate)
    stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
    stream.bit_rate = 4_000_000
    y, x = np.mgrid[0:1080, 0:1920]
    pattern = np.stack([x % 256, y % 256, (x + y) // 12 % 256], axis=-1).astype(np.uint8)
    for index in range(seconds * rate):
        pixels = np.roll(pattern, index * 8, axis=1)  # motion, so every frame costs the decoder something
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def best(run, repeat: int) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import av

    from costcalc.preflight.frames import extract_frames
    from costcalc.runs.video import video_estimate

    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "clip.mp4"
        start = time.perf_counter()
        build(clip, args.seconds)
        print(
            f"built a {args.seconds} s 1920×1080 30 fps clip ({clip.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - start:.1f}s"
        )

        def decode_all() -> int:
            with av.open(str(clip)) as container:
                container.streams.video[0].thread_type = "AUTO"
                return sum(1 for _ in container.decode(video=0))

        frames = decode_all()
        estimate = best(lambda: video_estimate(clip, model="gpt-4o", every=50), args.repeat)
        decode = best(decode_all, args.repeat)
        print(f"estimate (metadata only) {estimate * 1000:9.1f} ms")
        print(f"decode all {frames} frames  {decode * 1000:9.1f} ms   ({decode / estimate:,.0f}x the estimate)")
        for label, options in (("1 frame a second", {"fps": 1}), ("every 10th frame", {"every": 10})):
            out = Path(folder) / label.replace(" ", "-")
            start = time.perf_counter()
            count = extract_frames(clip, out, model="gpt-4o", **options)
            seconds = time.perf_counter() - start
            print(f"extract {label:17} {count:4} frames in {seconds:5.2f}s = {count / seconds:6.1f} frames/s")


if __name__ == "__main__":
    main()
