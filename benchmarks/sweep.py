"""Throughput of a vmapped sweep against the same runs trained one after another, in one process run.

    python -m benchmarks.sweep                      # 9 lr x 4 clip = 36 runs, B=16, T=784, H=100
    python -m benchmarks.sweep --steps 5 --seq-len 196

Both sides train the same runs (pixel-MNIST shapes: input 1, H=100 IRNN, 10 classes, SGD with
clipping by global norm; lr in 1e-9..1e-1, clip in {1, 10, 100, 1000}, the paper's grid) on the
same pre-drawn batches: "sequential" calls one jitted single-run train step ``steps`` times per
run, run after run; "vmapped" calls the jitted ``vmap`` of that step ``steps`` times for all runs
at once (:mod:`irnn_jax.training.sweep`); "mapped" calls one program that loops over the runs with
``lax.map`` (``sweep.fit(..., execution='map')``), each device looping over its share of the
runs. The CPU counts as one device unless ``XLA_FLAGS=--xla_force_host_platform_device_count=N``
splits it into N (one per core), which lets the runs of different devices go in parallel.
Compile time is excluded and reported apart. Throughput is examples per second summed over runs;
the JSON goes to
``benchmarks/results/sweep-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import train_step
from irnn_jax import config as config_lib
from irnn_jax.runtime import sharding
from irnn_jax.training import optim, parts, sweep

LRS = [10.0**exponent for exponent in range(-9, 0)]
CLIPS = [1.0, 10.0, 100.0, 1000.0]


def setup(batch: int, seq_len: int, steps: int, runs: int):
    """The single-run step, the vmapped step, per-run states and ``steps`` batches."""
    built = parts.build(config_lib.load("mnist"))  # the paper's IRNN of 100 units, SGD
    rng = np.random.default_rng(0)
    batches = [
        (
            rng.standard_normal((batch, seq_len, 1)).astype(np.float32),
            rng.integers(0, 10, batch).astype(np.int32),
        )
        for _ in range(steps)
    ]
    step = built.train_step()
    grid = [(lr, clip) for lr in LRS for clip in CLIPS][:runs]
    states = []
    for index, (lr, clip) in enumerate(grid):
        state = built.init_state(jax.random.PRNGKey(index), batches[0][0])
        states.append(
            state.replace(opt_state=optim.set_hyperparams(state.opt_state, learning_rate=lr, clip=clip))
        )
    device_mesh = sharding.mesh()
    vmapped = jax.jit(sweep.sweep_step(step, "vmap", device_mesh))
    mapped = jax.jit(sweep.sweep_step(step, "map", device_mesh))
    return jax.jit(step), vmapped, mapped, states, batches, device_mesh


def measure(batch: int, seq_len: int, steps: int, runs: int) -> dict[str, float]:
    """Seconds and examples/s of both ways of training ``runs`` runs for ``steps`` steps."""
    single, vmapped, mapped, states, batches, device_mesh = setup(batch, seq_len, steps, runs)
    start = time.perf_counter()
    jax.block_until_ready(single(states[0], batches[0]))
    compile_single = time.perf_counter() - start
    stacked = sharding.shard_leading_axis(
        jax.tree.map(lambda *leaves: jnp.stack(leaves), *states), device_mesh
    )
    per_run = [
        sharding.shard_leading_axis(
            jax.tree.map(lambda array: np.broadcast_to(array, (runs, *array.shape)), b), device_mesh
        )
        for b in batches
    ]
    start = time.perf_counter()
    jax.block_until_ready(vmapped(stacked, per_run[0]))
    compile_vmapped = time.perf_counter() - start
    jax.block_until_ready(mapped(stacked, per_run[0]))

    start = time.perf_counter()
    finals = []
    for state in states:
        for batch_arrays in batches:
            state, metrics = single(state, batch_arrays)
        jax.block_until_ready(metrics)
        finals.append(state.params)
    sequential_s = time.perf_counter() - start
    vmapped_state, vmapped_s = _timed_steps(vmapped, stacked, per_run)
    mapped_state, mapped_s = _timed_steps(mapped, stacked, per_run)
    sequential, initial = (
        jax.tree.map(lambda *leaves: np.stack(leaves), *trees)
        for trees in (finals, [state.params for state in states])
    )
    examples = runs * steps * batch
    return {
        "runs": runs,
        "batch": batch,
        "seq_len": seq_len,
        "steps": steps,
        "sequential_s": sequential_s,
        "vmapped_s": vmapped_s,
        "sequential_examples_per_s": examples / sequential_s,
        "vmapped_examples_per_s": examples / vmapped_s,
        "speedup": sequential_s / vmapped_s,
        "mapped_s": mapped_s,
        "mapped_speedup": sequential_s / mapped_s,
        "compile_single_s": compile_single,
        "compile_vmapped_s": compile_vmapped,
        # How far the batched ways' final parameters are from the runs one by one, and how far
        # those moved from their start: the two ways must train the same runs on the same batches.
        "max_param_difference": max(
            _max_difference(way.params, sequential) for way in (vmapped_state, mapped_state)
        ),
        "max_param_change": _max_difference(sequential, initial),
    }


def _timed_steps(step, state, batches):
    """The state after ``step`` over ``batches`` (one batch per run, as irnn_jax.training.sweep
    feeds them), and the seconds that took."""
    start = time.perf_counter()
    for batch_arrays in batches:
        state, metrics = step(state, batch_arrays)
    jax.block_until_ready(metrics)
    return state, time.perf_counter() - start


def _max_difference(first, second) -> float:
    """The largest absolute difference between two parameter pytrees."""
    return max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True)
    )


def main() -> None:
    """Run the benchmark, print a summary and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=36)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=784)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    result = measure(args.batch, args.seq_len, args.steps, args.runs)
    print(
        f"{result['runs']} runs, B={result['batch']} T={result['seq_len']}, {result['steps']} steps each: "
        f"sequential {result['sequential_s']:.2f} s ({result['sequential_examples_per_s']:.0f} examples/s), "
        f"vmapped {result['vmapped_s']:.2f} s ({result['vmapped_examples_per_s']:.0f} examples/s): "
        f"{result['speedup']:.2f}x; lax.map over runs in one program {result['mapped_s']:.2f} s: "
        f"{result['mapped_speedup']:.2f}x"
    )
    record = {**result, "devices": [str(device) for device in jax.devices()]}
    print(f"written to {train_step.write_results('sweep', record)}")


if __name__ == "__main__":
    main()
