"""`costcalc mcp`: costcalc served to agents over the Model Context Protocol."""

from __future__ import annotations

import click

from .app import ArgumentError, cli


@cli.command(epilog="Exit codes: 0 the client closed the connection; 2 the MCP SDK is not installed.")
@click.option("--root", "roots", multiple=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="A folder the tools may read and write (repeatable; default: the current folder). Any other "
                   "path, links resolved, is refused.")
@click.option("--allow-overwrite", is_flag=True, help="Let optimize_image replace an existing file (never a source).")
def mcp(roots, allow_overwrite):
    """Serve costcalc to agents over the Model Context Protocol, on standard input and output.

    Tools: price_image (a file or data URL → tokens, USD, how sure, the size
    the model sees, for one model or several), optimize_image (a file → a
    smaller copy beside it, same tokens, never over the source or any other
    file unless --allow-overwrite), price_request (a payload → its estimate),
    list_models. Every path a tool reads or writes must lie, links resolved,
    inside a --root (default: the current folder).
    Standard output carries the protocol only. Needs `pip install 'costcalc[mcp]'`.

    \b
    Agent configuration (Claude Desktop, Claude Code, ...):
      {"mcpServers": {"costcalc": {"command": "costcalc", "args": ["mcp"]}}}
    """
    from ..mcp_server import INSTALL_HINT, Roots, serve

    try:  # the SDK is an extra (mcp>=2, where MCPServer lives): one line, not a traceback, without it
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as error:
        missing = (getattr(error, "name", None) or "").partition(".")[0] == "mcp"
        raise ArgumentError(INSTALL_HINT if missing else f"{INSTALL_HINT} ({error})") from None
    serve(Roots(roots, allow_overwrite=allow_overwrite))
