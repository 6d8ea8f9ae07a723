"""Optional extras are imported only when a feature that needs them is used.

`import keras_ortho` must work without the `plot` extra (matplotlib) and the
`datasets` extra (tensorflow-datasets, Pillow). Keras itself imports
matplotlib whenever it is installed (`keras.visualization`), so looking for
matplotlib in `sys.modules` after `import keras_ortho` would test Keras, not
keras_ortho: the extras are made unimportable instead, in a fresh process,
and the import must still succeed.
"""

import os
import subprocess
import sys
import textwrap

OPTIONAL_MODULES = ("matplotlib", "tensorflow_datasets", "PIL")


def _run_python(code):
    """Runs `code` in a fresh interpreter with this process' environment
    (`KERAS_BACKEND` included); returns its stdout, failing on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def _without_optional_modules(code):
    """`code`, run after making every optional module unimportable (a `None`
    entry in `sys.modules` makes `import name` raise ModuleNotFoundError)."""
    return (
        "import sys\n"
        f"for name in {OPTIONAL_MODULES!r}:\n"
        "    sys.modules[name] = None\n" + textwrap.dedent(code)
    )


def test_import_needs_no_optional_extra():
    # Fails (ModuleNotFoundError in the child) if any keras_ortho module
    # imports an optional extra at import time.
    _run_python(_without_optional_modules("import keras_ortho"))


def test_every_module_imports_without_optional_extras():
    # Also the modules `import keras_ortho` does not reach: the report writer,
    # the private helpers and the console script.
    _run_python(
        _without_optional_modules(
            """
            import importlib
            import pkgutil

            import keras_ortho
            import keras_ortho_cli

            for module in pkgutil.walk_packages(
                keras_ortho.__path__, "keras_ortho."
            ):
                importlib.import_module(module.name)
            """
        )
    )


def test_plot_without_matplotlib_names_the_extra():
    stdout = _run_python(
        _without_optional_modules(
            """
            import keras_ortho

            try:
                keras_ortho.plots.plot_training_history({"loss": [1.0, 0.5]})
            except ImportError as error:
                print("ImportError:", error)
            """
        )
    )
    assert "ImportError:" in stdout
    assert "keras-ortho[plot]" in stdout
