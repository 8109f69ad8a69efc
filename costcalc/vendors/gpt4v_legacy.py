"""The legacy GPT-4V payloads, and DashScope's native image part, in `messages[].content[]`.

Plain strings are text; `{"image": "<base64>", "resize": N}` is an image fitted within N × N (never
upscaled), then priced by the model's own rule. That reading of `resize` is an assumption: the old
examples only show it in use (video frames sent with resize 768) and never define it. DashScope's
native `{"image": "<url>"}` (https://www.alibabacloud.com/help/en/model-studio/vision) is read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..words import show_value
from .base import ImageRef, Path, Shape, Walk, need_text, pixels, url_scheme, where_of


def _image(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    where = where_of(path)
    value = part["image"]
    resize = part.get("resize")
    error = need_text(value, f"{where}.image")
    if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
        error = error or f"{where}.resize must be a whole number of pixels, not {show_value(resize)}"
        resize = None
    source = "url" if isinstance(value, str) and url_scheme(value, data=True) else "base64"
    detail, detail_where, detail_error = walk.detail_of(part.get("detail"), f"{where}.detail")
    found, pixels_error = pixels(part, {}, path)
    yield ImageRef(
        path,
        source,
        value,
        detail,
        detail_where,
        resize=resize,
        **found,
        data_path=(*path, "image"),
        error=error or detail_error or pixels_error,
    )


SHAPE = Shape(name="gpt4v_legacy", untyped=(("image", lambda value: not isinstance(value, dict), _image),))
