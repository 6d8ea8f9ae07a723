"""The recipes' per-epoch backup, which leaves Keras' asynchronous batch-end
dispatch on."""

import keras


class EpochBackup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` saving at the end of every epoch,
    marked safe for asynchronous batch-end callbacks.

    Keras' `CallbackList` runs the batch-end hooks of a `fit` on a thread
    pool (on the thread-safe backends, JAX and torch), so that the training
    loop dispatches the next step while the previous step's logs are read,
    unless a callback defines a batch-end hook and is not `async_safe`.
    `BackupAndRestore` defines `on_train_batch_end` for its per-batch
    `save_freq`; with `save_freq="epoch"` that hook returns at once, and the
    backup is written in `on_epoch_end` and read in `on_train_begin`, which
    Keras calls on the training thread after waiting for every pending batch
    end. So this backup is async-safe, and the plain one would make every
    step wait for the last.

    Args:
        backup_dir: the directory of the backup.
    """

    async_safe = True

    def __init__(self, backup_dir):
        super().__init__(backup_dir, save_freq="epoch")
