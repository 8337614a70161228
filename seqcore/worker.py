"""A training worker process: `python -m seqcore.worker FD_IN FD_OUT`.

Started by seqcore.jobs with subprocess rather than multiprocessing, because
under Streamlit `__main__` is the page script and a spawned child would run it
again. It imports Keras once (seconds), reports 'ready', then trains one job
after another, sending events back over a pipe and reading stop / pause /
resume between executions.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection

from seqcore.training import Control


class PipeControl(Control):
    """Reads stop / pause / resume from the parent; blocks while paused."""

    def __init__(self, inbox: Connection, deadline_s: float):
        super().__init__(deadline_s)
        self.inbox = inbox

    def poll(self) -> str | None:
        paused = False
        while True:
            while self.inbox.poll(0):
                command = self.inbox.recv()[0]
                if command in ("stop", "exit"):
                    return "stop"
                paused = command == "pause" or (paused and command != "resume")
            if not paused or self.timed_out():
                return None
            self.inbox.poll(0.2)  # wait for the next command without spinning


def warm_up(models=None) -> None:
    """Train the default experiment for one epoch, and tiny models of the other cells once, so the first
    real job does not pay TensorFlow's one-time set-up, and a first run of the default settings finds its
    model compiled in `models`.

    Measured here: a fresh process takes several times longer to its first epoch than the second
    model it trains (graph-function machinery, kernels and thread pools are set up lazily).
    """
    from seqcore.config import Experiment
    from seqcore.training import train

    default = Experiment()
    train(default.with_values(**{"train.epochs": 1}), lambda event: None, models=models)
    tiny = default.with_values(**{"train.epochs": 1, "model.units": 4, "data.n_sequences": 20})
    for cell, generator in (("GRU", "sine"), ("SimpleRNN", "adding")):
        tiny = tiny.with_values(**{"model.cell": cell, "data.generator": generator, "data.n_sequences": 20,
                                   "data.n_points": 100, "data.seq_len": 5})
        train(tiny, lambda event: None)


def serve(inbox: Connection, outbox: Connection) -> None:
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices are expected: each job is a new model
    if os.environ.get("SEQCORE_INTRA_OP_THREADS"):  # set by the JobManager: its cores per slot
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["SEQCORE_INTRA_OP_THREADS"]))

    from seqcore.config import ConfigError, Experiment
    from seqcore.data import DataError
    from seqcore.events import EndEvent
    from seqcore.training import ModelCache, train

    models = ModelCache()
    warm_up(models)
    outbox.send(("ready", os.getpid(), keras.backend.backend()))
    while True:
        try:
            message = inbox.recv()
        except EOFError:  # the parent went away
            return
        if message[0] == "exit":
            return
        if message[0] != "run":
            continue  # a stop or pause that arrived after its job ended
        _, job_id, experiment_dict, csv_values, out_dir = message

        def emit(event, job_id=job_id):
            outbox.send(("event", job_id, event))

        evicted = models.evicted
        try:
            experiment = Experiment.from_dict(experiment_dict)
            train(experiment, emit, PipeControl(inbox, experiment.train.time_limit_s),
                  csv_values=csv_values, out_dir=out_dir, models=models)
        except (ConfigError, DataError) as err:
            emit(EndEvent(status="failed", reason=str(err), epochs_done=0))
        except MemoryError:
            emit(EndEvent(status="failed", reason="The run ran out of memory: use fewer units, steps or sequences.",
                          epochs_done=0))
        except Exception as err:  # report, keep serving: one bad job must not take the worker down
            traceback.print_exc()
            emit(EndEvent(status="failed", reason=f"Training failed: {type(err).__name__}: {err}", epochs_done=0))
        # Keras' clear_session also clears TensorFlow's kernel caches, after which a cached model's next first
        # step took 0.5 s instead of 0.02 (measured): clear only when the cache let a model go, to free it.
        if models.evicted != evicted:
            keras.backend.clear_session()
        else:
            gc.collect()
        outbox.send(("idle", time.time()))


def main(argv: list[str]) -> None:
    # Below the server's CPU priority: with every core training, the web server must still answer its pages
    # (a frozen page loses a run as surely as a crash does). On an idle machine this costs nothing.
    os.nice(int(os.environ.get("SEQCORE_WORKER_NICE", "5")))
    inbox = Connection(int(argv[1]), writable=False)
    outbox = Connection(int(argv[2]), readable=False)
    serve(inbox, outbox)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main(sys.argv)
