"""JPEG decoding to uint8 RGB arrays, with Pillow imported only when needed."""

import numpy as np


def decode_rgb(sources, height, width):
    """Decodes JPEG files into a uint8 array `(len(sources), height, width, 3)`.

    Each source is a path or a binary file object. Grayscale images get their
    channel repeated, as `PIL.Image.convert("RGB")` does.
    """
    image_module = _import_pillow_image()
    images = np.empty((len(sources), height, width, 3), dtype=np.uint8)
    for i, source in enumerate(sources):
        with image_module.open(source) as image:
            pixels = np.asarray(image.convert("RGB"))
        if pixels.shape != images.shape[1:]:
            raise ValueError(
                f"Image {i} ({source!r}) is {pixels.shape[1]}x{pixels.shape[0]} "
                f"pixels; expected {width}x{height}."
            )
        images[i] = pixels
    return images


def _import_pillow_image():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "Decoding JPEG images needs Pillow. Install it with "
            "`pip install keras-ortho[datasets]`."
        ) from error
    return Image
