import keras
import numpy as np
import pytest

from keras_ortho import constraints
from keras_ortho import initializers
from tests import toolkit
from tests.constraints import reference

# (layer name, factory(make_constraint, kernel_size, strides), input shape,
#  [(kernel attribute, kernel layout)]), over kernel sizes, channels and
# strides. Strides do not enter the filter matrix; they are in the grid so
# that every layer is built as a user builds it.
LAYERS = [
    *[
        (
            f"Conv2D-k{k}-c{cin}-f{f}-s{s}",
            lambda make, k=k, cin=cin, f=f, s=s: keras.layers.Conv2D(
                f, k, strides=s, padding="same", kernel_constraint=make("conv")
            ),
            (8, 8, cin),
            [("kernel", "conv")],
        )
        for k, cin, f, s in ((1, 8, 16, 2), (3, 4, 16, 1), (5, 8, 4, 2))
    ],
    *[
        (
            f"Conv2DTranspose-k{k}-f{f}-s{s}",
            lambda make, k=k, f=f, s=s: keras.layers.Conv2DTranspose(
                f, k, strides=s, kernel_constraint=make("conv_transpose")
            ),
            (5, 5, 3),
            [("kernel", "conv_transpose")],
        )
        for k, f, s in ((3, 2, 1), (5, 6, 2))
    ],
    *[
        (
            f"DepthwiseConv2D-k{k}-m{m}",
            lambda make, k=k, m=m: keras.layers.DepthwiseConv2D(
                k, depth_multiplier=m, depthwise_constraint=make("depthwise")
            ),
            (8, 8, 3),
            [("kernel", "depthwise")],
        )
        for k, m in ((3, 12), (5, 1))
    ],
    (
        "SeparableConv2D",
        lambda make: keras.layers.SeparableConv2D(
            6,
            3,
            strides=2,
            depth_multiplier=2,
            depthwise_constraint=make("depthwise"),
            pointwise_constraint=make("conv"),
        ),
        (8, 8, 3),
        [("depthwise_kernel", "depthwise"), ("pointwise_kernel", "conv")],
    ),
    (
        "Dense-tall",
        lambda make: keras.layers.Dense(5, kernel_constraint=make("dense")),
        (20,),
        [("kernel", "dense")],
    ),
    (
        "Dense-wide",
        lambda make: keras.layers.Dense(30, kernel_constraint=make("dense")),
        (7,),
        [("kernel", "dense")],
    ),
    (
        "Conv1D",
        lambda make: keras.layers.Conv1D(
            6, 3, strides=2, kernel_constraint=make("conv")
        ),
        (9, 4),
        [("kernel", "conv")],
    ),
    (
        "Conv3D",
        lambda make: keras.layers.Conv3D(4, 3, kernel_constraint=make("conv")),
        (5, 5, 5, 2),
        [("kernel", "conv")],
    ),
    (
        "Conv3DTranspose",
        lambda make: keras.layers.Conv3DTranspose(
            3, 2, kernel_constraint=make("conv_transpose")
        ),
        (4, 4, 4, 2),
        [("kernel", "conv_transpose")],
    ),
]


def _build(factory, input_shape, make):
    layer = factory(make)
    layer.build((None, *input_shape))
    return layer


# Björck over the whole grid; the exact SVD (slow to compile on JAX) on one
# layer of each layout.
SVD_LAYERS = ("Conv2D-k3-c4-f16-s1", "Conv2DTranspose-k5-f6-s2", "SeparableConv2D")
GRID = [(*spec, "bjorck", 15) for spec in LAYERS] + [
    (*spec, "svd", 0) for spec in LAYERS if spec[0] in SVD_LAYERS
]


@pytest.mark.parametrize(
    "factory, input_shape, kernels, method, steps",
    [case[1:] for case in GRID],
    ids=[f"{case[0]}-{case[4]}" for case in GRID],
)
def test_projection_is_the_polar_factor(factory, input_shape, kernels, method, steps):
    rng = np.random.default_rng(0)
    layer = _build(
        factory,
        input_shape,
        lambda layout: constraints.Orthogonal(
            method, bjorck_steps=steps, kernel_layout=layout
        ),
    )
    for attribute, layout in kernels:
        variable = getattr(layer, attribute)
        shape = tuple(variable.shape)
        groups = reference.filter_groups_of(np.zeros(shape), layout)
        kernel = reference.kernel_of(
            reference.conditioned_groups(groups.shape, rng), shape, layout
        )
        variable.assign(kernel.astype("float32"))
        projected = toolkit.to_numpy(variable.constraint(variable))
        want = reference.kernel_of(
            np.stack([reference.polar_factor(g) for g in groups_of(kernel, layout)]),
            shape,
            layout,
        )
        assert projected.dtype == np.float32
        np.testing.assert_allclose(projected, want, atol=1e-5, err_msg=attribute)


def groups_of(kernel, layout):
    return reference.filter_groups_of(kernel, layout)


@pytest.mark.parametrize("shape", [(12, 5), (5, 12), (3, 3, 4, 8)])
def test_qr_is_numpys_sign_fixed_qr(shape):
    kernel = np.random.default_rng(1).standard_normal(shape)
    layout = "dense" if len(shape) == 2 else "conv"
    projected = toolkit.to_numpy(
        constraints.orthogonal_projection(
            kernel.astype("float32"), method="qr", kernel_layout=layout
        )
    )
    matrix = reference.filter_groups_of(kernel, layout)[0]
    wide = matrix.shape[1] > matrix.shape[0]
    q, r = np.linalg.qr(matrix.T if wide else matrix)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    want = reference.kernel_of((q.T if wide else q)[None], shape, layout)
    np.testing.assert_allclose(projected, want, atol=1e-5)


@pytest.mark.parametrize("magnitude", [1e-6, 1.0, 1e6])
def test_bjorck_converges_from_any_scale(magnitude):
    # A he_normal-like kernel (singular values spread 0.3 to 1.7 of the mean)
    # at any magnitude: the scaling brings it into Björck's basin.
    kernel = np.random.default_rng(2).standard_normal((3, 3, 16, 32)) * magnitude
    projected = constraints.orthogonal_projection(
        kernel.astype("float32"), bjorck_steps=12, kernel_layout="conv"
    )
    values = reference.singular_values_of_groups(toolkit.to_numpy(projected), "conv")
    np.testing.assert_allclose(values, 1.0, atol=1e-5)


def test_orthogonal_kernel_is_a_fixed_point_of_the_default_steps():
    orthogonal = reference.polar_factor(
        np.random.default_rng(3).standard_normal((576, 64))
    )
    kernel = orthogonal.reshape(3, 3, 64, 64).astype("float32")
    projected = constraints.Orthogonal(kernel_layout="conv")(kernel)
    np.testing.assert_allclose(toolkit.to_numpy(projected), kernel, atol=1e-6)


def test_default_steps_restore_orthogonality_after_a_small_step():
    rng = np.random.default_rng(4)
    orthogonal = reference.polar_factor(rng.standard_normal((144, 32)))
    moved = orthogonal + 1e-2 * rng.standard_normal(orthogonal.shape) / 12.0
    projected = constraints.Orthogonal()(moved.astype("float32"))
    values = np.linalg.svd(toolkit.to_numpy(projected), compute_uv=False)
    np.testing.assert_allclose(values, 1.0, atol=1e-6)
    np.testing.assert_allclose(
        toolkit.to_numpy(projected), reference.polar_factor(moved), atol=1e-5
    )


@pytest.mark.parametrize("method", ["bjorck", "svd", "qr"])
def test_gain_scales_the_result(method):
    kernel = np.random.default_rng(5).standard_normal((9, 4)).astype("float32")
    unit = constraints.orthogonal_projection(kernel, method=method, bjorck_steps=15)
    scaled = constraints.orthogonal_projection(
        kernel, method=method, bjorck_steps=15, gain=2.5
    )
    np.testing.assert_allclose(
        toolkit.to_numpy(scaled), 2.5 * toolkit.to_numpy(unit), rtol=1e-6
    )


@pytest.mark.parametrize("method", ["bjorck", "svd", "qr"])
def test_zero_kernel_stays_finite_and_nan_propagates(method):
    zero = constraints.orthogonal_projection(np.zeros((9, 4), "float32"), method=method)
    assert np.all(np.isfinite(toolkit.to_numpy(zero)))
    kernel = np.ones((9, 4), "float32")
    kernel[2, 1] = np.nan
    projected = constraints.orthogonal_projection(kernel, method=method)
    assert np.isnan(toolkit.to_numpy(projected)).any()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_kernel_is_projected_in_float32(dtype):
    kernel = reference.conditioned_groups((1, 18, 6), np.random.default_rng(6))[0]
    low = keras.ops.cast(kernel.astype("float32"), dtype)
    projected = constraints.orthogonal_projection(low, method="svd")
    assert keras.backend.standardize_dtype(projected.dtype) == dtype
    rounded = toolkit.to_numpy(keras.ops.cast(low, "float32")).astype("float64")
    want = reference.polar_factor(rounded)
    got = toolkit.to_numpy(keras.ops.cast(projected, "float32"))
    resolution = {"float16": 2**-11, "bfloat16": 2**-8}[dtype]
    np.testing.assert_allclose(got, want, atol=resolution)


def _model(gain=1.0):
    seed = iter(range(100))

    def init(layout):
        return initializers.OrthogonalFilters(kernel_layout=layout, seed=next(seed))

    def hard(layout):
        return constraints.Orthogonal(kernel_layout=layout, gain=gain)

    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(
                8,
                3,
                padding="same",
                kernel_initializer=init("conv"),
                kernel_constraint=hard("conv"),
            ),
            keras.layers.DepthwiseConv2D(
                3,
                depth_multiplier=2,
                depthwise_initializer=init("depthwise"),
                depthwise_constraint=hard("depthwise"),
            ),
            keras.layers.Conv2DTranspose(
                4,
                3,
                strides=2,
                kernel_initializer=init("conv_transpose"),
                kernel_constraint=hard("conv_transpose"),
            ),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(
                3, kernel_initializer=init("dense"), kernel_constraint=hard("dense")
            ),
        ]
    )


LAYOUTS = ("conv", "depthwise", "conv_transpose", None, "dense")


def _data(count=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 8, 8, 3)).astype("float32")
    return x, rng.integers(0, 3, size=count)


def test_singular_values_stay_at_gain_through_a_jitted_fit():
    gain = 2.0
    model = _model(gain)
    before = [toolkit.to_numpy(w) for w in model.get_weights()]
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=5, verbose=0)
    assert model.jit_compile
    for layer, layout in zip(model.layers, LAYOUTS, strict=True):
        if layout is None:
            continue
        kernel = toolkit.to_numpy(layer.weights[0])
        values = reference.singular_values_of_groups(kernel, layout)
        np.testing.assert_allclose(values, gain, atol=1e-5 * gain, err_msg=layer.name)
    moved = [
        np.abs(toolkit.to_numpy(w) - b).max()
        for w, b in zip(model.get_weights(), before, strict=True)
    ]
    assert max(moved) > 1e-3, "training did not change the weights"


def test_mixed_precision_fit():
    # Under mixed_float16 the optimizer is a LossScaleOptimizer; the kernel
    # stays float32 and orthogonal. Low-precision kernels are covered above.
    with toolkit.mixed_precision("mixed_float16"):
        model = _model()
        toolkit.fit_one_step(
            model,
            *_data(),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile="auto",
        )
    kernel = model.layers[0].kernel
    assert keras.backend.standardize_dtype(kernel.dtype) == "float32"
    values = reference.singular_values_of_groups(toolkit.to_numpy(kernel), "conv")
    np.testing.assert_allclose(values, 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "polar"}, ValueError, "method"),
        ({"bjorck_steps": -1}, ValueError, "bjorck_steps"),
        ({"bjorck_steps": 2.0}, TypeError, "bjorck_steps"),
        ({"gain": 0.0}, ValueError, "gain"),
        ({"gain": float("inf")}, ValueError, "gain"),
        ({"gain": "1"}, ValueError, "gain"),
        ({"kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        constraints.Orthogonal(**kwargs)
    with pytest.raises(error, match=match):
        constraints.orthogonal_projection(np.eye(3, dtype="float32"), **kwargs)


class _Block(keras.layers.Layer):
    """A custom layer holding a convolution, as keras-hub blocks do."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.DepthwiseConv2D(
            3, depth_multiplier=2, depthwise_constraint=constraints.Orthogonal("svd")
        )

    def call(self, x):
        return self.conv(x)


def test_auto_layout_is_read_from_the_layer_during_fit():
    auto = constraints.Orthogonal("svd")
    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Conv2DTranspose(5, 3, strides=2, kernel_constraint=auto),
            _Block(),
            keras.layers.SeparableConv2D(
                4, 3, depthwise_constraint=auto, pointwise_constraint=auto
            ),
            keras.layers.Conv2D(4, 3, kernel_constraint=auto),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )
    toolkit.fit_one_step(
        model,
        np.random.default_rng(0).normal(size=(4, 6, 6, 3)).astype("float32"),
        np.zeros((4, 4), "float32"),
        "mse",
        # XLA on TensorFlow and JAX; torch.compile is covered by the fit above.
        jit_compile="auto",
    )
    kernels = [
        (model.layers[0].kernel, "conv_transpose"),
        (model.layers[1].conv.kernel, "depthwise"),
        (model.layers[2].depthwise_kernel, "depthwise"),
        (model.layers[2].pointwise_kernel, "conv"),
        (model.layers[3].kernel, "conv"),
    ]
    for variable, layout in kernels:
        values = reference.singular_values_of_groups(toolkit.to_numpy(variable), layout)
        np.testing.assert_allclose(values, 1.0, atol=1e-5, err_msg=variable.path)


def test_auto_layout_refuses_to_guess_outside_fit():
    layer = keras.layers.Conv2DTranspose(
        4, 3, kernel_constraint=constraints.Orthogonal()
    )
    layer.build((None, 5, 5, 3))
    with pytest.raises(ValueError, match=r"kernel_layout='conv'.*'conv_transpose'"):
        layer.kernel.constraint(layer.kernel)
    with pytest.raises(ValueError, match="kernel_layout"):
        constraints.orthogonal_projection(np.ones((3, 3, 2, 2), "float32"))


def test_kernel_of_the_wrong_rank():
    with pytest.raises(ValueError, match="kernel"):
        constraints.orthogonal_projection(
            np.ones((3, 3, 2, 2), "float32"), kernel_layout="dense"
        )
    with pytest.raises(ValueError, match="kernel"):
        constraints.orthogonal_projection(np.ones((4,), "float32"))
