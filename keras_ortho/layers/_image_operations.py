"""RandAugment's image operations on float32 batches of 0..255 grey levels.

Each function takes a channels-last float32 batch `(batch, height, width,
channels)` (1 or 3 channels) with values in 0..255, and per-sample parameters
as `(batch,)` tensors, and is built from `keras.ops` alone so that it compiles
on TensorFlow, JAX and PyTorch (with `amin`/`amax`: `min`/`max` break
`torch.compile` graphs on the torch backend). The colour operations truncate
their results to whole grey levels, as PIL's 8-bit arithmetic does, so on
whole grey levels each one reproduces PIL (`ImageEnhance`, `ImageOps`)
exactly. XLA's float division is not exact (a division by a constant
becomes a multiplication by its rounded reciprocal, and vectorised division
on CPU is approximate: 48195 / 189 gives 254.99998), so a quotient that must
be floored exactly is computed in int32, corrected with exact products
(`_floor_quotient`), or is a multiplication by a power of two.
"""

import math

from keras import ops

# PIL's `convert("L")`: ITU-R 601-2 luma (299 R + 587 G + 114 B) / 1000 in
# 16-bit fixed point, rounded to the nearest grey level.
LUMA_WEIGHTS = (19595, 38470, 7471)
LUMA_SHIFT = 65536

# PIL's `ImageFilter.SMOOTH`.
SMOOTH_KERNEL = ((1, 1, 1), (1, 5, 1), (1, 1, 1))
SMOOTH_SCALE = 13

LEVELS = 256


def _floor_quotient(numerator, denominator):
    """`floor(numerator / denominator)`, exact for whole numbers below 2**24
    whose products stay below 2**24: the float estimate is corrected by one
    step either way."""
    quotient = ops.floor(numerator / denominator)
    quotient = ops.where(
        (quotient + 1) * denominator <= numerator, quotient + 1, quotient
    )
    return ops.where(quotient * denominator > numerator, quotient - 1, quotient)


def _per_sample(values):
    """Reshapes `(batch,)` parameters to broadcast against image batches."""
    return ops.reshape(values, (-1, 1, 1, 1))


def affine_resample(
    images, angle, shear_x, shear_y, translate_x, translate_y, fill_value
):
    """Nearest-neighbour resampling through a per-sample inverse affine map.

    With PIL's convention that pixel `(row, col)` is the unit square at
    `(col, row)`, the output pixel with centre `(x, y)` copies the input pixel
    containing the point

        (cos a (x - cx) - sin a (y - cy) + cx + shear_x y - translate_x,
         sin a (x - cx) + cos a (y - cy) + cy + shear_y x - translate_y),

    `(cx, cy) = (width / 2, height / 2)`, or `fill_value` if that point lies
    outside the image. Each operation is one of these parameters: `angle`
    (degrees) rotates counter-clockwise about the centre as PIL's
    `Image.rotate`, `shear_x` is PIL's `transform(AFFINE, (1, s, 0, 0, 1, 0))`
    (shear about the top-left corner), and `translate_*` shifts right/down.
    """
    batch, height, width, channels = ops.shape(images)
    x = ops.arange(width, dtype="float32")[None, None, :] + 0.5
    y = ops.arange(height, dtype="float32")[None, :, None] + 0.5
    centre_x, centre_y = width / 2, height / 2
    radians = angle * (math.pi / 180)
    cos = ops.reshape(ops.cos(radians), (-1, 1, 1))
    sin = ops.reshape(ops.sin(radians), (-1, 1, 1))
    source_x = (
        cos * (x - centre_x)
        - sin * (y - centre_y)
        + centre_x
        + ops.reshape(shear_x, (-1, 1, 1)) * y
        - ops.reshape(translate_x, (-1, 1, 1))
    )
    source_y = (
        sin * (x - centre_x)
        + cos * (y - centre_y)
        + centre_y
        + ops.reshape(shear_y, (-1, 1, 1)) * x
        - ops.reshape(translate_y, (-1, 1, 1))
    )
    cols = ops.cast(ops.floor(source_x), "int32")
    rows = ops.cast(ops.floor(source_y), "int32")
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    index = ops.clip(rows, 0, height - 1) * width + ops.clip(cols, 0, width - 1)
    pixels = height * width
    index = ops.broadcast_to(
        ops.reshape(index, (batch, pixels, 1)), (batch, pixels, channels)
    )
    flat = ops.reshape(images, (batch, pixels, channels))
    resampled = ops.reshape(
        ops.take_along_axis(flat, index, axis=1), (batch, height, width, channels)
    )
    return ops.where(inside[..., None], resampled, fill_value)


def blend(images, degenerate, factor):
    """PIL's `Image.blend(degenerate, images, factor)`, the `ImageEnhance`
    step: `degenerate + factor * (images - degenerate)`, truncated and clipped
    to 0..255."""
    mixed = degenerate + _per_sample(factor) * (images - degenerate)
    return ops.clip(ops.floor(mixed), 0, 255)


def grayscale(images):
    """PIL's `convert("L")`, as one channel: `(19595 R + 38470 G + 7471 B +
    32768) >> 16` (exact in float32 for 0..255); single-channel images are
    already grey."""
    if ops.shape(images)[-1] == 1:
        return images
    red, green, blue = ops.split(images, 3, axis=-1)
    weighted = (
        LUMA_WEIGHTS[0] * red
        + LUMA_WEIGHTS[1] * green
        + LUMA_WEIGHTS[2] * blue
        + LUMA_SHIFT // 2
    )
    return ops.floor(weighted * (1 / LUMA_SHIFT))


def mean_grey_level(grey):
    """`ImageEnhance.Contrast`'s degenerate value: the mean level of a
    `grayscale` batch rounded half up, per sample, shaped `(batch, 1, 1, 1)`."""
    pixels = ops.shape(grey)[1] * ops.shape(grey)[2]
    total = ops.sum(ops.cast(grey, "int32"), axis=(1, 2, 3), keepdims=True)
    return ops.cast(ops.floor_divide(2 * total + pixels, 2 * pixels), "float32")


def smooth(images):
    """PIL's `filter(ImageFilter.SMOOTH)`: the 3x3 kernel
    [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13 rounded to the nearest grey level
    (never a tie on whole levels), with the border pixels left unchanged."""
    _, height, width, _ = ops.shape(images)
    padded = ops.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    total = 0
    for row, weights in enumerate(SMOOTH_KERNEL):
        for col, weight in enumerate(weights):
            total = total + weight * padded[:, row : row + height, col : col + width]
    smoothed = ops.round(total / SMOOTH_SCALE)
    rows = ops.arange(height)[:, None]
    cols = ops.arange(width)[None, :]
    border = (rows == 0) | (rows == height - 1) | (cols == 0) | (cols == width - 1)
    return ops.where(border[None, :, :, None], images, smoothed)


def posterize(images, bits):
    """PIL's `ImageOps.posterize`: keeps the `bits` high bits of each level."""
    step = 2 ** (8 - bits)
    return ops.floor(images * (1 / step)) * step


def solarize(images, threshold):
    """PIL's `ImageOps.solarize`: levels >= `threshold` become 255 - level."""
    return ops.where(images >= threshold, 255 - images, images)


def auto_contrast(images):
    """PIL's `ImageOps.autocontrast()`: per image and channel, maps min..max
    to 0..255, `floor((level - min) * 255 / (max - min))`; a constant channel
    is unchanged. (PIL computes `level * scale + offset` in float64, which
    can land a hair below a whole level; this computes the exact quotient.)"""
    low = ops.amin(images, axis=(1, 2), keepdims=True)
    high = ops.amax(images, axis=(1, 2), keepdims=True)
    span = high - low
    stretched = _floor_quotient((images - low) * 255, ops.where(span > 0, span, 1))
    return ops.where(span > 0, ops.clip(stretched, 0, 255), images)


def equalize(images):
    """PIL's `ImageOps.equalize`, per image and channel.

    With `h` the histogram of the (truncated) levels, `n` the number of
    pixels and `h_last` the count of the highest level present,
    `step = (n - h_last) // 255`; the channel is unchanged if `step == 0`,
    else level `v` becomes `min((sum(h[:v]) + step // 2) // step, 255)`.
    """
    batch, height, width, channels = ops.shape(images)
    levels = ops.cast(ops.clip(ops.floor(images), 0, LEVELS - 1), "int32")
    image_channel = ops.arange(batch, dtype="int32")[
        :, None, None, None
    ] * channels + ops.arange(channels, dtype="int32")
    bins = image_channel * LEVELS + levels
    counts = ops.segment_sum(
        ops.ones((batch * height * width * channels,), dtype="float32"),
        ops.reshape(bins, (-1,)),
        num_segments=batch * channels * LEVELS,
    )
    histogram = ops.reshape(ops.cast(counts, "int32"), (batch, channels, LEVELS))
    cumulative_before = ops.cumsum(histogram, axis=-1) - histogram
    highest = ops.amax(levels, axis=(1, 2))
    last_count = ops.take_along_axis(histogram, highest[..., None], axis=-1)
    step = ops.floor_divide(height * width - last_count, 255)
    lookup = ops.floor_divide(
        cumulative_before + ops.floor_divide(step, 2), ops.maximum(step, 1)
    )
    lookup = ops.minimum(lookup, LEVELS - 1)
    equalized = ops.take(ops.reshape(lookup, (-1,)), bins)
    unchanged = ops.reshape(step == 0, (batch, 1, 1, channels))
    return ops.where(unchanged, images, ops.cast(equalized, "float32"))
