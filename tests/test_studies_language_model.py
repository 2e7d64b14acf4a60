import json

from irnn_jax.reproduce.studies import language_model as lm_study

PAPERS_INPUT = {"name": "gaussian", "std": 0.001}


def record(
    cell="lstm",
    lr=20.0,
    curve=(),
    diverged_at=None,
    init="orthogonal",
    layers=1,
    projection=0,
    io=PAPERS_INPUT,
):
    model = {
        "cell": cell,
        "layers": layers,
        "hidden_size": 128,
        "projection_size": projection,
        "input_init": io,
    }
    model["recurrent_init"] = {"name": init, "scale": 0.9} if init == "scaled_identity" else {"name": init}
    result = {
        "config": {"model": model, "optim": {"lr": lr}, "train": {"eval_every": 10}, "seed": 0},
        "command": f"irnn-jax train --config ptb:peer,cell={cell} --config.optim.lr={lr}",
        "curve": [{"step": step, "split": split, "perplexity": value} for step, split, value in curve],
        "wall_s": 30.0,
    }
    if diverged_at:
        result |= {"diverged": "non-finite loss", "diverged_at": diverged_at}
    return result


def write(directory, campaign, named):
    (directory / campaign).mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / campaign / f"{name}.json").write_text(json.dumps(item))


def test_the_peer_table_sets_pytorchs_epochs_beside_ours_at_the_same_steps(tmp_path):
    curve = [(10, "valid", 200.0), (10, "test", 190.0), (20, "valid", 150.0), (20, "test", 140.0)]
    write(tmp_path, "lm_peer", {"lstm_own_init": record(curve=curve)})
    (tmp_path / "lm_peer" / "lstm_own_init.metrics.jsonl").write_text(
        "\n".join(
            json.dumps({"step": s, "split": "train", "steps_per_s": v})
            for s, v in ((1, 9.0), (2, 12.0), (3, 13.0))
        )
    )
    (tmp_path / "lm_peer" / "pytorch").mkdir()
    epochs = [
        {"valid_perplexity": 210.0, "test_perplexity": 205.0},
        {"valid_perplexity": 160.0, "test_perplexity": 155.0},
    ]
    (tmp_path / "lm_peer" / "pytorch" / "lm_peer-1.json").write_text(
        json.dumps({"epochs": epochs, "windows_per_s": 11.5})
    )
    text, figures = lm_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "| PyTorch `nn.LSTM` | the example's | 210.0 / 205.0 | 160.0 / 155.0 | 11.5 |" in text
    assert "| ours, `lstm` | ours (Keras's) | 200.0 / 190.0 | 150.0 / 140.0 | 12.0 |" in text
    assert figures == []


def test_the_pilot_table_names_each_rows_shape_rate_and_identity_scale_and_where_a_pilot_diverged(tmp_path):
    pilots = {
        "irnn_deep_lr3_identity0.9": record(
            "irnn", 3.0, [(500, "valid", 900.0), (1000, "valid", 700.0)], init="scaled_identity", layers=4
        ),
        "irnn_wide_lr20_identity1_glorot": record(
            "irnn",
            20.0,
            diverged_at=37,
            init="scaled_identity",
            projection=128,
            io={"name": "glorot_uniform"},
        ),
    }
    write(tmp_path, "lm_pilots", pilots)
    text, figures = lm_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert (
        "| irnn_deep | IRNN 4 x 128 | 3 | 0.9 I | N(0, 0.001^2) | 900.0 (500), 700.0 (1000) | 30.0 |" in text
    )
    assert (
        "| irnn_wide | IRNN 1 x 128 + 128 projection | 20 | 0.9 I | glorot_uniform | diverged at step 37 |"
        in text
    )
    assert [path.name for path in figures] == ["lm_pilots.png"] and figures[0].is_file()


def test_without_records_there_is_no_section(tmp_path):
    assert lm_study.section(tmp_path, tmp_path, tmp_path) == ("", [])


def table_record(cell, layers, hidden, projection, valid, test, diverged=False):
    model = {"cell": cell, "layers": layers, "hidden_size": hidden, "projection_size": projection}
    model |= {
        "embed_size": 128,
        "recurrent_init": {"name": "orthogonal"},
        "input_init": {"name": "glorot_uniform"},
    }
    result = record(cell, curve=[(7962, "valid", valid), (7962, "test", test)])
    result["config"]["model"] = model
    result |= {"valid": {"perplexity": valid}, "test": {"perplexity": test}}
    return result | ({"diverged": "non-finite loss", "diverged_at": 100} if diverged else {})


def test_the_table_takes_each_rows_best_validation_setting_and_compares_the_orderings(tmp_path):
    runs = {
        "lstm_lr10": table_record("lstm", 1, 128, 0, 130.0, 125.0),
        "lstm_lr20": table_record("lstm", 1, 128, 0, 120.0, 118.0),
        "irnn_deep_lr3_identity0.9": table_record("irnn", 4, 128, 0, 150.0, 145.0),
        "irnn_deep_lr1.5_identity0.9": table_record("irnn", 4, 128, 0, 1e9, 1e9, diverged=True),
        "irnn_wide_lr3_identity1": table_record("irnn", 1, 256, 128, 140.0, 135.0),
        "tanh_deep_lr3": table_record("rnn_tanh", 4, 128, 0, 160.0, 150.0),
        "tanh_wide_lr3": table_record("rnn_tanh", 1, 256, 128, 155.0, 140.0),
    }
    write(tmp_path, "lm_table", runs)
    text, figures = lm_study.section(tmp_path, tmp_path / "figures", tmp_path)
    # 1.28 M embedding, 0.13 M LSTM, 1.29 M readout
    assert "| LSTM, 512 units | LSTM 1 x 128 | 2.70 M | lr20 (2) | 120.0 | 118.0 | 68.8 |" in text
    assert (
        "| IRNN, 4 layers x 512 | IRNN 4 x 128 | " in text
        and "| lr3_identity0.9 (2) | 150.0 | 145.0 | 69.4 |" in text
    )
    assert "ours: lstm < irnn_wide < tanh_wide < irnn_deep < tanh_deep." in text
    assert "lm_table.png" in [path.name for path in figures]
    settings = text[text.index("| row | setting |") :]
    assert (
        "| lstm | lr10 | glorot_uniform | 130.0 | 125.0 |\n| lstm | lr20 | glorot_uniform | 120.0 | 118.0 |"
        in settings
    )
    assert "| irnn_deep | lr1.5_identity0.9 | glorot_uniform | diverged at step 100 | |" in settings
    assert settings.count("\n| ") == len(runs)  # one line per run after the header


def test_a_row_not_run_yet_says_so_and_no_ordering_is_claimed(tmp_path):
    write(tmp_path, "lm_table", {"lstm_lr20": table_record("lstm", 1, 128, 0, 120.0, 118.0)})
    text, _ = lm_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "| tanh RNN, 4 x 512 | not run yet | | | | | 71.8 |" in text and "Ordering" not in text
