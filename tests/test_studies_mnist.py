import json

import matplotlib.colors
import pytest

from irnn_jax.reproduce.studies import mnist as mnist_study

from .helpers import line_colours


def record(
    cell, permuted, test, lr=1e-4, steps=100, diverged_at=None, valid_curve=(0.5,), optim="adam", batch=32
):
    config = {
        "task": {"permuted": permuted},
        "model": {"cell": cell},
        "optim": {"name": optim, "lr": lr, "momentum": 0.0},
        "train": {"batch_size": batch},
        "seed": 0,
    }
    result = {
        "config": config,
        "command": f"irnn-jax train {cell} permuted={permuted} lr={lr}",
        "curve": [
            {"step": 0, "split": "test", "accuracy": 0.1},
            {"step": steps, "split": "test", "accuracy": test},
        ]
        + [{"step": 10 * i, "split": "valid", "accuracy": value} for i, value in enumerate(valid_curve)],
        "steps": steps,
        "wall_s": 7.5,
    }
    if diverged_at is None:
        return result | {"valid": {"accuracy": valid_curve[-1]}, "test": {"accuracy": test}}
    return result | {"diverged": "non-finite training", "diverged_at": diverged_at}


def write(directory, campaign, named):
    (directory / campaign).mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / campaign / f"{name}.json").write_text(json.dumps(item))


def test_the_comparison_table_puts_each_model_beside_the_papers_value_sequential_first():
    rows = mnist_study.comparison_table(
        [
            record("lstm", True, 0.4),
            record("irnn", True, 0.85),
            record("rnn_tanh", False, 0.3, diverged_at=70),
            record("irnn", False, 0.931, lr=3e-4),
        ]
    )
    assert rows[2].startswith("| sequential | IRNN | 93.10% | ~97% | 0.0003 | 100 | 7.5 |")
    assert rows[3].startswith("| sequential | RNN + tanh | diverged at step 70 | ~34% |")
    assert rows[4].startswith("| permuted | IRNN | 85.00% | ~82% |")
    assert rows[5].startswith("| permuted | LSTM | 40.00% | ~36% |")


def test_a_headline_row_names_its_goal_and_its_best_validation_point_with_the_test_accuracy_there():
    run = record("irnn", False, 0.95, valid_curve=(0.5, 0.96, 0.955))
    run["curve"].append({"step": 10, "split": "test", "accuracy": 0.94})
    rows = mnist_study.headline_table([run])
    assert rows[2].startswith(
        "| sequential | Adam, batch 32 | 95.00% | 97% | ~97% | 96.00% (10): 94.00% | 100 |"
    )


def test_a_headline_row_without_a_test_point_at_its_best_validation_step_names_only_the_step():
    rows = mnist_study.headline_table([record("irnn", False, 0.95, valid_curve=(0.5, 0.96, 0.955))])
    assert rows[2].startswith("| sequential | Adam, batch 32 | 95.00% | 97% | ~97% | 96.00% (10) | 100 |")


def test_the_section_shows_each_campaigns_table_and_the_figures(tmp_path):
    results = tmp_path / "results"
    write(results, "mnist_pilots", {"pilot_adam_lr1e-4": record("irnn", False, 0.82)})
    write(
        results,
        "mnist_comparison",
        {
            "pilot_lstm_lr0.001": record("lstm", False, 0.3, lr=1e-3) | {"note": "wall_s includes a pause"},
            "sequential_lstm": record("lstm", False, 0.6),
            "sequential_irnn": record("irnn", False, 0.8),
        },
    )
    write(
        results,
        "mnist_baselines",
        {
            "pilot_lstm_lr0.0003": record("lstm", False, 0.5, lr=3e-4),
            "sequential_lstm": record("lstm", False, 0.7),
        },
    )
    write(results, "mnist_headline", {"permuted_irnn": record("irnn", True, 0.89) | {"note": "two segments"}})

    text, figures = mnist_study.section(results, tmp_path / "figures", tmp_path)

    assert text.startswith("## Pixel MNIST")
    main, side = text.split("The baselines as first run")
    assert "| sequential | IRNN | 80.00% | ~97% |" in main and "2 of the comparison's runs recorded" in main
    assert "| sequential | LSTM | 70.00% | ~65% |" in main and "60.00%" not in main
    assert "| sequential | LSTM | 60.00% | ~65% |" in side
    assert "| pilot_lstm_lr0.0003 (own init) | sequential | LSTM | Adam, batch 32 | 0.0003 | 100 |" in main
    assert (
        "| pilot_lstm_lr0.001 (the IRNN's init) | sequential | LSTM | Adam, batch 32 | 0.001 | 100 |" in main
    )
    assert "| pilot_adam_lr1e-4 | sequential | IRNN |" in text
    assert "- pilot_lstm_lr0.001: wall_s includes a pause" in text
    assert "| permuted | Adam, batch 32 | 89.00% | 88% | ~82% |" in text
    assert "- permuted_irnn: two segments" in text
    assert [path.name for path in figures] == ["mnist_comparison.png", "mnist_headline.png"]
    assert all(path.stat().st_size > 10_000 for path in figures)
    assert "![pixel MNIST comparison](figures/mnist_comparison.png)" in text
    assert mnist_study.section(tmp_path / "none", tmp_path / "figures", tmp_path) == ("", [])


def test_the_headline_part_lists_each_average_of_checkpoints_and_each_evaluated_swa_pilots_last_mean(
    tmp_path,
):
    results = tmp_path / "results"
    write(results, "mnist_headline", {"sequential_irnn": record("irnn", False, 0.96)})
    averages = [
        {"steps": [900, 950], "valid": 0.9677, "test": 0.9665},
        {"steps": [860, 900, 950], "valid": 0.9676, "test": 0.9663},
    ]
    (results / "mnist_averaging").mkdir()
    (results / "mnist_averaging" / "checkpoint_average.json").write_text(json.dumps({"averages": averages}))
    swa = [
        {"start": 950, "lr": 1e-5, "valid": 0.9664, "test": 0.9665},
        {"step": 960, "averaged": 20, "swa_valid": 0.9675, "swa_test": 0.9668},
        {"step": 980, "averaged": 60, "swa_valid": 0.9670, "swa_test": 0.9667},
    ]
    (results / "mnist_averaging" / "swa_lr1e-05.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in swa)
    )
    (results / "mnist_averaging" / "swa_lr3e-05.jsonl").write_text(json.dumps(swa[0] | {"lr": 3e-5}) + "\n")
    on_all_images = [swa[0] | {"data": "all"}, swa[1] | {"swa_valid": 0.99, "swa_test": 0.9702}]
    (results / "mnist_averaging" / "swa_lr1e-05_all_10k.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in on_all_images)
    )

    text = mnist_study.section(results, tmp_path / "figures", tmp_path)[0]

    rows = text[text.index("| averaged weights |") :].splitlines()[2:6]
    assert rows == [
        "| the 2 checkpoints of steps 900-950 | 96.77% | 96.65% |",
        "| the 3 checkpoints of steps 860-950 | 96.76% | 96.63% |",
        "| SWA from step 950, lr 1e-05, 30 steps (60 weights) | 96.70% | 96.67% |",
        "| SWA from step 950, lr 1e-05, 10 steps on all 60,000 training images (20 weights) "
        "| trained on | 97.02% |",
    ]
    assert "lr 3e-05" not in text  # that pilot stopped before its first evaluation


def test_each_model_keeps_its_colour_in_both_panels(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(mnist_study.records_lib, "save_figure", lambda figure, path: figures.append(figure))
    runs = [record("irnn", False, 0.9), record("lstm", False, 0.6), record("lstm", True, 0.4)]

    mnist_study.plot(runs, tmp_path / "figure.png", "title")

    colours = line_colours(figures[0])
    assert colours.keys() >= {"IRNN", "LSTM"}
    assert all(len(seen) == 1 for seen in colours.values()), colours


def test_the_headline_figure_draws_each_orders_goal_and_zooms_in_on_it(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(mnist_study.records_lib, "save_figure", lambda figure, path: figures.append(figure))

    runs = [record("irnn", False, 0.96), record("irnn", True, 0.87)]

    mnist_study.plot(runs, tmp_path / "figure.png", "title", mnist_study.GOALS)

    goals = [
        {
            line.get_label(): line.get_ydata()[0]
            for line in axis.get_lines()
            if line.get_label().startswith("goal")
        }
        for axis in figures[0].axes
    ]
    assert goals == [{"goal 97%": 0.97}, {"goal 88%": 0.88}] * 2
    zoomed = [axis.get_ylim() for axis in figures[0].axes[2:]]
    assert zoomed == [pytest.approx((0.92, 0.98)), pytest.approx((0.83, 0.89))]
    assert all(len(axis.get_lines()) == 2 for axis in figures[0].axes[2:])  # the run and the goal


def test_runs_of_one_model_in_a_panel_are_told_apart_by_protocol_step_budget_line_style_and_shade(
    tmp_path, monkeypatch
):
    figures = []
    monkeypatch.setattr(mnist_study.records_lib, "save_figure", lambda figure, path: figures.append(figure))
    runs = [
        record("irnn", False, 0.97, steps=200, optim="sgd", batch=16),
        record("irnn", False, 0.96),
        record("irnn", True, 0.88),
    ]

    mnist_study.plot(runs, tmp_path / "figure.png", "title")

    sequential, permuted = (
        [line for line in axis.get_lines() if line.get_marker() == "o"] for axis in figures[0].axes
    )
    assert [(line.get_label(), line.get_linestyle()) for line in sequential] == [
        ("IRNN, Adam, batch 32, 100 steps", "-"),
        ("IRNN, SGD, batch 16, 200 steps", "-."),
    ]
    hsv = [matplotlib.colors.rgb_to_hsv(matplotlib.colors.to_rgb(line.get_color())) for line in sequential]
    assert hsv[0][0] == pytest.approx(hsv[1][0], abs=0.01)  # one model, one hue
    assert abs(hsv[0][2] - hsv[1][2]) > 0.2  # a shade per run: their brightness differs
    assert [line.get_label() for line in permuted] == ["IRNN"]


def test_headline_rows_of_one_order_go_shortest_budget_first_and_name_their_protocol():
    rows = mnist_study.headline_table(
        [
            record("irnn", False, 0.97, steps=200, optim="sgd", batch=16),
            record("irnn", False, 0.95, steps=200),
            record("irnn", False, 0.96),
        ]
    )
    assert rows[2].startswith("| sequential | Adam, batch 32 | 96.00% |")
    assert rows[3].startswith("| sequential | Adam, batch 32 | 95.00% |")
    assert rows[4].startswith("| sequential | SGD, batch 16 | 97.00% |")


def test_a_runs_protocol_names_its_optimiser_momentum_and_batch():
    sgd = record("irnn", False, 0.9, optim="sgd", batch=16)
    with_momentum = sgd | {"config": sgd["config"] | {"optim": sgd["config"]["optim"] | {"momentum": 0.9}}}
    assert mnist_study.protocol(sgd) == "SGD, batch 16"
    assert mnist_study.protocol(with_momentum) == "SGD with momentum, batch 16"


def test_each_baseline_run_both_ways_gets_its_own_initialisations_accuracy_beside_the_irnns_one():
    own = [record("lstm", False, 0.72), record("rnn_tanh", True, 0.86), record("gru", False, 0.97)]
    former = [record("rnn_tanh", True, 0.46), record("lstm", False, 0.37), record("rnn_relu", False, 0.1)]
    rows = mnist_study.init_effect(own, former)
    assert rows[2:] == [
        "| sequential | LSTM | 72.00% | 37.00% |",
        "| permuted | RNN + tanh | 86.00% | 46.00% |",
    ]


def test_the_conclusion_waits_for_every_row_of_the_comparison(tmp_path):
    baselines = {
        f"{c}_{p}": record(c, p, 0.5) for c in ("lstm", "gru", "rnn_tanh", "rnn_relu") for p in (0, 1)
    }
    write(tmp_path, "mnist_baselines", baselines)
    write(
        tmp_path,
        "mnist_comparison",
        {"irnn_0": record("irnn", False, 0.5), "lstm": record("lstm", False, 0.3)},
    )
    partial, _ = mnist_study.section(tmp_path, tmp_path / "figures", tmp_path)
    write(tmp_path, "mnist_comparison", {"irnn_1": record("irnn", True, 0.5)})
    complete, _ = mnist_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "Conclusion" not in partial and "Conclusion (issue 39)" in complete


def test_a_headline_row_of_a_run_that_kept_its_best_checkpoint_names_that_point():
    run = record("irnn", False, 0.95, valid_curve=(0.5, 0.96, 0.955))
    run["config"]["train"]["keep_best"] = "accuracy"
    run["best"] = {"metric": "accuracy", "step": 20, "valid": {"accuracy": 0.97}, "test": {"accuracy": 0.965}}
    rows = mnist_study.headline_table([run])
    assert "| 97.00% (20, kept): 96.50% |" in rows[2]
