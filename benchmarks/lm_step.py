"""One training window of the word-level language model (issue 43, item 6): ours, its parts, the
PyTorch peer and the floor that the softmax's matrix products set, all timed in one process.

    taskset -c 0 python -m benchmarks.lm_step                 # the peer's shape, 30 rounds
    taskset -c 0 python -m benchmarks.lm_step --steps 50 --size 256

The shape is ``ptb:peer``'s (``benchmarks/lm_peer.py``): 20 columns x 35 words, an embedding of
128, one LSTM layer of 128 units, a 10,000-word softmax, SGD with clipping. Cases:

- ours: the train step :func:`irnn_jax.training.train.fit` runs (``run.train_step()``: the loss,
  its gradient, the update, the task's metrics on the batch and the gradient, parameter and
  update norms); the loss and its gradient alone; the held-out step (forward pass and metrics);
- PyTorch, one thread: the peer's window (forward, backward, clipping, the SGD update); its loss
  and gradient alone;
- the floor: the three ``[700, 128] x [128, 10000]``-sized matrix products of the softmax layer
  (logits, the readout's gradient, the states' gradient), alone, in JAX and in PyTorch; and the
  softmax cross-entropy with its gradient (those products included) in each.

Results go to ``benchmarks/results/lm_step-<timestamp>.json`` with the machine and settings; the
ratios to the floor and to PyTorch are printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks.train_step import RESULTS, SETTINGS, timed
from irnn_jax import config as config_lib
from irnn_jax.training import parts, steps

VOCAB, BATCH, WINDOW = 10_000, 20, 35


def our_cases(size: int) -> dict[str, Callable[[], object]]:
    """Our train step of ``ptb:peer`` at width ``size``, its loss and gradient, its forward pass."""
    config = config_lib.load("ptb:peer")
    config.model.hidden_size = config.model.embed_size = size
    run = parts.build(config)
    init_key, data_key = run.keys()
    batch = next(run.task.batches("train", BATCH, data_key))
    batch = tuple(jnp.asarray(part) for part in batch)
    state = run.init_state(init_key, batch[0])
    train_step = jax.jit(run.train_step())
    apply_fn = run.model.apply

    def objective(params, carry):
        outputs, carry, _ = steps.apply_model(apply_fn, params, batch[0], carry)
        return run.task.loss(outputs, batch[1]), carry

    gradient = jax.jit(jax.value_and_grad(objective, has_aux=True))
    eval_step = jax.jit(run.eval_step())
    return {
        "ours: fit's train step": lambda: train_step(state, batch),
        "ours: loss and gradient": lambda: gradient(state.params, state.carry),
        "ours: held-out step (forward, metrics)": lambda: eval_step(state.params, batch, state.carry),
    }


def softmax_cases(size: int) -> dict[str, Callable[[], object]]:
    """The softmax layer's three matrix products alone, and its cross-entropy with the gradient."""
    key = jax.random.split(jax.random.PRNGKey(0), 4)
    h = jax.random.normal(key[0], (BATCH * WINDOW, size))
    w = 0.1 * jax.random.normal(key[1], (size, VOCAB))
    g = jax.random.normal(key[2], (BATCH * WINDOW, VOCAB))
    targets = jax.random.randint(key[3], (BATCH * WINDOW,), 0, VOCAB)
    products = jax.jit(lambda h, w, g: (h @ w, h.T @ g, g @ w.T))

    def cross_entropy(h, w):
        return optax.softmax_cross_entropy_with_integer_labels(h @ w, targets).mean()

    gradient = jax.jit(jax.value_and_grad(cross_entropy, argnums=(0, 1)))
    return {
        "floor: the softmax's 3 products (JAX)": lambda: products(h, w, g),
        "JAX: softmax cross-entropy and gradient": lambda: gradient(h, w),
    }


def torch_cases(size: int) -> dict[str, Callable[[], object]]:
    """The PyTorch peer's window, its loss and gradient, and its softmax layer alone (one thread)."""
    import torch

    from benchmarks.lm_peer import build

    torch.set_num_threads(1)
    model = build(VOCAB, size, 0.0, 0)
    inputs = torch.randint(0, VOCAB, (WINDOW, BATCH))
    targets = torch.randint(0, VOCAB, (WINDOW, BATCH))
    state = (torch.zeros(1, BATCH, size), torch.zeros(1, BATCH, size))

    def loss_and_gradient():
        model.zero_grad()
        logits, _ = model(inputs, state)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        return loss

    def window():
        loss = loss_and_gradient()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(parameter.grad, alpha=-1e-3)
        return loss.item()

    h = torch.randn(BATCH * WINDOW, size, requires_grad=True)
    w = (0.1 * torch.randn(size, VOCAB)).requires_grad_()
    g = torch.randn(BATCH * WINDOW, VOCAB)
    labels = targets.reshape(-1)

    def products():
        with torch.no_grad():
            return h @ w, h.T @ g, g @ w.T

    def cross_entropy():
        h.grad = w.grad = None
        loss = torch.nn.functional.cross_entropy(h @ w, labels)
        loss.backward()
        return loss.item()

    return {
        "PyTorch: the peer's window": window,
        "PyTorch: loss and gradient": lambda: loss_and_gradient().item(),
        "floor: the softmax's 3 products (PyTorch)": products,
        "PyTorch: softmax cross-entropy and gradient": cross_entropy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=128, help="embedding and LSTM width")
    parser.add_argument("--steps", type=int, default=30, help="timed rounds")
    args = parser.parse_args()
    cases = {**our_cases(args.size), **softmax_cases(args.size), **torch_cases(args.size)}
    results = timed(cases, args.steps)
    floor = results["floor: the softmax's 3 products (JAX)"]["median_ms"]
    torch_window = results["PyTorch: the peer's window"]["median_ms"]
    for name, result in results.items():
        median = result["median_ms"]
        ratios = f"{median / floor:5.2f} x floor  {median / torch_window:5.2f} x PyTorch"
        print(f"{name:45s} {median:8.1f} ms  {ratios}")
    import torch

    record = {
        "benchmark": "lm_step",
        "settings": {**vars(args), **{name: os.environ.get(name) for name in SETTINGS}},
        "shape": {"batch": BATCH, "window": WINDOW, "vocab": VOCAB},
        "versions": {"jax": jax.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "machine": platform.processor() or platform.machine(),
        "cpus_allowed": len(os.sched_getaffinity(0)),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"lm_step-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
