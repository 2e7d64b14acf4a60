import json

from irnn_jax.reproduce.studies import speech as speech_study


def record(cell, bidirectional, layers, lr, seed, valid, test):
    config = {
        "model": {"cell": cell, "bidirectional": bidirectional, "layers": layers},
        "optim": {"lr": lr},
        "seed": seed,
    }
    return {
        "config": config,
        "command": f"irnn-jax train --config speech:quick,cell={cell} --config.seed={seed}",
        "valid": {"frame_error_rate": valid},
        "test": {"frame_error_rate": test},
        "curve": [{"step": 500, "split": "test", "frame_error_rate": test}],
    }


def write(directory, named):
    (directory / "speech_table").mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / "speech_table" / f"{name}.json").write_text(json.dumps(item))


def test_each_model_is_reported_at_the_rate_its_seed_0_validation_chose_with_the_seeds_there(tmp_path):
    write(
        tmp_path,
        {
            "irnn_uni_2l_lr0.001_seed0": record("irnn", False, 2, 1e-3, 0, 0.20, 0.22),
            "irnn_uni_2l_lr0.003_seed0": record("irnn", False, 2, 3e-3, 0, 0.10, 0.12),
            "irnn_uni_2l_lr0.003_seed1": record("irnn", False, 2, 3e-3, 1, 0.14, 0.16),
            "irnn_uni_2l_lr0.001_seed1": record("irnn", False, 2, 1e-3, 1, 0.01, 0.01),  # not the chosen rate
        },
    )
    text, figures = speech_study.section(tmp_path, tmp_path / "figures", tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| iRNN (0.01 I) |"))
    assert row.startswith(
        "| iRNN (0.01 I) | 12.0 ± 2.8 / 14.0 ± 2.8 (2 seeds, lr 0.003; 2 of 3 rates so far) | 34.3 / 35.5 |"
    )
    assert row.endswith("| not run yet | 33.0 / 33.8 |")
    assert "| bidirectional LSTM | not run yet | 29.6 / 30.6 |" in text
    assert [path.name for path in figures] == ["speech_table.png"] and figures[0].is_file()


def test_without_records_there_is_no_section(tmp_path):
    assert speech_study.section(tmp_path, tmp_path, tmp_path) == ("", [])


def test_a_columns_ordering_is_given_beside_the_papers_once_its_three_models_have_all_seeds(tmp_path):
    errors = {"rnn_tanh": 0.30, "lstm": 0.10, "irnn": 0.20}
    runs = {
        f"{cell}_uni_5l_lr0.001_seed{seed}": record(cell, False, 5, 1e-3, seed, error, error + 0.01 * seed)
        for cell, error in errors.items()
        for seed in range(3)
    }
    write(tmp_path, runs)
    text, _ = speech_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert (
        "- unidirectional, 5 layers: paper iRNN (0.01 I) < LSTM < RNN (tanh); "
        "ours LSTM < iRNN (0.01 I) < RNN (tanh)" in text
    )
    assert "unidirectional, 2 layers" not in text
    (tmp_path / "speech_table" / "irnn_uni_5l_lr0.001_seed2.json").unlink()
    text, _ = speech_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "Orderings" not in text and "(2 seeds, lr 0.001;" in text


def test_runs_with_other_input_and_readout_weights_are_kept_out_of_the_table_and_shown_beside_it(tmp_path):
    table_runs = {
        f"irnn_uni_5l_lr0.001_seed{seed}": record("irnn", False, 5, 1e-3, seed, 0.9, 0.9) for seed in range(3)
    }
    glorot = {}
    for seed in range(3):
        glorot[f"irnn_uni_5l_lr0.001_seed{seed}_glorot"] = run = record(
            "irnn", False, 5, 1e-3, seed, 0.1, 0.2
        )
        run["command"] = run["command"].replace("cell=irnn", "cell=irnn,io_init=glorot")
    write(tmp_path, {**table_runs, **glorot})
    text, _ = speech_study.section(tmp_path, tmp_path / "figures", tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| iRNN (0.01 I) |"))
    assert "| 90.0 ± 0.0 / 90.0 ± 0.0 (3 seeds, lr 0.001; 1 of 3 rates so far) |" in row
    assert "| model | as in the table | io_init=glorot |" in text
    assert (
        "| iRNN (0.01 I), 5 layers | 90.0 ± 0.0 / 90.0 ± 0.0 (3 seeds, lr 0.001) "
        "| 10.0 ± 0.0 / 20.0 ± 0.0 (3 seeds, lr 0.001) |" in text
    )


def test_without_other_input_and_readout_weights_there_is_no_such_table(tmp_path):
    write(tmp_path, {"irnn_uni_5l_lr0.001_seed0": record("irnn", False, 5, 1e-3, 0, 0.9, 0.9)})
    text, _ = speech_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "io_init" not in text
