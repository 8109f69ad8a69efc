"""`costcalc mcp`: costcalc served to agents over the Model Context Protocol."""

from __future__ import annotations

from .app import ArgumentError, cli


@cli.command(epilog="Exit codes: 0 the client closed the connection; 2 the MCP SDK is not installed.")
def mcp():
    """Serve costcalc to agents over the Model Context Protocol, on standard input and output.

    Tools: price_image (a file or data URL → tokens, USD, how sure, the size
    the model sees), optimize_image (a file → a smaller copy beside it, same
    tokens, never over the source), price_request (a payload → its estimate).
    Standard output carries the protocol only. Needs `pip install 'costcalc[mcp]'`.

    \b
    Agent configuration (Claude Desktop, Claude Code, ...):
      {"mcpServers": {"costcalc": {"command": "costcalc", "args": ["mcp"]}}}
    """
    from ..mcp_server import INSTALL_HINT, serve

    try:  # the SDK is an extra (mcp>=2, where MCPServer lives): one line, not a traceback, without it
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as error:
        missing = (getattr(error, "name", None) or "").partition(".")[0] == "mcp"
        raise ArgumentError(INSTALL_HINT if missing else f"{INSTALL_HINT} ({error})") from None
    serve()
