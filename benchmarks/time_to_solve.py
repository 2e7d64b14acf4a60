"""Time to solve the adding problem: wall clock until the test MSE falls below a threshold.

    python -m benchmarks.time_to_solve                   # IRNN and LSTM, T=100, threshold 0.01
    python -m benchmarks.time_to_solve --cells irnn --max-steps 8000

Every contender trains on the same batch stream (the adding task's training batches of seed 0)
with the demo protocol (``adding:demo``: batch 32, Adam 2e-3 with cosine
decay over 8,000 steps, clipping by global norm at 1) and is evaluated every ``--eval-every``
steps on the same 2,000 held-out sequences; the clock runs from the first step (compilation
included) to the evaluation that first shows MSE below the threshold:

- ours, the loop: the train step and evaluation that ``irnn_jax.training.train.fit`` runs, in a loop here;
- ours, ``fit``: ``irnn_jax.training.train.fit`` itself for the steps the loop needed (same parameters,
  same batches, so the same trajectory), with its logging, checkpoints and held-out passes;
- Flax: ``flax.linen.RNN`` of ``SimpleCell`` (ReLU, our identity initialiser, N(0, 0.001^2)
  input and readout weights; for the LSTM, ``OptimizedLSTMCell``) with the same optax chain;
- PyTorch: ``nn.RNN(nonlinearity='relu')`` with ``weight_hh = I`` (``nn.LSTM``), Adam with the
  same cosine factor and clipping, when torch is installed.

Each contender's own initial draw differs, so their step counts differ; the median step time of
each loop is reported beside its time to solve. Results go to
``benchmarks/results/time_to_solve-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from benchmarks.train_step import write_results
from irnn_jax import config as config_lib
from irnn_jax.core import initializers
from irnn_jax.training import optim, parts, steps, train

EVAL_SIZE = 2_000
Step = Callable[[], float | None]  # one training step; returns the test MSE when it evaluated


def demo_config(cell: str, seq_len: int) -> object:
    """The demo protocol for ``cell`` at sequence length ``seq_len`` (completed: its decay's
    steps a number)."""
    return ml_collections.ConfigDict(
        config_lib.complete(config_lib.load(f"adding:demo,T={seq_len},cell={cell}"))
    )


def solve(step: Step, threshold: float, max_steps: int) -> dict[str, float | int | None]:
    """Run ``step`` until it reports a test MSE below ``threshold`` or ``max_steps`` pass: the
    seconds and steps to solve (``None`` if unsolved), the last MSE and the median step time."""
    start, times, mse = time.perf_counter(), [], None
    for number in range(1, max_steps + 1):
        began = time.perf_counter()
        mse = step()
        if mse is None:
            times.append(time.perf_counter() - began)
        elif mse < threshold:
            return {
                "seconds": time.perf_counter() - start,
                "steps": number,
                "mse": mse,
                "step_ms": 1e3 * statistics.median(times[1:] or times),
            }
    return {"seconds": None, "steps": None, "mse": mse, "step_ms": 1e3 * statistics.median(times[1:])}


def _stream(built: parts.RunParts) -> tuple[Iterator[steps.Batch], steps.Batch]:
    """The training batches of the run's seed (as ``fit`` draws them), and the fixed held-out
    evaluation batch."""
    _, data_key = jax.random.split(jax.random.PRNGKey(built.config["seed"]))
    batches = built.task.batches("train", built.settings.batch_size, data_key)
    return batches, next(built.task.batches("test", EVAL_SIZE))


def ours(config: object, eval_every: int) -> Step:
    """Our train step and evaluation (what ``fit`` runs) over the shared stream."""
    built = parts.build(config)
    init_key, _ = jax.random.split(jax.random.PRNGKey(config.seed))
    batches, held_out = _stream(built)
    first = next(batches)
    batches = itertools.chain([first], batches)
    state = [built.init_state(init_key, first[0])]
    train_step = jax.jit(built.train_step(), donate_argnums=0)
    eval_step = jax.jit(built.eval_step())
    count = [0]

    def step() -> float | None:
        state[0], metrics = train_step(state[0], next(batches))
        count[0] += 1
        if count[0] % eval_every:
            jax.block_until_ready(metrics["loss"])
            return None
        return steps.evaluate(eval_step, state[0].params, [held_out])[built.task.metric]

    return step


def fit_seconds(config: object, num_steps: int) -> float:
    """Wall seconds of ``train.fit`` for ``num_steps`` steps, evaluating once at the end."""
    config = config.copy_and_resolve_references()
    config.train.steps = config.train.eval_every = config.train.checkpoint_every = num_steps
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        train.fit(config, workdir, log=lambda line: None)
        return time.perf_counter() - start


def flax_contender(config: object, eval_every: int) -> Step:
    """``flax.linen.RNN`` of Flax's own cell with the same optimiser, stream and evaluation."""
    gaussian = initializers.gaussian(1e-3)
    if config.model.cell == "lstm":
        cell = nn.OptimizedLSTMCell(config.model.hidden_size, kernel_init=gaussian)
    else:
        cell = nn.SimpleCell(
            config.model.hidden_size,
            activation_fn=nn.relu,
            kernel_init=gaussian,
            recurrent_kernel_init=initializers.identity(),
        )

    class Model(nn.Module):
        @nn.compact
        def __call__(self, xs):
            return nn.Dense(1, kernel_init=gaussian)(nn.RNN(cell)(xs)[:, -1])

    model = Model()
    built = parts.build(config)
    batches, (test_xs, test_targets) = _stream(built)
    first = next(_stream(built)[0])
    params = model.init(jax.random.PRNGKey(1), first[0])["params"]
    tx = optim.make_optimizer(config.optim)
    state = [(params, tx.init(params))]

    @jax.jit
    def train_step(state, xs, targets):
        params, opt_state = state
        loss, grads = jax.value_and_grad(lambda p: jnp.mean((model.apply({"params": p}, xs) - targets) ** 2))(
            params
        )
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    evaluate = jax.jit(
        lambda params: jnp.mean((model.apply({"params": params}, test_xs) - test_targets) ** 2)
    )
    count = [0]

    def step() -> float | None:
        state[0], loss = train_step(state[0], *next(batches))
        count[0] += 1
        if count[0] % eval_every:
            jax.block_until_ready(loss)
            return None
        return float(evaluate(state[0][0]))

    return step


def torch_contender(config: object, eval_every: int) -> Step | None:
    """PyTorch's own RNN or LSTM with the same stream, optimiser factor and evaluation."""
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    torch.manual_seed(0)
    hidden = config.model.hidden_size
    if config.model.cell == "lstm":
        module = torch.nn.LSTM(2, hidden, batch_first=True)
    else:
        module = torch.nn.RNN(2, hidden, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            module.weight_hh_l0.copy_(torch.eye(hidden))
            module.weight_ih_l0.normal_(0.0, 1e-3)
            module.bias_ih_l0.zero_()
            module.bias_hh_l0.zero_()
    head = torch.nn.Linear(hidden, 1)
    with torch.no_grad():
        head.weight.normal_(0.0, 1e-3)
        head.bias.zero_()
    parameters = [*module.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=config.optim.lr)
    decay_steps = config.optim.decay_steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda n: 0.5 * (1 + math.cos(math.pi * min(n, decay_steps) / decay_steps))
    )
    batches, (test_xs, test_targets) = _stream(parts.build(config))
    test_xs, test_targets = torch.from_numpy(np.array(test_xs)), torch.from_numpy(np.array(test_targets))
    count = [0]

    def step() -> float | None:
        xs, targets = (torch.from_numpy(np.array(array)) for array in next(batches))
        optimizer.zero_grad()
        loss = torch.mean((head(module(xs)[0][:, -1]) - targets) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, config.optim.clip)
        optimizer.step()
        schedule.step()
        count[0] += 1
        if count[0] % eval_every:
            return None
        with torch.no_grad():
            return float(torch.mean((head(module(test_xs)[0][:, -1]) - test_targets) ** 2))

    return step


def run(cell: str, seq_len: int, threshold: float, max_steps: int, eval_every: int) -> dict[str, dict]:
    """Every contender's time to solve for ``cell``, and ``fit``'s for our step count."""
    config = demo_config(cell, seq_len)
    contenders = {"ours (loop)": ours(config, eval_every), "flax": flax_contender(config, eval_every)}
    torch_step = torch_contender(config, eval_every)
    if torch_step is not None:
        contenders["pytorch"] = torch_step
    results = {name: solve(step, threshold, max_steps) for name, step in contenders.items()}
    solved_at = results["ours (loop)"]["steps"]
    if solved_at is not None:
        results["ours (fit)"] = {"seconds": fit_seconds(config, solved_at), "steps": solved_at}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", choices=("irnn", "lstm"), default=["irnn", "lstm"])
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.01)
    parser.add_argument("--max-steps", type=int, default=8_000)
    parser.add_argument("--eval-every", type=int, default=250)
    args = parser.parse_args()
    report = {"args": vars(args), "results": {}, "summary": []}
    for cell in args.cells:
        results = run(cell, args.seq_len, args.threshold, args.max_steps, args.eval_every)
        report["results"][cell] = results
        for name, result in results.items():
            line = f"{cell} {name}: " + (
                f"solved in {result['seconds']:.1f} s, {result['steps']} steps"
                if result["seconds"] is not None
                else f"not solved in {args.max_steps} steps (last MSE {result['mse']:.4f})"
            )
            if "step_ms" in result:
                line += f", median step {result['step_ms']:.2f} ms"
            report["summary"].append(line)
            print(line, flush=True)
        ours_s = results["ours (loop)"]["seconds"]
        for peer in ("flax", "pytorch"):
            peer_s = results.get(peer, {}).get("seconds")
            if ours_s and peer_s:
                step_ratio = results[peer]["step_ms"] / results["ours (loop)"]["step_ms"]
                line = (
                    f"{cell}: {peer} / ours time to solve {peer_s / ours_s:.2f}x (per step {step_ratio:.2f}x)"
                )
                if "ours (fit)" in results:
                    line += f"; {peer} / ours fit {peer_s / results['ours (fit)']['seconds']:.2f}x"
                report["summary"].append(line)
                print(line, flush=True)
    print(f"written to {write_results('time_to_solve', report)}")


if __name__ == "__main__":
    main()
