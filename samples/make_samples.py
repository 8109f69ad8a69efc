"""Regenerate the shipped sample images (deterministic): python samples/make_samples.py"""

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


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


if __name__ == "__main__":
    photo(2560, 1669).save(HERE / "photo.jpg", quality=80, optimize=True)
