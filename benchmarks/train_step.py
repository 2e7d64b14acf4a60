"""Train-step speed of our recurrence against its peers, all timed in one process run.

    python -m benchmarks.train_step                 # B in {16, 128}, T in {196, 784, 1568}
    python -m benchmarks.train_step --batch 16 --seq-len 784 --steps 30
    python -m benchmarks.train_step --cells lstm gru --batch 16 128 --seq-len 196 784

The task is the sequential-MNIST shape: input size 1, H=100 ReLU units, a 10-way softmax on
the last state, one SGD update per step. Timed (median and min-max over ``--steps`` steps after
a compile-and-warm-up call, compile time reported separately; the cases of one shape run
round-robin, one call each per round, so that the machine's slow spells hit all alike):

- ours: ``recurrence.rnn`` default (fused custom VJP) at each unroll, and plain-scan autodiff;
  and the step ``train.fit`` runs (``RNNModel`` with its training metrics), also computing in
  bfloat16 (``model.dtype``; for accelerators: this shows what it costs on the CPU);
- ``flax.linen.RNN(SimpleCell(relu))`` at each unroll;
- PyTorch ``nn.RNN(nonlinearity='relu')`` (when torch is installed), same thread count;
- Keras 3 ``SimpleRNN(activation='relu')`` on the JAX backend, ``train_on_batch``;
- the floor: the forward chain (T dependent ``relu(x_t @ w_ih + h @ w_hh)``, states stored),
  the backward chain (T dependent ``g @ w_hh.T`` with the ReLU mask, stored) and the
  weight-gradient GEMM ``[H, T*B] @ [T*B, H]``, each timed alone;
- forward only: ours against plain ``lax.scan``;
- LSTM and GRU (``--cells lstm gru``): ours (fused and plain-scan autodiff, last-state variant)
  against ``flax.linen.RNN`` of ``LSTMCell``, ``OptimizedLSTMCell`` and ``GRUCell``, PyTorch
  ``nn.LSTM``/``nn.GRU`` and the gated floor (the two dependent chains with the gate
  nonlinearities and the weight-gradient GEMM, each alone).

PyTorch and Keras 3 are timed when installed (``pip install -e '.[bench]'``); the ones missing
are named. Results go to ``benchmarks/results/train_step-<timestamp>.json``, with the machine,
the package versions and the settings in effect, and a summary of ratios to stdout;
``--table RESULTS.json`` prints a saved run as markdown tables and its summary (recomputed).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import statistics
import time
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from irnn_jax import models
from irnn_jax.core import initializers, recurrence
from irnn_jax.training import train

HIDDEN, CLASSES, LR = 100, 10, 1e-3
# Idle time before each timed call: PyTorch's OpenMP workers spin for a few ms after a call and
# slowed the JAX case that followed by ~1.5x (7.7 vs 4.9 ms for a B=16 forward pass); 10 ms of
# idleness was enough to remove the effect.
SETTLE_S = 0.02
# Environment variables that change what the benchmarks measure; recorded with the results.
SETTINGS = ("XLA_FLAGS", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES", "OMP_NUM_THREADS")
RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def timed(cases: dict[str, Callable[[], object]], steps: int) -> dict[str, dict[str, float]]:
    """Compile/warm-up time of each case's first call, then ``steps`` rounds in which every case
    runs once (round-robin, so a slow spell of the machine hits all cases alike, each call after
    ``SETTLE_S`` of idleness); median, min and max ms per case."""
    compile_s = {}
    for name, step in cases.items():
        start = time.perf_counter()
        jax.block_until_ready(step())
        compile_s[name] = time.perf_counter() - start
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(steps):
        for name, step in cases.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            jax.block_until_ready(step())
            samples[name].append((time.perf_counter() - start) * 1e3)
    return {
        name: {
            "median_ms": statistics.median(values),
            "min_ms": min(values),
            "max_ms": max(values),
            "compile_s": compile_s[name],
        }
        for name, values in samples.items()
    }


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))


def jax_train_step(loss_fn: Callable) -> Callable:
    """A jitted SGD step ``params -> params`` for ``loss_fn(params, xs, labels)``."""

    @jax.jit
    def step(params, xs, labels):
        grads = jax.grad(loss_fn)(params, xs, labels)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads)

    return step


def ours_loss(implementation: str, unroll: int, cell: str = "rnn") -> Callable:
    def loss(params, xs, labels):
        if cell == "lstm":  # the last-state variants the models run
            last = recurrence.lstm_final(params["rnn"], xs, unroll=unroll, implementation=implementation)[0]
        elif cell == "gru":
            last = recurrence.gru_final(params["rnn"], xs, unroll=unroll, implementation=implementation)
        elif implementation == "fused":  # the recurrence RNNModel(readout='last') runs
            last = recurrence.rnn_final(params["rnn"], xs, unroll=unroll)
        else:
            last = recurrence.rnn(params["rnn"], xs, unroll=unroll, implementation=implementation)[:, -1]
        return cross_entropy(last @ params["w_out"] + params["b_out"], labels)

    return loss


def fit_step(batch: int, seq_len: int, dtype: str = "float32") -> Callable[[], object]:
    """What ``train.fit`` runs: ``RNNModel`` (an IRNN, last-state readout, computing in
    ``dtype``) under ``train.make_train_step`` with SGD, its metrics (norms, finiteness flags,
    active ReLUs) included."""
    key = jax.random.PRNGKey(0)
    xs = jax.random.uniform(key, (batch, seq_len, 1))
    labels = jax.random.randint(key, (batch,), 0, CLASSES)
    model = models.RNNModel(hidden_size=HIDDEN, output_size=CLASSES, dtype=dtype)
    tx = optax.sgd(LR)
    state = train.create_train_state(model, tx, key, xs)
    step = jax.jit(
        train.make_train_step(model.apply, lambda outputs, labels: (cross_entropy(outputs, labels), {}), tx)
    )
    return lambda: step(state, (xs, labels))


def flax_loss(cell: nn.Module, unroll: int) -> tuple[Callable, nn.Module]:
    module = nn.RNN(cell, unroll=unroll)

    def loss(params, xs, labels):
        hs = module.apply({"params": params["rnn"]}, xs)
        return cross_entropy(hs[:, -1] @ params["w_out"] + params["b_out"], labels)

    return loss, module


def floor_steps(batch: int, seq_len: int, unroll: int) -> dict[str, Callable]:
    """The three pieces no implementation can avoid, each compiled alone."""
    key = jax.random.PRNGKey(0)
    w_hh = jnp.eye(HIDDEN) * 0.99
    w_ih = jnp.full((1, HIDDEN), 0.01)
    inputs = jax.random.uniform(key, (seq_len, batch, 1))
    states = jax.random.uniform(key, (seq_len, batch, HIDDEN))

    @jax.jit
    def forward_chain(w_hh, inputs):
        def step(h, x):
            h = jax.nn.relu(x @ w_ih + h @ w_hh)
            return h, h

        return lax.scan(step, jnp.zeros((batch, HIDDEN)), inputs, unroll=unroll)[1]

    @jax.jit
    def backward_chain(w_hh, states):
        def step(g, h):
            g = jnp.where(h > 0, g @ w_hh.T, 0.0)
            return g, g

        return lax.scan(step, jnp.ones((batch, HIDDEN)), states, reverse=True, unroll=unroll)[1]

    @jax.jit
    def weight_gradient(states, grads):
        return states.reshape(-1, HIDDEN).T @ grads.reshape(-1, HIDDEN)

    return {
        "forward chain": lambda: forward_chain(w_hh, inputs),
        "backward chain": lambda: backward_chain(w_hh, states),
        "dW GEMM": lambda: weight_gradient(states, states),
    }


def torch_step(batch: int, seq_len: int, cell: str) -> Callable | None:
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    torch.set_num_threads(len(os.sched_getaffinity(0)))  # the cores this process may use
    torch.manual_seed(0)
    if cell in ("lstm", "gru"):
        module = getattr(torch.nn, cell.upper())(1, HIDDEN, batch_first=True)
    else:
        module = torch.nn.RNN(1, HIDDEN, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            module.weight_hh_l0.copy_(torch.eye(HIDDEN))
    head = torch.nn.Linear(HIDDEN, CLASSES)
    optimizer = torch.optim.SGD([*module.parameters(), *head.parameters()], lr=LR)
    xs = torch.rand(batch, seq_len, 1)
    labels = torch.randint(0, CLASSES, (batch,))

    def step():
        optimizer.zero_grad()
        hs, _ = module(xs)
        torch.nn.functional.cross_entropy(head(hs[:, -1]), labels).backward()
        optimizer.step()

    return step


def keras_step(batch: int, seq_len: int) -> Callable | None:
    if importlib.util.find_spec("keras") is None:
        return None
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    model = keras.Sequential(
        [
            keras.Input((seq_len, 1)),
            keras.layers.SimpleRNN(HIDDEN, activation="relu", recurrent_initializer="identity"),
            keras.layers.Dense(CLASSES),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(LR), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    xs = np.random.rand(batch, seq_len, 1).astype(np.float32)
    labels = np.random.randint(0, CLASSES, batch)
    return lambda: model.train_on_batch(xs, labels)


def rnn_cases(batch: int, seq_len: int, unrolls: list[int]) -> dict[str, Callable]:
    key = jax.random.PRNGKey(0)
    xs = jax.random.uniform(key, (batch, seq_len, 1))
    labels = jax.random.randint(key, (batch,), 0, CLASSES)
    head = {"w_out": jnp.zeros((HIDDEN, CLASSES)), "b_out": jnp.zeros(CLASSES)}
    params = {"rnn": recurrence.init_rnn(key, 1, HIDDEN), **head}
    cases: dict[str, Callable] = {}
    for unroll in unrolls:
        step = jax_train_step(ours_loss("fused", unroll))
        cases[f"ours fused, unroll {unroll}"] = lambda step=step: step(params, xs, labels)
    for unroll in (1, max(unrolls)):
        step = jax_train_step(ours_loss("autodiff", unroll))
        cases[f"plain scan autodiff, unroll {unroll}"] = lambda step=step: step(params, xs, labels)
        loss, module = flax_loss(
            nn.SimpleCell(HIDDEN, activation_fn=nn.relu, recurrent_kernel_init=initializers.identity()),
            unroll,
        )
        flax_params = {"rnn": module.init(key, xs)["params"], **head}
        step = jax_train_step(loss)
        cases[f"flax RNN(SimpleCell), unroll {unroll}"] = lambda step=step, p=flax_params: step(p, xs, labels)
    torch = torch_step(batch, seq_len, "rnn")
    if torch is not None:
        cases["pytorch nn.RNN"] = torch
    keras = keras_step(batch, seq_len)
    if keras is not None:
        cases["keras SimpleRNN (jax)"] = keras
    cases["ours: fit's train step (RNNModel)"] = fit_step(batch, seq_len)
    cases["ours: fit's train step (RNNModel, bfloat16)"] = fit_step(batch, seq_len, "bfloat16")
    forward = jax.jit(lambda p, x: recurrence.rnn_final(p["rnn"], x))
    cases["forward only: ours"] = lambda: forward(params, xs)
    plain = jax.jit(lambda p, x: recurrence.rnn(p["rnn"], x, implementation="autodiff")[:, -1])
    cases["forward only: plain scan"] = lambda: plain(params, xs)
    for name, step in floor_steps(batch, seq_len, 1).items():
        cases[f"floor: {name}"] = step
    return cases


def gated_floor_steps(cell: str, batch: int, seq_len: int) -> dict[str, Callable]:
    """The pieces no LSTM or GRU can avoid, each compiled alone: the forward chain (T dependent
    ``h @ w_hh`` with the cell's gate nonlinearities, states stored), the backward chain (T
    dependent ``dz @ w_hh.T`` with an elementwise gate derivative, stored) and the weight-gradient
    GEMM ``[H, T*B] @ [T*B, G*H]``."""
    gates = 4 if cell == "lstm" else 3
    key = jax.random.PRNGKey(0)
    w_hh = jax.random.normal(key, (HIDDEN, gates * HIDDEN)) / HIDDEN
    inputs = jax.random.uniform(key, (seq_len, batch, gates * HIDDEN))
    states = jax.random.uniform(key, (seq_len, batch, HIDDEN))

    @jax.jit
    def forward_chain(w_hh, inputs):
        def step(carry, px):
            h, c = carry
            if cell == "lstm":
                i, f, g, o = jnp.split(px + h @ w_hh, 4, axis=-1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
            else:
                a_r, a_z, a_n = jnp.split(px, 3, axis=-1)
                u_r, u_z, u_n = jnp.split(h @ w_hh, 3, axis=-1)
                r, z = jax.nn.sigmoid(a_r + u_r), jax.nn.sigmoid(a_z + u_z)
                h = (1 - z) * jnp.tanh(a_n + r * u_n) + z * h
            return (h, c), h

        zeros = jnp.zeros((batch, HIDDEN))
        return lax.scan(step, (zeros, zeros), inputs)[1]

    @jax.jit
    def backward_chain(w_hh, states):
        def step(dz, h):
            dh = dz @ w_hh.T
            dz = jnp.tile(dh * h * (1 - h), gates)
            return dz, dz

        return lax.scan(step, jnp.ones((batch, gates * HIDDEN)), states, reverse=True)[1]

    @jax.jit
    def weight_gradient(states, grads):
        return states.reshape(-1, HIDDEN).T @ grads.reshape(-1, gates * HIDDEN)

    grads = jnp.tile(states, gates)
    return {
        "forward chain": lambda: forward_chain(w_hh, inputs),
        "backward chain": lambda: backward_chain(w_hh, states),
        "dW GEMM": lambda: weight_gradient(states, grads),
    }


def gated_cases(cell: str, batch: int, seq_len: int) -> dict[str, Callable]:
    """An LSTM or GRU train step (last state into the softmax): ours (fused and plain-scan
    autodiff), Flax's cells under ``nn.RNN``, PyTorch, and the floor."""
    key = jax.random.PRNGKey(0)
    xs = jax.random.uniform(key, (batch, seq_len, 1))
    labels = jax.random.randint(key, (batch,), 0, CLASSES)
    head = {"w_out": jnp.zeros((HIDDEN, CLASSES)), "b_out": jnp.zeros(CLASSES)}
    params = {"rnn": getattr(recurrence, f"init_{cell}")(key, 1, HIDDEN), **head}
    cases: dict[str, Callable] = {}
    for implementation in ("fused", "autodiff"):
        step = jax_train_step(ours_loss(implementation, 1, cell=cell))
        cases[f"{cell}: ours {implementation}"] = lambda step=step: step(params, xs, labels)
    peers = {"lstm": (nn.LSTMCell, nn.OptimizedLSTMCell), "gru": (nn.GRUCell,)}[cell]
    for peer in peers:
        loss, module = flax_loss(peer(HIDDEN), 1)
        flax_params = {"rnn": module.init(key, xs)["params"], **head}
        step = jax_train_step(loss)
        cases[f"{cell}: flax RNN({peer.__name__})"] = lambda step=step, p=flax_params: step(p, xs, labels)
    torch = torch_step(batch, seq_len, cell)
    if torch is not None:
        cases[f"{cell}: pytorch nn.{cell.upper()}"] = torch
    for name, step in gated_floor_steps(cell, batch, seq_len).items():
        cases[f"{cell}: floor: {name}"] = step
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--seq-len", type=int, nargs="+", default=[196, 784, 1568])
    parser.add_argument("--unroll", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--cells",
        nargs="+",
        choices=("rnn", "lstm", "gru"),
        default=["rnn"],
        help="which recurrences to time at every shape (default rnn)",
    )
    parser.add_argument(
        "--table",
        type=pathlib.Path,
        metavar="JSON",
        help="print a results file's timings as markdown tables (one per T) and its summary; time nothing",
    )
    args = parser.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text())
        print(markdown(saved["results"]) + "\n\n" + "\n".join(summarize(saved["results"])))
        return
    not_timed = [
        f"{peer} (not installed)" for peer in ("torch", "keras") if importlib.util.find_spec(peer) is None
    ]
    if not_timed:
        print("not timed: " + ", ".join(not_timed))

    results = []
    for batch, seq_len, cell in [(b, t, c) for c in args.cells for b in args.batch for t in args.seq_len]:
        cases = rnn_cases(batch, seq_len, args.unroll) if cell == "rnn" else gated_cases(cell, batch, seq_len)
        for name, timing in timed(cases, args.steps).items():
            results.append({"case": name, "batch": batch, "seq_len": seq_len, **timing})
            print(_row(results[-1]), flush=True)

    summary = summarize(results)
    print("\n" + "\n".join(summary))
    record = {"args": vars(args), "not_timed": not_timed, "results": results, "summary": summary}
    print(f"\nwritten to {write_results('train_step', record)}")


def write_results(benchmark: str, record: dict[str, object]) -> pathlib.Path:
    """Write ``record`` with :func:`machine_info` to ``benchmarks/results/<benchmark>-<UTC time>.json``."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{benchmark}-{stamp}.json"
    out.write_text(json.dumps({"machine": machine_info(), **record}, indent=1))
    return out


def machine_info() -> dict[str, object]:
    """Platform, core count, package versions, the JAX device and the settings in effect."""
    machine = {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()}
    machine["jax"] = jax.__version__
    for package in ("flax", "torch", "keras"):
        if importlib.util.find_spec(package) is not None:
            machine[package] = importlib.metadata.version(package)
    machine["device"] = str(jax.devices()[0])
    machine["environment"] = {name: os.environ[name] for name in SETTINGS if name in os.environ}
    return machine


def markdown(results: list[dict]) -> str:
    """One markdown table per sequence length: a row per case, a column per batch size, each
    cell ``median (min-max)`` in ms."""
    tables = []
    for seq_len in sorted({r["seq_len"] for r in results}):
        at_t = [r for r in results if r["seq_len"] == seq_len]
        batches = sorted({r["batch"] for r in at_t})
        cells = {(r["case"], r["batch"]): r for r in at_t}
        lines = [
            f"| T = {seq_len} | " + " | ".join(f"B={batch}" for batch in batches) + " |",
            "|---" * (len(batches) + 1) + "|",
        ]
        for case in dict.fromkeys(r["case"] for r in at_t):
            row = [_cell(cells[case, b]) if (case, b) in cells else "" for b in batches]
            lines.append(f"| {case} | " + " | ".join(row) + " |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def _cell(result: dict) -> str:
    return f"{result['median_ms']:.1f} ({result['min_ms']:.1f}-{result['max_ms']:.1f})"


def _row(result: dict) -> str:
    return (
        f"B={result['batch']:<4d} T={result['seq_len']:<5d} {result['case']:<40s} "
        f"{result['median_ms']:9.2f} ms  [{result['min_ms']:.2f}, {result['max_ms']:.2f}]  "
        f"compile {result['compile_s']:.1f} s"
    )


def summarize(results: list[dict]) -> list[str]:
    """Ratios per cell and (B, T): ours (the default path) against the best Flax case, PyTorch,
    Keras, the floor and our other paths; for the ReLU RNN also the cost of doubling T."""
    lines = []
    for cell in ("rnn", "lstm", "gru"):
        at_shape = _by_shape(results, cell)
        for (batch, seq_len), at in at_shape.items():
            default = _default_case(cell, batch)
            if default in at:
                lines.append(f"{cell.upper()} B={batch} T={seq_len}: " + _ratios(at, default))
        for (batch, seq_len), at in at_shape.items():
            default = _default_case(cell, batch)
            longer = at_shape.get((batch, 2 * seq_len), {})
            if default in at and default in longer:
                doubling = longer[default] / at[default]
                lines.append(f"{cell.upper()} B={batch}: T={2 * seq_len} / T={seq_len} = {doubling:.2f}x")
    return lines


def _default_case(cell: str, batch: int) -> str:
    """The case that times what our recurrence does by default for ``cell`` at this batch size."""
    if cell == "rnn":
        return "ours fused, unroll 1"
    return "ours fused" if recurrence.fuses_gated_backward(batch) else "ours autodiff"


def _by_shape(results: list[dict], cell: str) -> dict[tuple[int, int], dict[str, float]]:
    """``{(B, T): {case: median ms}}`` of one cell's cases, their ``'lstm: '`` prefix removed (the
    ReLU RNN's cases have none)."""
    prefixes = tuple(f"{other}: " for other in ("lstm", "gru"))
    shapes: dict[tuple[int, int], dict[str, float]] = {}
    for result in sorted(results, key=lambda r: (r["batch"], r["seq_len"])):
        case = result["case"]
        mine = not case.startswith(prefixes) if cell == "rnn" else case.startswith(f"{cell}: ")
        if not mine:
            continue
        shapes.setdefault((result["batch"], result["seq_len"]), {})[case.removeprefix(f"{cell}: ")] = result[
            "median_ms"
        ]
    return shapes


def _ratios(at: dict[str, float], default: str) -> str:
    """One shape's summary: the default's time, Flax's best / ours, ours / floor, then every
    other case of ours and of the peers over ours."""
    ours = at[default]
    flax = {name: ms for name, ms in at.items() if name.startswith("flax")}
    best_flax = min(flax, key=flax.get)
    floor = sum(ms for name, ms in at.items() if name.startswith("floor"))
    parts = [
        f"ours ({default}) {ours:.2f} ms",
        f"best flax ({best_flax}) / ours {flax[best_flax] / ours:.2f}x",
        f"ours / floor {ours / floor:.2f}x (floor {floor:.2f} ms)",
    ]
    for name, ms in at.items():
        if name != default and not name.startswith(("flax", "floor", "forward only")):
            parts.append(f"{name} / ours {ms / ours:.2f}x")
    if "forward only: ours" in at:
        parts.append(
            f"forward ours / plain scan {at['forward only: ours'] / at['forward only: plain scan']:.2f}x"
        )
    return "; ".join(parts)


if __name__ == "__main__":
    main()
