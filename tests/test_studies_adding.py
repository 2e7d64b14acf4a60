import json

from irnn_jax.reproduce.studies import adding as adding_study

from .helpers import line_colours


def record(seq_len, cell, lr, valid, test, seed=0, diverged_at=None, forget_bias=1.0):
    config = {
        "task": {"seq_len": seq_len},
        "model": {"cell": cell, "forget_bias": forget_bias},
        "optim": {"lr": lr},
        "seed": seed,
    }
    result = {
        "config": config,
        "command": f"irnn-jax train T={seq_len} {cell} lr={lr} seed={seed}",
        "curve": [{"step": 0, "split": "test", "mse": 1.0}, {"step": 100, "split": "test", "mse": test}],
        "steps": 100,
        "wall_s": 12.5,
    }
    if diverged_at is None:
        result |= {"valid": {"mse": valid}, "test": {"mse": test}}
    else:
        result |= {"diverged": "non-finite training", "diverged_at": diverged_at}
    return result


RECORDS = [
    record(150, "irnn", 1e-3, valid=0.02, test=0.021),
    record(150, "irnn", 3e-4, valid=0.01, test=0.012),  # the lower validation MSE: chosen
    record(150, "irnn", 3e-4, valid=0.03, test=0.014, seed=1) | {"note": "wall_s includes a pause"},
    record(150, "irnn", 1e-3, valid=0.5, test=0.5, seed=1),  # another learning rate's seed: left out
    record(150, "rnn_relu", 1e-3, valid=None, test=None, diverged_at=7),
    record(300, "lstm", 1e-4, valid=0.1, test=0.09) | {"resumed_from": 60},
]


def test_each_model_gets_the_learning_rate_of_its_lowest_validation_mse_and_its_seeds():
    picked = adding_study.chosen(RECORDS)
    assert [run["config"]["seed"] for run in picked[150, "irnn"]] == [0, 1]
    assert {run["config"]["optim"]["lr"] for run in picked[150, "irnn"]} == {3e-4}
    rows = adding_study.table(picked, RECORDS)
    assert rows[2].startswith("| 150 | IRNN | 0.013 ± 0.00141 (2 seeds) | ~0.01 | lr 0.0003 (of 2) | 100 |")
    assert rows[3].startswith("| 150 | RNN + ReLU | seed 0 diverged at step 7 | baseline |")
    assert rows[4].startswith(
        "| 300 | LSTM | 0.09 | ~0.07-0.1 | lr 0.0001 (of 1) | 100 | 12.5 (steps 60 on) |"
    )


def write(tmp_path, campaign, records):
    directory = tmp_path / "results" / campaign
    directory.mkdir(parents=True, exist_ok=True)
    for number, item in enumerate(records):
        (directory / f"{number}.json").write_text(json.dumps(item))


def test_the_section_shows_the_table_and_a_panel_per_length(tmp_path):
    write(tmp_path, "adding", RECORDS)
    text, figures = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)
    assert text.startswith("## Adding problem") and "4 IRNN runs and 0 baseline runs recorded." in text
    assert "![adding comparison](figures/adding_comparison.png)" in text
    assert "- T=150, IRNN, seed 1: wall_s includes a pause" in text
    assert figures == [tmp_path / "figures" / "adding_comparison.png"] and figures[0].stat().st_size > 10_000
    assert adding_study.section(tmp_path / "none", tmp_path / "figures", tmp_path) == ("", [])


def test_the_table_takes_the_irnn_from_the_comparison_and_the_baselines_from_their_own_campaign(tmp_path):
    write(tmp_path, "adding", RECORDS)  # an IRNN at T=150, and baselines with the IRNN's initialisation
    own = [  # whole rate grids of the LSTM and the GRU at T=150, and one run of the tanh RNN's
        *(record(150, "lstm", lr, valid=0.1, test=0.1) for lr in (1e-4, 3e-4)),
        record(150, "lstm", 1e-3, valid=0.001, test=0.002),
        *(record(150, "gru", lr, valid=0.1, test=0.1) for lr in (1e-4, 1e-3)),
        record(150, "gru", 3e-4, valid=0.02, test=0.03),
        record(150, "rnn_tanh", 3e-4, valid=0.0001, test=0.0001),  # its grid is not whole yet
    ]
    write(tmp_path, "adding_baselines", own)

    text, _ = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)

    main, side = text.split("### The baselines as first run, with the IRNN's initialisation")
    assert [row.split(" | ")[1] for row in main.splitlines() if row.startswith("| 150")] == [
        "IRNN",
        "LSTM",
        "GRU",
    ]
    assert "4 IRNN runs and 7 baseline runs recorded." in main
    assert "- T=150: LSTM 0.002 < IRNN 0.013 < GRU 0.03; below the IRNN: LSTM." in main
    assert (
        "Not recorded yet: IRNN at T=200, 300, 400; LSTM at T=200, 300, 400; GRU at T=200, 300, 400; " in main
    )
    assert "RNN + tanh at T=150, 200, 300, 400;" in main  # a partial grid's best is not shown
    assert [row.split(" | ")[:2] for row in side.splitlines() if row.startswith("| ")][1:] == [
        ["| 150", "RNN + ReLU"],
        ["| 300", "LSTM"],
    ]


def test_a_diverged_extra_seed_is_named_and_a_group_without_seed_zero_waits():
    extra = [
        record(200, "irnn", 1e-3, valid=0.01, test=0.01),
        record(200, "irnn", 1e-3, valid=None, test=None, seed=2, diverged_at=40),
        record(400, "lstm", 1e-3, valid=0.1, test=0.1, seed=1),  # its seed-0 run not recorded yet
    ]
    picked = adding_study.chosen(extra)
    assert (400, "lstm") not in picked
    rows = adding_study.table(picked, extra)
    assert rows[2].startswith("| 200 | IRNN | 0.01; seed 2 diverged at step 40 |")
    assert adding_study.reading(picked) == ["- T=200: IRNN 0.01 (1 of 2 seeds diverged)."]


def test_the_lstm_picks_its_forget_bias_by_validation_and_its_seeds_share_that_bias(tmp_path):
    lstm = [
        record(150, "lstm", 3e-4, valid=0.16, test=0.16),
        record(150, "lstm", 3e-4, valid=0.05, test=0.06, forget_bias=10.0),  # chosen
        record(150, "lstm", 3e-4, valid=0.15, test=0.15, seed=1),  # forget bias 1's seed: left out
        record(150, "lstm", 3e-4, valid=0.04, test=0.08, seed=1, forget_bias=10.0),
        record(150, "irnn", 3e-4, valid=0.01, test=0.01),
    ]
    picked = adding_study.chosen(lstm)
    assert [(run["config"]["seed"], adding_study.forget_bias(run)) for run in picked[150, "lstm"]] == [
        (0, 10),
        (1, 10),
    ]
    rows = adding_study.table(picked, lstm)
    assert rows[2].startswith("| 150 | IRNN | 0.01 | ~0.01 | lr 0.0003 (of 1) |")
    assert rows[3].startswith(
        "| 150 | LSTM | 0.07 ± 0.0141 (2 seeds) | ~0.01 | lr 0.0003 (of 1), forget bias 10 (of 2) |"
    )
    (tmp_path / "results" / "adding").mkdir(parents=True)
    for number, item in enumerate(lstm):
        (tmp_path / "results" / "adding" / f"{number}.json").write_text(json.dumps(item))
    text, _ = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)
    searched = [row for row in text.split("LSTM forget-gate bias")[1].splitlines() if row.startswith("| 150")]
    assert [row.split(" | ")[1] for row in searched] == ["1", "10"]
    assert searched[1].startswith("| 150 | 10 | 0.0003 | 100 | 0.05 | 0.06 |")


def test_runs_made_again_with_rollback_are_listed_apart_from_the_seeds_of_the_table(tmp_path):
    stopped = record(400, "irnn", 3e-4, valid=None, test=None, seed=1, diverged_at=13)
    rolled = record(400, "irnn", 3e-4, valid=0.002, test=0.003, seed=1) | {"rollbacks": 2, "note": "why"}
    rolled["config"]["train"] = {"on_divergence": "rollback"}
    runs = [record(400, "irnn", 3e-4, valid=0.001, test=0.001), stopped, rolled]
    assert [run["config"]["seed"] for run in adding_study.chosen(runs)[400, "irnn"]] == [0, 1]
    assert "diverged" in adding_study.chosen(runs)[400, "irnn"][1]
    (tmp_path / "results" / "adding").mkdir(parents=True)
    for number, item in enumerate(runs):
        (tmp_path / "results" / "adding" / f"{number}.json").write_text(json.dumps(item))
    text, _ = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)
    listed = [row for row in text.split("on_divergence=rollback")[1].splitlines() if row.startswith("| 400")]
    assert listed == [
        row for row in listed if row.startswith("| 400 | IRNN | 1 | 0.0003 | 2 | 100 | 0.002 | 0.003 |")
    ]
    assert len(listed) == 1
    assert "- T=400, seed 1: why" in text.split("on_divergence=rollback")[1]


def sgd_record(cell, lr, clip, steps, valid_curve):
    result = record(150, cell, lr, valid=valid_curve[-1], test=valid_curve[-1] + 0.001)
    result["config"]["optim"]["clip"] = clip
    result["steps"] = steps
    result["curve"] = [{"step": 10 * i, "split": "valid", "mse": mse} for i, mse in enumerate(valid_curve)]
    return result


def test_the_sgd_runs_get_a_table_of_where_each_ended_and_its_own_figure(tmp_path):
    (tmp_path / "results" / "adding").mkdir(parents=True)
    (tmp_path / "results" / "adding" / "0.json").write_text(json.dumps(RECORDS[0]))
    (tmp_path / "results" / "adding_sgd").mkdir()
    sgd = [
        sgd_record("rnn_tanh", 0.01, 10, 300, [0.2, 0.17]),
        sgd_record("irnn", 0.01, 10, 300, [0.2, 0.05, 0.09]),
        record(150, "irnn", 0.01, valid=None, test=None, diverged_at=250),
    ]
    del sgd[2]["steps"]  # a diverged run's record holds only its config's budget
    sgd[2]["config"] |= {"optim": {"lr": 0.01, "clip": 1}, "train": {"steps": 400}}
    sgd[2]["curve"] = [{"step": 200, "split": "valid", "mse": 0.04}]
    for number, item in enumerate(sgd):
        (tmp_path / "results" / "adding_sgd" / f"{number}.json").write_text(json.dumps(item))

    text, figures = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)

    rows = text.split("### The paper's protocol: plain SGD at T = 150")[1].splitlines()
    table = [row for row in rows if row.startswith("| ") and "|---" not in row]
    assert table[1].startswith("| IRNN | 0.01 | 10 | 300 | 0.09 | 0.091 | 0.05 (10) |")
    assert table[2].startswith("| RNN + tanh | 0.01 | 10 | 300 | 0.17 | 0.171 | 0.17 (10) |")
    assert table[3].startswith("| IRNN | 0.01 | 1 | 400 | diverged at step 250 |  | 0.04 (200) |")
    assert [path.name for path in figures] == ["adding_comparison.png", "adding_sgd.png"]
    assert "![adding, plain SGD](figures/adding_sgd.png)" in text


def test_each_model_keeps_its_colour_in_panels_where_another_model_is_missing(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(adding_study.records_lib, "save_figure", lambda figure, path: figures.append(figure))
    runs = [record(150, "irnn", 1e-3, 0.01, 0.01), record(150, "rnn_tanh", 1e-3, 0.2, 0.2)]
    picked = adding_study.chosen([*runs, record(300, "rnn_tanh", 1e-3, valid=0.2, test=0.2)])

    adding_study.plot(picked, tmp_path / "figure.png")

    colours = line_colours(figures[0])
    assert colours.keys() >= {"IRNN", "RNN + tanh"}
    assert all(len(seen) == 1 for seen in colours.values()), colours


def test_each_baseline_run_both_ways_gets_its_own_initialisations_mse_beside_the_irnns_one():
    own = adding_study.chosen(
        [record(150, "lstm", 1e-3, valid=0.01, test=0.02), record(150, "gru", 1e-3, valid=0.01, test=0.01)]
    )
    former = adding_study.chosen(
        [record(150, "lstm", 1e-3, valid=0.2, test=0.17), record(200, "lstm", 1e-3, valid=0.2, test=0.16)]
    )
    assert adding_study.init_effect(own, former)[2:] == ["| 150 | LSTM | 0.02 | 0.17 |"]


def test_the_conclusion_waits_for_every_row_of_the_comparison(tmp_path):
    write(tmp_path, "adding", RECORDS)
    text, _ = adding_study.section(tmp_path / "results", tmp_path / "figures", tmp_path)
    assert "Not recorded yet" in text and "Conclusion" not in text
