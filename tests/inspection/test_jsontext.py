"""JSON with long strings parsed around them: equal to json.loads for every input, errors included."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.inspection.jsontext import LONG, loads

LONG_TEXT = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=40),
    st.text(min_size=1, max_size=20),  # escapes, quotes, unicode, control characters
).map(lambda piece: piece * (LONG // len(piece) + 1))
"""Strings over LONG (made by repetition: hypothesis draws long text slowly)."""
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), LONG_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def outcome(parse, data: bytes):
    try:
        return ("value", parse(data))
    except Exception as error:  # the same error, worded the same
        return ("error", type(error), str(error))


@settings(max_examples=100)
@given(VALUES, st.booleans())
def test_equal_to_json_loads_on_valid_documents(value, ascii_only):
    data = json.dumps({"padding": "x" * (4 * LONG), "value": value}, ensure_ascii=ascii_only).encode()
    assert loads(data) == json.loads(data)


@settings(max_examples=100)
@given(VALUES, st.data())
def test_equal_to_json_loads_on_damaged_documents(value, draw):
    data = bytearray(json.dumps({"padding": "y" * (4 * LONG), "value": value}).encode())
    for _ in range(draw.draw(st.integers(1, 4))):
        at = draw.draw(st.integers(0, len(data) - 1))
        data[at] = draw.draw(st.sampled_from(b'"\\\x00\n{}[],:x\xff'))
    assert outcome(loads, bytes(data)) == outcome(json.loads, bytes(data))


def test_a_key_that_looks_like_the_marker_is_read_exactly():
    text = "\x00costcalc-long-string\x000"
    data = json.dumps({text: "z" * (8 * LONG), "b": [text]}).encode()
    assert loads(data) == json.loads(data)


@pytest.mark.parametrize("raw", [b'{"a": "' + b"q" * (5 * LONG) + b'\x01"}', b'{"a": "' + b"q" * (5 * LONG)])
def test_what_json_refuses_is_refused_with_its_words(raw):
    assert outcome(loads, raw) == outcome(json.loads, raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
def test_other_encodings_json_reads_are_read_alike(encoding):
    text = json.dumps({"a": "b" * (8 * LONG), "c": ["d" * LONG, 1]})
    data = text.encode(encoding)
    assert outcome(loads, data) == outcome(json.loads, data)


def _read_as_text(data: bytes):
    """How a request payload in bytes was read before it was parsed as bytes: decoded strictly, then json.loads."""
    import codecs

    from costcalc.pricing.payload import no_constant, parse_int

    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return ("error", "not UTF-8")
    try:
        document = json.loads(text, parse_constant=no_constant, parse_int=parse_int)
    except ValueError:
        return ("error", "not JSON")
    if not isinstance(document, dict):
        return ("error", "not an object")
    return ("value", document, len(text.encode("utf-8", "surrogatepass")))


def _read_as_bytes(data: bytes):
    from costcalc.errors import RequestError
    from costcalc.pricing.payload import load_payload

    try:
        document, size = load_payload(data)
    except RequestError as error:
        words = str(error)
        return (
            "error",
            "not UTF-8" if "UTF-8" in words else "not an object" if "not an object" in words else "not JSON",
        )
    return ("value", document, size)


@settings(max_examples=150)
@given(VALUES, st.data())
def test_a_payload_in_bytes_reads_as_its_decoded_text_did(value, draw):
    # the bytes are parsed as they are and their size is their length; the outcome is the strict decode's
    data = bytearray(json.dumps({"padding": "y" * (4 * LONG), "value": value}, ensure_ascii=False).encode())
    if draw.draw(st.booleans()):
        data[0:0] = b"\xef\xbb\xbf"
    for _ in range(draw.draw(st.integers(0, 3))):
        at = draw.draw(st.integers(0, len(data) - 1))
        data[at : at + 1] = draw.draw(st.sampled_from([b'"', b"\\", b"\x00", b"\xff", b"\xed\xa0\x80", b"\xc3", b"]"]))
    assert _read_as_bytes(bytes(data)) == _read_as_text(bytes(data))
