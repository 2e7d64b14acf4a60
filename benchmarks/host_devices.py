"""Data-parallel ``fit`` over two host CPU devices against one: does the second core pay?

    python -m benchmarks.host_devices                       # IRNN and LSTM, B in {64, 128}
    python -m benchmarks.host_devices --cells irnn --batch 128 --steps 300

XLA:CPU runs one dependent chain on one core, so a single run leaves the second core idle.
With ``--host-devices 2`` (``jax_num_cpu_devices``) ``fit`` splits each batch over two CPU
devices and keeps the state replicated (:mod:`irnn_jax.runtime.sharding`). Each case trains the adding
problem at T=``--seq-len`` (``adding:T=...``, H=100, Adam) for ``--steps`` steps in a fresh
process, one device count after the other, alternating for ``--repeats`` rounds; the figure is
the median training steps/s that ``fit`` logs (its first window, which compiles, left out).
Results go to ``benchmarks/results/host_devices-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

from benchmarks.train_step import write_results

CHILD = """
import sys
from irnn_jax.cli import main
sys.exit(main())
"""


def steps_per_s(cell: str, batch: int, seq_len: int, steps: int, devices: int) -> float:
    """Median logged steps/s of one ``irnn-jax train`` run in a fresh process."""
    with tempfile.TemporaryDirectory() as workdir:
        argv = ["train", "--config", f"adding:T={seq_len},cell={cell}", "--workdir", workdir]
        argv += ["--host-devices", str(devices), "--progress", "none"]
        argv += [f"--config.train.batch_size={batch}", f"--config.train.steps={steps}"]
        argv += ["--config.train.log_every=25", f"--config.train.eval_every={steps}"]
        argv += ["--config.task.held_out_size=256", "--config.optim.name=adam", "--config.optim.lr=1e-4"]
        subprocess.run([sys.executable, "-c", CHILD, *argv], check=True, capture_output=True)
        lines = [
            json.loads(line) for line in (pathlib.Path(workdir) / "metrics.jsonl").read_text().splitlines()
        ]
    rates = [line["steps_per_s"] for line in lines if line["split"] == "train"][1:]
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", nargs="+", default=["irnn", "lstm"])
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results, summary = [], []
    for cell in args.cells:
        for batch in args.batch:
            rates: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(args.repeats):
                for devices in (1, 2):
                    rates[devices].append(steps_per_s(cell, batch, args.seq_len, args.steps, devices))
            one, two = (statistics.median(rates[devices]) for devices in (1, 2))
            results.append({"cell": cell, "batch": batch, "seq_len": args.seq_len, "steps_per_s": rates})
            summary.append(
                f"{cell} B={batch} T={args.seq_len}: 1 device {one:.1f} steps/s, 2 devices {two:.1f} "
                f"steps/s: {two / one:.2f}x"
            )
            print(summary[-1], flush=True)
    record = {"args": vars(args), "results": results, "summary": summary}
    print(f"written to {write_results('host_devices', record)}")


if __name__ == "__main__":
    main()
