"""Making a compiled model trace its train and test steps again.

Regularizers are read when a step is traced: a regularizer attached, or a
factor changed, after the first step only takes effect in a new trace.
"""

import keras


def rebuild_step_functions(model):
    """Has the compiled `model` trace its train and test steps anew on their
    next call. Costs nothing until then."""
    if model.jit_compile and not model.run_eagerly:
        _forget_jax_traces()
    model.make_train_function(force=True)
    model.make_test_function(force=True)


def _forget_jax_traces():
    """Drops JAX's trace caches, the one backend that needs it.

    `jax.jit` shares its traces between jits of equal functions, and the JAX
    trainer jits the bound method `model.train_step` afresh on each rebuild: as
    long as anything (a callback, a profiler) still holds the previous train
    function, the new one would reuse its trace. TensorFlow traces each new
    `tf.function` anew, and `torch.compile` guards on the values it read.
    """
    if keras.backend.backend() == "jax":
        import jax

        jax.clear_caches()
