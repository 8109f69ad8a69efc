"""Requests in each vendor's own shape, priced end to end from real encoded images (docs/README.md, issue 10).

Expected token counts are the vendors' published worked examples as docs/README.md
quotes them (Anthropic's table, Gemini's media-resolution maxima, mistral-common's
output, Alibaba's examples), never computed with costcalc.
"""

import base64
import io
import json
from math import ceil, floor, sqrt

import pytest
from PIL import Image

from costcalc import RequestError, count_request


def encoded(size, fmt="PNG"):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, fmt)
    return out.getvalue()


SIZES = [(200, 200), (1000, 1000), (1024, 1024), (1920, 1080), (3840, 2160), (2000, 1500)]
RAW = {size: encoded(size) for size in SIZES}
B64 = {size: base64.b64encode(data).decode() for size, data in RAW.items()}
URL = {size: f"data:image/png;base64,{data}" for size, data in B64.items()}
JPEG_B64 = base64.b64encode(encoded((1000, 1000), "JPEG")).decode()


def tokens(estimate):
    return [image.tokens for image in estimate.images]


# ------------------------------------------------------------------ Anthropic Messages (docs/anthropic.md)


def claude_image(size, **extra):
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64[size]}, **extra}


def test_anthropic_base64_url_file_and_tool_result_images():
    payload = {
        "model": "claude-sonnet-4-5-20250929",
        "system": [{"type": "text", "text": "be brief"}, claude_image((200, 200))],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "compare"},
                    claude_image((1000, 1000)),
                    claude_image((1920, 1080)),
                    {"type": "image", "source": {"type": "url", "url": URL[(3840, 2160)]}},
                    {"type": "image", "source": {"type": "file", "file_id": "file_011"}},
                ],
            },
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "here"}, claude_image((1920, 1080))],
                    },
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "plain text result"},
                ],
            },
        ],
    }
    estimate = count_request(json.dumps(payload), file_sizes={"file_011": (1000, 1000)})
    # Anthropic's table: 200×200 → 64, 1000×1000 → 1296, 1920×1080 → 1560 and 3840×2160 → 1560 (standard tier)
    assert tokens(estimate) == [64, 1296, 1560, 1560, 1296, 1560]
    assert [image.where for image in estimate.images] == [
        "system[1]",
        "messages[0].content[1]",
        "messages[0].content[2]",
        "messages[0].content[3]",
        "messages[0].content[4]",
        "messages[2].content[0].content[1]",
    ]
    assert {image.basis for image in estimate.images} == {"exact"}
    assert [image.source for image in estimate.images][3:5] == ["url", "file_id"]
    assert estimate.model == "claude-sonnet-4-5-20250929" and estimate.payload_bytes == len(json.dumps(payload))


def test_anthropic_high_resolution_tier_by_model():
    payload = {
        "model": "claude-opus-4-7",
        "messages": [{"role": "user", "content": [claude_image((1920, 1080)), claude_image((3840, 2160))]}],
    }
    assert tokens(count_request(payload)) == [2691, 4784]  # Anthropic's table, high-resolution tier
    assert tokens(count_request(payload, model="claude-haiku-4-5")) == [1560, 1560]


def test_anthropic_oversized_image_error_rejects_instead_of_downscaling():
    no_downscale = {"transformations": {"oversized_image": "error"}}
    payload = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {
                "role": "user",
                "content": [
                    claude_image((1920, 1080), **no_downscale),
                    claude_image((1000, 1000), **no_downscale),
                    claude_image((1920, 1080)),
                ],
            }
        ],
    }
    oversized, fits, plain = count_request(payload).images
    assert oversized.tokens is None and oversized.rule == "oversized_image" and "1920×1080" in oversized.error
    assert fits.tokens == 1296 and plain.tokens == 1560  # 1000×1000 fits as it is; without the flag, downscaled


def test_computer_use_screenshots_are_not_downscaled():
    payload = {
        "model": "claude-sonnet-4-5",
        "tools": [
            {"type": "computer_20250124", "name": "computer", "display_width_px": 1920, "display_height_px": 1080},
            {"name": "search", "input_schema": {}},
        ],
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_c", "name": "computer", "input": {}},
                    {"type": "tool_use", "id": "toolu_s", "name": "search", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_c", "content": [claude_image((1920, 1080))]},
                    {"type": "tool_result", "tool_use_id": "toolu_s", "content": [claude_image((1920, 1080))]},
                    {"type": "tool_result", "tool_use_id": "toolu_c", "content": [claude_image((1000, 1000))]},
                ],
            },
        ],
    }
    screenshot, search, small = count_request(payload).images
    assert screenshot.rule == "oversized_image" and screenshot.tokens is None
    assert search.tokens == 1560 and small.tokens == 1296


def test_anthropic_media_type_must_match_the_data():
    payload = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/jpeg", "data": B64[(1000, 1000)]},
                    },
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": JPEG_B64}},
                ],
            }
        ],
    }
    wrong, right = count_request(payload).images
    assert wrong.rule == "media_type" and "image/jpeg" in wrong.error and "PNG" in wrong.error
    assert right.tokens == 1296


# ------------------------------------------------------------------ Gemini generateContent (docs/google.md)


def inline(size, camel=False, **extra):
    if camel:
        return {"inlineData": {"mimeType": "image/png", "data": B64[size]}, **extra}
    return {"inline_data": {"mime_type": "image/png", "data": B64[size]}, **extra}


def test_gemini_inline_and_file_data_with_per_part_media_resolution():
    payload = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "describe"},
                    inline((1920, 1080), media_resolution={"level": "MEDIA_RESOLUTION_LOW"}),
                    inline((1920, 1080), camel=True, mediaResolution={"level": "MEDIA_RESOLUTION_MEDIUM"}),
                    inline((200, 200), media_resolution={"level": "MEDIA_RESOLUTION_HIGH"}),
                    inline((3840, 2160), camel=True, mediaResolution={"level": "MEDIA_RESOLUTION_ULTRA_HIGH"}),
                    inline((1000, 1000)),
                    {
                        "file_data": {
                            "mime_type": "image/jpeg",
                            "file_uri": "https://generativelanguage.googleapis.com/v1beta/files/a",
                        }
                    },
                    {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/b.png"}},
                    {"inline_data": {"mime_type": "audio/wav", "data": "UklGRg=="}},
                    {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/c.pdf"}},
                ],
            }
        ]
    }
    estimate = count_request(payload, model="gemini-3-pro-preview", file_sizes={"gs://bucket/b.png": (640, 480)})
    # docs/google.md, Gemini 3: LOW 280 · MEDIUM 560 · HIGH 1120 · ULTRA_HIGH 2240 · unspecified 1120, whatever the size
    assert tokens(estimate) == [280, 560, 1120, 2240, 1120, None, 1120, None]
    assert [image.detail for image in estimate.images] == [
        "low",
        "medium",
        "high",
        "ultra_high",
        "auto",
        "auto",
        "auto",
        "auto",
    ]
    assert {image.basis for image in estimate.images if image.tokens} == {"maximum"}
    unknown = estimate.images[5]
    assert unknown.source == "file_uri" and "size unknown" in unknown.error and unknown.where == "contents[0].parts[6]"
    pdf = estimate.images[7]  # a PDF is billed as page images plus text: unpriced until a page rule is on file
    assert pdf.kind == "pdf" and pdf.where == "contents[0].parts[9]" and "unpriced" in pdf.error
    assert estimate.unpriced == 2


@pytest.mark.parametrize(
    "config",
    [
        {"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"}},
        {"generation_config": {"media_resolution": "MEDIA_RESOLUTION_LOW"}},
    ],
)
def test_gemini_global_media_resolution_and_model_in_the_body(config):
    payload = {
        "model": "models/gemini-3-flash-preview",
        **config,
        "contents": [
            {
                "role": "user",
                "parts": [
                    inline((1920, 1080)),
                    inline((1920, 1080), media_resolution={"level": "MEDIA_RESOLUTION_HIGH"}),
                ],
            }
        ],
    }
    assert tokens(count_request(payload)) == [280, 1120]  # the part's own wins over the request's


def test_gemini_ultra_high_is_per_part_only_and_bad_levels_name_their_place():
    payload = {"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_ULTRA_HIGH"}, "contents": []}
    with pytest.raises(RequestError, match="per part only"):
        count_request(payload, model="gemini-3-pro-preview")
    payload = {"contents": [{"parts": [inline((200, 200), media_resolution={"level": "SHARP"}), inline((200, 200))]}]}
    bad, good = count_request(payload, model="gemini-3-pro-preview").images
    assert bad.error.startswith("contents[0].parts[0].media_resolution.level must be one of") and good.tokens == 1120


def test_gemini_system_instruction_and_function_response_parts():
    payload = {
        "systemInstruction": {"parts": [{"text": "x"}, inline((200, 200))]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "shot", "response": {}, "parts": [inline((1920, 1080), camel=True)]}}
                ],
            }
        ],
    }
    estimate = count_request(payload, model="gemini-3-pro-preview")
    assert [i.where for i in estimate.images] == [
        "systemInstruction.parts[1]",
        "contents[0].parts[0].functionResponse.parts[0]",
    ]
    assert tokens(estimate) == [1120, 1120]


def test_gemini_without_a_model_asks_for_one():
    with pytest.raises(RequestError, match="no model"):
        count_request({"contents": [{"parts": [inline((200, 200))]}]})


# ------------------------------------------------------------------ Bedrock Converse (docs/README.md)


def bedrock(size):
    return {"image": {"format": "png", "source": {"bytes": B64[size]}}}


def test_bedrock_converse_bytes_s3_and_tool_results():
    payload = {
        "modelId": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "system": [{"text": "be brief"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "compare"},
                    bedrock((1920, 1080)),
                    {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://bucket/a.png"}}}},
                    {"toolResult": {"toolUseId": "t1", "content": [bedrock((1000, 1000)), {"text": "ok"}]}},
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 100},
    }
    estimate = count_request(payload)
    assert tokens(estimate) == [1560, None, 1296]  # Claude's standard tier through Bedrock
    assert estimate.images[1].source == "s3" and "size unknown" in estimate.images[1].error
    assert estimate.images[2].where == "messages[0].content[3].toolResult.content[0]"
    known = count_request(payload, file_sizes={"s3://bucket/a.png": (200, 200)})
    assert tokens(known) == [1560, 64, 1296]


def test_bedrock_raw_bytes_as_boto3_takes_them_and_nova_flat():
    payload = {
        "modelId": "amazon.nova-2-lite-v1:0",
        "messages": [
            {
                "role": "user",
                "content": [{"image": {"format": "png", "source": {"bytes": RAW[(1920, 1080)]}}}, bedrock((200, 200))],
            }
        ],
    }
    estimate = count_request(payload)
    assert tokens(estimate) == [230, 230] and {i.basis for i in estimate.images} == {
        "flat"
    }  # docs/README.md: Nova 2 flat
    assert estimate.images[0].bytes == len(RAW[(1920, 1080)])


def test_bedrock_bad_format_is_that_image_only():
    payload = {
        "modelId": "amazon.nova-2-lite-v1:0",
        "messages": [
            {
                "role": "user",
                "content": [{"image": {"format": "tiff", "source": {"bytes": B64[(200, 200)]}}}, bedrock((200, 200))],
            }
        ],
    }
    bad, good = count_request(payload).images
    assert bad.error.startswith("messages[0].content[0].image.format must be one of png") and good.tokens == 230


# ------------------------------------------------------------------ OpenAI-shaped: Mistral, Qwen, xAI


def test_mistral_image_url_as_string_or_object():
    payload = {
        "model": "mistral-small-3.2",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": URL[(1024, 1024)]},
                    {"type": "image_url", "image_url": {"url": URL[(1920, 1080)]}},
                ],
            }
        ],
    }
    assert tokens(count_request(payload)) == [1406, 1736]  # mistral-common: Small 1024² → 1406, 1920×1080 → 1736
    assert tokens(count_request(payload, model="pixtral-12b"))[0] == 4160  # Pixtral 1024² → 4160


def qwen_reference(width, height, factor, max_pixels, min_pixels=None):
    """docs/qwen.md written out here, independently of costcalc: tokens for one image."""
    min_pixels = 4 * factor * factor if min_pixels is None else min_pixels
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        beta = sqrt(height * width / max_pixels)
        h, w = floor(height / beta / factor) * factor, floor(width / beta / factor) * factor
    elif h * w < min_pixels:
        beta = sqrt(min_pixels / (height * width))
        h, w = ceil(height * beta / factor) * factor, ceil(width * beta / factor) * factor
    return h * w // (factor * factor) + 2


def test_qwen_default_max_pixels_and_high_resolution():
    parts = [
        {"type": "image_url", "image_url": {"url": URL[size]}} for size in ((1024, 1024), (1920, 1080), (3840, 2160))
    ]
    payload = {"model": "qwen3-vl-plus", "messages": [{"role": "user", "content": parts}]}
    assert tokens(count_request(payload)) == [1026, 2042, 2481]  # Alibaba's examples
    high = count_request(dict(payload, vl_high_resolution_images=True))
    assert tokens(high)[2] == 8162 and {i.detail for i in high.images} == {"high"}
    native = {
        "model": "qwen3-vl-plus",
        "input": {"messages": [{"role": "user", "content": [{"image": URL[(3840, 2160)]}, {"text": "x"}]}]},
        "parameters": {"vl_high_resolution_images": True},
    }
    assert tokens(count_request(native)) == [8162]  # DashScope's native shape


def test_qwen_max_and_min_pixels_per_image():
    payload = {
        "model": "qwen3-vl-plus",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": URL[(1920, 1080)]}, "max_pixels": 1003520},
                    {"type": "image_url", "image_url": {"url": URL[(1920, 1080)], "max_pixels": 401408}},
                    {"type": "image_url", "image_url": {"url": URL[(200, 200)]}, "min_pixels": 200704},
                    {"type": "image_url", "image_url": {"url": URL[(1920, 1080)]}},
                ],
            }
        ],
    }
    assert tokens(count_request(payload)) == [
        qwen_reference(1920, 1080, 32, 1003520),
        qwen_reference(1920, 1080, 32, 401408),
        qwen_reference(200, 200, 32, 2621440, 200704),
        2042,
    ]
    assert tokens(count_request(payload))[:3] == [945, 366, 198]  # the reference's figures, worked by hand too


def test_max_pixels_on_a_model_without_it_names_its_place():
    payload = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": URL[(200, 200)]}, "max_pixels": 1003520},
                    {"type": "image_url", "image_url": {"url": URL[(200, 200)]}},
                ],
            }
        ],
    }
    bad, good = count_request(payload).images
    assert bad.error.startswith("messages[0].content[0].max_pixels: max_pixels applies to Qwen models only")
    assert good.tokens is not None


def test_xai_shape_prices_nothing_it_cannot_know():
    payload = {
        "model": "grok-4",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": URL[(200, 200)]}},
                    {"type": "image_url", "image_url": {"url": URL[(200, 200)], "detail": "high"}},
                ],
            }
        ],
    }
    auto, high = count_request(payload).images
    assert auto.tokens is None and "unpublished" in auto.error  # docs/README.md: xAI Grok unknown, never borrowed
    assert high.tokens is None and high.error.startswith("messages[0].content[1].image_url.detail: ")


# ------------------------------------------------------------------ the shape comes from the structure


def test_the_shape_is_read_from_structure_not_from_the_model_name():
    shapes = [
        {"messages": [{"role": "user", "content": [claude_image((1000, 1000))]}]},
        {"contents": [{"parts": [inline((1000, 1000))]}]},
        {"messages": [{"role": "user", "content": [bedrock((1000, 1000))]}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": URL[(1000, 1000)]}]}]},
        {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": URL[(1000, 1000)]}]}]},
    ]
    for payload in shapes:
        assert tokens(count_request(payload, model="claude-sonnet-4-5")) == [1296], payload


# ------------------------------------------------------------------ each vendor's request limits (tables/limits.toml)


def claude_request(sizes):
    return {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [claude_image(s) for s in sizes]}]}


def test_claude_more_than_20_images_must_each_fit_2000_px():
    assert count_request(claude_request([(200, 200)] * 19 + [(3840, 2160)])).findings == ()  # 20 images: no rule
    (finding,) = count_request(claude_request([(200, 200)] * 20 + [(3840, 2160)])).findings
    assert finding.rule == "max_images_side" and "messages[0].content[20] (3840×2160)" in finding.message
    assert "anthropic" in finding.message
    assert count_request(claude_request([(200, 200)] * 20 + [(2000, 1500)])).findings == ()  # fits 2000 × 2000


def test_vendor_image_counts():
    (finding,) = count_request(claude_request([(200, 200)] * 101)).findings
    assert finding.rule == "max_images" and "101 images, over the 100" in finding.message
    mistral = {
        "model": "mistral-small-3.2",
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": URL[(200, 200)]}] * 9}],
    }
    assert [f.rule for f in count_request(mistral).findings] == ["max_images"]  # Mistral: 8 per request
    mistral["messages"][0]["content"].pop()
    assert count_request(mistral).findings == ()
    assert count_request(mistral, model="gpt-4o").findings == ()  # OpenAI: 1,500


def test_claude_accepts_an_animated_gif_by_its_first_frame():
    frames = [Image.new("RGB", (200, 200), c) for c in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    part = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/gif", "data": base64.b64encode(out.getvalue()).decode()},
    }
    assert tokens(count_request({"model": "claude-sonnet-4-5", "messages": [{"content": [part]}]})) == [64]
    gif_url = {"type": "image_url", "image_url": f"data:image/gif;base64,{part['source']['data']}"}
    (rejected,) = count_request({"model": "gpt-4o", "messages": [{"content": [gif_url]}]}).images
    assert rejected.rule == "animated"


# ------------------------------------------------------------------ the command


def test_cli_gemini_payload_with_model_file_size_and_basis(tmp_path):
    from click.testing import CliRunner

    from costcalc.cli import cli

    payload = {
        "contents": [
            {"parts": [inline((1920, 1080)), {"file_data": {"mime_type": "image/png", "file_uri": "files/a=b"}}]}
        ]
    }
    path = tmp_path / "gemini.json"
    path.write_text(json.dumps(payload))
    runner = CliRunner()
    table = runner.invoke(cli, ["request", str(path), "-m", "gemini-3-pro-preview", "--file-size", "files/a=b=640x480"])
    assert table.exit_code == 0, table.output
    assert "≤ 1,120" in table.stdout and "≤ 2,240 image tokens" in table.stdout
    document = json.loads(runner.invoke(cli, ["request", str(path), "-m", "gemini-3-pro-preview", "--json"]).stdout)
    assert [image["basis"] for image in document["images"]] == ["maximum", None]
    assert "size unknown" in document["images"][1]["error"]
    missing = runner.invoke(cli, ["request", str(path)])
    assert missing.exit_code == 2 and "no model" in missing.stderr and "Traceback" not in missing.output
