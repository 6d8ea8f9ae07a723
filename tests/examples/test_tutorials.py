"""Every tutorial in examples/ runs to the end at toy size on this backend.

Each runs in its own process, as a user runs it (`python examples/x.py`),
with `KERAS_ORTHO_EXAMPLE_SIZE=toy` (one training step on 20 images, the
smallest model) and its pictures written to a temporary folder. It gets the
suite's XLA flags (conftest.py), but not its virtual devices. The timeout
only stops a hung tutorial.
"""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
TUTORIALS = {
    "feature_losses.py": "feature_losses.png",
    "kernel_regularizers.py": "kernel_regularizers.png",
    "fixed_heads.py": "fixed_heads.png",
    "fine_tune_keras_hub.py": "fine_tune_keras_hub.png",
}
TIMEOUT_SECONDS = 600


@pytest.mark.parametrize("tutorial", sorted(TUTORIALS))
def test_tutorial_runs_at_toy_size(tutorial, tmp_path):
    environment = {
        **os.environ,
        "KERAS_BACKEND": keras.backend.backend(),
        "KERAS_ORTHO_EXAMPLE_SIZE": "toy",
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    environment["XLA_FLAGS"] = " ".join(
        flag
        for flag in os.environ.get("XLA_FLAGS", "").split()
        if not flag.startswith("--xla_force_host_platform_device_count")
    )
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / tutorial), "--output-dir", str(tmp_path)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    picture = tmp_path / TUTORIALS[tutorial]
    assert picture.stat().st_size > 10_000, f"{picture} is missing or blank"
    assert sorted(p.name for p in tmp_path.iterdir()) == [TUTORIALS[tutorial]]
