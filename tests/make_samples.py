"""Regenerate the shipped sample images, deterministically: python tests/make_samples.py"""

from pathlib import Path

import numpy as np
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def photo(width: int, height: int, seed: int = 7) -> Image.Image:
    """A photo-like picture: sky and field gradients, a path, soft noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = height * 0.45
    sky = np.stack([120 + 60 * y / horizon, 170 + 40 * y / horizon, 235 - 10 * y / horizon], axis=-1)
    field = np.stack([60 + 40 * np.sin(x / 90.0), 140 + 50 * np.cos(y / 70.0), 50 + 20 * np.sin((x + y) / 60.0)], -1)
    image = np.where((y < horizon)[..., None], sky, field)
    path = np.abs(x - width / 2) < (y - horizon).clip(0) * 0.35
    image[path] = [150, 120, 90]
    image += rng.normal(0, 6, image.shape)
    return Image.fromarray(image.clip(0, 255).astype(np.uint8), "RGB")


def screenshot() -> Image.Image:
    """A flat 1920 × 1080 interface: bars and panels, the kind of PNG that compresses well."""
    image = Image.new("RGB", (1920, 1080), (245, 246, 248))
    for box, colour in (
        ((0, 0, 1920, 64), (40, 44, 52)),
        ((0, 64, 280, 1080), (230, 232, 236)),
        ((320, 120, 1860, 520), (255, 255, 255)),
        ((320, 560, 1080, 1020), (255, 255, 255)),
    ):
        image.paste(colour, box)
    return image


def clip(path: Path, seconds: int = 10, rate: int = 30) -> None:
    """A 1280 × 720 MPEG-4 clip: a bar sweeping across a gradient (needs PyAV)."""
    import av

    out = av.open(str(path), "w")
    stream = out.add_stream("mpeg4", rate=rate)
    stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
    y, x = np.mgrid[0:720, 0:1280]
    background = np.stack([x * 255 // 1280, y * 255 // 720, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    for index in range(seconds * rate):
        pixels = background.copy()
        left = index * 1280 // (seconds * rate)
        pixels[:, left : left + 60] = 255
        for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def make() -> None:
    """Write every sample into samples/, and the example clip into examples/."""
    photo(2560, 1669).save(SAMPLES / "photo.jpg", quality=80, optimize=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    photo(1600, 1200, seed=11).save(SAMPLES / "phone-portrait.jpg", quality=60, exif=exif.tobytes())
    screenshot().save(SAMPLES / "screenshot.png", optimize=True)
    photo(512, 512, seed=3).save(SAMPLES / "icon.webp", quality=60)
    frames = [Image.new("RGB", (468, 60), colour).quantize(4) for colour in ("#c33", "#3c3", "#33c")]
    frames[0].save(SAMPLES / "banner.gif", save_all=True, append_images=frames[1:], duration=500, loop=0)
    Image.new("RGB", (64, 64), "gray").save(SAMPLES / "scan.bmp")
    clip(SAMPLES.parent / "examples" / "clip.mp4")


if __name__ == "__main__":
    make()
