"""What bounds the train step on the CPU backend, measured in one process run.

    python -m benchmarks.cpu_limits                  # B in {16, 128}, T=784, H=100
    python -m benchmarks.cpu_limits --batch 16 --steps 30

Three facts decide how far below the floor of ``benchmarks.train_step`` any JAX implementation
of the IRNN step can go on a given machine:

- **chain rate**: the forward chain (T dependent ``relu(x_t @ w_ih + h @ w_hh)``) against the
  weight-gradient GEMM of the same FLOP count (``[H, T*B] @ [T*B, H]``, one call, all cores);
- **concurrency**: two independent chains in one program against one: if XLA ran independent
  loops at once on two cores, two would take about as long as one;
- **storing states**: the chain that keeps every state (what a backward pass needs) against the
  one that keeps only the last, and the minor page faults per call of the storing chain (a
  buffer the allocator maps afresh for each call costs one fault per 4 KiB page).

Times are medians over ``--steps`` round-robin rounds (``benchmarks.train_step.timed``); results
go to ``benchmarks/results/cpu_limits-<timestamp>.json`` and a summary to stdout.
"""

from __future__ import annotations

import argparse
import resource
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from benchmarks.train_step import HIDDEN, timed, write_results


def chain(w_hh: jax.Array, inputs: jax.Array, h0: jax.Array, *, store: bool) -> jax.Array:
    """The forward chain over time-major scalar ``inputs`` ``[T, B, 1]``: all states or the last."""

    def step(h, x):
        h = jax.nn.relu(x * 0.01 + h @ w_hh)
        return h, (h if store else None)

    last, states = lax.scan(step, h0, inputs)
    return states if store else last


def cases(batch: int, seq_len: int) -> dict[str, Callable[[], object]]:
    key = jax.random.PRNGKey(0)
    w_hh = jnp.eye(HIDDEN) * 0.99
    inputs = jax.random.uniform(key, (seq_len, batch, 1))
    h0 = jnp.zeros((batch, HIDDEN))
    rows = jax.random.uniform(key, (seq_len * batch, HIDDEN))
    last = jax.jit(lambda w, x, h: chain(w, x, h, store=False))
    stored = jax.jit(lambda w, x, h: chain(w, x, h, store=True))
    two = jax.jit(lambda w, x, h: (chain(w, x, h, store=False), chain(0.5 * w, x, h, store=False)))
    gemm = jax.jit(lambda a: a.T @ a)
    return {
        "chain, last state": lambda: last(w_hh, inputs, h0),
        "chain, every state stored": lambda: stored(w_hh, inputs, h0),
        "two independent chains": lambda: two(w_hh, inputs, h0),
        "dW GEMM, same flops": lambda: gemm(rows),
    }


def page_faults_per_call(call: Callable[[], object], calls: int = 5) -> float:
    """Minor page faults of this process per call of ``call`` (after one warm-up call)."""
    jax.block_until_ready(call())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        jax.block_until_ready(call())
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def summarize(batch: int, seq_len: int, timings: dict[str, dict[str, float]], faults: float) -> str:
    """One line: the chain's and the GEMM's GFLOP/s, the two ratios and the page faults."""
    ms = {name: timing["median_ms"] for name, timing in timings.items()}
    gflop = 2 * seq_len * batch * HIDDEN * HIDDEN / 1e9
    return (
        f"B={batch} T={seq_len}: chain {gflop / ms['chain, last state'] * 1e3:.1f} GFLOP/s, "
        f"dW GEMM {gflop / ms['dW GEMM, same flops'] * 1e3:.1f} GFLOP/s; "
        f"two chains / one {ms['two independent chains'] / ms['chain, last state']:.2f}x "
        "(1x: run at once, 2x: one after the other); "
        f"storing every state {ms['chain, every state stored'] / ms['chain, last state']:.2f}x "
        f"with {faults:.0f} page faults per call"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--seq-len", type=int, default=784)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    results, summary = [], []
    for batch in args.batch:
        shape_cases = cases(batch, args.seq_len)
        timings = timed(shape_cases, args.steps)
        faults = page_faults_per_call(shape_cases["chain, every state stored"])
        results += [
            {"case": name, "batch": batch, "seq_len": args.seq_len, **t} for name, t in timings.items()
        ]
        results.append({"case": "page faults per call of the storing chain", "batch": batch, "value": faults})
        summary.append(summarize(batch, args.seq_len, timings, faults))
        print(summary[-1], flush=True)
    record = {"args": vars(args), "results": results, "summary": summary}
    print(f"written to {write_results('cpu_limits', record)}")


if __name__ == "__main__":
    main()
