"""`costcalc mcp --root` (issue 15): an agent's paths are not the user's. One real server, driven over stdio by the
`mcp` SDK's own client, confined to one folder: reads and writes outside it (links resolved) are one-line tool errors,
the same whether the path exists or not; optimize_image writes new files only and makes folders only inside."""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"  # 2560 × 1669 JPEG: 1105 tokens on gpt-4o at high (85 + 170 × 6)


def _text(result) -> str:
    return " ".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def _data(result) -> dict:
    assert not result.is_error, _text(result)
    return result.structured_content


def _outside(result, path: str) -> str:
    text = _text(result)
    assert result.is_error and "outside the allowed roots" in text and "\n" not in text, text
    return text.replace(path, "PATH")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tools_stay_inside_the_roots(tmp_path):
    pytest.importorskip("mcp.server.mcpserver", reason="the MCP SDK (mcp>=2, `costcalc[mcp]`) is not installed")
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    shutil.copyfile(PHOTO, allowed / "photo.jpg")
    shutil.copyfile(PHOTO, outside / "secret.jpg")
    (allowed / "escape.jpg").symlink_to(outside / "secret.jpg")
    (allowed / "door").symlink_to(outside, target_is_directory=True)
    (allowed / "taken.jpg").write_bytes(b"the user's")
    before = snapshot(outside)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "costcalc", "mcp", "--root", str(allowed)], cwd=str(tmp_path), env=env
    )
    log = tmp_path / "server-stderr.log"

    async def checks(session) -> None:
        call = session.call_tool
        # reads: the same answer for a file that exists and one that does not; links resolved first
        shadow = _outside(await call("price_image", {"path": "/etc/shadow", "model": "gpt-4o"}), "/etc/shadow")
        nothing = _outside(
            await call("price_image", {"path": "/etc/no-such-file", "model": "gpt-4o"}), "/etc/no-such-file"
        )
        assert shadow == nothing
        for path in ("outside/secret.jpg", "allowed/escape.jpg", "allowed/door/secret.jpg", "allowed/../outside"):
            _outside(await call("price_image", {"path": path, "model": "gpt-4o"}), path)
        _outside(await call("optimize_image", {"path": "allowed/escape.jpg", "model": "gpt-4o"}), "allowed/escape.jpg")
        priced = _data(await call("price_image", {"path": "allowed/photo.jpg", "model": "gpt-4o"}))
        assert priced["tokens"] == 1105

        # several models and a tier
        both = _data(
            await call(
                "price_image", {"path": "allowed/photo.jpg", "model": ["gpt-4o", "gpt-nonesuch"], "tier": "batch"}
            )
        )
        assert [entry["model"] for entry in both["estimates"]] == ["gpt-4o", "gpt-nonesuch"]
        assert both["estimates"][0]["tokens"] == 1105 and both["estimates"][0]["tier"] == "batch"
        assert "unknown model" in both["estimates"][1]["error"]

        # writes: never outside, never through a link, never over a file, never a folder outside
        for output in ("outside/new.jpg", "allowed/door/new.jpg", "allowed/../outside/made/new.jpg"):
            result = await call("optimize_image", {"path": "allowed/photo.jpg", "model": "gpt-4o", "output": output})
            _outside(result, output)
        assert not (outside / "made").exists()
        taken = await call(
            "optimize_image", {"path": "allowed/photo.jpg", "model": "gpt-4o", "output": "allowed/taken.jpg"}
        )
        assert taken.is_error and "exists" in _text(taken) and "allow_overwrite" in _text(taken)
        assert (allowed / "taken.jpg").read_bytes() == b"the user's"
        made = _data(
            await call(
                "optimize_image",
                {"path": "allowed/photo.jpg", "model": "gpt-4o", "output": "allowed/new/deeper/small.jpg"},
            )
        )
        assert made["output"] == str(allowed / "new" / "deeper" / "small.jpg")
        again = await call(
            "optimize_image", {"path": "allowed/photo.jpg", "model": "gpt-4o", "output": "allowed/new/deeper/small.jpg"}
        )
        assert again.is_error and "exists" in _text(again)

        # a payload's local paths are confined too
        payload = {
            "model": "gpt-4o",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": str(outside / "secret.jpg")}},
                        {"type": "image_url", "image_url": {"url": str(allowed / "photo.jpg")}},
                    ],
                }
            ],
        }
        request = _data(await call("price_request", {"payload": payload}))
        assert [image["tokens"] for image in request["images"]] == [None, 1105]
        assert "outside the allowed roots" in request["images"][0]["error"]
        _outside(await call("price_request", {"payload": payload, "base_dir": str(outside)}), str(outside))

        # list_models, filtered
        listed = await session.list_tools()
        assert "list_models" in {tool.name for tool in listed.tools}
        anthropic = _data(await call("list_models", {"vendor": "anthropic"}))["models"]
        assert anthropic and {row["vendor"] for row in anthropic} == {"anthropic"}
        named = _data(await call("list_models", {"name": "4O"}))["models"]
        assert "gpt-4o" in {row["name"] for row in named} and all("4o" in row["name"] for row in named)
        assert _data(await call("list_models", {"vendor": "nobody"}))["models"] == []

    async def session_run() -> None:
        with log.open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                with anyio.fail_after(60):
                    await session.initialize()
                    await checks(session)

    try:
        anyio.run(session_run)
    except BaseException:
        print(f"server stderr:\n{log.read_text() if log.exists() else ''}", file=sys.stderr)
        raise
    assert snapshot(outside) == before and sorted(p.name for p in outside.iterdir()) == ["secret.jpg"]
