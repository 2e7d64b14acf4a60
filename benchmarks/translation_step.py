"""One training step of the translation encoder-decoder (issue 45): the ``translation`` config's
train step with the softmax computed block by block (``model.readout='blocked'``, the config's
default) and with whole logits (``'sequence'``), beside the floor that the readout's matrix
products set, all timed in one process.

    taskset -c 0 python -m benchmarks.translation_step              # 20 rounds
    taskset -c 0 python -m benchmarks.translation_step --cell lstm

The shape is the config's: batch 64, source and target of 40 tokens (41 target steps), one layer
of 256 units a side, embeddings of 256, a 4,000-word target vocabulary. Cases:

- ours: the train step :func:`irnn_jax.training.train.fit` runs (``run.train_step()``) with each
  readout;
- the floor: the three ``[64 * 41, 256] x [256, 4000]``-sized matrix products of the readout
  (logits, the kernel's gradient, the states' gradient), alone.

Results go to ``benchmarks/results/translation_step-<timestamp>.json``; the ratios to the floor
and to the blocked step are printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import jax
import jax.numpy as jnp

from benchmarks.train_step import timed, write_results
from irnn_jax import config as config_lib
from irnn_jax.training import parts


def train_step(cell: str, readout: str) -> tuple[Callable[[], object], dict[str, int]]:
    """Our jitted train step of ``translation:cell=CELL`` with ``readout``, on its first batch,
    and the readout's shape ``{'rows', 'hidden', 'vocab'}``."""
    config = config_lib.load(f"translation:cell={cell}")
    config.model.readout = readout
    run = parts.build(config)
    init_key, data_key = run.keys()
    batch = next(run.task.batches("train", config.train.batch_size, data_key))
    batch = jax.tree.map(jnp.asarray, batch)
    state = run.init_state(init_key, batch[0])
    step = jax.jit(run.train_step())
    rows = batch[1].size
    return lambda: step(state, batch), {
        "rows": rows,
        "hidden": config.model.hidden_size,
        "vocab": run.task.output_size,
    }


def floor(rows: int, hidden: int, vocab: int) -> Callable[[], object]:
    """The readout's three matrix products, jitted: logits, and the kernel's and the states'
    gradients from a cotangent of the logits' shape."""
    keys = jax.random.split(jax.random.key(0), 3)
    states = jax.random.normal(keys[0], (rows, hidden))
    kernel = jax.random.normal(keys[1], (hidden, vocab))
    cotangent = jax.random.normal(keys[2], (rows, vocab))
    products = jax.jit(lambda s, k, g: (s @ k, s.T @ g, g @ k.T))
    return lambda: products(states, kernel, cotangent)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cell", default="gru", choices=("gru", "lstm", "irnn"), help="the encoder-decoder's cell"
    )
    parser.add_argument("--steps", type=int, default=20, help="timed rounds")
    args = parser.parse_args()
    blocked, shape = train_step(args.cell, "blocked")
    cases = {
        "ours: train step, readout='blocked'": blocked,
        "ours: train step, readout='sequence'": train_step(args.cell, "sequence")[0],
        "floor: the readout's 3 products": floor(**shape),
    }
    results = timed(cases, args.steps)
    floor_ms = results["floor: the readout's 3 products"]["median_ms"]
    blocked_ms = results["ours: train step, readout='blocked'"]["median_ms"]
    for name, result in results.items():
        median = result["median_ms"]
        ratios = f"{median / floor_ms:5.2f} x floor  {median / blocked_ms:5.2f} x blocked"
        print(f"{name:40s} {median:8.1f} ms  {ratios}")
    record = {"args": vars(args), "shape": shape, "results": results}
    print(f"written to {write_results('translation_step', record)}")


if __name__ == "__main__":
    main()
