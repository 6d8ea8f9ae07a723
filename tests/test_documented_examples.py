"""Every code example the documentation shows is run, so none can go stale.

Collected, one test each:
- the ```` ```python ```` blocks of the docstring of every public class,
  function and public method of keras_ortho (the `Example:` sections);
- the ```` ```python ```` blocks of README.md and of every page under docs/.

Each example runs in a fresh namespace holding only `keras`, `np` (NumPy) and
`keras_ortho`, as Keras' own docstring examples assume `import keras` and
`import numpy as np`; it runs offline in a temporary working directory, so
files it writes disappear. An example must therefore make its own (tiny)
data and models.

A block preceded by `<!-- not-run: <reason> -->` is not run: only for a shell
command or a command on a full dataset that would be downloaded or read from
the user's disk. The reason is required.
"""

import importlib
import inspect
import os
import pathlib
import pkgutil
import re
import textwrap

import keras
import numpy as np
import pytest

import keras_ortho

# Figures are drawn off screen.
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYTHON_BLOCK = re.compile(
    r"(?P<marker><!--\s*not-run:(?P<reason>[^>]*?)-->\s*\n)?"
    r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```",
    re.S | re.M,
)


def _python_blocks(text):
    """`(code, not_run_reason or None)` of each ```python block of `text`."""
    for match in PYTHON_BLOCK.finditer(text):
        reason = match.group("reason")
        yield (
            textwrap.dedent(match.group("code")),
            (None if match.group("marker") is None else reason.strip()),
        )


def _public_modules():
    yield keras_ortho
    for info in pkgutil.walk_packages(keras_ortho.__path__, "keras_ortho."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def _documented_objects():
    """`{qualified name: object}` of every public class, function and public
    method defined in a public module."""
    found = {}
    for module in _public_modules():
        for name, obj in vars(module).items():
            if (
                name.startswith("_")
                or getattr(obj, "__module__", None) != module.__name__
            ):
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            found[f"{module.__name__}.{name}"] = obj
            if inspect.isclass(obj):
                for attribute, member in vars(obj).items():
                    if not attribute.startswith("_"):
                        member = getattr(member, "__func__", member)
                        if inspect.isfunction(member) or isinstance(member, property):
                            found[f"{module.__name__}.{name}.{attribute}"] = member
    return found


def _collect():
    examples = []
    for name, obj in sorted(_documented_objects().items()):
        blocks = list(_python_blocks(inspect.getdoc(obj) or ""))
        for index, (code, reason) in enumerate(blocks):
            suffix = f"[{index}]" if len(blocks) > 1 else ""
            examples.append((f"{name}{suffix}", code, reason))
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for page in pages:
        blocks = list(_python_blocks(page.read_text()))
        for index, (code, reason) in enumerate(blocks):
            examples.append((f"{page.relative_to(ROOT)}[{index}]", code, reason))
    return examples


EXAMPLES = _collect()
RUN = [
    pytest.param(name, code, id=name)
    for name, code, reason in EXAMPLES
    if reason is None
]


def test_examples_are_found():
    # The docstrings of the public Keras objects all have an Example.
    names = {name for name, _, _ in EXAMPLES}
    for expected in (
        "keras_ortho.regularizers.soft_orthogonality.SoftOrthogonality",
        "keras_ortho.losses.orthogonal_projection_loss.OrthogonalProjectionLoss",
        "keras_ortho.layers.fixed_classifier.FixedClassifier",
        "README.md[0]",
    ):
        assert expected in names
    assert len(RUN) >= 80


def test_examples_not_run_say_why():
    for name, _, reason in EXAMPLES:
        if reason is not None:
            assert reason, f"{name}: `not-run:` needs a reason"


@pytest.mark.parametrize("name, code", RUN)
def test_example_runs(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__example__", "keras": keras, "np": np}
    namespace["keras_ortho"] = keras_ortho
    try:
        exec(compile(code, f"<example {name}>", "exec"), namespace)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
