"""Are an adding-problem run's held-out MSEs carried by a few sequences? (issue 39, item 5)

The T=400 IRNN run ``adding/T400_irnn_lr0.0003_seed2_rollback`` ended at validation MSE 0.134
and test MSE 7.79 (23.4 at step 27,000), though the two sets are drawn alike. Its parameters are
gone (the campaign removes a recorded run's workdir), and the same command on another machine
follows another trajectory, so they cannot be examined. This analysis reads every checkpoint of
a workdir and, on the validation and test sets, reports per checkpoint: the MSE, the largest
squared error of one sequence, the share of the summed squared error that the worst 10 sequences
carry, the spectral radius of ``w_hh``, and, for the worst test sequence, its marker positions,
target and output. A split whose MSE is carried by a few
sequences shows the mechanism that can set two equally drawn sets apart.

Run from the repository root (the workdir must keep several checkpoints,
``--config.train.keep_checkpoints``):
  python experiments/analyses/adding_outliers.py WORKDIR OUTPUT.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import jax
import numpy as np

from irnn_jax.training import checkpoint, steps, train

WORST = 10


def squared_errors(run, params, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per held-out sequence of ``split``: squared error, output, and the inputs."""
    inputs, targets = [], []
    for batch_inputs, batch_targets in run.task.batches(split, 1000):
        inputs.append(np.asarray(batch_inputs))
        targets.append(np.asarray(batch_targets))
    inputs, targets = np.concatenate(inputs), np.concatenate(targets)
    apply = jax.jit(lambda p, x: steps.apply_model(run.model.apply, p, x)[0])
    outputs = np.concatenate(
        [np.asarray(apply(params, inputs[i : i + 1000])) for i in range(0, len(inputs), 1000)]
    )
    return ((outputs - targets) ** 2)[:, 0], outputs[:, 0], inputs


def spectral_radius(params) -> float:
    """The largest eigenvalue modulus of the (first) ``w_hh``."""
    leaves = jax.tree_util.tree_leaves_with_path(params)
    w_hh = next(leaf for path, leaf in leaves if "w_hh" in jax.tree_util.keystr(path))
    return float(np.abs(np.linalg.eigvals(np.asarray(w_hh, np.float64))).max())


def analyse(workdir: pathlib.Path) -> dict:
    """The per-checkpoint statistics of ``workdir``'s run."""
    loaded = train.load(workdir, log=lambda line: None)
    run, like = loaded.run, loaded.state
    manager = checkpoint.manager(workdir, run.settings.keep_checkpoints)
    rows = []
    try:
        for step in sorted(manager.all_steps()):
            params = checkpoint.restore(manager, step, like).params
            row = {"step": step, "w_hh_spectral_radius": spectral_radius(params)}
            for split in ("valid", "test"):
                errors, outputs, inputs = squared_errors(run, params, split)
                order = np.argsort(errors)[::-1]
                row[split] = {
                    "mse": float(errors.mean()),
                    "largest_squared_error": float(errors[order[0]]),
                    f"worst_{WORST}_share": float(errors[order[:WORST]].sum() / errors.sum()),
                }
                if split == "test":
                    worst = inputs[order[0]]
                    row["worst_test_sequence"] = {
                        "markers_at": [int(t) for t in np.flatnonzero(worst[:, 1])],
                        "target": float((worst[:, 0] * worst[:, 1]).sum()),
                        "output": float(outputs[order[0]]),
                    }
            rows.append(row)
            print(json.dumps(row))
    finally:
        manager.close()
    return {"workdir": str(workdir), "checkpoints": rows}


def main() -> None:
    """Analyse a workdir and write the record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=pathlib.Path)
    parser.add_argument("output", type=pathlib.Path)
    args = parser.parse_args()
    start = time.time()
    record = analyse(args.workdir)
    record["command"] = f"python experiments/analyses/adding_outliers.py {args.workdir} {args.output}"
    record["wall_s"] = round(time.time() - start, 1)
    args.output.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
