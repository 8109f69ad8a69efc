"""Pricing request payloads: three shapes from real encoded images, remote URLs against a local server."""

import base64
import io
import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import costcalc
import costcalc.inspection.fetch
import costcalc.inspection.sources
from costcalc import check_budget, count_request
from costcalc.cli import cli
from costcalc.pricing.request import payload_size


def encoded(size, fmt="PNG", **options):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, fmt, **options)
    return out.getvalue()


def data_url(data, media="image/png"):
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


IMAGES = {"a": ((1800, 2400), "PNG"), "b": ((640, 480), "JPEG"), "c": ((300, 300), "WEBP")}
BLOBS = {key: encoded(size, fmt) for key, (size, fmt) in IMAGES.items()}
MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def chat(model="gpt-4.1-mini"):
    parts = [{"type": "text", "text": "compare"}]
    for key, detail in (("a", "high"), ("b", "low"), ("c", None)):
        image = {"url": data_url(BLOBS[key], MEDIA[IMAGES[key][1]])}
        if detail:
            image["detail"] = detail
        parts.append({"type": "image_url", "image_url": image})
    return {"model": model, "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": parts}]}


def test_chat_completions_against_image_tokens():
    estimate = count_request(chat("gpt-4o"))
    # docs/openai.md by hand: 1800×2400 high → 1536×2048 → 768×1024, 2×2 tiles: 85 + 4 × 170; low: 85; 300×300: one tile
    want = [765, 85, 255]
    assert [i.tokens for i in estimate.images] == want and estimate.image_tokens == sum(want)
    assert [i.where for i in estimate.images] == [f"messages[1].content[{j}]" for j in (1, 2, 3)]
    assert estimate.usd == Decimal("2.50") * sum(want) / 1_000_000
    assert [i.bytes for i in estimate.images] == [len(BLOBS[k]) for k in "abc"]
    assert estimate.payload_bytes == len(json.dumps(chat("gpt-4o"))) == payload_size(chat("gpt-4o"))


def test_responses_api_and_file_ids():
    payload = {
        "model": "gpt-5.4",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "hi"},
                    {"type": "input_image", "image_url": data_url(BLOBS["a"]), "detail": "low"},
                    {"type": "input_image", "file_id": "file-9"},
                ],
            },
            {"type": "input_image", "image_url": data_url(BLOBS["b"], "image/jpeg")},
        ],
    }
    unknown = count_request(payload)
    assert unknown.unpriced == 1 and "size unknown" in unknown.images[1].error
    known = count_request(json.dumps(payload), file_sizes={"file-9": (1024, 1024)})
    # docs/openai.md by hand, ×1.2: low 1800×2400 → 1536×2048, 48×64 = 3072 patches; 1024×1024: 32×32; 640×480: 20×15
    assert [i.tokens for i in known.images] == [3687, 1229, 360]
    assert known.images[2].where == "input[1]" and known.payload_bytes == len(json.dumps(payload))
    assert count_request({"model": "gpt-4o", "input": "just text"}).images == ()


def test_legacy_gpt4v_shape_with_resize():
    raw = base64.b64encode(BLOBS["a"]).decode()
    payload = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": ["what is this?", {"image": raw, "resize": 512}, {"image": raw}]}],
    }
    resized, plain = count_request(payload).images
    assert resized.tokens == 85 + 170  # 1800 × 2400 within 512 × 512 is 384 × 512: one tile
    assert plain.tokens == 85 + 170 * 4  # 1800 × 2400 → 768 × 1024: 2 × 2 tiles


def test_model_from_argument_and_errors():
    assert count_request(chat("gpt-4o"), model="gpt-5.4").model == "gpt-5.4"
    with pytest.raises(costcalc.UnknownModelError):
        count_request(chat("gpt-4x"))
    for payload, message in [
        ("not json", "not JSON"),
        ("[1]", "not an object"),
        ({"model": "gpt-4o"}, "no 'messages'"),
        ({"messages": []}, "no model"),
        ({"model": "gpt-4o", "messages": [{"content": [{"image_url": "x"}]}]}, "without a 'type'"),
    ]:
        with pytest.raises(costcalc.RequestError, match=message):
            count_request(payload)


def test_a_typed_part_not_recognised_is_unpriced_never_free():
    video = count_request({"model": "gpt-4o", "messages": [{"content": [{"type": "video"}]}]})
    assert video.unpriced == 1 and video.images[0].tokens is None and "unknown type 'video'" in video.images[0].error


def test_bad_images_are_unpriced_with_reasons(tmp_path):
    (tmp_path / "shot.png").write_bytes(BLOBS["c"])
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:])
    urls = [
        "data:image/png;base64,@@@garbage@@@",
        "data:image/bmp;base64,Qk0AAA==",
        data_url(b"not an image"),
        "shot.png",
        (tmp_path / "shot.png").as_uri(),
        "missing.png",
        data_url(animated.getvalue(), "image/gif"),
        "ftp://host/x.png",
        "https://example.com/x.png",
    ]
    payload = {
        "model": "gpt-4o",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": u}} for u in urls]}],
    }
    images = count_request(payload, base_dir=tmp_path).images
    errors = [i.error for i in images]
    assert "not valid base64" in errors[0] and "image/bmp" in errors[1] and "not an image" in errors[2]
    assert images[3].tokens == images[4].tokens == 85 + 170  # 300 × 300: one tile
    assert "no such file" in errors[5] and images[6].rule == "animated"
    assert "ftp URL" in errors[7] and "not fetched" in errors[8]


def test_data_urls_are_decoded_only_as_far_as_the_header(monkeypatch):
    big = encoded((3000, 3000), "JPEG", quality=95, icc_profile=b"\0" * 60000)  # frame header past 60 KB
    decoded = []
    real = costcalc.inspection.sources.b64decode
    monkeypatch.setattr(
        costcalc.inspection.sources, "b64decode", lambda text, **kw: decoded.append(len(text)) or real(text, **kw)
    )
    estimate = count_request(
        {
            "model": "gpt-4o",
            "messages": [{"content": [{"type": "image_url", "image_url": {"url": data_url(big, "image/jpeg")}}]}],
        }
    )
    assert estimate.images[0].width == 3000
    assert sum(decoded) < len(big) / 4 < len(base64.b64encode(big))


def test_request_limits_are_checked():
    many = {
        "model": "gpt-4o",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": data_url(BLOBS["c"])}}] * 501}],
    }
    assert count_request(many).findings == ()
    (finding,) = count_request(many, edition="2023-2025").findings
    assert finding.rule == "max_images" and "501 images" in finding.message


def test_check_budget():
    payload = chat("gpt-4o")
    counted = count_request(payload)
    total = counted.image_tokens + counted.text_tokens  # a budget counts the whole input, text too
    assert check_budget(payload, max_tokens=total).budget_tokens == total
    with pytest.raises(costcalc.BudgetExceeded, match=f"{total:,} tokens, over max_tokens {total - 1:,}") as caught:
        check_budget(payload, max_tokens=total - 1)
    assert caught.value.estimate.budget_tokens == total and isinstance(caught.value, costcalc.CostcalcError)
    assert [(o.label, o.kind, o.limit, o.value) for o in caught.value.overruns] == [
        ("gpt-4o", "max_tokens", total - 1, total)
    ]  # the data; no CLI flag in the library's message
    assert "--" not in str(caught.value)
    with pytest.raises(costcalc.BudgetExceeded, match="price unknown"):
        check_budget(payload, model="qwen3-vl-plus", max_usd="1")
    assert check_budget(payload, max_usd=Decimal("1")).usd < 1


# ------------------------------------------------------------ remote URLs


class Handler(BaseHTTPRequestHandler):
    sent = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/hang"):
            time.sleep(30)
            return
        if self.path.startswith("/redirect/"):
            hops = int(self.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", f"/redirect/{hops - 1}" if hops > 1 else "/image.jpg")
            self.end_headers()
            return
        if self.path == "/loop":
            self.send_response(301)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/x.jpg")
            self.end_headers()
            return
        if self.path != "/image.jpg":
            self.send_error(404)
            return
        body = BIG_JPEG
        self.send_response(200)  # ignores Range, as many servers do: the client must stop by itself
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        sent = 0
        try:
            for start in range(0, len(body), 8192):
                self.wfile.write(body[start : start + 8192])
                sent += 8192
        except (BrokenPipeError, ConnectionResetError):
            pass
        Handler.sent[self.path] = sent


BIG_JPEG = encoded((4000, 3000), "JPEG", quality=97)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def remote(url):
    return {"model": "gpt-4o", "messages": [{"content": [{"type": "image_url", "image_url": {"url": url}}]}]}


def test_remote_urls_only_when_asked(server):
    assert "not fetched" in count_request(remote(f"{server}/image.jpg")).images[0].error
    image = count_request(remote(f"{server}/image.jpg"), fetch=True, allow_private=True).images[0]
    assert (image.width, image.height, image.tokens) == (4000, 3000, 765)  # → 768 × 1024: 85 + 4 × 170
    assert image.bytes == len(BIG_JPEG)


def test_remote_reads_the_header_only(server):
    info = costcalc.inspection.fetch.inspect_url(f"{server}/image.jpg", allow_private=True)
    assert info.bytes_read < 128 * 1024 < len(BIG_JPEG)


def test_redirects_are_followed_and_bounded(server):
    def fetched(path):  # the test server is on 127.0.0.1: allow_private
        return count_request(remote(f"{server}{path}"), fetch=True, allow_private=True).images[0]

    assert fetched("/redirect/3").width == 4000
    assert "more than 5 redirects" in fetched("/loop").error
    assert "only http and https" in fetched("/to-ftp").error
    assert "HTTP 404" in fetched("/missing.jpg").error


def test_a_server_that_never_answers_does_not_hang_the_call(server):
    start = time.monotonic()
    image = count_request(remote(f"{server}/hang"), fetch=True, allow_private=True, timeout=1.0).images[0]
    assert "no answer within 1 s" in image.error
    assert time.monotonic() - start < 3


def test_a_silent_listener_does_not_hang_the_call():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never reads or answers
    try:
        start = time.monotonic()
        image = count_request(
            remote(f"http://127.0.0.1:{listener.getsockname()[1]}/x.jpg"), fetch=True, allow_private=True, timeout=0.5
        ).images[0]
        assert "no answer" in image.error and time.monotonic() - start < 2
    finally:
        listener.close()


# ------------------------------------------------------------------- CLI


def test_cli_request(tmp_path):
    (tmp_path / "shot.png").write_bytes(BLOBS["c"])
    payload = chat("gpt-4o")
    payload["messages"][1]["content"].append({"type": "image_url", "image_url": {"url": "shot.png"}})
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    result = CliRunner().invoke(cli, ["request", str(path)])
    assert result.exit_code == 0 and "messages[1].content[4]" in result.stdout and "gpt-4o: 4 images" in result.stdout
    document = json.loads(CliRunner().invoke(cli, ["request", str(path), "--json"]).stdout)
    assert document["image_tokens"] == 765 + 85 + 255 + 255  # a high, b low, c and shot.png (300 × 300) one tile each
    over = CliRunner().invoke(cli, ["request", str(path), "--max-tokens", "10"])
    assert over.exit_code == 4 and "over --max-tokens 10" in over.stderr
    piped = CliRunner().invoke(cli, ["request", "-", "-m", "gpt-5.4"], input=json.dumps(chat("gpt-4o")))
    assert piped.exit_code == 0 and "gpt-5.4: 3 images" in piped.stdout


@pytest.mark.parametrize(
    "text, culprit",
    [
        ("nope", "not JSON"),
        ('{"model": "gpt-4o"}', "no 'messages'"),
        ('{"model": "gpt-4x", "messages": []}', "unknown model"),
    ],
)
def test_cli_bad_payloads(text, culprit):
    result = CliRunner().invoke(cli, ["request", "-"], input=text)
    assert result.exit_code == 2 and culprit in result.output and len(result.output.strip().splitlines()) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_payload_size_is_the_length_of_json_dumps(value):
    assert payload_size(value) == len(json.dumps(value))


@pytest.mark.parametrize("piece", ["QUJD", 'a"b', "a\\b", "line\n", "\x01\x1f", "tab\t\b\f\r", "é"])
def test_payload_size_of_long_strings(piece):
    text = piece * (70000 // len(piece) + 1)  # the fast path for strings over 64 KiB
    assert payload_size({"url": text}) == len(json.dumps({"url": text}))
