"""`costcalc mcp`: a Model Context Protocol server over stdio, so agents price and shrink images before sending them.

docs/README.md ("In the request path"), issue 12. Four tools, each a thin front end on
the library, as cli.py is for the command line:

- `price_image`: costcalc.estimate on a file or a data URL (header bytes only),
  for one model or several, at a service tier;
- `optimize_image`: costcalc.optimize, written beside the source (never over it)
  with files.atomic_write;
- `price_request`: costcalc.count_request on a payload;
- `list_models`: the model table, filtered by vendor and name.

Paths come from a model, which is not the user (issue 15): every path a tool
reads or writes must lie, links resolved, in a root the user named when
starting the server (`Roots`: `costcalc mcp --root DIR`, repeatable; default
the working folder); any other is a one-line tool error, the same whether the
path exists or not. optimize_image writes new files only (unless the server
was started with --allow-overwrite) and makes folders only inside a root,
never through a link. Sources are read as audit reads them: regular files,
non-blocking, with a size cap.

The plain functions below work without the `mcp` SDK (they return JSON-ready
dicts and raise CostcalcError); `build_server` wraps them as MCP tools, turning
those errors into tool errors (`isError` results with the one-line message) so
the server keeps serving. The SDK (mcp>=2, the `costcalc[mcp]` extra) is imported
only by `build_server`/`serve`. Standard output is the protocol channel: the
SDK's stdio transport moves file descriptor 1 to standard error while it runs,
so a stray print cannot corrupt a message.
"""

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from .errors import (
    CostcalcError,
    ImageReadError,
    OutputConflictError,
    OutputExistsError,
    OutputFormatError,
    PathNotAllowedError,
    RequestError,
)
from .files import inside
from .words import escape, os_reason

__all__ = [
    "INSTALL_HINT",
    "Roots",
    "argument_errors",
    "build_server",
    "list_models",
    "optimize_image",
    "output_path",
    "price_image",
    "price_request",
    "serve",
]

INSTALL_HINT = "costcalc mcp needs the MCP SDK (mcp>=2): pip install 'costcalc[mcp]'"
"""The one line `costcalc mcp` prints when the SDK is missing."""

_SUFFIX_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}
"""Output formats an output file's name asks for (preflight.resize.FORMATS)."""

_INSTRUCTIONS = (
    "costcalc prices images for vision models from their headers, with each vendor's published rules "
    "(tokens, USD, and how sure), and shrinks them to the size the model works from at the same tokens. "
    "Call price_image or price_request before sending images; optimize_image writes a smaller copy "
    "beside the source (never over it, and never over any file unless the server allows it); list_models lists "
    "the models. Relative paths are resolved against the server's working folder; only paths inside the folders "
    "the server was started with (its roots) may be read or written."
)


class Roots:
    """The folders a server's tools may read and write (real paths), and whether an output may replace a file."""

    def __init__(self, folders: Iterable[str | os.PathLike] = (), *, allow_overwrite: bool = False):
        folders = list(folders) or [os.curdir]
        self.folders = tuple(dict.fromkeys(os.path.realpath(os.fspath(folder)) for folder in folders))
        self.allow_overwrite = allow_overwrite

    def check(self, path: str, what: str = "path") -> tuple[str, str]:
        """(real path, its root) of `path`; PathNotAllowedError outside every root, links resolved, whether the path
        exists or not."""
        found = inside(path, self.folders)
        if found is None:
            raise PathNotAllowedError(
                f"{what} {escape(os.fspath(path))}: outside the allowed roots (the server reads "
                f"and writes only in {', '.join(map(escape, self.folders))})"
            )
        return found


def price_image(
    path: str | None = None,
    data_url: str | None = None,
    *,
    model: str | list[str],
    detail: str = "auto",
    tier: str = "standard",
    roots: Roots | None = None,
) -> dict:
    """What one image (a file, or a data URL / bare base64) costs `model` at `detail` and `tier`: Estimate.as_dict();
    with several models, {"estimates": [...]}, one per model, each an estimate or {"model", "error"}.

    With `roots`, a path outside them is PathNotAllowedError."""
    from dataclasses import replace

    from .inspection.headers import inspect_path
    from .pricing.estimate import estimate

    if (path is None) == (data_url is None):
        raise ImageReadError("give exactly one of path and data_url")
    names = [model] if isinstance(model, str) else list(model)
    if not names:
        raise ImageReadError("model: give at least one model")
    if path is not None:
        real = roots.check(path)[0] if roots is not None else path
        if isinstance(model, str):
            found = estimate(real, model=model, detail=detail, tier=tier)
            return replace(found, source=path).as_dict() if roots is not None else found.as_dict()
        info = inspect_path(real, name=path)
    else:
        from .inspection.sources import inspect_base64, inspect_data_url

        where = "data_url"
        text = data_url.strip()
        info = inspect_data_url(text, where) if text[:5].lower() == "data:" else inspect_base64(text, where)
        if isinstance(model, str):
            return estimate(info, model=model, detail=detail, tier=tier).as_dict()
    estimates = []
    for name in names:
        try:
            found = estimate(info, model=name, detail=detail, tier=tier)
            estimates.append(replace(found, source=path).as_dict() if path is not None else found.as_dict())
        except CostcalcError as error:
            estimates.append({"model": name, "error": _one_line(error)})
    return {"estimates": estimates}


def list_models(vendor: str | None = None, name: str | None = None) -> dict:
    """The models costcalc prices, optionally of one vendor (openai, anthropic, google, ...) and with `name` in their
    name (case-insensitive): {"models": [{name, vendor, scheme, bases, usd_per_1m_input, price_date, note}]}."""
    from .catalog.tables import default_tables
    from .output.report import model_row

    tables = default_tables()
    rows = []
    for found in tables.models():
        if vendor is not None and (found.vendor or "").lower() != vendor.strip().lower():
            continue
        if name is not None and name.strip().lower() not in found.name.lower():
            continue
        row = model_row(found, tables)
        rows.append(
            {
                "name": row["name"],
                "vendor": row["vendor"],
                "scheme": row["scheme"],
                "bases": row["bases"],
                "usd_per_1m_input": row["usd_per_1m_input"],
                "price_date": row["price_date"],
                "note": row["note"],
            }
        )
    return {"models": rows}


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


def _wanted_format(output: str | None) -> str | None:
    """The format an output file name asks for (None for a folder or no output); OutputFormatError otherwise."""
    if output is None or os.path.isdir(output) or output.endswith(("/", os.sep)):
        return None
    suffix = Path(output).suffix
    wanted = _SUFFIX_FORMATS.get(suffix.lower())
    if wanted is None:
        named = f"its extension {suffix} names" if suffix else "it has no extension, so it names"
        raise OutputFormatError(
            f"output {output}: {named} no format optimize_image writes; end it with .jpg, "
            f".jpeg, .png, .webp or .gif, or with / for a folder"
        )
    return wanted


def _write_output(target: Path, data: bytes, roots: Roots | None) -> Path:
    """Write `data` at `target` whole or not at all; with `roots`: inside them, never over a file unless the
    server allows it (OutputExistsError), folders made only inside a root. The path written."""
    from .files import atomic_write

    root, replacing = None, True
    if roots is not None:
        real, root = roots.check(os.fspath(target), "output")
        target, replacing = Path(real), roots.allow_overwrite
        if not replacing and os.path.lexists(target):
            raise OutputExistsError(
                f"output {escape(os.fspath(target))} exists: optimize_image writes new files only "
                f"(the server was started without allow_overwrite); name another output"
            )
    try:
        atomic_write(target, data, root=root, replace=replacing)
    except FileExistsError:
        raise OutputExistsError(
            f"output {escape(os.fspath(target))} exists: optimize_image writes new files only "
            f"(the server was started without allow_overwrite)"
        ) from None
    except OSError as error:
        raise CostcalcError(f"{escape(os.fspath(target))}: cannot write: {os_reason(error)}") from None
    return target


def optimize_image(
    path: str,
    *,
    model: str,
    max_tokens: int | None = None,
    output: str | None = None,
    detail: str = "auto",
    roots: Roots | None = None,
) -> dict:
    """Write `path` at the size `model` works from (or the largest within `max_tokens`); the file and its figures.

    The output format is the source's, or the one `output`'s suffix names
    (.jpg, .jpeg, .png, .webp, .gif; any other is an OutputFormatError, never
    JPEG bytes under a .tiff name); the file is written whole or not at all (atomic_write).
    With `roots`: the source and the output must lie inside them (PathNotAllowedError); folders are made only
    inside a root, never through a link; an output that exists is OutputExistsError unless `roots.allow_overwrite`.
    """
    from .preflight.optimize import optimize

    output = output or None
    wanted = _wanted_format(output)
    source = roots.check(path)[0] if roots is not None else path
    if output is not None:
        early = output_path(path, output, wanted or "JPEG")  # refuse the source before any work
        if roots is not None:
            roots.check(os.fspath(early), "output")
    result = optimize(
        source,
        model=model,
        detail=detail,
        max_tokens=max_tokens,
        format=None if wanted is None else wanted.lower(),
        name=path,
    )
    target = _write_output(output_path(path, output, result.format), result.data, roots)
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


def price_request(
    payload: dict | str, *, model: str | None = None, base_dir: str | None = None, roots: Roots | None = None
) -> dict:
    """Every image (and the text) of a request payload, priced: count_request(...).as_dict().

    With `roots`, `base_dir` and every local path the payload names must lie inside them (PathNotAllowedError for
    `base_dir`; an unpriced image naming the reason for a path in the payload)."""
    from .inspection.sources import confined
    from .pricing.request import count_request

    if not isinstance(payload, (dict, str)):
        raise RequestError(f"payload: a JSON object or JSON text, not {type(payload).__name__}")
    if roots is not None and base_dir is not None:
        base_dir = roots.check(base_dir, "base_dir")[0]
    with confined(None if roots is None else roots.folders):
        return count_request(payload, model=model, base_dir=base_dir).as_dict()


_JSON_KINDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "a boolean",
    "list": "an array",
    "tuple": "an array",
    "dict": "an object",
    "NoneType": "null",
}


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
        said = (
            (" should be " + " or ".join(wanted))
            if all(t.startswith("Input should be ") for t in texts)
            else ": " + "; ".join(texts)
        )
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


def build_server(roots: Roots | None = None):
    """The MCPServer with costcalc's four tools, confined to `roots` (default: the working folder; imports the `mcp`
    SDK: ModuleNotFoundError without it)."""
    from . import __version__

    roots = roots or Roots()
    server = _server_class()("costcalc", version=__version__, instructions=_INSTRUCTIONS, log_level="WARNING")
    _add_price_image(server, roots)
    _add_list_models(server)
    _add_optimize_image(server, roots)
    _add_price_request(server, roots)
    return server


def _server_class():
    """The MCPServer class costcalc serves with (the SDK imported here, not at import of this module)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
    from pydantic import ValidationError

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

    return Server


def _reading():
    """The annotations of a tool that only reads."""
    from mcp.types import ToolAnnotations

    return ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _detail_argument():
    """The `detail` argument's type, with the detail levels the tables know."""
    from pydantic import Field

    from .catalog.tables import DETAILS

    return Annotated[str, Field(description=f"Detail level: {', '.join(DETAILS)}")]


def _add_price_image(server, roots: Roots) -> None:
    """Register price_image: price_image on a file or a data URL, within `roots`."""
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import Field

    Detail = _detail_argument()

    @server.tool(name="price_image", annotations=_reading())
    def price_image_tool(
        model: Annotated[
            str | list[str],
            Field(
                description="Model name as the API takes it (e.g. gpt-4o, "
                "claude-sonnet-4-5), or a list of them; list_models "
                "lists them"
            ),
        ],
        path: Annotated[str | None, Field(description="Image file (PNG, JPEG, WebP, GIF, ...)")] = None,
        data_url: Annotated[str | None, Field(description="data:image/...;base64,... URL, or bare base64")] = None,
        detail: Detail = "auto",
        tier: Annotated[
            str,
            Field(description="Service tier to price at: standard, batch, flex, priority (the tiers the model has)"),
        ] = "standard",
    ) -> dict[str, Any]:
        """Tokens and USD one image costs a model (or each of several: {"estimates": [...]}), how sure (basis), and
        the size the model sees (scaled_width x scaled_height), from the image header only. Give path or data_url."""
        with _tool_errors(ToolError):
            return price_image(path, data_url, model=model, detail=detail, tier=tier, roots=roots)


def _add_list_models(server) -> None:
    """Register list_models: the model table, filtered."""
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import Field

    @server.tool(name="list_models", annotations=_reading())
    def list_models_tool(
        vendor: Annotated[
            str | None,
            Field(description="Only this vendor's models: openai, anthropic, google, mistral, qwen, amazon, meta, xai"),
        ] = None,
        name: Annotated[
            str | None, Field(description="Only models whose name contains this (case-insensitive)")
        ] = None,
    ) -> dict[str, Any]:
        """The models costcalc prices: name, vendor, billing scheme, how sure, and input price per million tokens."""
        with _tool_errors(ToolError):
            return list_models(vendor, name)


def _add_optimize_image(server, roots: Roots) -> None:
    """Register optimize_image: optimize_image within `roots`, destructive only if they allow overwriting."""
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations
    from pydantic import Field

    Model = Annotated[
        str,
        Field(
            description="Model name as the API takes it (e.g. gpt-4o, claude-sonnet-4-5); `costcalc models` lists them"
        ),
    ]
    Detail = _detail_argument()
    # not read-only; never destructive unless the server was started with --allow-overwrite
    writing = ToolAnnotations(
        read_only_hint=False, destructive_hint=roots.allow_overwrite, idempotent_hint=False, open_world_hint=False
    )

    @server.tool(name="optimize_image", annotations=writing)
    def optimize_image_tool(
        path: Annotated[str, Field(description="Image file to shrink; it is never overwritten")],
        model: Model,
        max_tokens: Annotated[
            int | None,
            Field(ge=0, description="Largest size within this many tokens (default: same tokens as the original)"),
        ] = None,
        output: Annotated[
            str | None,
            Field(
                description="File or folder to write (default: <name>.costcalc.<ext> "
                "beside the source); a .jpg/.jpeg/.png/.webp/.gif name picks "
                "the format, any other extension is refused"
            ),
        ] = None,
        detail: Detail = "auto",
    ) -> dict[str, Any]:
        """Write the image at the size the model works from (or the largest within max_tokens), upright and
        without metadata: the written file, its size, tokens and bytes before and after."""
        with _tool_errors(ToolError):
            return optimize_image(path, model=model, max_tokens=max_tokens, output=output, detail=detail, roots=roots)


def _add_price_request(server, roots: Roots) -> None:
    """Register price_request: price_request on a payload, its paths within `roots`."""
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import Field

    @server.tool(name="price_request", annotations=_reading())
    def price_request_tool(
        payload: Annotated[
            dict[str, Any] | str,
            Field(
                description="The request body (OpenAI Chat/Responses, "
                "Anthropic Messages, Gemini, Bedrock), as a JSON "
                "object or JSON text"
            ),
        ],
        model: Annotated[str | None, Field(description="Price for this model instead of the payload's")] = None,
        base_dir: Annotated[
            str | None, Field(description="Folder that relative image paths in the payload are read from")
        ] = None,
    ) -> dict[str, Any]:
        """Price every image (and the text) of a request payload before sending it: tokens, USD, unpriced
        images with the reason, and the request limits it breaks. Remote URLs are not fetched."""
        with _tool_errors(ToolError):
            return price_request(payload, model=model, base_dir=base_dir, roots=roots)


def serve(roots: Roots | None = None) -> None:
    """Run the server on standard input and output until the client closes them, confined to `roots`."""
    build_server(roots).run("stdio")
