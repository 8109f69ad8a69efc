"""Writing a planned size with Pillow, fast, upright and with the picture kept (docs/README.md, issue 9). Pillow is imported here only.

JPEGs are DCT-scaled while decoding (`draft`: a 24 MP photo is never fully
decoded for a 768 px copy), reduced by whole factors, then resampled with
LANCZOS; the EXIF orientation is applied to the small image and the tag is not
written. Metadata is stripped unless kept, but an ICC profile is colour, not
metadata: it is always kept. An image that needs no resize, no turn and no new
format is not re-encoded: JPEG and PNG lose their metadata segments
losslessly, other formats are copied as they are.

A damaged source (ImageInfo.warning: cut short, no end marker) is decoded
whole even when it needs no resize: one whose data Pillow cannot decode is an
InvalidImageError saying so, never a copy of the broken bytes (issue 9).

Memory is bounded: at most MAX_DECODE_PIXELS pixels are decoded per image
(a baseline JPEG counts at its DCT-scaled size; a progressive one, whose
decoder holds every coefficient, at full size). A larger image gets a
DecodeLimitError naming its size and the bound, never Pillow's
DecompressionBombError; Pillow's own check is replaced by this one.

Pixels keep their level in every mode: 16-bit and float images are scaled to
8 bits (I;16 and I by 65535, F by 1.0 or 255), palettes and 1-bit images are
expanded before resampling, transparency is flattened onto white where the
format has none (JPEG), and CMYK becomes RGB (through its ICC profile when it
has one). Where the colour space changes (CMYK or grey to RGB) the pixels go
through the profile to sRGB and the profile is dropped.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

from ..errors import AnimatedImageError, CostcalcError, DecodeLimitError, InvalidImageError
from ..inspection.headers import ImageInfo, damaged

__all__ = ["AnimatedImageError", "render", "strip_metadata", "eight_bit", "FORMATS", "EXTENSIONS", "MAX_DECODE_PIXELS"]

FORMATS = ("JPEG", "WEBP", "PNG", "GIF")
EXTENSIONS = {"JPEG": ".jpg", "WEBP": ".webp", "PNG": ".png", "GIF": ".gif"}
DEFAULT_QUALITY = {"JPEG": 85, "WEBP": 85}

MAX_DECODE_PIXELS = 64_000_000
"""Pixels decoded per image, at most (64 MP): Pillow holds ≤ 4 bytes a pixel, so ≤ 256 MB, and about twice that at
the peak of a conversion. Pillow warns at 89 MP and refuses 179 MP; a 210 MP PNG stopped whole runs (issue 9)."""

# EXIF orientation → the Pillow transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}  # iCCP is colour: kept
_ICC_APP2 = b"ICC_PROFILE\0"
# Pillow's reader for each accepted format, opened directly: Image.open would apply its own pixel limit.
_READERS = {
    "JPEG": ("JpegImagePlugin", "JpegImageFile"),
    "PNG": ("PngImagePlugin", "PngImageFile"),
    "WEBP": ("WebPImagePlugin", "WebPImageFile"),
    "GIF": ("GifImagePlugin", "GifImageFile"),
}
_HIGH_DEPTH = {"I", "F", "I;16", "I;16B", "I;16L", "I;16N"}
_GREY = {"1", "L", "LA", "La"}
# What Pillow raises on a damaged file (a decoder error, a short read, a bad header field).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError)


def render(
    data: bytes,
    info: ImageInfo,
    target: tuple[int, int],
    *,
    format: str | None = None,
    quality: int | None = None,
    keep_metadata: bool = False,
    first_frame: bool = False,
    name: str = "",
    reencode: bool = False,
) -> tuple[bytes, str]:
    """The image in `data` at the upright `target` size: (encoded bytes, format).

    DecodeLimitError when it would decode more than MAX_DECODE_PIXELS or runs
    out of memory; InvalidImageError when Pillow cannot decode it (a damaged
    source is decoded whole, even when it is only copied).
    """
    out_format = (format or info.format).upper()
    if out_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(f.lower() for f in FORMATS)}, not {format!r}")
    where = f"{name}: " if name else ""
    if info.animated and info.format in ("GIF", "WEBP") and not first_frame:
        raise AnimatedImageError(
            f"{where}animated {info.format}: the API accepts still images; "
            f"pass first_frame=True to keep the first frame only"
        )
    upright = (info.width, info.height) if info.orientation < 5 else (info.height, info.width)
    copy = target == upright and out_format == info.format and info.orientation == 1 and not info.animated
    copy = copy and not reencode  # at a given quality (a byte limit's steps): encoded anew
    try:
        if copy:
            if info.warning:  # damaged: a copy is only as good as its data, so decode it whole first
                _decode_whole(data, info, where)
            return (data if keep_metadata else strip_metadata(data, info.format)), out_format
        return _reencode(data, info, target, out_format, quality, keep_metadata, where), out_format
    except CostcalcError:
        raise
    except MemoryError:
        raise DecodeLimitError(f"{where}ran out of memory decoding {info.width:,}×{info.height:,} px") from None
    except Exception as error:  # _DECODE_ERRORS, or e.g. Pillow's DecompressionBombError from a plain Image.open
        raise undecodable(info, error, where) from None


_HEADER_ONLY = damaged("")
"""The end of every ImageInfo.warning: what the pricing commands do with a damaged file."""

_PILLOW_WORDS = (
    ("broken PNG file", "the PNG data is damaged"),
    ("image file is truncated", "the data is cut short"),
    ("Truncated File Read", "the data is cut short"),
    ("broken data stream", "the data is damaged"),
)
"""Pillow's wording of common decoder failures, in plain words (no chunk names as Python bytes)."""


def undecodable(info: ImageInfo, error: BaseException, where: str = "") -> InvalidImageError:
    """The error for image data Pillow cannot decode: for a damaged source (`info.warning`) its defect and that the
    pricing commands still price it from its header; else the decoder's reason in plain words."""
    if info.warning:
        defect = info.warning.removesuffix(_HEADER_ONLY)
        return InvalidImageError(
            f"{where}{defect}; the damaged image data cannot be decoded for resizing "
            f"(estimate, audit and request price it from its header, with a warning)"
        )
    text = str(error) if isinstance(error, _DECODE_ERRORS) else f"{type(error).__name__}: {error}"
    reason = next((plain for start, plain in _PILLOW_WORDS if text.startswith(start)), None)
    reason = reason or re.sub(r"\bb'([^'\\]*)'", r"\1", text)  # b'IDAT' → IDAT
    return InvalidImageError(f"{where}its image data cannot be decoded: {reason}")


def _decode_whole(data: bytes, info: ImageInfo, where: str) -> None:
    """Decode every pixel of `data` (within MAX_DECODE_PIXELS), to learn whether a damaged file is whole enough."""
    image = _open(data, info.format)
    if image.format == "JPEG":
        image.draft(image.mode, (1, 1))  # the smallest DCT scale reads every coefficient all the same
    _check_bound(image, info, where)
    image.load()


def _open(data: bytes, format: str):
    """Pillow's reader for `format` without Image.open's pixel limit (checked here against MAX_DECODE_PIXELS)."""
    import importlib

    from PIL import Image

    if format in ("HEIC", "HEIF") or format == "AVIF" and not _pillow_reads_avif():
        _register_heif(format)
    if format not in _READERS:
        return Image.open(io.BytesIO(data))
    module, reader = _READERS[format]
    image = getattr(importlib.import_module(f"PIL.{module}"), reader)(io.BytesIO(data))
    if format == "JPEG":  # the decoder is given the whole file, not 64 KiB a call: 3% fewer instructions, same pixels
        image.decodermaxblock = max(image.decodermaxblock, len(data))
    return image


HEIF_HINT = "pip install 'costcalc[heif]'"


def _pillow_reads_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def _register_heif(format: str) -> None:
    """Let Pillow open HEIC/HEIF (and AVIF where Pillow has no AVIF codec) through pillow-heif, the `heif` extra;
    InvalidImageError with the install line when it is missing."""
    try:
        import pillow_heif
    except ImportError:
        raise InvalidImageError(f"decoding {format} needs pillow-heif: {HEIF_HINT}") from None
    pillow_heif.register_heif_opener()
    if format == "AVIF" and hasattr(pillow_heif, "register_avif_opener"):
        pillow_heif.register_avif_opener()


def _check_bound(image, info: ImageInfo, where: str) -> None:
    """DecodeLimitError if decoding `image` (as drafted) holds more than MAX_DECODE_PIXELS pixels."""
    width, height = image.size
    progressive = image.format == "JPEG" and bool(image.info.get("progressive"))
    if progressive:  # libjpeg keeps every coefficient of a progressive scan: full size, whatever the draft
        width, height = info.width, info.height
    if width * height <= MAX_DECODE_PIXELS:
        return
    how = " (a progressive JPEG is decoded at full size)" if progressive else ""
    raise DecodeLimitError(
        f"{where}{info.width:,}×{info.height:,} px ({info.width * info.height / 1e6:.1f} MP) is more than optimize "
        f"decodes at once{how}: {MAX_DECODE_PIXELS / 1e6:.0f} MP, its bound on memory; shrink it with another tool first"
    )


def _reencode(data: bytes, info: ImageInfo, target, out_format: str, quality, keep_metadata: bool, where: str) -> bytes:
    from PIL import Image

    image = _open(data, info.format)
    icc = image.info.get("icc_profile") or None
    exif = image.getexif() if keep_metadata else None
    stored = target if info.orientation < 5 else (target[1], target[0])
    if image.format == "JPEG":
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, stored)  # DCT scaling
    _check_bound(image, info, where)
    resizing = image.size != stored
    image = _working(image, resizing)
    if resizing:
        image = image.resize(stored, Image.Resampling.LANCZOS, reducing_gap=3.0)  # reduce(), then LANCZOS
    else:
        image.load()
    if info.orientation in _UPRIGHT:
        image = image.transpose(getattr(Image.Transpose, _UPRIGHT[info.orientation]))
    image, icc = _mode_for(image, out_format, icc)
    if not keep_metadata:  # Pillow's savers fall back to image.info (XMP, a profile we dropped): only what is drawn
        image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    image.info.pop("icc_profile", None)  # the profile written is `icc`, or none
    options: dict = {}
    if out_format in DEFAULT_QUALITY:
        options["quality"] = quality or DEFAULT_QUALITY[out_format]
    if icc and out_format != "GIF":
        options["icc_profile"] = icc
    if keep_metadata and exif is not None and out_format in ("JPEG", "WEBP", "PNG"):
        exif.pop(0x0112, None)  # the pixels are upright now
        options["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.save(out, out_format, **options)
    return out.getvalue()


def _has_alpha(image) -> bool:
    return image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or image.info.get("transparency") is not None


def eight_bit(image):
    """A 16-bit (I;16*, I) or float (F) image as 8-bit L (LA if it has a tRNS key): the mode's white becomes 255.

    White is 65535 for I;16 and I (a 16-bit PNG is the only source of either),
    and for F 1.0 when every value is within 0..1, else 255 (Pillow's own F↔L
    scale). Done a block of rows at a time so the float copy stays small.
    """
    import numpy as np
    from PIL import Image

    values = np.asarray(image)
    if image.mode == "F":
        finite = values[np.isfinite(values)]
        white = 1.0 if finite.size == 0 or float(finite.max()) <= 1.0 else 255.0
    else:
        white = 65535.0
    level = np.empty(values.shape, np.uint8)
    step = max(1, (1 << 20) // max(1, values.shape[1]))
    for start in range(0, values.shape[0], step):
        block = values[start : start + step].astype(np.float32)
        np.nan_to_num(block, copy=False)
        np.multiply(block, np.float32(255.0 / white), out=block)
        np.clip(np.rint(block, out=block), 0, 255, out=block)
        level[start : start + step] = block
    grey = Image.fromarray(level)
    key = image.info.get("transparency")
    if isinstance(key, int) and image.mode != "F":
        alpha = Image.fromarray(np.where(values == key, 0, 255).astype(np.uint8))
        return Image.merge("LA", (grey, alpha))
    return grey


def _working(image, resizing: bool):
    """A mode to resample in without losing the picture: 8 bits, palettes and 1-bit expanded (kept if not resizing)."""
    mode = image.mode
    if mode in _HIGH_DEPTH:
        return eight_bit(image)
    if mode in ("1", "P", "PA") and not resizing:
        return image  # compact, and nothing to resample
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA", "L", "RGB") and _has_alpha(image):
        return image.convert("LA" if mode == "L" else "RGBA")  # applies tRNS keys and palette alpha
    if mode == "P":
        return image.convert("RGB")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    if mode == "La":
        return image.convert("LA")
    return image.convert("RGBA" if "A" in mode or "a" in mode else "RGB")


def _icc_space(icc: bytes | None) -> bytes | None:
    """The colour space field of an ICC profile header (b'RGB ', b'GRAY', b'CMYK'), or None."""
    return icc[16:20] if icc and len(icc) >= 128 else None


def _to_rgb(image, icc: bytes | None):
    """A grey or CMYK image as RGB(A): through its ICC profile to sRGB when it has one that fits; (image, profile)."""
    alpha = image.convert("RGBA" if image.mode not in _GREY else "LA").getchannel("A") if _has_alpha(image) else None
    colour = image.convert("L") if image.mode in _GREY else image
    space = {"L": b"GRAY", "CMYK": b"CMYK"}.get(colour.mode)
    rgb = None
    if space is not None and _icc_space(icc) == space:
        try:
            from PIL import ImageCms

            rgb = ImageCms.profileToProfile(
                colour, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            icc = None  # the pixels are sRGB now
        except Exception:  # no littlecms, or a profile it cannot use: the plain conversion below
            rgb = None
    if rgb is None:
        rgb = colour.convert("RGB")
        icc = icc if _icc_space(icc) == b"RGB " else None  # a grey or CMYK profile does not describe RGB
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb, icc


def _flatten(image):
    """Transparency composited onto white: L for a grey image, else RGB (JPEG has no alpha; issue 9)."""
    from PIL import Image

    grey = image.mode in _GREY
    mode = "L" if grey else "RGB"
    with_alpha = image.convert("LA" if grey else "RGBA")
    flat = Image.new(mode, with_alpha.size, 255 if grey else (255, 255, 255))
    flat.paste(with_alpha.convert(mode), mask=with_alpha.getchannel("A"))
    return flat


def _mode_for(image, out_format: str, icc: bytes | None):
    """(a mode the output format holds, the ICC profile that describes it); transparency over white for JPEG."""
    alpha = _has_alpha(image)
    if image.mode == "CMYK":
        image, icc = _to_rgb(image, icc)
    if out_format == "JPEG":
        if alpha:
            return _flatten(image), icc
        if image.mode == "1":
            return image.convert("L"), icc
        return (image if image.mode in ("L", "RGB") else image.convert("RGB")), icc
    if out_format == "WEBP":
        if image.mode in _GREY:
            return _to_rgb(image, icc)
        return (image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if alpha else "RGB")), icc
    if out_format == "PNG" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        return image.convert(("LA" if image.mode in _GREY else "RGBA") if alpha else "RGB"), icc
    return image, icc


def strip_metadata(data: bytes, format: str, orientation: int = 1) -> bytes:
    """The same image without metadata, losslessly: JPEG APPn/COM segments, PNG text/EXIF chunks, WebP EXIF/XMP
    chunks; ICC profiles kept. An `orientation` other than 1 (the EXIF tag of the source) is kept, as an EXIF
    block holding that tag alone, so the image still shows upright."""
    if format == "JPEG":
        stripped = b"".join(_jpeg_kept(data))
        if orientation == 1:
            return stripped
        at = 2 + (2 + int.from_bytes(stripped[4:6], "big") if stripped[2:4] == b"\xff\xe0" else 0)  # after JFIF
        return stripped[:at] + _jpeg_orientation(orientation) + stripped[at:]
    if format == "PNG":
        stripped = b"".join(_png_kept(data))
        if orientation == 1:
            return stripped
        return stripped[:33] + _png_orientation(orientation) + stripped[33:]
    if format == "WEBP":
        return _strip_webp(data, orientation)
    return data


def stripped_size(data: bytes, format: str, orientation: int = 1) -> int:
    """len(strip_metadata(data, format, orientation)), without making the copy (JPEG and PNG: the segments kept
    are only measured; a WebP is stripped to be measured)."""
    if format == "JPEG":
        return sum(map(len, _jpeg_kept(data))) + (len(_jpeg_orientation(orientation)) if orientation != 1 else 0)
    if format == "PNG":
        return sum(map(len, _png_kept(data))) + (len(_png_orientation(orientation)) if orientation != 1 else 0)
    return len(strip_metadata(data, format, orientation))


def _jpeg_orientation(orientation: int) -> bytes:
    """An APP1 EXIF segment holding the orientation tag alone."""
    exif = b"Exif\0\0" + _orientation_tiff(orientation)
    return b"\xff\xe1" + (2 + len(exif)).to_bytes(2, "big") + exif


def _png_orientation(orientation: int) -> bytes:
    """An eXIf chunk holding the orientation tag alone (put right after IHDR, before any image data)."""
    tiff = _orientation_tiff(orientation)
    return len(tiff).to_bytes(4, "big") + b"eXIf" + tiff + zlib.crc32(b"eXIf" + tiff).to_bytes(4, "big")


def _orientation_tiff(orientation: int) -> bytes:
    """A big-endian TIFF block with one IFD entry: Orientation (0x0112, SHORT) = `orientation`."""
    return b"MM\0*" + struct.pack(">IHHHIHHI", 8, 1, 0x0112, 3, 1, orientation, 0, 0)


def _jpeg_kept(data: bytes) -> list[memoryview]:
    """The parts of a JPEG kept, as views (no copy): SOI, APP0 (JFIF), APP2 ICC_PROFILE, APP14 (Adobe colour
    transform), every non-APP segment; SOS on as is."""
    data = memoryview(data)
    out = [data[:2]]
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        code = data[pos + 1]
        if code == 0xFF:
            pos += 1
            continue
        if code == 0xDA:  # start of scan: the rest is image data
            break
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        segment = data[pos : pos + 2 + length]
        metadata = 0xE1 <= code <= 0xEF and code != 0xEE or code == 0xFE
        if not metadata or (code == 0xE2 and segment[4:16] == _ICC_APP2):
            out.append(segment)
        pos += 2 + length
    out.append(data[pos:])
    return out


def _png_kept(data: bytes) -> list[memoryview]:
    """The chunks of a PNG kept, as views (no copy): all but text, EXIF and time (_PNG_METADATA), to IEND."""
    data = memoryview(data)
    out = [data[:8]]
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if kind not in _PNG_METADATA:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return out


def _strip_webp(data: bytes, orientation: int = 1) -> bytes:
    """Drop the EXIF and XMP chunks of a RIFF WebP and their VP8X flags (0x08, 0x04); ICCP and pixels as they are.
    An `orientation` other than 1 keeps the EXIF chunk (and its flag), holding that tag alone."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    out = [b"WEBP"]
    pos = 12
    while pos + 8 <= end:
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        stop = min(end, pos + 8 + size + (size & 1))
        if kind == b"VP8X" and size >= 10:
            flags = data[pos + 8] & ~(0x04 if orientation != 1 else 0x0C)
            out.append(data[pos : pos + 8] + bytes([flags]) + data[pos + 9 : stop])
        elif kind == b"EXIF" and orientation != 1:
            tiff = _orientation_tiff(orientation)
            out.append(b"EXIF" + len(tiff).to_bytes(4, "little") + tiff)
        elif kind not in (b"EXIF", b"XMP "):
            out.append(data[pos:stop])
        pos = stop
    out.append(data[pos:end])
    body = b"".join(out)
    return b"RIFF" + len(body).to_bytes(4, "little") + body + data[end:]
