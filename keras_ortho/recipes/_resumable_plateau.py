"""The recipes' learning-rate decay on plateaus, resumable from a backup."""

import csv

import keras


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """`ReduceLROnPlateau` that a resumed run continues where it stopped.

    `BackupAndRestore` restores the learning rate (an optimizer variable) but
    not the callback's counters (`best`, `wait`, `cooldown_counter`): a
    resumed run would start a fresh patience and decay later than the
    uninterrupted one. At the first epoch of a resumed run, the counters are
    replayed from the monitored values of the completed epochs in the run's
    CSV log, with Keras' rule minus the decay itself, which the restored rate
    already holds.
    """

    def __init__(self, history_path, **kwargs):
        super().__init__(**kwargs)
        self.history_path = history_path
        self._first_epoch = True

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch and epoch > 0:
            self._replay(self._logged_values(epoch))
        self._first_epoch = False

    def _logged_values(self, epoch):
        with open(self.history_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [float(row[self.monitor]) for row in rows if int(row["epoch"]) < epoch]

    def _replay(self, values):
        self._set_monitor_op()
        for current in values:
            if self.in_cooldown():
                self.cooldown_counter -= 1
                self.wait = 0
            if self._is_improvement(current, self.best):
                self.best = current
                self.wait = 0
            elif not self.in_cooldown():
                self.wait += 1
                if self.wait >= self.patience:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
