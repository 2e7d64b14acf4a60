import json

from irnn_jax.reproduce.studies import init_comparison


def record(grammar, init, seed, valid, test, diagnostics=True):
    config = {
        "seed": seed,
        "task": {"name": "tomita", "grammar": grammar, "train_lengths": [1, 16], "test_lengths": [17, 32]},
        "model": {"hidden_size": 32, "recurrent_init": {"name": init}},
        "optim": {"name": "adam", "lr": 1e-3, "clip": 1.0},
        "train": {"batch_size": 32, "steps": 3000},
    }
    result = {
        "config": config,
        "valid": {"accuracy": valid},
        "test": {"accuracy": test},
        "wall_s": 30.0,
        "steps": 3000,
        "command": f"irnn-jax train ... {grammar} {init} {seed}",
        "curve": [{"step": 3000, "split": "test", "accuracy": test}],
    }
    if diagnostics:
        snapshot = {
            "step": 0,
            "state_grad_norms": [1.0, 0.5, 0.25],
            "eigenvalues_real": [0.9, 0.9],
            "eigenvalues_imag": [0.1, -0.1],
            "spectral_radius": 0.906,
        }
        result["diagnostics"] = [snapshot]
    return result


def write(results, campaign, records):
    folder = results / campaign
    folder.mkdir(parents=True)
    for index, item in enumerate(records):
        (folder / f"{index}.json").write_text(json.dumps(item))


def test_the_tomita_table_averages_seeds_and_marks_the_best_initialiser_per_grammar(tmp_path):
    write(
        tmp_path,
        init_comparison.TOMITA,
        [
            record(1, "identity", 0, 0.90, 0.80),
            record(1, "identity", 1, 1.00, 0.60),
            record(1, "eigen", 0, 0.50, 0.90),
            record(1, "eigen", 1, 0.70, 0.90),
            {**record(2, "eigen", 0, 0.0, 0.0), "diverged": "non-finite", "diverged_at": 7},
            record(2, "identity", 0, 0.60, 0.55),
        ],
    )
    text, figures = init_comparison.section(tmp_path, tmp_path / "figures", tmp_path)
    tables = text.split("Accuracy on training lengths")[1]
    valid_table, test_table = tables.split("Accuracy on longer test strings")
    assert "| 1 | **95.0 ± 7.1** | 60.0 ± 14.1 |" in valid_table  # identity best on training lengths
    assert "| 1 | 70.0 ± 14.1 | **90.0 ± 0.0** |" in test_table  # eigen best on longer strings
    assert "| 2 | **60.0** | - |" in valid_table  # the diverged run is not averaged
    assert "Diverged (not averaged): grammar 2 eigen seed 0." in text
    assert all(path.is_file() for path in figures) and len(figures) == 2  # spectra, gradients


def test_no_campaign_records_give_no_section(tmp_path):
    assert init_comparison.section(tmp_path, tmp_path / "figures", tmp_path) == ("", [])


def test_the_mnist_runs_get_a_table_and_a_curve_figure(tmp_path):
    runs = [record(0, "identity", 0, 0.7, 0.65), record(0, "orthogonal", 0, 0.5, 0.45, diagnostics=False)]
    runs.append({**record(0, "glorot_normal", 0, 0.0, 0.0), "diverged": "non-finite", "diverged_at": 1234})
    write(tmp_path, init_comparison.MNIST, runs)
    text, figures = init_comparison.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "| IRNN (I) | 3,000 | 30.0 | 70.00% | 65.00% |" in text and "| orthogonal |" in text
    assert "| Xavier | diverged at step 1,234 | | | | `irnn-jax train ... 0 glorot_normal 0` |" in text
    names = [path.name for path in figures]
    assert names == ["init_mnist_curves.png", "init_spectra.png", "init_gradients.png"]


def gated(cell, grammar, init, seed, accuracy):
    result = record(grammar, init, seed, accuracy, accuracy, diagnostics=False)
    result["config"]["model"]["cell"] = cell
    return result


def test_the_gated_cells_get_their_own_tables_per_cell_with_the_framework_default(tmp_path):
    write(
        tmp_path,
        init_comparison.GATED_TOMITA,
        [
            gated("lstm", 3, "eigen", 0, 0.9),
            gated("lstm", 3, "uniform", 0, 0.7),
            gated("gru", 3, "eigen", 0, 0.6),
        ],
    )
    write(tmp_path, init_comparison.GATED_MNIST, [gated("gru", 0, "uniform", 0, 0.95)])
    text, figures = init_comparison.section(tmp_path, tmp_path / "figures", tmp_path)
    lstm = text.split("### LSTM: Tomita grammars")[1].split("### GRU")[0]
    assert "2 runs: grammars 3 x 2 initialisers x seeds 0; 32 LSTM units" in lstm
    assert "| grammar | eigen (per gate block) | PyTorch default |" in lstm
    assert "| 3 | **90.0** | 70.0 |" in lstm
    assert "experiments/campaigns/eigen_gated_tomita.py" in lstm
    assert "| 3 | **60.0** |" in text.split("### GRU: Tomita grammars")[1]
    assert (
        text.count("### Gated cells (LSTM, GRU)\n\nHow eigen applies to a gated cell: each gate's [H, H]")
        == 1
    )
    assert "### GRU: sequential pixel MNIST" in text and "| PyTorch default | 3,000 | 30.0 | 95.00% |" in text
    assert [path.name for path in figures] == ["init_gated_mnist_gru.png"]
    assert "![init_gated_mnist_gru](figures/init_gated_mnist_gru.png)" in text


def test_the_separating_protocols_runs_get_tomita_tables_named_by_their_protocol(tmp_path):
    folder = tmp_path / init_comparison.HARD_TOMITA
    folder.mkdir()
    for seed, accuracy in ((0, 0.6), (1, 0.8)):
        item = record(4, "eigen", seed, accuracy, accuracy, diagnostics=False)
        (folder / f"units8_tomita4_eigen_seed{seed}.json").write_text(json.dumps(item))
    text, _ = init_comparison.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "### Tomita grammars on the protocol that separates the initialisers (units8)" in text
    assert "| 4 | **70.0 ± 14.1** |" in text and "experiments/campaigns/eigen_tomita_hard.py" in text


def test_the_mnist_table_says_how_far_a_run_wobbles_late_in_training(tmp_path):
    curve = [(0, 0.1), (1000, 0.5), (2000, 0.6), (2500, 0.55), (3000, 0.62)]  # steps 2000-3000 count
    run = record(0, "identity", 0, 0.6, 0.62) | {
        "curve": [{"step": step, "split": "test", "accuracy": accuracy} for step, accuracy in curve]
    }
    lines = init_comparison.mnist_table([run])
    assert "fell by up to 5.0 points (median fall 5.0)" in " ".join(
        lines
    )  # 0.6 to 0.55; the rise is learning
    assert not init_comparison.wobble([record(0, "identity", 0, 0.6, 0.62)])  # one pass: nothing to say
