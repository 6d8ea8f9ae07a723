"""Backend-specific code, in the one package that holds it: Keras'
data-parallel engines differ per backend, and `keras.ops` has no collective
operations. One module per concept:

- `engine`: data-parallel training (`data_parallelism`), on
  `keras.distribution.DataParallel` on JAX and `tf.distribute` on TensorFlow;
  Keras has no engine on torch. `DataParallelism` (in `parallelism`) records
  the engine chosen.
- `jax_processes`: JAX over several processes, after
  `keras.distribution.initialize()`; each process feeds its own rows of every
  global batch (`ProcessShare`).
- `tensorflow_strategies`: `tf.distribute.MirroredStrategy` on one host,
  `MultiWorkerMirroredStrategy` when `TF_CONFIG` describes several workers.
- `tensorflow_replicas`: what changes inside `tf.distribute` replicas. Each
  normalises with its shard's BatchNormalization statistics unless
  synchronized (`batch_norm_statistics`), and reads its own copy of every
  seed generator's state, which needs a stream of its own (`ReplicaSeeds`);
  a batch-dependent loss gathers the other replicas' rows
  (`gather_across_replicas`). JAX `DataParallel` runs one global program
  (global statistics, one stream, the global batch in every loss); torch runs
  one process per device and a loss sees the local batch.
- `xla_cpu_schedule`: XLA's CPU scheduler on TensorFlow
  (`prefer_ordered_xla_cpu_schedule`).
"""

from keras_ortho._distribute.engine import DATA_PARALLEL_BACKENDS
from keras_ortho._distribute.engine import DISTRIBUTIONS
from keras_ortho._distribute.engine import cluster_processes
from keras_ortho._distribute.engine import data_parallelism
from keras_ortho._distribute.jax_processes import ProcessShare
from keras_ortho._distribute.tensorflow_replicas import ReplicaSeeds
from keras_ortho._distribute.tensorflow_replicas import batch_norm_statistics
from keras_ortho._distribute.tensorflow_replicas import gather_across_replicas
from keras_ortho._distribute.tensorflow_strategies import mirrored_strategy
from keras_ortho._distribute.xla_cpu_schedule import XLA_CPU_SCHEDULER_FLAG
from keras_ortho._distribute.xla_cpu_schedule import prefer_ordered_xla_cpu_schedule

__all__ = [
    "DATA_PARALLEL_BACKENDS",
    "DISTRIBUTIONS",
    "XLA_CPU_SCHEDULER_FLAG",
    "ProcessShare",
    "ReplicaSeeds",
    "batch_norm_statistics",
    "cluster_processes",
    "data_parallelism",
    "gather_across_replicas",
    "mirrored_strategy",
    "prefer_ordered_xla_cpu_schedule",
]
