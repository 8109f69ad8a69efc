"""costcalc.vendors: one module per API shape; references carry their JSON paths; a new shape is one module.

Expected token counts are OpenAI's published tile rule (85 base + 170 per 512-px tile at high detail, 85 at
low; https://platform.openai.com/docs/guides/images-vision#calculating-costs), worked by hand.
"""

import base64
import io

import pytest
from PIL import Image

from costcalc import count_request, vendors
from costcalc.vendors import image_refs, read_bill, where_of
from costcalc.vendors.base import Unbilled


def png(size):
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


B64 = png((512, 512))
URL = f"data:image/png;base64,{B64}"


@pytest.mark.parametrize(
    "payload, path, data_path",
    [
        (
            {"messages": [{"content": ["hi", {"type": "image_url", "image_url": {"url": URL}}]}]},
            ("messages", 0, "content", 1),
            ("messages", 0, "content", 1, "image_url", "url"),
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": URL}]}]},
            ("input", 0, "content", 0),
            ("input", 0, "content", 0, "image_url"),
        ),
        (
            {"input": [{"type": "computer_call_output", "output": {"type": "computer_screenshot", "image_url": URL}}]},
            ("input", 0, "output"),
            ("input", 0, "output", "image_url"),
        ),
        (
            {
                "system": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}}],
                "messages": [],
            },
            ("system", 0),
            ("system", 0, "source", "data"),
        ),
        (
            {
                "messages": [
                    {
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t",
                                "content": [
                                    {
                                        "type": "image",
                                        "source": {"type": "base64", "media_type": "image/png", "data": B64},
                                    }
                                ],
                            }
                        ]
                    }
                ]
            },
            ("messages", 0, "content", 0, "content", 0),
            ("messages", 0, "content", 0, "content", 0, "source", "data"),
        ),
        (
            {"contents": [{"parts": [{"text": "x"}, {"inlineData": {"mimeType": "image/png", "data": B64}}]}]},
            ("contents", 0, "parts", 1),
            ("contents", 0, "parts", 1, "inlineData", "data"),
        ),
        (
            {"messages": [{"content": [{"image": {"format": "png", "source": {"bytes": B64}}}]}]},
            ("messages", 0, "content", 0),
            ("messages", 0, "content", 0, "image", "source", "bytes"),
        ),
        (
            {"messages": [{"content": [{"image": B64, "resize": 768}]}]},
            ("messages", 0, "content", 0),
            ("messages", 0, "content", 0, "image"),
        ),
    ],
)
def test_each_shape_gives_the_part_path_and_the_data_path_as_data(payload, path, data_path):
    (ref,) = image_refs(payload)
    assert ref.path == path and ref.data_path == data_path and ref.error is None
    node = payload
    for step in data_path:
        node = node[step]
    assert node in (B64, URL)  # the path leads to the image itself


def test_where_is_printed_from_the_path():
    assert where_of(("messages", 1, "content", 2)) == "messages[1].content[2]"
    assert where_of(("input", "messages", 0)) == "input.messages[0]"
    assert where_of(()) == "payload"
    assert where_of(("a key",)) == "'a key'"


def test_the_shape_is_read_from_the_structure_never_the_model_name():
    part = {"type": "image_url", "image_url": {"url": URL}}
    for model in ("claude-sonnet-4-5", "gemini-3-pro-preview", "gpt-4o"):
        (ref,) = image_refs({"model": model, "messages": [{"content": [part]}]})
        assert ref.source == "url" and ref.data_path[-1] == "url"
    # contents wins over messages, messages over input, whatever the model says
    both = {"model": "gpt-4o", "contents": [{"parts": []}], "messages": [{"content": [part]}]}
    assert list(image_refs(both)) == []


def test_bills_are_read_by_each_shape():
    assert read_bill({"usage": {"prompt_tokens": 900, "prompt_tokens_details": {"image_tokens": 765}}}).image == 765
    anthropic = read_bill({"type": "message", "usage": {"input_tokens": 10, "cache_read_input_tokens": 5}})
    assert (anthropic.shape, anthropic.total) == ("anthropic", 15)
    assert read_bill({"usage": {"input_tokens": 7}}).shape == "responses"
    gemini = read_bill(
        {
            "usageMetadata": {
                "promptTokenCount": 300,
                "promptTokensDetails": [
                    {"modality": "IMAGE", "tokenCount": 258},
                    {"modality": "TEXT", "tokenCount": 42},
                ],
            }
        }
    )
    assert (gemini.shape, gemini.image) == ("gemini", 258)
    with pytest.raises(Unbilled, match="no prompt_tokens or input_tokens"):
        read_bill({"usage": {"total": 3}})


def test_count_endpoints_and_sdk_routes_come_from_the_shapes():
    gemini = vendors.count_endpoint("gemini")
    body = gemini.body("gemini-3-pro-preview", "QUJD", "low", "hi")
    assert gemini.path("gemini-3-pro-preview") == "/v1beta/models/gemini-3-pro-preview:countTokens"
    assert body["contents"][0]["parts"][1] == {
        "inline_data": {"mime_type": "image/png", "data": "QUJD"},
        "media_resolution": {"level": "MEDIA_RESOLUTION_LOW"},
    }
    assert vendors.count_endpoint("anthropic").headers("k")["x-api-key"] == "k"
    assert vendors.sdk_routes() == {"openai": ("/chat/completions", "/responses"), "anthropic": ("/messages",)}


def test_a_new_shape_is_one_module_registered_from_outside():
    import toy_shape

    payload = {
        "model": "gpt-4o",
        "toy_prompt": [
            {"toy_picture": {"b64": B64, "fidelity": "high"}},
            {"toy_picture": {"b64": B64, "fidelity": "low"}},
        ],
    }
    with pytest.raises(Exception, match="no 'messages', 'input' or 'contents'"):
        count_request(payload)
    vendors.register(toy_shape.SHAPE)
    try:
        estimate = count_request(payload)
    finally:
        vendors.unregister("toy")
    # 512 × 512 at high: 85 + 170 × 1 tile; at low: 85 (OpenAI's tile rule, worked by hand)
    assert [image.tokens for image in estimate.images] == [255, 85]
    assert [image.where for image in estimate.images] == ["toy_prompt[0]", "toy_prompt[1]"]
    assert estimate.images[0].data_path == ("toy_prompt", 0, "toy_picture", "b64")
    assert "toy" not in [shape.name for shape in vendors.shapes()]
