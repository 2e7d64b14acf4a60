"""Does averaging the weights lift the 1,000,000-step sequential IRNN to 97%? (issue 17)

The run (``experiments/results/mnist_headline/sequential_irnn_1m.json``) ended at 96.54% test
accuracy, with test accuracy swinging between 96.3% and 96.8% from step 680,000 on. Averaging
weights (Polyak; stochastic weight averaging, SWA) removes such swings without new training or
with little, so it is the cheapest candidate to close the gap. Its workdir was committed at six
checkpoints from step 680,000 on (:data:`CHECKPOINTS`); the campaign removed it at the end, so
the step-1,000,000 weights are gone.

- ``checkpoints``: each committed checkpoint and the uniform average of the last k of them,
  k = 2..6, on the validation and test splits; written to
  ``experiments/results/mnist_averaging/checkpoint_average.json``.
- ``swa``: from the step-950,000 checkpoint, ``--steps`` more Adam steps at a constant ``--lr``
  (clip 1, batch 32, the run's own training stream from step 950,000; the checkpoint's Adam
  moments kept), the running mean of the weights taken every 500 steps; the current and the
  averaged weights' validation and test accuracy every 10,000 steps, with the mean accuracy of
  the last 20 of the training batches taken every 500 steps, one JSON line each, to
  ``experiments/results/mnist_averaging/swa_lr<lr>.jsonl``. With ``--data all`` the steps draw
  from all 60,000 training images (the run's 50,000 and the 10,000 it held out for validation,
  whose accuracy is then not held out), to ``swa_lr<lr>_all_<steps / 1000>k.jsonl``: does the
  held-out sixth of the training images stand between the run and 97%?

What they found is in the ``mnist_headline`` campaign's docstring and in RESULTS.md (the table
under the headline runs): averaging lands at the run's mean, about 96.7%, not at 97%, and the
held-out 10,000 images add about 0.1 point (96.84% at step 1,000,000 at lr 1e-5).

Run from the repository root:
  python experiments/analyses/mnist_weight_averaging.py checkpoints
  python experiments/analyses/mnist_weight_averaging.py swa --lr 1e-5 --steps 60000
  python experiments/analyses/mnist_weight_averaging.py swa --lr 1e-5 --steps 50000 --data all
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

import jax
import numpy as np

from irnn_jax.tasks import base
from irnn_jax.training import optim, steps, train

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = "experiments/analyses/mnist_weight_averaging.py"
WORKDIR = "experiments/campaigns/mnist_headline.runs/sequential_irnn_1m"
OUTPUT = ROOT / "experiments" / "results" / "mnist_averaging"
# The commits that hold the run's workdir at each checkpoint (step: commit).
CHECKPOINTS = {
    680_000: "bab61f3",
    730_000: "1a1ba6a",
    800_000: "dcefc25",
    860_000: "e679481",
    900_000: "ffdb713",
    950_000: "0366683",
}
AVERAGE_EVERY, EVAL_EVERY = 500, 10_000


def extract(commit: str, into: pathlib.Path) -> train.Loaded:
    """The run as its workdir stood at ``commit``, read back from git into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, WORKDIR], capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(
            f"cannot read the run's workdir at commit {commit} from git ({archive.stderr.decode().strip()}); "
            "the analysis needs the repository's full history (in a shallow clone: git fetch --unshallow)"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return train.load(into / WORKDIR, log=lambda line: None)


def accuracy_on(run: Any) -> Callable[[Any, str], float]:
    """``accuracy(params, split)`` of ``run``'s model on its ``split`` (valid or test)."""
    eval_step = jax.jit(run.eval_step())

    def accuracy(params: Any, split: str) -> float:
        batches = run.task.batches(split, run.settings.eval_batch_size)
        return run.task.complete_metrics(steps.evaluate(eval_step, params, batches))["accuracy"]

    return accuracy


def scores(accuracy: Callable[[Any, str], float], params: Any) -> dict[str, float]:
    """``params``' validation and test accuracy."""
    return {split: accuracy(params, split) for split in ("valid", "test")}


def mean(trees: Sequence[Any]) -> Any:
    """The leaf-wise mean of parameter trees of one structure."""
    return jax.tree.map(lambda *leaves: sum(leaves) / len(leaves), *trees)


def running_mean(averaged: Any, params: Any, count: int) -> Any:
    """The mean of ``count`` trees from that of the first ``count - 1`` and the last, ``params``."""
    if averaged is None:
        return params
    return jax.tree.map(lambda mean_leaf, leaf: mean_leaf + (leaf - mean_leaf) / count, averaged, params)


def checkpoint_average() -> dict[str, Any]:
    """Each committed checkpoint's accuracy, and that of the mean of the last k, k = 2..6."""
    with tempfile.TemporaryDirectory() as scratch:
        loaded = [extract(commit, pathlib.Path(scratch) / commit) for commit in CHECKPOINTS.values()]
    accuracy = accuracy_on(loaded[0].run)
    single = [{"step": item.step, **scores(accuracy, item.state.params)} for item in loaded]
    averages = [
        {
            "steps": [item.step for item in loaded[-k:]],
            **scores(accuracy, mean([item.state.params for item in loaded[-k:]])),
        }
        for k in range(2, len(loaded) + 1)
    ]
    return {"checkpoints": single, "averages": averages}


def all_training_images(task: Any, batch_size: int, key: jax.Array) -> Iterator[Any]:
    """Endless epoch-shuffled batches over all 60,000 training images: the run's training split
    and its validation split together."""
    train_pixels, train_labels = next(task.batches("train", 50_000, key))
    valid_pixels, valid_labels = next(task.batches("valid", 10_000))
    dataset = (np.concatenate([train_pixels, valid_pixels]), np.concatenate([train_labels, valid_labels]))
    return base.array_batches("train", dataset, batch_size, jax.random.fold_in(key, 1), 0)


def swa(
    lr: float, total: int, data: str, log: Callable[[dict[str, Any]], None], header: dict[str, Any]
) -> None:
    """SWA from the step-950,000 checkpoint: ``total`` Adam steps at constant ``lr`` on ``data``
    (``train``: the run's own stream; ``all``: :func:`all_training_images`), logging; the first
    line starts with ``header``."""
    with tempfile.TemporaryDirectory() as scratch:
        run, start_state, start = extract(CHECKPOINTS[950_000], pathlib.Path(scratch))
    tx = optim.make_optimizer({"name": "adam", "lr": lr, "clip_mode": "global_norm", "clip": 1.0})
    opt_state = tx.init(start_state.params)
    inner = list(opt_state.inner_state)
    inner[1] = start_state.opt_state.inner_state[1]  # the checkpoint's Adam moments and count
    opt_state = opt_state._replace(inner_state=tuple(inner))
    state = steps.TrainState(step=start_state.step, params=start_state.params, opt_state=opt_state)
    train_step = jax.jit(steps.make_train_step(run.model.apply, run.task.loss_and_metrics, tx))
    accuracy = accuracy_on(run)
    _, data_key = run.keys()
    if data == "train":
        batches = run.task.batches("train", run.settings.batch_size, data_key, start_step=start)
    else:
        batches = all_training_images(run.task, run.settings.batch_size, data_key)
    averaged, count, started, train_accuracy = None, 0, time.time(), []
    log({**header, "start": start, "lr": lr, "steps": total, "data": data, **scores(accuracy, state.params)})
    for done in range(1, total + 1):
        state, metrics = train_step(state, next(batches))
        if done % AVERAGE_EVERY == 0:
            if not np.all(jax.device_get(metrics["param_finite"])):
                raise FloatingPointError(f"non-finite parameters at step {start + done}")
            train_accuracy.append(float(metrics["accuracy"]))
            count += 1
            averaged = running_mean(averaged, state.params, count)
        if done % EVAL_EVERY == 0:
            log(
                {
                    "step": start + done,
                    "wall_s": round(time.time() - started, 1),
                    "averaged": count,
                    "train_batch_acc": float(np.mean(train_accuracy[-20:])),
                    **scores(accuracy, state.params),
                    **{f"swa_{split}": value for split, value in scores(accuracy, averaged).items()},
                }
            )


def write_line(out: TextIO, line: dict[str, Any]) -> None:
    """Append ``line`` to ``out`` as one JSON line, flushed so that a stopped run keeps it."""
    print(json.dumps(line), file=out, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the analysis named on the command line and write its record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="analysis", required=True)
    commands.add_parser("checkpoints", help="evaluate the committed checkpoints and their averages")
    swa_parser = commands.add_parser("swa", help="SWA from the step-950,000 checkpoint")
    swa_parser.add_argument("--lr", type=float, required=True)
    swa_parser.add_argument("--steps", type=int, required=True)
    swa_parser.add_argument(
        "--data",
        choices=("train", "all"),
        default="train",
        help="the run's 50,000 training images, or all 60,000 (validation is then not held out)",
    )
    args = parser.parse_args(argv)
    header = {
        "command": " ".join(["python", SCRIPT, *(argv or sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    if args.analysis == "checkpoints":
        record = header | checkpoint_average()
        (OUTPUT / "checkpoint_average.json").write_text(json.dumps(record, indent=1) + "\n")
        return
    suffix = "" if args.data == "train" else f"_{args.data}_{args.steps // 1000}k"
    with (OUTPUT / f"swa_lr{args.lr:g}{suffix}.jsonl").open("a") as out:
        swa(args.lr, args.steps, args.data, functools.partial(write_line, out), header)


if __name__ == "__main__":
    main()
