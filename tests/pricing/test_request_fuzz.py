"""count_request raises nothing but CostcalcError, whatever the payload holds (issue 9).

Arbitrary JSON values, payloads shaped like real ones (Chat Completions,
Responses, Anthropic Messages, Gemini, Bedrock, Qwen) with random values in
every field, and payload bytes that are not quite JSON. Every answer is
JSON-ready (no NaN), and every image row is priced or says why not.
"""

import base64
import io
import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc import CostcalcError, RequestError, count_request

BASE = "/nonexistent-costcalc-fuzz-base"  # relative paths resolve to nothing


def png(size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


PNG = png()
B64 = base64.b64encode(PNG).decode()
DATA_URL = f"data:image/png;base64,{B64}"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 2**63, 10**400, -(10**400)])
    | st.booleans().map(lambda negative: -(10**5000) if negative else 10**5000)  # past int → str's limit
    | st.floats()  # NaN and ±inf included
    | st.sampled_from([1e308, -1e308, 5e-324])
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def field(*plausible):
    """A field's value: mostly plausible, sometimes any JSON value at all."""
    return st.one_of(st.sampled_from(plausible), json_values)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


urls = field(
    DATA_URL,
    "data:image/png;base64,@@",
    "data:,",
    "data:image/png;base64,",
    "data:image/bmp;base64,Qk0=",
    f"data:image/png;base64,{B64[:40]}",
    f"data:image/png;base64,{B64[:-8]}é",
    "http:///x.png",
    "http://h:99999/x",
    "http://[::1/x",
    "https://example.com/x.png",
    "ftp://x/y.png",
    "file:///nonexistent",
    "file://otherhost/x.png",
    "/",
    ".",
    "",
    "missing.png",
    "a\x00b",
    "\ud800.png",
    "DATA:IMAGE/PNG;BASE64," + B64,
)
details = field("low", "high", "auto", "original", "medium", "ultra_high", "", "HIGH", "x" * 100)
types = field(
    "image_url",
    "input_image",
    "image",
    "text",
    "input_text",
    "tool_result",
    "function_call_output",
    "computer_call_output",
    "computer_screenshot",
    "tool_use",
    "video",
    "",
)
models = field(
    "gpt-4o",
    "gpt-5.4",
    "gpt-4.1-mini",
    "gpt-4o-2024-05-13",
    "claude-sonnet-4-5",
    "gemini-3-pro-preview",
    "qwen3-vl-plus",
    "mistral-small-latest",
    "nope",
    "",
    "x" * 500,
)
levels = field(
    "MEDIA_RESOLUTION_LOW",
    "MEDIA_RESOLUTION_HIGH",
    "MEDIA_RESOLUTION_ULTRA_HIGH",
    "MEDIA_RESOLUTION_UNSPECIFIED",
    "media_resolution_medium",
    "LOW",
)
pixels = field(1, 3136, 1003520, 2621440, 0, -5, 2.5, True, 2**50)


@st.composite
def some_dict(draw, fields):
    """An object with some of `fields` (name → strategy), each drawn, sometimes plus a random key."""
    names = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields)))
    value = {name: draw(fields[name]) for name in names}
    if draw(st.booleans()):
        value.update(draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2)))
    return value


def image_url_objects():
    return some_dict({"url": urls, "detail": details, "max_pixels": pixels})


sources = some_dict(
    {
        "type": field("base64", "url", "file", "text"),
        "media_type": field("image/png", "image/jpeg", "image/bmp", "text/plain"),
        "data": field(B64, B64[:20], "@@"),
        "url": urls,
        "file_id": field("file-1", ""),
    }
)
parts = st.deferred(
    lambda: some_dict(
        {
            "type": types,
            "text": field("hi"),
            "image_url": st.one_of(urls, image_url_objects()),
            "detail": details,
            "file_id": field("file-1", "file-2", ""),
            "image": st.one_of(field(B64, DATA_URL, "@@"), bedrock_images),
            "resize": field(768, 0, -1, 1.5, True),
            "max_pixels": pixels,
            "min_pixels": pixels,
            "source": st.one_of(sources, json_values),
            "transformations": field({"oversized_image": "error"}, {"oversized_image": 5}, "error"),
            "content": st.one_of(st.lists(leaf_parts, max_size=3), json_values),
            "output": st.one_of(leaf_parts, st.lists(leaf_parts, max_size=2), json_values),
            "tool_use_id": field("toolu_1", "toolu_2"),
            "toolResult": some_dict({"toolUseId": field("t1"), "content": st.lists(leaf_parts, max_size=2)}),
            "guardContent": some_dict({"image": bedrock_images}),
        }
    )
)
leaf_parts = some_dict(
    {
        "type": types,
        "image_url": st.one_of(urls, image_url_objects()),
        "detail": details,
        "source": sources,
        "image": field(B64, "@@"),
        "text": field("hi"),
    }
)
bedrock_images = some_dict(
    {
        "format": field("png", "jpeg", "gif", "webp", "bmp", "PNG"),
        "source": some_dict(
            {"bytes": field(B64, "@@", ""), "s3Location": some_dict({"uri": field("s3://b/k.png", "")})}
        ),
    }
)
contents = st.one_of(st.lists(st.one_of(parts, st.text(max_size=5)), max_size=4), json_values)
messages = st.lists(
    st.one_of(some_dict({"role": field("user", "assistant", "tool"), "content": contents}), json_values), max_size=3
)
gemini_parts = some_dict(
    {
        "text": field("hi"),
        "inline_data": some_dict(
            {"mime_type": field("image/png", "audio/wav", "IMAGE/PNG"), "data": field(B64, "@@", "")}
        ),
        "inlineData": some_dict({"mimeType": field("image/png", "video/mp4"), "data": field(B64, "@@")}),
        "file_data": some_dict({"mime_type": field("image/png"), "file_uri": field("gs://b/x.png", "files/abc", "")}),
        "fileData": some_dict({"mimeType": field("image/jpeg"), "fileUri": field("files/abc")}),
        "media_resolution": st.one_of(some_dict({"level": levels}), levels),
        "mediaResolution": some_dict({"level": levels}),
        "functionResponse": some_dict(
            {
                "name": field("f"),
                "parts": st.lists(
                    some_dict({"inlineData": some_dict({"mimeType": field("image/png"), "data": field(B64)})}),
                    max_size=2,
                ),
            }
        ),
    }
)
tools = st.lists(
    some_dict({"type": field("computer_20250124", "function"), "name": field("computer", "f")}), max_size=2
)

payloads = st.one_of(
    some_dict(
        {
            "model": models,
            "messages": messages,
            "system": st.one_of(st.lists(parts, max_size=2), json_values),
            "tools": tools,
            "vl_high_resolution_images": field(True, False, "true"),
            "parameters": some_dict({"vl_high_resolution_images": field(True, 1)}),
        }
    ),
    some_dict(
        {
            "model": models,
            "input": st.one_of(
                st.lists(st.one_of(parts, some_dict({"role": field("user"), "content": contents})), max_size=3),
                json_values,
                some_dict({"messages": messages}),
            ),
        }
    ),
    some_dict(
        {
            "model": models,
            "contents": st.one_of(
                st.lists(
                    st.one_of(
                        some_dict(
                            {"role": field("user"), "parts": st.one_of(st.lists(gemini_parts, max_size=3), json_values)}
                        ),
                        json_values,
                    ),
                    max_size=3,
                ),
                json_values,
            ),
            "generationConfig": some_dict({"mediaResolution": levels}),
            "generation_config": some_dict({"media_resolution": levels}),
            "systemInstruction": some_dict({"parts": st.lists(gemini_parts, max_size=2)}),
        }
    ),
    some_dict({"modelId": models, "messages": messages, "system": st.lists(some_dict({"text": field("be brief")}))}),
    st.dictionaries(st.sampled_from(["model", "messages", "input", "contents", "modelId", "system"]), json_values),
)


TEMPLATES = [
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "hi"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": {"url": DATA_URL, "detail": "high"}},
                    {"type": "image_url", "image_url": DATA_URL},
                    {"image": B64, "resize": 768},
                ],
            },
        ],
    },
    {
        "model": "gpt-5.4",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": DATA_URL, "detail": "low"},
                    {"type": "input_image", "file_id": "file-1"},
                ],
            },
            {
                "type": "computer_call_output",
                "call_id": "c",
                "output": {"type": "computer_screenshot", "image_url": DATA_URL},
            },
            {
                "type": "function_call_output",
                "call_id": "f",
                "output": [{"type": "input_image", "image_url": DATA_URL}],
            },
        ],
    },
    {
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "x"}],
        "tools": [{"type": "computer_20250124", "name": "computer"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": B64},
                        "transformations": {"oversized_image": "error"},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/y.png"}},
                    {"type": "image", "source": {"type": "file", "file_id": "file-1"}},
                ],
            },
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "computer", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}}
                        ],
                    }
                ],
            },
        ],
    },
    {
        "model": "gemini-3-pro-preview",
        "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"},
        "systemInstruction": {"parts": [{"text": "x"}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "x"},
                    {
                        "inline_data": {"mime_type": "image/png", "data": B64},
                        "media_resolution": {"level": "MEDIA_RESOLUTION_HIGH"},
                    },
                    {"fileData": {"mimeType": "image/png", "fileUri": "files/abc"}},
                    {
                        "functionResponse": {
                            "name": "f",
                            "response": {},
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": B64}}],
                        }
                    },
                ],
            }
        ],
    },
    {
        "modelId": "gpt-4o",
        "system": [{"text": "x"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "x"},
                    {"image": {"format": "png", "source": {"bytes": B64}}},
                    {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/k.png"}}}},
                    {
                        "toolResult": {
                            "toolUseId": "t",
                            "content": [{"image": {"format": "png", "source": {"bytes": B64}}}],
                        }
                    },
                    {"guardContent": {"image": {"format": "png", "source": {"bytes": B64}}}},
                ],
            }
        ],
    },
    {
        "model": "gpt-4o",
        "vl_high_resolution_images": True,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": DATA_URL}, "max_pixels": 1003520, "min_pixels": 3136}
                ],
            }
        ],
    },
    {
        "model": "gpt-4o",
        "input": {"messages": [{"role": "user", "content": [{"image": DATA_URL}, {"text": "x"}]}]},
        "parameters": {"vl_high_resolution_images": True},
    },
]
"""One payload of each shape, every field filled: the fuzz below changes a few of their values at a time."""

replacements = st.one_of(
    json_values, urls, details, types, models, levels, pixels, parts, gemini_parts, bedrock_images, sources
)


def places(value, path=()):
    """Every (path, value) inside a payload, the payload itself first."""
    yield path, value
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from places(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from places(inner, path + (index,))


@st.composite
def mutated_payloads(draw):
    """A template with one to three of its values replaced, removed, or given a stray key."""
    import copy

    payload = copy.deepcopy(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 3))):
        spots = [(path, value) for path, value in places(payload) if path]
        if not spots:  # everything removed
            break
        path, value = draw(st.sampled_from(spots))
        owner = payload
        for key in path[:-1]:
            owner = owner[key]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            owner[path[-1]] = draw(replacements)
        elif action == "remove":
            del owner[path[-1]]
        elif isinstance(value, dict):
            value[
                draw(
                    st.sampled_from(
                        [
                            "detail",
                            "type",
                            "url",
                            "source",
                            "image_url",
                            "media_resolution",
                            "max_pixels",
                            "transformations",
                            "content",
                            "parts",
                            "level",
                        ]
                    )
                )
            ] = draw(replacements)
        elif isinstance(value, list):
            value.insert(draw(st.integers(0, len(value))), draw(replacements))
    return payload


def check(payload, **options):
    """count_request either answers (JSON-ready, each image priced or explained) or raises a CostcalcError."""
    try:
        estimate = count_request(payload, base_dir=BASE, **options)
    except CostcalcError as error:
        assert str(error) and "\n" not in str(error)
        return None
    document = estimate.as_dict()
    json.dumps(document, allow_nan=False)  # no NaN or Infinity in any answer
    for image in estimate.images:
        assert (image.tokens is None) != (image.error is None)
        assert image.error is None or "\n" not in image.error
    assert estimate.unpriced == sum(image.tokens is None for image in estimate.images)
    return estimate


fuzz = settings(
    max_examples=int(os.environ.get("COSTCALC_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # a longer hunt: COSTCALC_FUZZ_EXAMPLES=5000


@fuzz
@given(json_values)
def test_any_json_value(value):
    check(value)
    check({"model": "gpt-4o", "messages": value})
    check({"model": "gpt-4o", "messages": [{"role": "user", "content": value}]})
    check({"model": "gpt-4o", "contents": value})


@fuzz
@given(payloads, st.sampled_from([None, "gpt-4o", "gpt-5.4", "claude-sonnet-4-5", "gemini-3-pro-preview"]))
def test_payloads_like_real_ones(payload, model):
    check(payload, model=model, file_sizes={"file-1": (800, 600), "files/abc": (640, 480)})
    try:
        text = json.dumps(payload, allow_nan=False)
    except (ValueError, TypeError):
        return
    check(text)
    check(text.encode())


def test_every_template_is_priced():
    for payload in TEMPLATES:
        estimate = check(payload, file_sizes={"file-1": (800, 600), "files/abc": (640, 480), "s3://b/k.png": (64, 64)})
        assert estimate is not None and estimate.images and estimate.unpriced <= 1, payload  # one remote URL


@fuzz
@given(mutated_payloads(), st.sampled_from([None, "gpt-4o", "gpt-4.1-mini"]))
def test_payloads_with_a_few_values_changed(payload, model):
    check(payload, model=model, file_sizes={"file-1": (800, 600), "files/abc": (640, 480)})


@fuzz
@given(st.binary(max_size=200))
def test_any_bytes(data):
    check(data)
    check(b'{"model": "gpt-4o", "messages": [{"content": ' + data + b"}]}")


@fuzz
@given(payloads, st.data())
def test_mangled_payload_text(payload, data):
    try:
        text = json.dumps(payload).encode()
    except (ValueError, TypeError):
        return
    at = data.draw(st.integers(0, len(text)))
    junk = data.draw(
        st.sampled_from(
            [
                b"\xff",
                b"\xef\xbb\xbf",
                b"NaN",
                b"Infinity",
                b"-Infinity",
                b"1e999999",
                b"9" * 5000,
                b"\\ud800",
                b'"\\u0000"',
                b"[" * 3000,
                b"\x00",
            ]
        )
    )
    check(text[:at] + junk + text[at:])
    check(b"\xef\xbb\xbf" + text)


NESTED = 10_000


@pytest.mark.parametrize(
    "text",
    [
        "[" * NESTED + "]" * NESTED,
        '{"model": "gpt-4o", "messages": ' + "[" * NESTED + "]" * NESTED + "}",
        '{"model": "gpt-4o", "messages": [{"content": ' + '{"a":' * NESTED + "1" + "}" * NESTED + "}]}",
        '{"model": "gpt-4o", "messages": [], "x": NaN}',
        '{"model": "gpt-4o", "messages": [], "x": -Infinity}',
    ],
)
def test_payload_text_that_is_not_a_request(text):
    with pytest.raises(RequestError):
        count_request(text)
    with pytest.raises(RequestError):
        count_request(text.encode())


def test_deep_and_circular_dicts():
    deep = []
    inner = deep
    for _ in range(NESTED):
        inner.append([])
        inner = inner[0]
    size = 2 * (NESTED + 1) + len('{"model": "gpt-4o", "messages": [], "deep": }')  # NESTED + 1 lists of "[]"
    assert count_request({"model": "gpt-4o", "messages": [], "deep": deep}).payload_bytes == size
    with pytest.raises(RequestError, match="contents"):
        count_request({"model": "gpt-4o", "contents": deep})
    looped = {"model": "gpt-4o", "messages": []}
    looped["messages"].append({"content": looped})
    with pytest.raises(RequestError, match=r"messages\[0\]\.content: the payload contains itself"):
        count_request(looped)
    with pytest.raises(RequestError, match=r"^x: nan is not a JSON number"):
        count_request({"model": "gpt-4o", "messages": [], "x": math.nan})


EMPTY = '{"model": "gpt-4o", "messages": []}'
HUGE = '{"model": "gpt-4o", "messages": [], "n": ' + "9" * 5000 + "}"  # a number Python's int() refuses


@pytest.mark.parametrize(
    "data, text",
    [
        (b"\xef\xbb\xbf" + EMPTY.encode(), EMPTY),  # a UTF-8 byte-order mark is dropped
        (EMPTY.encode("utf-16"), EMPTY),  # PowerShell's UTF-16 with its BOM: counted as the UTF-8 it is sent as
        (HUGE.encode(), HUGE),
        (b'{"model": "gpt-4o", "messages": [], "n": 1e999999}', '{"model": "gpt-4o", "messages": [], "n": 1e999999}'),
    ],
    ids=["utf-8 bom", "utf-16", "5000 digits", "1e999999"],
)
def test_odd_but_valid_payload_text(data, text):
    assert count_request(data).payload_bytes == len(text.encode())


def test_invalid_utf8_names_the_byte():
    with pytest.raises(RequestError, match="not UTF-8 text: byte 0xff at offset 37"):
        count_request(b'{"model": "gpt-4o", "messages": [], "\xff": 1}')


def test_bad_fields_name_their_place_and_the_run_goes_on():
    good = {"type": "image_url", "image_url": {"url": DATA_URL}}
    bad = [
        (
            {"type": "image_url", "image_url": {"url": DATA_URL, "detail": ["high"]}},
            "messages[1].content[2].image_url.detail",
        ),
        ({"type": "image_url", "image_url": {"url": DATA_URL, "detail": 5}}, "messages[1].content[2].image_url.detail"),
        ({"type": "image_url", "image_url": {"url": DATA_URL}, "detail": {"x": 1}}, "messages[1].content[2].detail"),
        ({"type": "image_url", "image_url": {"url": 7}}, "messages[1].content[2].image_url.url"),
        ({"type": "image_url", "image_url": None}, "messages[1].content[2].image_url"),
        ({"type": "input_image", "file_id": ["f"]}, "messages[1].content[2].file_id"),
        ({"image": B64, "resize": "768"}, "messages[1].content[2].resize"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": None}},
            "messages[1].content[2].source.data",
        ),
        ({"type": "image", "source": {"type": "vector"}}, "messages[1].content[2].source.type"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": B64}},
            "messages[1].content[2].source.media_type",
        ),
        ({"image": {"format": "bmp", "source": {"bytes": B64}}}, "messages[1].content[2].image.format"),
        ({"type": "image_url", "image_url": {"url": DATA_URL}, "max_pixels": -1}, "messages[1].content[2].max_pixels"),
    ]
    for part, place in bad:
        payload = {
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "hi"}, {"role": "user", "content": [good, "text", part, good]}],
        }
        images = count_request(payload).images
        assert [image.tokens is not None for image in images] == [True, False, True], part
        assert images[1].error.startswith(place + " ") or images[1].error.startswith(place + ":"), images[1].error
        assert images[1].where == "messages[1].content[2]"


@pytest.mark.parametrize(
    "payload, place",
    [
        ({"model": "gpt-4o", "messages": {"role": "user"}}, "'messages' must be a list"),
        ({"model": "gpt-4o", "messages": [{"content": [{"type": "image_url"}, 5]}]}, r"messages\[0\]\.content\[1\]"),
        ({"model": "gpt-4o", "messages": [{"content": [{"type": ["image"]}]}]}, r"messages\[0\]\.content\[0\]\.type"),
        ({"model": 5, "messages": []}, "'model' must be a model name, not 5"),
        ({"modelId": None, "messages": []}, "no model"),
        ({"model": "gpt-4o", "contents": [{"parts": {"text": "x"}}]}, r"contents\[0\]\.parts must be a list"),
        (
            {"model": "gpt-4o", "contents": [], "generationConfig": {"mediaResolution": 3}},
            "generationConfig.mediaResolution must be one of",
        ),
        ({"model": "gpt-4o", "messages": [], "vl_high_resolution_images": "yes"}, "vl_high_resolution_images must be"),
        (
            {
                "model": "gpt-4o",
                "messages": [
                    {"content": [{"type": "tool_result", "content": [{"type": "tool_result", "content": []}]}]}
                ],
            },
            r"messages\[0\]\.content\[0\]\.content\[0\]: a tool_result inside",
        ),
    ],
)
def test_bad_structure_is_one_request_error_naming_its_place(payload, place):
    with pytest.raises(RequestError, match=place):
        count_request(payload)


def test_model_from_the_payload_picks_the_rules_and_unknown_is_clear():
    from costcalc import UnknownModelError

    payload = {
        "model": "gpt-4.1-mini",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": DATA_URL}}]}],
    }
    assert count_request(payload).images[0].tokens == 4  # 40 × 30: 2 × 1 patches × 1.62, rounded up
    assert count_request(payload, model="gpt-4o").images[0].tokens == 85 + 170  # one tile
    for name in ("gpt-4x", "x" * 10_000):
        with pytest.raises(UnknownModelError, match="unknown model") as caught:
            count_request(dict(payload, model=name))
        assert len(str(caught.value)) < 300
