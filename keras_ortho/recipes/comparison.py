"""Training one recipe with several methods and tabulating the results."""

import os

from keras_ortho import data as ortho_data
from keras_ortho._distribute import data_parallelism
from keras_ortho.recipes.methods import method_label
from keras_ortho.recipes.methods import parse_methods
from keras_ortho.recipes.results import write_results
from keras_ortho.recipes.training import train


def compare(recipe, methods, run_dir, dataset=None, data_dir=None, verbose="auto"):
    """Trains `recipe` once per entry of `methods` and collects the results.

    Each run lives in `run_dir/<method label>` (e.g. `run_dir/opl+so`) with
    its own backup, so an interrupted comparison resumes where it stopped;
    the collected results go to `run_dir/results.json` and `results.csv`,
    written by the chief alone in a multi-process run (as `train` writes
    each run's files). The dataset is loaded once.

    Args:
        recipe: a `keras_ortho.recipes.Recipe`.
        methods: a list of method combinations, each a comma-separated
            string or tuple, e.g. `["ce", "opl", "so", "fixed", "opl,so"]`.
        run_dir: the comparison's directory.
        dataset: a `keras_ortho.data.Dataset`, or `None` to load
            `recipe.data.dataset`.
        data_dir: passed to `keras_ortho.data.load_dataset`.
        verbose: `model.fit`'s verbosity.

    Returns:
        The list of result dicts, in the order of `methods`; print them with
        `keras_ortho.recipes.format_table`.

    Example:

    ```python
    # The demo recipe, cut to 64 images and one epoch:
    recipe = keras_ortho.recipes.get_recipe(
        "demo", epochs=1, train_size=64, test_size=64
    )
    results = keras_ortho.recipes.compare(recipe, ["ce", "opl"], "runs/compare")
    print(keras_ortho.recipes.format_table(results))
    ```
    """
    if (
        isinstance(methods, str)
        or not isinstance(methods, (list, tuple))
        or not (methods)
    ):
        raise TypeError(
            "Invalid type for argument `methods`: expected a non-empty list of "
            f"method combinations such as ['ce', 'opl,so']. Received: "
            f"methods={methods!r}"
        )
    combinations = [parse_methods(m) for m in methods]
    # The engine `train` uses; it also says which process is the chief.
    parallelism = data_parallelism(
        recipe.distribution, recipe.devices, recipe.synchronized_batch_norm
    )
    if dataset is None:
        dataset = ortho_data.load_dataset(recipe.data.dataset, data_dir=data_dir)
    results = []
    for combination in combinations:
        run = train(
            recipe.replace(methods=combination),
            os.path.join(run_dir, method_label(combination)),
            dataset=dataset,
            verbose=verbose,
        )
        results.append(run.results)
    if parallelism.is_chief:
        write_results(results, run_dir)
    return results
