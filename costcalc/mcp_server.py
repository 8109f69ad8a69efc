"""`costcalc mcp`: a Model Context Protocol server over stdio, so agents price and shrink images before sending them.

SPEC §9 ("In the request path"), issue 12. Three tools, each a thin front end on
the library, as cli.py is for the command line:

- `price_image`: costcalc.estimate on a file or a data URL (header bytes only);
- `optimize_image`: costcalc.optimize, written beside the source (never over it)
  with preflight.write.atomic_write;
- `price_request`: costcalc.count_request on a payload.

The plain functions below work without the `mcp` SDK (they return JSON-ready
dicts and raise CostcalcError); `build_server` wraps them as MCP tools, turning
those errors into tool errors (`isError` results with the one-line message) so
the server keeps serving. The SDK (mcp>=2, the `costcalc[mcp]` extra) is imported
only by `build_server`/`serve`. Standard output is the protocol channel: the
SDK's stdio transport moves file descriptor 1 to standard error while it runs,
so a stray print cannot corrupt a message.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from .errors import CostcalcError, ImageReadError, OutputConflictError, OutputFormatError, RequestError
from .words import os_reason

__all__ = ["INSTALL_HINT", "argument_errors", "build_server", "optimize_image", "output_path", "price_image",
           "price_request", "serve"]

INSTALL_HINT = "costcalc mcp needs the MCP SDK (mcp>=2): pip install 'costcalc[mcp]'"
"""The one line `costcalc mcp` prints when the SDK is missing."""

_SUFFIX_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}
"""Output formats an output file's name asks for (preflight.resize.FORMATS)."""

_INSTRUCTIONS = (
    "costcalc prices images for vision models from their headers, with each vendor's published rules "
    "(tokens, USD, and how sure), and shrinks them to the size the model works from at the same tokens. "
    "Call price_image or price_request before sending images; optimize_image writes a smaller copy "
    "beside the source (never over it). Relative paths are resolved against the server's working folder."
)


def price_image(path: str | None = None, data_url: str | None = None, *, model: str, detail: str = "auto") -> dict:
    """What one image (a file, or a data URL / bare base64) costs `model` at `detail`: Estimate.as_dict()."""
    from .pricing.estimate import estimate

    if (path is None) == (data_url is None):
        raise ImageReadError("give exactly one of path and data_url")
    if path is not None:
        return estimate(path, model=model, detail=detail).as_dict()
    from .inspection.sources import inspect_base64, inspect_data_url

    where = "data_url"
    text = data_url.strip()
    info = inspect_data_url(text, where) if text[:5].lower() == "data:" else inspect_base64(text, where)
    return estimate(info, model=model, detail=detail).as_dict()


def output_path(source: str, output: str | None, out_format: str) -> Path:
    """Where optimize_image writes: `output`, or `<stem>.costcalc<ext>` beside the source (or in `output`, a folder).

    OutputConflictError when that path is the source or another name of it
    (a link): the source is never overwritten.
    """
    source_path, output = Path(source), output or None  # "" is no output given
    if output is not None and not os.path.isdir(output) and not output.endswith(("/", os.sep)):
        target = Path(output)
    else:
        suffix = source_path.suffix if _SUFFIX_FORMATS.get(source_path.suffix.lower()) == out_format else None
        from .preflight.resize import EXTENSIONS

        name = f"{source_path.stem}.costcalc{suffix or EXTENSIONS[out_format]}"
        target = (Path(output) if output is not None else source_path.parent) / name
    if _same_file(source_path, target):
        raise OutputConflictError(f"output {target} is the source {source} itself: choose another output")
    return target


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same real path, or (both existing) the same device and inode."""
    if os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return False


def optimize_image(
    path: str, *, model: str, max_tokens: int | None = None, output: str | None = None, detail: str = "auto"
) -> dict:
    """Write `path` at the size `model` works from (or the largest within `max_tokens`); the file and its figures.

    The output format is the source's, or the one `output`'s suffix names
    (.jpg, .jpeg, .png, .webp, .gif; any other is an OutputFormatError, never
    JPEG bytes under a .tiff name); the file is written whole or not at all (atomic_write).
    """
    from .files import atomic_write
    from .preflight.optimize import optimize

    output = output or None
    wanted = None
    if output is not None and not os.path.isdir(output) and not output.endswith(("/", os.sep)):
        suffix = Path(output).suffix
        wanted = _SUFFIX_FORMATS.get(suffix.lower())
        if wanted is None:
            named = f"its extension {suffix} names" if suffix else "it has no extension, so it names"
            raise OutputFormatError(f"output {output}: {named} no format optimize_image writes; end it with .jpg, "
                                    f".jpeg, .png, .webp or .gif, or with / for a folder")  # fmt: skip
    if output is not None:
        output_path(path, output, wanted or "JPEG")  # refuse the source before any work
    result = optimize(path, model=model, detail=detail, max_tokens=max_tokens,
                      format=None if wanted is None else wanted.lower())  # fmt: skip
    target = output_path(path, output, result.format)
    try:
        atomic_write(target, result.data)
    except OSError as error:
        raise CostcalcError(f"{target}: cannot write: {os_reason(error)}") from None
    return {
        "source": path,
        "output": os.path.abspath(target),
        "model": model,
        "detail": detail,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "tokens_before": result.tokens_before,
        "tokens_after": result.tokens_after,
        "bytes_before": result.bytes_before,
        "bytes_after": result.bytes_after,
        "warning": result.warning,
        "note": result.note,
    }


def price_request(payload: dict | str, *, model: str | None = None, base_dir: str | None = None) -> dict:
    """Every image (and the text) of a request payload, priced: count_request(...).as_dict()."""
    from .pricing.request import count_request

    if not isinstance(payload, (dict, str)):
        raise RequestError(f"payload: a JSON object or JSON text, not {type(payload).__name__}")
    return count_request(payload, model=model, base_dir=base_dir).as_dict()


_JSON_KINDS = {"int": "an integer", "float": "a number", "str": "a string", "bool": "a boolean", "list": "an array",
               "tuple": "an array", "dict": "an object", "NoneType": "null"}  # fmt: skip


def argument_errors(errors: list[dict]) -> str:
    """pydantic's errors() for a tool's arguments as one line: `model should be a valid string (got an integer)`,
    never its multi-line report with a documentation URL (an MCP client shows the text to a model as is)."""
    wrong: dict[str, list[str]] = {}
    got: dict[str, str] = {}
    for error in errors:
        where = ".".join(str(part) for part in (error.get("loc") or ("arguments",))[:1])
        text = str(error.get("msg") or "is not valid")
        wrong.setdefault(where, [])
        if text not in wrong[where]:
            wrong[where].append(text)
        if "input" in error and error.get("type") != "missing":
            got[where] = _JSON_KINDS.get(type(error["input"]).__name__, type(error["input"]).__name__)
    parts = []
    for where, texts in wrong.items():
        if texts == ["Field required"]:
            parts.append(f"{where} is required")
            continue
        wanted = [t.removeprefix("Input should be ") for t in texts]
        said = (" should be " + " or ".join(wanted)) if all(t.startswith("Input should be ") for t in texts) \
            else ": " + "; ".join(texts)  # fmt: skip
        parts.append(f"{where}{said}" + (f" (got {got[where]})" if where in got else ""))
    return "invalid arguments: " + "; ".join(" ".join(part.split()) for part in parts)


def _one_line(error: BaseException) -> str:
    """An error's message on one line (an MCP client shows it to a model as is)."""
    return " ".join(str(error).split()) or type(error).__name__


@contextmanager
def _tool_errors(tool_error: type[Exception]) -> Iterator[None]:
    """costcalc's errors (and OS errors) as the SDK's ToolError: an isError result, the server keeps serving."""
    try:
        yield
    except CostcalcError as error:
        raise tool_error(_one_line(error)) from None
    except OSError as error:
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        raise tool_error(f"{where}{os_reason(error)}") from None


def build_server():
    """The MCPServer with costcalc's three tools (imports the `mcp` SDK: ModuleNotFoundError without it)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
    from mcp.types import ToolAnnotations
    from pydantic import Field, ValidationError

    from . import __version__
    from .catalog.tables import DETAILS

    class Server(MCPServer):
        """MCPServer whose argument errors are one line (argument_errors), not pydantic's report."""

        async def call_tool(self, name, arguments, context=None):
            """MCPServer.call_tool, with an argument validation failure reworded."""
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as error:
                cause = error.__cause__
                if isinstance(error, UnexpectedToolError) or not isinstance(cause, ValidationError):
                    raise
                raise ToolError(f"Error executing tool {name}: {argument_errors(cause.errors())}") from cause

    server = Server("costcalc", version=__version__, instructions=_INSTRUCTIONS, log_level="WARNING")
    details = ", ".join(DETAILS)
    Model = Annotated[str, Field(description="Model name as the API takes it (e.g. gpt-4o, claude-sonnet-4-5); "
                                             "`costcalc models` lists them")]  # fmt: skip
    Detail = Annotated[str, Field(description=f"Detail level: {details}")]
    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(name="price_image", annotations=reading)
    def price_image_tool(
        model: Model,
        path: Annotated[str | None, Field(description="Image file (PNG, JPEG, WebP, GIF, ...)")] = None,
        data_url: Annotated[str | None, Field(description="data:image/...;base64,... URL, or bare base64")] = None,
        detail: Detail = "auto",
    ) -> dict[str, Any]:
        """Tokens and USD one image costs a model, how sure (basis), and the size the model sees
        (scaled_width x scaled_height), from the image header only. Give path or data_url."""
        with _tool_errors(ToolError):
            return price_image(path, data_url, model=model, detail=detail)

    # not read-only; destructive by the spec's default: an explicit `output` that exists is replaced (never the source)
    writing = ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=False)

    @server.tool(name="optimize_image", annotations=writing)
    def optimize_image_tool(
        path: Annotated[str, Field(description="Image file to shrink; it is never overwritten")],
        model: Model,
        max_tokens: Annotated[int | None, Field(ge=0, description="Largest size within this many tokens "
                                                                  "(default: same tokens as the original)")] = None,
        output: Annotated[str | None, Field(description="File or folder to write (default: <name>.costcalc.<ext> "
                                                        "beside the source); a .jpg/.jpeg/.png/.webp/.gif name picks "
                                                        "the format, any other extension is refused")] = None,
        detail: Detail = "auto",
    ) -> dict[str, Any]:
        """Write the image at the size the model works from (or the largest within max_tokens), upright and
        without metadata: the written file, its size, tokens and bytes before and after."""
        with _tool_errors(ToolError):
            return optimize_image(path, model=model, max_tokens=max_tokens, output=output, detail=detail)

    @server.tool(name="price_request", annotations=reading)
    def price_request_tool(
        payload: Annotated[dict[str, Any] | str, Field(description="The request body (OpenAI Chat/Responses, "
                                                                   "Anthropic Messages, Gemini, Bedrock), as a JSON "
                                                                   "object or JSON text")],
        model: Annotated[str | None, Field(description="Price for this model instead of the payload's")] = None,
        base_dir: Annotated[str | None, Field(description="Folder that relative image paths in the payload "
                                                          "are read from")] = None,
    ) -> dict[str, Any]:
        """Price every image (and the text) of a request payload before sending it: tokens, USD, unpriced
        images with the reason, and the request limits it breaks. Remote URLs are not fetched."""
        with _tool_errors(ToolError):
            return price_request(payload, model=model, base_dir=base_dir)

    return server


def serve() -> None:
    """Run the server on standard input and output until the client closes them."""
    build_server().run("stdio")
