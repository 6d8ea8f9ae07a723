"""tfds without network: mock data standing for a prepared copy, and offline."""

import contextlib
from unittest import mock

import requests
import tensorflow_datasets as tfds


@contextlib.contextmanager
def offline():
    """Every HTTP request fails at once, as on a machine without network, and
    tfds may not download: whatever the machine, nothing is fetched."""

    def refuse(*args, **kwargs):
        raise requests.ConnectionError("offline (simulated by the test)")

    def no_download(*args, **kwargs):
        raise AssertionError("tfds was asked to download")

    with (
        mock.patch.object(requests.Session, "request", refuse),
        mock.patch.object(
            tfds.core.DatasetBuilder, "download_and_prepare", no_download
        ),
    ):
        yield


@contextlib.contextmanager
def prepared_mock_data(num_examples):
    """tfds' mock data as a prepared copy (`is_prepared()` is True, as for a
    prepared data directory), offline."""
    with (
        offline(),
        tfds.testing.mock_data(
            num_examples=num_examples, policy=tfds.testing.MockPolicy.USE_CODE
        ),
        mock.patch.object(tfds.core.DatasetBuilder, "is_prepared", return_value=True),
    ):
        yield
