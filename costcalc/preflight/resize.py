"""Writing a planned size with Pillow, fast and upright (SPEC §4). Pillow is imported here only.

JPEGs are DCT-scaled while decoding (`draft`: a 24 MP photo is never fully
decoded for a 768 px copy), reduced by whole factors, then resampled with
LANCZOS; the EXIF orientation is applied to the small image and the tag is not
written. Metadata is stripped unless kept. An image that needs no resize, no
turn and no new format is not re-encoded: JPEG and PNG lose their metadata
segments losslessly, other formats are copied as they are.
"""

from __future__ import annotations

import io
import struct

from ..errors import AnimatedImageError, InvalidImageError
from ..inspection.headers import ImageInfo

__all__ = ["AnimatedImageError", "render", "strip_metadata", "FORMATS", "EXTENSIONS"]

FORMATS = ("JPEG", "WEBP", "PNG", "GIF")
EXTENSIONS = {"JPEG": ".jpg", "WEBP": ".webp", "PNG": ".png", "GIF": ".gif"}
DEFAULT_QUALITY = {"JPEG": 85, "WEBP": 85}

# EXIF orientation → the Pillow transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
            7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip
_PNG_METADATA = {b"eXIf", b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


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
) -> tuple[bytes, str]:
    """The image in `data` at the upright `target` size: (encoded bytes, format)."""
    out_format = (format or info.format).upper()
    if out_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(f.lower() for f in FORMATS)}, not {format!r}")
    where = f"{name}: " if name else ""
    if info.animated and info.format in ("GIF", "WEBP") and not first_frame:
        raise AnimatedImageError(f"{where}animated {info.format}: the API accepts still images; "
                                 f"pass first_frame (--first-frame) to keep the first frame only")  # fmt: skip
    upright = (info.width, info.height) if info.orientation < 5 else (info.height, info.width)
    if target == upright and out_format == info.format and info.orientation == 1 and not info.animated:
        return (data if keep_metadata else strip_metadata(data, info.format)), out_format
    try:
        return _reencode(data, info, target, out_format, quality, keep_metadata), out_format
    except (OSError, ValueError, SyntaxError) as error:  # what Pillow raises on a bad file
        raise InvalidImageError(f"{where}cannot decode: {error}") from None


def _reencode(data: bytes, info: ImageInfo, target, out_format: str, quality, keep_metadata: bool) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    icc, exif = image.info.get("icc_profile"), image.getexif() if keep_metadata else None
    stored = target if info.orientation < 5 else (target[1], target[0])
    if image.format == "JPEG":
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, stored)  # DCT scaling
    if image.size != stored:
        image = image.resize(stored, Image.Resampling.LANCZOS, reducing_gap=3.0)  # reduce(), then LANCZOS
    else:
        image.load()
    if info.orientation in _UPRIGHT:
        image = image.transpose(getattr(Image.Transpose, _UPRIGHT[info.orientation]))
    image = _mode_for(image, out_format)
    options: dict = {}
    if out_format in DEFAULT_QUALITY:
        options["quality"] = quality or DEFAULT_QUALITY[out_format]
    if keep_metadata:
        if icc:
            options["icc_profile"] = icc
        if exif is not None and out_format in ("JPEG", "WEBP", "PNG"):
            exif.pop(0x0112, None)  # the pixels are upright now
            options["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.save(out, out_format, **options)
    return out.getvalue()


def _mode_for(image, out_format: str):
    """A mode the output format can hold; transparency over white for JPEG."""
    from PIL import Image

    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if out_format == "JPEG":
        if has_alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image if image.mode in ("RGB", "L", "CMYK") else image.convert("RGB")
    if out_format == "WEBP":
        return image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")
    if image.mode.startswith("I;16") and out_format == "GIF":
        return image.convert("RGB")
    return image


def strip_metadata(data: bytes, format: str) -> bytes:
    """The same image without metadata, losslessly: JPEG APPn/COM segments, PNG ancillary text/EXIF/ICC chunks."""
    if format == "JPEG":
        return _strip_jpeg(data)
    if format == "PNG":
        return _strip_png(data)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    """Keep SOI, APP0 (JFIF), APP14 (Adobe colour transform) and every non-APP segment; data from SOS on as is."""
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
        if not (0xE1 <= code <= 0xEF and code != 0xEE or code == 0xFE):
            out.append(segment)
        pos += 2 + length
    out.append(data[pos:])
    return b"".join(out)


def _strip_png(data: bytes) -> bytes:
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
    return b"".join(out)
