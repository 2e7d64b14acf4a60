"""Mutation check of the core: plant each hand-written one-line bug in a copy of the checkout,
run the test modules that should notice it, and report which mutants the suite kills.

    python -m tests.mutation                      # every mutant against today's tests
    python -m tests.mutation --revision REV       # the same mutants in the checkout of a git revision
    python -m tests.mutation --only NAME [NAME]   # some of them

Writes one line per mutant (killed, SURVIVED, or n/a where the revision lacks the mutated line)
and the score; ``--json PATH`` keeps them. Each mutant runs in its own temporary copy, so the
checkout is never modified.

Left out as equivalent: dropping ``grads_ok`` from the divergence guard survives every test,
because a non-finite gradient always makes ``grad_l2`` non-finite, which the guard checks too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "gate blocks drawn with one key",
        "irnn_jax/core/initializers.py",
        "init(k, (rows, columns // num_blocks), dtype) for k in keys",
        "init(key, (rows, columns // num_blocks), dtype) for k in keys",
        ("test_initializers.py", "test_models.py"),
    ),
    Mutant(
        "registry alias swapped",
        "irnn_jax/core/initializers.py",
        '"he_normal": he_normal,',
        '"he_normal": he_uniform,',
        ("test_initializers.py",),
    ),
    Mutant(
        "decay before the optimiser",
        "irnn_jax/training/optim.py",
        "optax.chain(clipping, optimizer, decay)",
        "optax.chain(clipping, decay, optimizer)",
        ("test_optim.py",),
    ),
    Mutant(
        "clipping dropped",
        "irnn_jax/training/optim.py",
        '"global_norm": lambda: optax.clip_by_global_norm(clip),',
        '"global_norm": optax.identity,',
        ("test_optim.py",),
    ),
    Mutant(
        "adding markers from one key",
        "irnn_jax/tasks/adding.py",
        "jax.random.randint(key_second, (batch_size,), half, seq_len)",
        "jax.random.randint(key_first, (batch_size,), half, seq_len)",
        ("test_adding.py",),
    ),
    Mutant(
        "every training batch the same",
        "irnn_jax/tasks/adding.py",
        "_sample_jit(jax.random.fold_in(key, step), batch_size, self.seq_len)",
        "_sample_jit(jax.random.fold_in(key, 0), batch_size, self.seq_len)",
        ("test_adding.py",),
    ),
    Mutant(
        "ReLU derivative at zero taken as one",
        "irnn_jax/core/simple.py",
        "jnp.where(h > 0, dh, jnp.zeros_like(dh))",
        "jnp.where(h >= 0, dh, jnp.zeros_like(dh))",
        ("test_recurrence.py",),
    ),
    Mutant(
        "tanh derivative off by 1e-4",
        "irnn_jax/core/simple.py",
        "return dh * (1 - h * h)",
        "return dh * (1 - h * h * 1.0001)",
        ("test_recurrence.py",),
    ),
    Mutant(
        "no checkpoint at the last step",
        "irnn_jax/training/train.py",
        "save_now = step % settings.checkpoint_every == 0 or step == steps",
        "save_now = step % settings.checkpoint_every == 0",
        ("test_checkpoint.py",),
    ),
    Mutant(
        "resume keeps the held-out lines it re-evaluates",
        "irnn_jax/training/train.py",
        "held_out_too=True)",
        "held_out_too=False)",
        ("test_checkpoint.py",),
    ),
    Mutant(
        "resumed config not compared",
        "irnn_jax/training/workdir.py",
        "    if changed:\n",
        "    if False:\n",
        ("test_workdir.py",),
    ),
    Mutant(
        "a baseline given the IRNN's input and readout weights",
        "irnn_jax/config/cells.py",
        '"lstm": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **GLOROT_IO},',
        '"lstm": {"recurrent": {"name": "orthogonal", "scale": 1.0}, **IRNN_IO},',
        ("test_config.py",),
    ),
    Mutant(
        "io_init=irnn ignored",
        "irnn_jax/config/cells.py",
        "inits = {**INIT_BY_CELL[cell], **IO_INITS[io_init]}",
        "inits = dict(INIT_BY_CELL[cell])",
        ("test_config.py",),
    ),
    Mutant(
        "fan_in_gaussian ignores its gain",
        "irnn_jax/core/initializers.py",
        'lambda fan_in: gain, "fan_in_gaussian"',
        'lambda fan_in: 1.0, "fan_in_gaussian"',
        ("test_initializers.py",),
    ),
    Mutant(
        "a command with io_init given it again",
        "irnn_jax/config/cells.py",
        'and "io_init=" not in command',
        "and True",
        ("test_config.py",),
    ),
    Mutant(
        "the adding reading ranked from the worst",
        "irnn_jax/reproduce/studies/adding.py",
        "ranked = sorted(runs_of, key=lambda cell: mean_test(runs_of[cell]))",
        "ranked = sorted(runs_of, key=lambda cell: mean_test(runs_of[cell]), reverse=True)",
        ("test_studies_adding.py",),
    ),
    Mutant(
        "the MNIST table keeps the baselines with the IRNN's initialisation",
        "irnn_jax/reproduce/studies/mnist.py",
        "finished = irnn + [r for r in baselines if not is_pilot(r)]",
        "finished = [r for r in comparison if not is_pilot(r)]",
        ("test_studies_mnist.py",),
    ),
    Mutant(
        "a GRU's recurrent weight gradient taken from the input projection's",
        "irnn_jax/core/gated.py",
        "weight_gradients(xs, h_prevs, d_projected, d_recurrent)",
        "weight_gradients(xs, h_prevs, d_projected)",
        ("test_recurrence.py",),
    ),
    Mutant(
        "a field left out of a section not given its default",
        "irnn_jax/config/schema.py",
        "values = {**cls.defaults(), **section}",
        "values = {field: section.get(field) for field in fields_of(cls)}",
        ("test_schema.py", "test_optim.py"),
    ),
    Mutant(
        "a pilot alive at the baseline",
        "experiments/campaigns/baseline_pilots.py",
        'record["valid"]["mse"] < ALIVE_FRACTION * record["baseline"]',
        'record["valid"]["mse"] < record["baseline"]',
        ("test_campaigns.py",),
    ),
)


def run_mutant(mutant: Mutant, revision: str | None) -> tuple[bool | None, float]:
    """``(killed, seconds)``: whether the mutant's tests fail on a copy with the bug planted
    (``killed`` is ``None`` where the revision's file lacks the line to mutate)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = pathlib.Path(scratch) / "checkout"
        if revision:
            copy.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(copy)], input=archive.stdout, check=True)
        else:
            shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "__pycache__"))
        target = copy / mutant.path
        source = target.read_text() if target.exists() else ""
        if source.count(mutant.original) != 1:
            if revision:
                return None, 0.0
            raise SystemExit(f"{mutant.name}: {mutant.original!r} is not once in {mutant.path}")
        target.write_text(source.replace(mutant.original, mutant.mutated))
        tests = [f"tests/{name}" for name in mutant.tests if (copy / "tests" / name).exists()]
        if not tests:  # those tests do not exist (yet) at this revision: nothing can notice
            return False, 0.0
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy)},  # the copy shadows the installed package
            capture_output=True,
            check=False,
        )
        return result.returncode != 0, time.perf_counter() - start


def main() -> None:
    """Run the mutants named on the command line (default: all) and print the score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revision", help="git revision to plant the mutants in (default: the working tree)")
    parser.add_argument("--only", nargs="*", default=[], help="names of mutants to run")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    chosen = [mutant for mutant in MUTANTS if not args.only or mutant.name in args.only]
    results = []
    for mutant in chosen:
        killed, seconds = run_mutant(mutant, args.revision)
        results.append(
            {"mutant": mutant.name, "path": mutant.path, "killed": killed, "seconds": round(seconds)}
        )
        verdict = {True: "killed  ", False: "SURVIVED", None: "n/a     "}[killed]
        print(f"{verdict} {mutant.name} ({mutant.path}, {seconds:.0f} s)", flush=True)
    applicable = [r for r in results if r["killed"] is not None]
    print(f"score: {sum(r['killed'] for r in applicable)} of {len(applicable)} applicable mutants killed")
    if args.json:
        record = {"revision": args.revision or "working tree", "results": results}
        pathlib.Path(args.json).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
