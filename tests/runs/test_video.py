"""Video: frames counted from metadata, priced per frame, extracted exactly, upright; clips the tests encode."""

import io
import json
import sys
from fractions import Fraction

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
from costcalc.cli import cli
from costcalc.errors import VideoError
from costcalc.inspection.clip import clip_info, sample
from costcalc.preflight.frames import extract_frames, video_frames
from costcalc.runs.video import video_estimate

av = pytest.importorskip("av")
np = pytest.importorskip("numpy")


def encode(path, width, height, seconds, rate=30, rotation=None):
    """An MPEG-4 clip with a red marker in the stored top-left corner."""
    out = av.open(str(path), "w")
    stream = out.add_stream("mpeg4", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    if rotation is not None:
        stream.set_display_rotation(rotation)
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 4, : width // 4] = (255, 0, 0)
    for _ in range(int(seconds * rate)):
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return str(path)


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {
        "wide": encode(folder / "wide.mp4", 1920, 1080, 10),  # 10 s at 30 fps, 1920 × 1080
        "phone": encode(folder / "phone.mp4", 1920, 1080, 3, rotation=-90),  # stored sideways, shown portrait
    }


def test_metadata_without_decoding(clips, monkeypatch):
    monkeypatch.setattr(av.container.InputContainer, "decode", lambda *a, **k: pytest.fail("decoded"))
    wide = clip_info(clips["wide"])
    assert (wide.width, wide.height, wide.frames, wide.rate, wide.duration) == (1920, 1080, 300, 30, 10)
    assert wide.frames_exact and wide.rotation == 0 and wide.upright == (1920, 1080)
    phone = clip_info(clips["phone"])
    assert phone.rotation == 270 and phone.upright == (1080, 1920)


@pytest.mark.parametrize(
    "options, count",
    [
        ({"every": 50}, 6),
        ({"every": 1}, 300),
        ({"fps": 1}, 10),
        ({"fps": 0.5}, 5),
        ({"fps": 60}, 300),
        ({"frames": 7}, 7),
        ({"frames": 1000}, 300),
        ({}, 10),
    ],
)
def test_sampling_counts(clips, options, count):
    indices, _ = sample(clip_info(clips["wide"]), **options)
    assert len(indices) == count and len(set(indices)) == count and max(indices) < 300


def test_every_nth_frame_matches_seed_001(clips):
    indices, description = sample(clip_info(clips["wide"]), every=50)
    assert list(indices) == [0, 50, 100, 150, 200, 250] and description == "every 50 frames"


# By hand (docs/openai.md): 1080×1920 → 768×1365, 2×3 tiles; 432×768, 1×2 tiles; patches 34×60 = 2040 and 14×24 = 336,
# × 1.2 (gpt-5.4) or × 1.62 (gpt-4.1-mini), rounded up.
FRAME_TOKENS = {
    "gpt-4o": {(1080, 1920): 85 + 6 * 170, (432, 768): 85 + 2 * 170},
    "gpt-4o-mini": {(1080, 1920): 2833 + 6 * 5667, (432, 768): 2833 + 2 * 5667},
    "gpt-5.4": {(1080, 1920): 2448, (432, 768): 404},
    "gpt-4.1-mini": {(1080, 1920): 3305, (432, 768): 545},
}


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5.4", "gpt-4.1-mini", "gpt-4o-mini"])
@pytest.mark.parametrize("max_side", [None, 768])
def test_per_frame_tokens_are_image_tokens(clips, model, max_side):
    estimate = video_estimate(clips["phone"], model=model, every=30, max_side=max_side)
    size = (1080, 1920) if max_side is None else (432, 768)
    assert (estimate.frame_width, estimate.frame_height) == size
    assert estimate.tokens_per_frame == FRAME_TOKENS[model][size]
    assert estimate.frames == 3 and estimate.tokens == 3 * estimate.tokens_per_frame


def test_extract_writes_exactly_the_counted_frames_at_the_planned_size(clips, tmp_path):
    estimate = video_estimate(clips["wide"], model="gpt-4o", every=50, max_side=768)
    written = extract_frames(clips["wide"], tmp_path, model="gpt-4o", every=50, max_side=768)
    files = sorted((tmp_path / "wide").iterdir())
    assert written == estimate.frames == len(files) == 6
    assert [f.name for f in files] == [f"wide-f{i:06d}.jpg" for i in range(0, 300, 50)]
    planned = costcalc.plan(estimate.frame_width, estimate.frame_height, model="gpt-4o")
    for path in files:
        with Image.open(path) as image:
            assert image.size == (planned.target_width, planned.target_height) == (768, 432)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".costcalc-tmp")]


def test_phone_frames_come_out_upright(clips):
    (frame,) = list(video_frames(clips["phone"], model="gpt-4o", frames=1))
    image = Image.open(io.BytesIO(frame.data))
    assert image.size == (768, 1365) and image.width < image.height
    # stored top-left marker, turned a quarter clockwise, shows top-right
    assert image.getpixel((image.width - 10, 10))[0] > 200 and image.getpixel((10, 10))[0] < 60
    assert frame.as_data_url().startswith("data:image/jpeg;base64,")


def gif(path, durations):
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")][: len(durations)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return str(path)


def test_animated_gif_and_webp_are_clips(tmp_path):
    info = clip_info(gif(tmp_path / "a.gif", [100, 300, 100]))
    assert (info.kind, info.frames, info.duration) == ("GIF", 3, Fraction(1, 2))
    assert list(sample(info, fps=10)[0]) == [0, 1, 2]  # 0.0 → 0; 0.1–0.3 → 1; 0.4 → 2
    frames = [Image.new("RGB", (64, 48), c) for c in ("red", "green")]
    frames[0].save(tmp_path / "a.webp", save_all=True, append_images=frames[1:], duration=[250, 250])
    webp = clip_info(tmp_path / "a.webp")
    assert (webp.kind, webp.frames, webp.duration) == ("WEBP", 2, Fraction(1, 2))
    assert [f.index for f in video_frames(tmp_path / "a.webp", model="gpt-4o", every=1)] == [0, 1]


def test_bad_clips_say_why(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(VideoError, match="not a video"):
        clip_info(tmp_path / "notes.mp4")
    with pytest.raises(VideoError, match="still JPEG image, not a clip"):
        clip_info(_still_jpeg(tmp_path))
    with pytest.raises(costcalc.ImageReadError, match="no such file"):
        clip_info(tmp_path / "missing.mp4")


def _still_jpeg(tmp_path):
    path = tmp_path / "still.jpg"
    Image.new("RGB", (10, 10)).save(path)
    return path


def test_without_pyav_the_message_says_how_to_install(clips, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(VideoError, match=r"pip install 'costcalc\[video\]'"):
        clip_info(clips["wide"])
    assert clip_info(gif(tmp_path / "b.gif", [100, 100])).frames == 2  # GIF needs no PyAV


def test_cli_two_models_side_by_side_and_a_bad_clip(clips, tmp_path):
    (tmp_path / "bad.mp4").write_text("nope")
    result = CliRunner().invoke(
        cli,
        [
            "video",
            clips["wide"],
            str(tmp_path / "bad.mp4"),
            clips["phone"],
            "-m",
            "gpt-4o",
            "-m",
            "gpt-5.4",
            "--every",
            "50",
            "--json",
        ],
    )
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [(r["path"].rsplit("/", 1)[-1], r.get("model"), r.get("frames")) for r in rows] == [
        ("wide.mp4", "gpt-4o", 6),
        ("wide.mp4", "gpt-5.4", 6),
        ("bad.mp4", None, None),
        ("phone.mp4", "gpt-4o", 2),
        ("phone.mp4", "gpt-5.4", 2),
    ]
    table = CliRunner().invoke(cli, ["video", clips["wide"], "-m", "gpt-4o", "-m", "gpt-5.4"]).stdout
    assert "gpt-4o" in table and "10/300" in table and "sampling: 1 frame a second" in table


def test_cli_extract_and_argument_errors(clips, tmp_path):
    result = CliRunner().invoke(
        cli, ["video", clips["wide"], "-m", "gpt-4o", "--frames", "4", "--extract", str(tmp_path)]
    )
    assert result.exit_code == 0 and "wrote 4 frames" in result.stderr and len(list((tmp_path / "wide").iterdir())) == 4
    both = CliRunner().invoke(cli, ["video", clips["wide"], "-m", "gpt-4o", "--every", "2", "--fps", "1"])
    assert both.exit_code == 2 and "one of --every, --fps or --frames" in both.output
