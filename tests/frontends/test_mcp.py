"""`costcalc mcp` (issue 12, docs/README.md): the server driven by the `mcp` SDK's own client over stdio.

One server process serves every call of the session test (spawning it costs
about a second), so the test also shows it keeps serving after tool errors.
Expected figures come from docs/openai.md's worked example (2560 × 1669 at high:
→ 1178 × 768, 6 tiles, 85 + 170 × 6 = 1105 tokens for gpt-4o) and from Pillow
reading the written file, never from costcalc itself.
"""

import base64
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"  # 2560 × 1669 JPEG (docs/openai.md's worked example)
CHAT = ROOT / "examples" / "chat-request.json"


def test_without_the_sdk_a_one_line_install_hint(monkeypatch):
    """No `mcp` package: `costcalc mcp` says how to install it, in one line, exit 2 (stdout stays empty)."""
    for name in [name for name in sys.modules if name == "mcp" or name.startswith("mcp.")] + ["mcp"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: that import fails
    result = CliRunner().invoke(cli, ["mcp"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'costcalc[mcp]'" in lines[0]


def test_output_path_beside_the_source_never_the_source(tmp_path):
    """optimize_image's default name keeps the source's own suffix when the format is unchanged; a folder
    output gets that name inside; the source (or a link to it) is refused (no SDK needed)."""
    from costcalc.errors import OutputConflictError
    from costcalc.mcp_server import output_path

    source = tmp_path / "shot.JPEG"
    source.write_bytes(b"x")
    assert output_path(str(source), None, "JPEG") == tmp_path / "shot.costcalc.JPEG"
    assert output_path(str(source), None, "PNG") == tmp_path / "shot.costcalc.png"
    (tmp_path / "out").mkdir()
    assert output_path(str(source), str(tmp_path / "out"), "JPEG") == tmp_path / "out" / "shot.costcalc.JPEG"
    assert output_path(str(source), str(tmp_path / "new") + os.sep, "WEBP") == tmp_path / "new" / "shot.costcalc.webp"
    assert output_path(str(source), str(tmp_path / "x.png"), "PNG") == tmp_path / "x.png"
    os.symlink(source, tmp_path / "alias.jpg")
    for same in (str(source), str(tmp_path / "." / "shot.JPEG"), str(tmp_path / "alias.jpg")):
        with pytest.raises(OutputConflictError, match="is the source"):
            output_path(str(source), same, "JPEG")


def _text(result) -> str:
    return " ".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def _data(result) -> dict:
    """A tool's JSON result: its structured content, which must agree with the text block clients show."""
    assert not result.is_error, _text(result)
    assert json.loads(_text(result)) == result.structured_content
    return result.structured_content


def test_server_over_stdio(tmp_path):
    """list_tools, the three tools, and errors as isError results with the server still serving."""
    pytest.importorskip("mcp.server.mcpserver", reason="the MCP SDK (mcp>=2, `costcalc[mcp]`) is not installed")
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    source = tmp_path / "photo.jpg"
    shutil.copyfile(PHOTO, source)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "costcalc", "mcp", "--root", str(tmp_path), "--root", str(ROOT)],
        cwd=str(tmp_path),
        env={"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
    )

    log = tmp_path / "server-stderr.log"  # a real file: the test runner's sys.stderr may have no descriptor

    async def session_run() -> None:
        with log.open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                with anyio.fail_after(30):
                    await session.initialize()
                    await _checks(session)

    async def _checks(session) -> None:
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == {"price_image", "optimize_image", "price_request", "list_models"}
        schemas = {tool.name: tool.input_schema for tool in listed.tools}
        assert set(schemas["price_image"]["properties"]) >= {"path", "data_url", "model", "detail"}
        assert schemas["optimize_image"]["required"] == ["path", "model"]

        # price_image on a path (relative to the server's folder): docs/openai.md, 2560 × 1669 high → 1178 × 768, 1105
        priced = _data(await session.call_tool("price_image", {"path": "photo.jpg", "model": "gpt-4o"}))
        assert (priced["tokens"], priced["basis"], priced["applied_detail"]) == (1105, "exact", "high")
        assert (priced["width"], priced["height"]) == (2560, 1669)
        assert (priced["scaled_width"], priced["scaled_height"]) == (1178, 768)
        assert priced["usd"] == pytest.approx(1105 * priced["usd_per_1m_input"] / 1e6) and priced["usd"] > 0
        assert priced["warning"] is None
        low = _data(await session.call_tool("price_image", {"path": str(source), "model": "gpt-4o", "detail": "low"}))
        assert low["tokens"] == 85  # docs/openai.md: low is the base, whatever the size

        # the same image as a data URL: only its header is decoded
        url = "data:image/jpeg;base64," + base64.b64encode(PHOTO.read_bytes()).decode("ascii")
        from_url = _data(await session.call_tool("price_image", {"data_url": url, "model": "gpt-4o"}))
        assert (from_url["tokens"], from_url["scaled_width"], from_url["scaled_height"]) == (1105, 1178, 768)

        # errors come back as tool errors, one line each, and the server keeps serving
        missing = await session.call_tool("price_image", {"path": "nowhere.jpg", "model": "gpt-4o"})
        assert missing.is_error and "nowhere.jpg" in _text(missing) and "\n" not in _text(missing)
        unknown = await session.call_tool("price_image", {"path": "photo.jpg", "model": "gpt-nonesuch"})
        assert unknown.is_error and "unknown model 'gpt-nonesuch'" in _text(unknown)
        both = await session.call_tool("price_image", {"path": "photo.jpg", "data_url": url, "model": "gpt-4o"})
        assert both.is_error and "exactly one of path and data_url" in _text(both)
        bad_url = await session.call_tool("price_image", {"data_url": "data:image/png;base64,@@@@", "model": "gpt-4o"})
        assert bad_url.is_error and "data_url" in _text(bad_url)
        again = _data(await session.call_tool("price_image", {"path": "photo.jpg", "model": "gpt-4o"}))
        assert again["tokens"] == 1105

        # optimize_image: the planned size (1178 × 768), beside the source, the source untouched
        before = source.read_bytes()
        shrunk = _data(await session.call_tool("optimize_image", {"path": "photo.jpg", "model": "gpt-4o"}))
        written = tmp_path / "photo.costcalc.jpg"
        assert shrunk["output"] == str(written)
        assert (shrunk["width"], shrunk["height"], shrunk["format"]) == (1178, 768, "JPEG")
        assert (shrunk["tokens_before"], shrunk["tokens_after"]) == (1105, 1105)
        assert shrunk["bytes_before"] == len(before) and shrunk["bytes_after"] == written.stat().st_size
        assert shrunk["bytes_after"] < shrunk["bytes_before"]
        assert source.read_bytes() == before
        from PIL import Image

        with Image.open(written) as image:
            assert (image.format, image.size) == ("JPEG", (1178, 768))

        # a token budget and an output of another format, in a folder that does not exist yet
        target = tmp_path / "out" / "small.png"
        small = _data(
            await session.call_tool(
                "optimize_image", {"path": str(source), "model": "gpt-4o", "max_tokens": 500, "output": str(target)}
            )
        )
        assert small["output"] == str(target) and small["format"] == "PNG"
        assert small["tokens_after"] <= 500 and small["tokens_before"] == 1105
        with Image.open(target) as image:
            assert (image.format, image.size) == ("PNG", (small["width"], small["height"]))
            w, h = image.size  # docs/openai.md on what was written: at most 500 tokens means at most 2 tiles
        assert -(-w // 512) * -(-h // 512) <= 2 and min(w, h) <= 768

        # never over the source: by its name, or by another name of it (a link)
        refused = await session.call_tool(
            "optimize_image", {"path": "photo.jpg", "model": "gpt-4o", "output": str(source)}
        )
        assert refused.is_error and "is the source" in _text(refused)
        link = tmp_path / "link.jpg"
        os.link(source, link)
        refused = await session.call_tool(
            "optimize_image", {"path": "photo.jpg", "model": "gpt-4o", "output": "link.jpg"}
        )
        assert refused.is_error and "is the source" in _text(refused)
        assert source.read_bytes() == before

        # price_request: examples/chat-request.json repriced for gpt-4o (docs/openai.md): photo.jpg at high 1105,
        # the 512 × 512 WebP at low 85, the remote URL unpriced (never fetched)
        payload = json.loads(CHAT.read_text())
        for given in (payload, CHAT.read_text()):
            request = _data(
                await session.call_tool(
                    "price_request", {"payload": given, "model": "gpt-4o", "base_dir": str(CHAT.parent)}
                )
            )
            assert request["model"] == "gpt-4o"
            assert [image["tokens"] for image in request["images"]] == [1105, 85, None]
            assert (request["image_tokens"], request["unpriced"]) == (1190, 1)
            assert "not fetched" in request["images"][2]["error"]
        broken = await session.call_tool("price_request", {"payload": "{not json"})
        assert broken.is_error and "\n" not in _text(broken)
        assert not (await session.call_tool("price_image", {"path": "photo.jpg", "model": "gpt-4o"})).is_error

    try:
        anyio.run(session_run)
    except BaseException:
        print(f"server stderr:\n{log.read_text() if log.exists() else ''}", file=sys.stderr)
        raise
