import ast
import pathlib
import sys

import pytest

from keras_ortho import plots
from keras_ortho.plots import _figure

PLOTS_DIR = pathlib.Path(plots.__file__).parent


def test_no_module_imports_matplotlib_at_import_time():
    for path in PLOTS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "matplotlib" for n in names), path


def test_missing_matplotlib_names_the_plot_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'keras-ortho\[plot\]'"):
        plots.plot_training_history({"loss": [1.0, 0.5]})
    with pytest.raises(ImportError, match="needs matplotlib"):
        _figure.new_figure(1, 1)
