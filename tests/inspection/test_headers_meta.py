"""Frames, animation and EXIF orientation from headers, each against Pillow's own answer."""

import io
import struct
import zlib

import pytest
from PIL import Image

from costcalc import image_info as inspect


def exif_block(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def save(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def exif_after_idat(png, exif):
    """Move nothing, add an eXIf chunk just before IEND: after every IDAT."""
    return png[:-12] + png_chunk(b"eXIf", exif.removeprefix(b"Exif\0\0")) + png[-12:]


def pillow(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return {
            "format": image.format,
            "size": image.size,
            "animated": getattr(image, "is_animated", False),
            "frames": getattr(image, "n_frames", 1),
            "orientation": image.getexif().get(0x0112, 1),
        }


def ours(data):
    info = inspect(data)
    return {
        "format": info.format,
        "size": (info.width, info.height),
        "animated": info.animated,
        "frames": info.frames,
        "orientation": info.orientation,
    }


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("where", ["jpeg", "png-before-idat", "png-after-idat", "webp"])
def test_exif_orientation_equals_pillow(orientation, where):
    image = Image.new("RGB", (40, 30), "blue")
    exif = exif_block(orientation)
    data = {
        "jpeg": lambda: save(image, "JPEG", exif=exif),
        "png-before-idat": lambda: save(image, "PNG", exif=exif),
        "png-after-idat": lambda: exif_after_idat(save(image, "PNG"), exif),
        "webp": lambda: save(image, "WEBP", exif=exif),
    }[where]()
    if where == "png-after-idat":
        assert data.index(b"eXIf") > data.index(b"IDAT")
    assert ours(data) == pillow(data)
    assert inspect(data).orientation == orientation


def frames(mode="P", count=3, size=(32, 24)):
    return (
        [Image.new(mode, size, color) for color in range(1, count + 1)]
        if mode == "P"
        else [Image.new(mode, size, (40 * i, 0, 0)) for i in range(count)]
    )


@pytest.mark.parametrize(
    "name, make, animated, count",
    [
        ("gif-still", lambda: save(frames(count=1)[0], "GIF"), False, 1),
        (
            "gif-animated",
            lambda: save(frames("RGB")[0], "GIF", save_all=True, append_images=frames("RGB")[1:]),
            True,
            None,
        ),
        (
            "webp-animated",
            lambda: save(frames("RGB")[0], "WEBP", save_all=True, append_images=frames("RGB")[1:]),
            True,
            3,
        ),
        ("apng", lambda: save(frames("RGB")[0], "PNG", save_all=True, append_images=frames("RGB")[1:]), True, 3),
        ("png-still", lambda: save(frames("RGB")[0], "PNG"), False, 1),
    ],
)
def test_animation_equals_pillow(name, make, animated, count):
    data = make()
    info, theirs = inspect(data), pillow(data)
    assert info.animated == theirs["animated"] == animated
    assert (info.width, info.height, info.format) == (*theirs["size"], theirs["format"])
    assert info.frames == count
    if count is not None:
        assert count == theirs["frames"]


def test_gif_with_extensions_and_local_colour_tables():
    images = [Image.new("RGB", (16, 16), c).quantize(colors=4) for c in ("red", "green")]  # local colour tables
    data = save(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0, comment=b"hi")
    assert inspect(data).animated and pillow(data)["animated"]


def test_corrupt_exif_leaves_orientation_upright():
    image = Image.new("RGB", (8, 8))
    for junk in (b"Exif\0\0II*\0\xff\xff\xff\xff", b"Exif\0\0XX", b"Exif\0\0MM\0*\0\0\0\x08\x00\x05\x01"):
        assert inspect(save(image, "JPEG", exif=junk)).orientation == 1
