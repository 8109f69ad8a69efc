"""Damaged clips (issue 15): one error row for the clip, the others still priced; video_estimate raises a
CostcalcError subclass, never AttributeError or UnicodeDecodeError, over mutated MP4 bytes."""

import json
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import video_estimate
from costcalc.cli import cli
from costcalc.errors import CostcalcError, VideoError

av = pytest.importorskip("av")

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "examples" / "clip.mp4"
DATA = CLIP.read_bytes()


def _find(data: bytes, kind: bytes) -> int:
    at = data.find(kind)
    assert at > 4, kind
    return at


def test_non_utf8_metadata_is_the_clips_error_row_and_the_others_are_priced(tmp_path):
    """A clip whose metadata (the udta/ilst title) holds bytes that are not UTF-8, between two good clips."""
    data = bytearray(DATA)
    at = _find(DATA, b"Lavf")  # the encoder tag FFmpeg writes into the metadata
    data[at : at + 4] = b"\xe4\x96\xff\xfe"
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    shutil.copyfile(CLIP, tmp_path / "good.mp4")
    with pytest.raises(VideoError, match="bad.mp4"):
        video_estimate(tmp_path / "bad.mp4", model="gpt-4o")
    result = CliRunner().invoke(
        cli,
        [
            "video",
            str(tmp_path / "good.mp4"),
            str(tmp_path / "bad.mp4"),
            str(tmp_path / "good.mp4"),
            "-m",
            "gpt-4o",
            "--nl",
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["error"] is None for row in rows] == [True, False, True]
    assert rows[0]["tokens"] and rows[2]["tokens"] == rows[0]["tokens"] and "bad.mp4" in rows[1]["error"]


def test_a_stream_without_codec_parameters_is_a_video_error(tmp_path):
    """PyAV gives codec_context None for a stream FFmpeg has no decoder parameters for: main raised AttributeError."""
    real_open = av.open

    def opened(*args, **kwargs):
        container = real_open(*args, **kwargs)
        stream = container.streams.video[0]
        fake = mock.MagicMock(wraps=stream)
        fake.codec_context = None
        fake.average_rate, fake.guessed_rate = stream.average_rate, stream.guessed_rate
        fake.duration, fake.time_base, fake.frames = stream.duration, stream.time_base, stream.frames
        streams = mock.MagicMock()
        streams.video = [fake]
        wrapper = mock.MagicMock(wraps=container)
        wrapper.streams = streams
        wrapper.__enter__.return_value = wrapper
        wrapper.__exit__.side_effect = lambda *exc: container.close()
        return wrapper

    with mock.patch.object(av, "open", opened), pytest.raises(VideoError, match="no codec parameters"):
        video_estimate(CLIP, model="gpt-4o")


@pytest.mark.parametrize("keep", [12, 40, len(DATA) // 3, len(DATA) - 7])
def test_truncated_boxes_are_a_video_error_or_a_price(tmp_path, keep):
    (tmp_path / "cut.mp4").write_bytes(DATA[:keep])
    try:
        video_estimate(tmp_path / "cut.mp4", model="gpt-4o")
    except CostcalcError as error:
        assert "\n" not in str(error)


HEAD = 8192  # the boxes FFmpeg reads first (ftyp, moov with its track headers) lie in the first blocks


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, HEAD - 1), st.integers(0, 255)), min_size=1, max_size=24),
    st.one_of(st.none(), st.integers(8, len(DATA))),
)
def test_mutated_mp4_bytes_never_raise_anything_but_costcalc_errors(changes, cut):
    data = bytearray(DATA)
    moov = DATA.find(b"moov")
    for offset, value in changes:  # half the changes in moov (box sizes, track headers, metadata), half anywhere
        position = (moov + offset) % len(data) if offset % 2 else offset
        data[position] = value
    if cut is not None:
        del data[cut:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(bytes(data))
        try:
            result = video_estimate(path, model="gpt-4o")
        except CostcalcError as error:
            assert "\n" not in str(error)
        else:
            assert result.frames >= 1 and result.tokens >= 0
