"""A training worker process: `python -m seqcore.worker FD_IN FD_OUT`.

Started by seqcore.jobs with subprocess rather than multiprocessing, because
under Streamlit `__main__` is the page script and a spawned child would run it
again. It imports Keras once (seconds), reports `Ready`, then trains one job
after another, sending events back over a pipe and reading stop / pause /
resume between executions. The messages are seqcore.protocol's.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import traceback
from multiprocessing.connection import Connection

from seqcore.protocol import Command, CompileAhead, CompiledAhead, Exit, Idle, JobEvent, Ready, RunJob
from seqcore.training import Control


class PipeControl(Control):
    """Reads stop / pause / resume from the parent's pipe."""

    def __init__(self, inbox: Connection, deadline_s: float):
        super().__init__(deadline_s)
        self.inbox = inbox

    def _read(self, timeout: float) -> str | None:
        """The strongest command among those waiting (stop over pause or resume; the later of those two)."""
        latest = None
        while self.inbox.poll(timeout):
            timeout = 0
            message = self.inbox.recv()
            if isinstance(message, Exit) or (isinstance(message, Command) and message.name == "stop"):
                return "stop"
            if isinstance(message, Command):
                latest = message.name
        return latest

    def poll(self) -> str | None:
        command = self._read(0)
        return command if command in ("stop", "pause") else None

    def wait_while_paused(self) -> str | None:
        while not self.timed_out():
            command = self._read(0.2)  # wait for the next command without spinning
            if command in ("stop", "resume"):
                return command
        return None


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


def start_keras():
    """Import Keras and TensorFlow in a trainer process, quiet and on its share of the cores."""
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices are expected: each job is a new model
    if os.environ.get("SEQCORE_INTRA_OP_THREADS"):  # set by the backend: its cores per slot
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["SEQCORE_INTRA_OP_THREADS"]))
    return keras


def run_job(experiment: dict, emit, control_for, *, uploaded, save_artifacts: bool, models) -> None:
    """Train one job, reporting through `emit` (a failure too, as its EndEvent); `control_for(deadline_s)` makes
    the job's Control. Frees what the model cache let go afterwards. Shared by this worker and Ray's trainers."""
    import keras

    from seqcore.config import ConfigError, Experiment
    from seqcore.data import DataError
    from seqcore.events import EndEvent
    from seqcore.training import train

    evicted = models.evicted
    try:
        parsed = Experiment.from_dict(experiment)
        train(parsed, emit, control_for(parsed.train.time_limit_s), uploaded=uploaded,
              save_artifacts=save_artifacts, models=models)
    except (ConfigError, DataError) as err:
        emit(EndEvent(status="failed", reason=str(err), epochs_done=0))
    except MemoryError:
        emit(EndEvent(status="failed", reason="The run ran out of memory: use fewer units, steps or sequences.",
                      epochs_done=0))
    except Exception as err:  # report, keep serving: one bad job must not take the trainer down
        traceback.print_exc()
        emit(EndEvent(status="failed", reason=f"Training failed: {type(err).__name__}: {err}", epochs_done=0))
    # Keras' clear_session also clears TensorFlow's kernel caches, after which a cached model's next first
    # step took 0.5 s instead of 0.02 (measured): clear only when the cache let a model go, to free it.
    if models.evicted != evicted:
        keras.backend.clear_session()
    else:
        gc.collect()


def compile_in_idle_time(message: CompileAhead, inbox: Connection, outbox: Connection, models) -> None:
    """Compile a network the pages expect to train next, and say so. A message waiting before it begins (a run,
    a newer network to compile) skips it; the pool keeps this worker idle meanwhile."""
    import keras

    from seqcore.config import ConfigError, Experiment
    from seqcore.training import compile_ahead

    started, evicted, compiled = time.monotonic(), models.evicted, False
    try:
        compiled = compile_ahead(Experiment.from_dict(message.experiment), models, uploaded=message.uploaded,
                                 interrupted=lambda: inbox.poll(0))
    except ConfigError:
        pass  # the pages refuse such settings with their own message
    except Exception:  # a guess that failed costs nothing but its log line: the worker keeps serving
        traceback.print_exc()
    if models.evicted != evicted:  # as after a run: free what the cache let go
        keras.backend.clear_session()
    outbox.send(CompiledAhead(compiled=compiled, seconds=time.monotonic() - started))


def serve(inbox: Connection, outbox: Connection) -> None:
    keras = start_keras()
    from seqcore.training import ModelCache

    models = ModelCache()
    warm_up(models)
    outbox.send(Ready(pid=os.getpid(), keras_backend=keras.backend.backend()))
    while True:
        try:
            message = inbox.recv()
        except EOFError:  # the parent went away
            return
        if isinstance(message, Exit):
            return
        if isinstance(message, CompileAhead):
            compile_in_idle_time(message, inbox, outbox, models)
            continue
        if not isinstance(message, RunJob):
            continue  # a stop or pause that arrived after its job ended

        def emit(event, job_id=message.job_id):
            outbox.send(JobEvent(job_id=job_id, event=event))

        run_job(message.experiment, emit, lambda deadline_s: PipeControl(inbox, deadline_s),
                uploaded=message.uploaded, save_artifacts=message.save_artifacts, models=models)
        outbox.send(Idle(at=time.time()))


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
