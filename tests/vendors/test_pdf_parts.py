"""PDF and file parts, and typed parts costcalc does not recognise, are unpriced, never free (issue 15).

Vendors bill a PDF as the text and an image of each page (OpenAI https://platform.openai.com/docs/guides/pdf-files,
Anthropic https://docs.anthropic.com/en/docs/build-with-claude/pdf-support, Gemini
https://ai.google.dev/gemini-api/docs/document-processing). Until a page rule is on file such a part is an
unpriced row (with its page count when the PDF is inline), and a budget fails closed on it.
"""

import base64
import io
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from costcalc import BudgetExceeded, check_budget, count_request
from costcalc.cli import cli
from costcalc.pricing.parts import pdf_pages


def pdf(pages: int) -> bytes:
    """A PDF of `pages` pages, written by Pillow (not by costcalc)."""
    out = io.BytesIO()
    first, *rest = [Image.new("RGB", (60, 80), "white") for _ in range(pages)]
    first.save(out, "PDF", save_all=True, append_images=rest)
    return out.getvalue()


PDF3 = base64.b64encode(pdf(3)).decode()
PNG = io.BytesIO()
Image.new("RGB", (512, 512), "navy").save(PNG, "PNG")
IMAGE = {
    "type": "image_url",
    "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG.getvalue()).decode()},
}


def test_page_count_is_read_from_the_page_tree():
    assert pdf_pages(pdf(1)) == 1 and pdf_pages(pdf(3)) == 3 and pdf_pages(pdf(12)) == 12
    assert pdf_pages(b"not a pdf /Type /Pages /Count 4") is None
    assert pdf_pages(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj") is None  # no page tree: unknown


@pytest.mark.parametrize(
    "part, pages",
    [
        ({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF3}}, 3),
        ({"type": "document", "source": {"type": "file", "file_id": "file_011"}}, None),
        ({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}, None),
        ({"type": "file", "file": {"filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF3}"}}, 3),
        ({"type": "file", "file": {"file_id": "file-abc"}}, None),
        ({"type": "input_file", "file_id": "file-abc"}, None),
        ({"type": "input_file", "filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF3}"}, 3),
        ({"type": "document_url", "document_url": "https://example.com/a.pdf"}, None),
    ],
)
def test_pdf_and_file_parts_are_unpriced_with_their_pages(part, pages):
    estimate = count_request({"model": "gpt-4o", "messages": [{"role": "user", "content": [IMAGE, part]}]})
    image, document = estimate.images
    assert image.tokens == 85 + 170  # the image is still priced: 512 × 512 is one tile at high (worked by hand)
    assert estimate.unpriced == 1 and document.tokens is None and document.usd is None
    assert document.pages == pages and document.where == "messages[0].content[1]" and "unpriced" in document.error
    assert estimate.input_tokens is None and estimate.input_usd is None  # the whole input is not known


def test_gemini_pdf_inline_and_by_uri_are_unpriced():
    payload = {
        "contents": [
            {
                "parts": [
                    {"text": "summarise"},
                    {"inline_data": {"mime_type": "application/pdf", "data": PDF3}},
                    {"file_data": {"mime_type": "application/pdf", "file_uri": "gs://b/c.pdf"}},
                ]
            }
        ]
    }
    estimate = count_request(payload, model="gemini-2.5-flash")
    assert [(image.kind, image.pages) for image in estimate.images] == [("pdf", 3), ("pdf", None)]
    assert estimate.unpriced == 2


def test_bedrock_pdf_document_is_unpriced_and_a_text_document_is_text():
    payload = {
        "modelId": "amazon.nova-pro-v1:0",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"document": {"format": "pdf", "name": "a", "source": {"bytes": PDF3}}},
                    {"document": {"format": "txt", "name": "b", "source": {"bytes": "aGVsbG8="}}},
                ],
            }
        ],
    }
    estimate = count_request(payload)
    assert [(image.kind, image.pages) for image in estimate.images] == [("pdf", 3)]
    text_doc = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "hello"}}
    plain = count_request({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [text_doc]}]})
    assert plain.images == () and plain.unpriced == 0


def test_a_budget_fails_closed_on_a_pdf_and_on_an_unknown_part():
    for part in ({"type": "input_file", "file_id": "file-abc"}, {"type": "hologram", "data": "..."}):
        payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": [IMAGE, part]}]}
        with pytest.raises(BudgetExceeded, match="could not be priced") as caught:
            check_budget(payload, max_usd=1000, max_tokens=10**9)
        assert caught.value.estimate.image_tokens == 255  # well within both limits but for the unpriced part
    assert check_budget({"model": "gpt-4o", "messages": [{"content": [IMAGE]}]}, max_usd=1000).unpriced == 0


def test_cli_request_max_usd_fails_closed_on_a_pdf(tmp_path):
    part = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF3}}
    path = tmp_path / "payload.json"
    path.write_text(json.dumps({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [part]}]}))
    result = CliRunner().invoke(cli, ["request", str(path), "--max-usd", "100", "--json"])
    assert result.exit_code == 5  # over budget (fails closed) and an unpriced part
    document = json.loads(result.stdout)
    assert document["images"][0]["pages"] == 3 and document["images"][0]["kind"] == "pdf"
    assert document["budget"]["over"] and "could not be priced" in document["budget"]["over"][0]
    assert "3 pages" in result.stderr
