"""Images for the remote-source tests, ordinary and odd, made in memory with Pillow.

`odd_images()` gives name -> bytes: JPEGs, a PNG, a WebP, an animated GIF, a
JPEG whose frame header (SOF) follows a 100 KiB EXIF + APP2 block (EXIF says
orientation 6), a truncated JPEG and PNG (header whole, data cut), a file cut
inside its header, a text file and an empty file.
"""

from __future__ import annotations

import io
import struct

from PIL import Image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def exif_orientation_block(orientation: int, pad_to: int) -> bytes:
    """An APP1 EXIF payload ('Exif\\0\\0' + little-endian TIFF, IFD0 with Orientation) padded to `pad_to` bytes."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHII", 0x0112, 3, 1, orientation) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    return payload + b"\x00" * (pad_to - len(payload))


def app_segments(total: int, orientation: int = 6) -> bytes:
    """`total` bytes of JPEG APPn segments: an APP1 EXIF block (with `orientation`), then APP2 filler."""
    exif = exif_orientation_block(orientation, min(65533, total - 4))
    segments = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    left = total - len(segments)
    while left > 4:
        chunk = min(left - 4, 65533)
        segments += b"\xff\xe2" + struct.pack(">H", chunk + 2) + b"\x11" * chunk
        left -= chunk + 4
    return segments


def big_exif_jpeg(width: int = 640, height: int = 480, before_sof: int = 100 * 1024) -> bytes:
    """A JPEG with `before_sof` bytes of APP1 (EXIF, orientation 6) and APP2 segments between SOI and its SOF."""
    plain = encode(Image.effect_noise((width, height), 40).convert("RGB"), "JPEG", quality=90)
    return plain[:2] + app_segments(before_sof) + plain[2:]


def animated_gif() -> bytes:
    frames = []
    for shade in (40, 120, 200):
        frame = Image.new("L", (120, 90), 0)
        frame.paste(shade, (10, 10, 60, 50))
        frames.append(frame.convert("P"))
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def odd_images() -> dict[str, bytes]:
    """name -> bytes: ordinary and odd files (see the module's docstring)."""
    photo = Image.effect_noise((1200, 800), 50).convert("RGB")
    jpeg = encode(photo, "JPEG", quality=90)
    png = encode(Image.linear_gradient("L").resize((700, 300)), "PNG")
    return {
        "a/photo.jpg": jpeg,
        "a/tall.jpg": encode(photo.resize((300, 2400)), "JPEG", quality=80),
        "a/gradient.png": png,
        "a/sticker.webp": encode(photo.resize((512, 512)), "WEBP", quality=70),
        "b/animated.gif": animated_gif(),
        "b/big_exif.jpg": big_exif_jpeg(),
        "b/truncated.jpg": jpeg[: len(jpeg) // 2],
        "b/truncated.png": png[: len(png) - 40],
        "b/cut_header.png": png[:20],
        "c/notes.txt": b"this is not an image\n" * 50,
        "c/empty.jpg": b"",
        "c/huge_side.png": encode(Image.new("L", (9000, 40)), "PNG"),
    }
