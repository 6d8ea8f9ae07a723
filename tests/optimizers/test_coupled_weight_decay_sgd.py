import keras
import numpy as np
import pytest

from keras_ortho.optimizers import CoupledWeightDecaySGD
from keras_ortho.optimizers.schedules import WarmupMultiStepDecay
from tests.toolkit import to_numpy


def torch_sgd(weights, gradients, rates, momentum, nesterov, weight_decay, decayed):
    """NumPy re-implementation of `torch.optim.SGD.step` (dampening 0), one
    variable at a time, with explicit loops over steps."""
    weights = [w.astype(np.float64).copy() for w in weights]
    buffers = [None] * len(weights)
    for step, rate in enumerate(rates):
        for i, weight in enumerate(weights):
            grad = gradients[step][i].astype(np.float64)
            if decayed[i]:
                grad = grad + weight_decay * weight
            if momentum:
                if buffers[i] is None:
                    buffers[i] = grad.copy()
                else:
                    buffers[i] = momentum * buffers[i] + grad
                grad = grad + momentum * buffers[i] if nesterov else buffers[i]
            weights[i] = weight - rate * grad
    return weights


def run_keras(optimizer, weights, gradients, names):
    variables = [
        keras.Variable(w, name=name) for w, name in zip(weights, names, strict=True)
    ]
    for step_gradients in gradients:
        optimizer.apply_gradients(zip(step_gradients, variables, strict=True))
    return [to_numpy(v) for v in variables]


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)]
)
def test_matches_torch_sgd_with_changing_rate(momentum, nesterov):
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(4,))]
    weights[1] = weights[1].astype("float32")
    gradients = [
        [rng.normal(size=w.shape).astype("float32") for w in weights] for _ in range(6)
    ]
    # Two steps per epoch, warm-up over the first epoch, x0.2 from epoch 1.
    schedule = WarmupMultiStepDecay(0.1, 2, milestones=(1,), warmup_epochs=1)
    rates = [0.0, 0.05, 0.02, 0.02, 0.02, 0.02]
    optimizer = CoupledWeightDecaySGD(
        schedule, momentum=momentum, nesterov=nesterov, coupled_weight_decay=5e-3
    )
    result = run_keras(optimizer, weights, gradients, ["kernel", "bias"])
    expected = torch_sgd(weights, gradients, rates, momentum, nesterov, 5e-3, [1, 1])
    for got, want in zip(result, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_exclusion_by_path():
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(2, 2)).astype("float32") for _ in range(2)]
    gradients = [[np.zeros((2, 2), "float32")] * 2 for _ in range(3)]
    optimizer = CoupledWeightDecaySGD(
        0.1,
        momentum=0.9,
        coupled_weight_decay=0.01,
        exclude_from_coupled_weight_decay=("gamma",),
    )
    result = run_keras(optimizer, weights, gradients, ["kernel", "gamma"])
    expected = torch_sgd(weights, gradients, [0.1] * 3, 0.9, False, 0.01, [1, 0])
    np.testing.assert_allclose(result[0], expected[0], rtol=1e-6)
    np.testing.assert_array_equal(result[1], weights[1])
    assert not np.allclose(result[0], weights[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"coupled_weight_decay": -1.0}, "coupled_weight_decay"),
        ({"momentum": 1.5}, "momentum"),
        ({"nesterov": 1}, "nesterov"),
        ({"exclude_from_coupled_weight_decay": "bias"}, "exclude_from"),
        ({"weight_decay": 1e-4}, "weight_decay"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        CoupledWeightDecaySGD(0.1, **kwargs)


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the batched update is torch's"
)
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, True)])
def test_torch_batched_update_equals_per_variable_update(
    monkeypatch, momentum, nesterov
):
    from keras.src.optimizers.base_optimizer import BaseOptimizer

    rng = np.random.default_rng(1)
    weights = [
        rng.normal(size=shape).astype("float32") for shape in [(3, 3, 2, 4), (4,)]
    ]
    gradients = [
        [rng.normal(size=w.shape).astype("float32") for w in weights] for _ in range(4)
    ]

    def run():
        optimizer = CoupledWeightDecaySGD(
            0.05,
            momentum=momentum,
            nesterov=nesterov,
            coupled_weight_decay=1e-2,
            exclude_from_coupled_weight_decay=("bias",),
        )
        return run_keras(optimizer, weights, gradients, ["kernel", "bias"])

    batched = run()
    # The generic Keras path: one `update_step` per variable.
    monkeypatch.setattr(
        CoupledWeightDecaySGD,
        "_backend_update_step",
        BaseOptimizer._backend_update_step,
    )
    per_variable = run()
    for got, want in zip(batched, per_variable, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
