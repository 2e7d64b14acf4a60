"""Small configs and helpers shared by the tests."""

import contextlib
import os
import subprocess

from irnn_jax import config as config_lib

ADDING_CONFIG = config_lib.PACKAGED / "adding.py"


def adding_config(seq_len=8, steps=20, lr=1e-2, name="adam", log_every=10, eval_every=20):
    """The real adding config, shrunk to run in seconds."""
    config = config_lib.load(f"{ADDING_CONFIG}:T={seq_len}")
    config.task.held_out_size = 512
    config.optim.name = name
    config.optim.lr = lr
    config.train.steps = steps
    config.train.log_every = log_every
    config.train.eval_every = eval_every
    config.train.eval_batch_size = 256
    return config


@contextlib.contextmanager
def run_child(argv, **popen_kwargs):
    """Run ``argv`` as a child process (unbuffered output) for the block; on leaving, kill it if
    it still runs and reap it, so a failing test leaves no process behind."""
    process = subprocess.Popen(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **popen_kwargs)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def held_out_score(workdir, config, score, split="test"):
    """``sum(score) / sum(count)`` of the trained model of ``workdir`` over a held-out split,
    computed here batch by batch with ``model.apply`` (independently of ``train.evaluate``).

    ``score(logits, targets) -> (total, count)`` on NumPy arrays; for tasks that carry state the
    state runs from zeros through the split's windows in order."""
    import jax
    import numpy as np

    from irnn_jax import models, tasks
    from irnn_jax.core import softmax
    from irnn_jax.training import checkpoint

    manager = checkpoint.manager(workdir, keep=10)
    params = manager.restore(manager.latest_step())["params"]
    task = tasks.from_config(config.task)
    model = models.from_config(config.model, task.output_size, getattr(task, "vocab_size", 0))
    total = count = 0.0
    state = None
    for inputs, targets in task.batches(split, config.train.eval_batch_size):
        kwargs = dict(inputs) if isinstance(inputs, dict) else {"xs": inputs}
        if getattr(task, "carries_state", False):
            logits, state = model.apply({"params": params}, **kwargs, initial_state=state, return_state=True)
        else:
            logits = model.apply({"params": params}, **kwargs)
        if isinstance(logits, softmax.Readout):  # a language model's readout, applied here
            logits = logits.features @ logits.kernel + logits.bias
        batch_total, batch_count = score(np.asarray(jax.device_get(logits), np.float64), np.asarray(targets))
        total, count = total + batch_total, count + batch_count
    return total / count


def line_colours(figure):
    """Each labelled line's label in ``figure``, with the set of colours it is drawn in."""
    colours = {}
    for axis in figure.axes:
        for line in axis.get_lines():
            colours.setdefault(line.get_label(), set()).add(line.get_color())
    return colours


def signal_at_step(monkeypatch, step, number):
    """Send this process the signal ``number`` while its training loop checks for a stop after
    its ``step``-th step (a real signal, to the handlers of :mod:`irnn_jax.runtime.stopping`)."""
    import itertools
    import os

    from irnn_jax.runtime import stopping

    due, calls = stopping.StopRequest.due, itertools.count(1)

    def signalled_then_due(self, window_ends):
        if next(calls) == step:
            os.kill(os.getpid(), number)
        return due(self, window_ends)

    monkeypatch.setattr(stopping.StopRequest, "due", signalled_then_due)
