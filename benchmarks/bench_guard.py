"""What costcalc.guard adds to one SDK call: a Chat Completions request with one 6 MB image.

    python benchmarks/bench_guard.py [--runs 30] [--megabytes 6]

The same openai client call is timed unguarded and guarded (max_usd set), interleaved, against an
in-process transport (httpx2.MockTransport) that answers at once, so the figure is the guard's own
work: pricing the body before it leaves. Prints the median of each and the difference.
Goal (issue 18): the guard adds at most 5 ms.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import time


def payload_image(megabytes: float) -> str:
    """A JPEG of about `megabytes` MB (noise does not compress), as a data URL."""
    import numpy as np
    from PIL import Image

    side = int((megabytes * 1_000_000 / 1.1) ** 0.5)
    pixels = np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def client(guarded: bool):
    import httpx2
    import openai

    import costcalc

    answer = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(200, content=answer, headers={"content-type": "application/json"})
    )
    made = openai.OpenAI(
        api_key="x", base_url="http://127.0.0.1:9/v1", http_client=httpx2.Client(transport=transport), max_retries=0
    )
    return costcalc.guard(made, max_usd="100") if guarded else made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--megabytes", type=float, default=6.0)
    args = parser.parse_args()
    url = payload_image(args.megabytes)
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
    clients = {"unguarded": client(False), "guarded": client(True)}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for name, made in clients.items():  # warm both: imports, tables, the encoder
        made.chat.completions.create(model="gpt-4o", messages=messages)
    for _ in range(args.runs):
        for name, made in clients.items():
            start = time.perf_counter()
            made.chat.completions.create(model="gpt-4o", messages=messages)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"one request with a {len(url) / 1e6:.1f} MB data URL, median of {args.runs}:")
    for name, value in medians.items():
        print(f"  {name:10} {value:8.1f} ms")
    added = medians["guarded"] - medians["unguarded"]
    print(
        f"  the guard adds {added:.1f} ms ({medians['guarded'] / medians['unguarded']:.2f}x the unguarded call); "
        f"goal <= 5 ms: {'met' if added <= 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
