"""Request pricing speed: count_request on 40 base64 photos against decoding each in full and opening it with Pillow.

    python benchmarks/bench_request.py [--photos 40] [--repeat 5]

Both run in this process on the same payload (a dict, as built in code). Then the same payload as JSON
bytes (as read from a file or an HTTP body): count_request(bytes) against json.loads + the full decode + Pillow.
Goals: on the dict at least 5x faster (issue 5; only the headers' base64 is decoded); on the bytes at
least 3x (issue 18).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import time


def photo_jpeg(index: int) -> bytes:
    """A photo-like JPEG of a few MB: 3000 × 2000, fine noise, quality 95."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(index)
    y, x = np.ogrid[0:2000, 0:3000]
    base = np.stack(
        [
            128 + 90 * np.sin(x / (150 + index)) + 0 * y,
            120 + 60 * np.cos(y / 110) + 0 * x,
            130 + 50 * np.sin((x + y) / 90),
        ],
        axis=-1,
    )
    pixels = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from PIL import Image

    import costcalc

    distinct = [photo_jpeg(i) for i in range(min(args.photos, 8))]
    urls = [
        f"data:image/jpeg;base64,{base64.b64encode(distinct[i % len(distinct)]).decode()}" for i in range(args.photos)
    ]
    payload = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What changed between these?"},
                    *({"type": "image_url", "image_url": {"url": url, "detail": "high"}} for url in urls),
                ],
            }
        ],
    }

    def ours() -> int:
        return costcalc.count_request(payload).image_tokens

    def full_decode() -> int:
        total = 0
        for part in payload["messages"][0]["content"][1:]:
            data = base64.b64decode(part["image_url"]["url"].partition(",")[2])
            with Image.open(io.BytesIO(data)) as image:
                total += costcalc.image_tokens(*image.size, model="gpt-4o", detail="high")
        return total

    body = json.dumps(payload).encode()

    def ours_bytes() -> int:
        return costcalc.count_request(body).image_tokens

    def loads_and_decode() -> int:
        document = json.loads(body)
        total = 0
        for part in document["messages"][0]["content"][1:]:
            data = base64.b64decode(part["image_url"]["url"].partition(",")[2])
            with Image.open(io.BytesIO(data)) as image:
                total += costcalc.image_tokens(*image.size, model="gpt-4o", detail="high")
        return total

    assert ours() == full_decode() == ours_bytes() == loads_and_decode()
    runs = {
        "count_request": ours,
        "full decode + Pillow": full_decode,
        "count_request(bytes)": ours_bytes,
        "json.loads + decode + Pillow": loads_and_decode,
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(args.repeat):  # interleaved
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    size = sum(len(url) for url in urls)
    print(
        f"{args.photos} photos, {size / 1e6:.0f} MB of base64 ({size / args.photos / 1e6:.1f} MB each), best of {args.repeat}"
    )
    for name, seconds in best.items():
        print(f"{name:30} {seconds * 1000:9.1f} ms")
    ratio = best["full decode + Pillow"] / best["count_request"]
    print(f"dict:  count_request is {ratio:.0f}x faster; goal (>= 5x):", "met" if ratio >= 5 else "NOT met")
    ratio = best["json.loads + decode + Pillow"] / best["count_request(bytes)"]
    print(f"bytes: count_request is {ratio:.0f}x faster; goal (>= 3x):", "met" if ratio >= 3 else "NOT met")


if __name__ == "__main__":
    main()
