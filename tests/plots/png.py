"""Saving a figure and checking that the file is a valid, non-empty PNG."""

from PIL import Image


def assert_valid_png(figure, path):
    figure.savefig(path)
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width > 0 and height > 0
        assert image.getextrema() != ((0, 0),) * len(image.getbands())
