"""Which Gaussian scale lets the ReLU RNN baseline run 784 steps? (issue 39)

The IRNN paper's ReLU-RNN baseline starts from a Gaussian recurrent matrix. With the random-walk
gain of Sussillo & Abbott (``g = sqrt(2) exp(1.2 / (N - 2.4))``, about 1.43 at N = 100) our
baseline diverged at step 1 on pixel MNIST (T = 784) and on the adding problem at T = 400: the
forward pass overflows before any learning. This analysis measures, for recurrent matrices
``N(0, g^2 / N)`` over a grid of gains, how the state's norm grows over the 784 steps of
sequential pixel MNIST, with the baseline's own non-recurrent initialisation (Glorot-uniform input
weights, zero bias; :data:`irnn_jax.config.INIT_BY_CELL`).

Rule, declared before the measurement: the baseline's gain is the largest gain of :data:`GAINS`
for which, on every one of :data:`SEEDS`, the mean state norm at step 784 is finite and at most
:data:`GROWTH_LIMIT` times its largest value over the first 100 steps: a state that the input
drives to a level and that then does not grow exponentially with time.

Measured on the first :data:`BATCH` validation images (standardised pixels, scanline order);
written to ``experiments/results/relu_rnn_gain/gain_grid.json`` with the norms at a few steps per gain and
seed, and the chosen gain.

Run from the repository root:
  python experiments/analyses/relu_rnn_gain.py
"""

from __future__ import annotations

import json
import math
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from irnn_jax.core import initializers, recurrence
from irnn_jax.tasks.mnist import PixelMNIST

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "experiments" / "results" / "relu_rnn_gain" / "gain_grid.json"
HIDDEN = 100
RANDOM_WALK_GAIN = math.sqrt(2.0) * math.exp(1.2 / (HIDDEN - 2.4))
GAINS = (0.5, 0.75, 1.0, 1.1, 1.2, 1.25, 1.3, 1.35, 1.4, math.sqrt(2.0), RANDOM_WALK_GAIN)
SEEDS = (0, 1, 2)
BATCH = 256
GROWTH_LIMIT = 10.0
REPORTED_STEPS = (1, 10, 100, 200, 400, 784)


def state_norms(gain: float, seed: int, pixels: jax.Array) -> np.ndarray:
    """The mean over the batch of ``||h_t||`` at every step ``t`` (1-based index ``t - 1``)."""
    params = recurrence.init_rnn(
        jax.random.key(seed),
        1,
        HIDDEN,
        recurrent_init=initializers.fan_in_gaussian(gain),
        input_init=initializers.glorot_uniform(),
        bias_init=initializers.zeros(),
    )
    states = recurrence.rnn(params, pixels, activation="relu")
    return np.asarray(jnp.linalg.norm(states, axis=-1).mean(axis=0))


def measure() -> dict:
    """The norms per gain and seed, and the gain the rule picks."""
    pixels, _ = next(PixelMNIST(normalization="standard").batches("valid", BATCH))
    rows, kept = [], []
    for gain in GAINS:
        per_seed = []
        for seed in SEEDS:
            norms = state_norms(gain, seed, jnp.asarray(pixels))
            early = float(norms[:100].max())
            growth = float(norms[-1]) / early
            per_seed.append(
                {
                    "seed": seed,
                    "norm_at": {str(t): float(norms[t - 1]) for t in REPORTED_STEPS},
                    "growth_784_over_first_100": growth,
                }
            )
        bounded = all(math.isfinite(s["growth_784_over_first_100"]) for s in per_seed) and all(
            s["growth_784_over_first_100"] <= GROWTH_LIMIT for s in per_seed
        )
        if bounded:
            kept.append(gain)
        rows.append({"gain": gain, "bounded": bounded, "seeds": per_seed})
    return {
        "rule": (
            f"largest gain whose mean state norm at step 784 is finite and at most {GROWTH_LIMIT:g}x "
            "its largest value over the first 100 steps, on every seed"
        ),
        "chosen_gain": max(kept) if kept else None,
        "random_walk_gain": RANDOM_WALK_GAIN,
        "hidden_size": HIDDEN,
        "batch": BATCH,
        "gains": rows,
    }


def main() -> None:
    """Measure and write the record."""
    start = time.time()
    record = measure()
    record["command"] = "python experiments/analyses/relu_rnn_gain.py"
    record["wall_s"] = round(time.time() - start, 1)
    OUTPUT.write_text(json.dumps(record, indent=1) + "\n")
    for row in record["gains"]:
        growths = ", ".join(f"{s['growth_784_over_first_100']:.3g}" for s in row["seeds"])
        print(f"gain {row['gain']:.4f}: growth {growths}  bounded={row['bounded']}")
    print("chosen gain:", record["chosen_gain"])


if __name__ == "__main__":
    main()
