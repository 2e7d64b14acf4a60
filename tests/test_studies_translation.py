import json

from irnn_jax.reproduce.studies import translation as translation_study


def record(cell, init, valid_bleu, examples=(), seed=0):
    return {
        "command": f"irnn-jax train --config translation:cell={cell},init={init}",
        "config": {"seed": seed, "model": {"cell": cell, "recurrent_init": {"name": init}}},
        "steps": 4000,
        "wall_s": 1234.5,
        "baseline": 0.05,
        "valid": {"bleu": valid_bleu, "perplexity": 30.0},
        "test": {"bleu": valid_bleu + 1, "perplexity": 25.0},
        "curve": [
            {"step": 1000, "split": "valid", "bleu": valid_bleu / 2},
            {"step": 4000, "split": "valid", "bleu": valid_bleu},
        ],
        "examples": [
            dict(zip(("source", "reference", "translation"), texts, strict=True)) for texts in examples
        ],
    }


def write(directory, campaign, named):
    (directory / campaign).mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / campaign / f"{name}.json").write_text(json.dumps(item))


def test_the_comparison_is_tabled_by_cell_and_initialiser_with_the_best_runs_verses(tmp_path):
    write(
        tmp_path,
        "eigen_translation",
        {
            "lstm_orthogonal": record("lstm", "orthogonal", 9.0, [("uno", "one", "a one")]),
            "gru_eigen": record("gru", "eigen", 12.0, [("el | pan", "the | bread", "<unk> bread")]),
            "gru_orthogonal": record("gru", "orthogonal", 10.0, [("dos", "two", "two")]),
        },
    )
    text, figures = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    rows = [line for line in text.splitlines() if line.startswith(("| GRU", "| LSTM"))]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| LSTM", "orthogonal"],
        ["| GRU", "eigen (per gate block)"],
        ["| GRU", "orthogonal"],
    ]
    assert "| 4000 | 12.00 | 13.00 | 25.0 | 1234.5 |" in rows[1]
    assert "copying the Spanish verse unchanged scores 0.05 on test" in text
    assert "highest validation BLEU (GRU, eigen (per gate block); `gru_eigen`)" in text
    assert "| el \\| pan | the \\| bread | &lt;unk> bread |" in text
    assert [path.name for path in figures] == ["translation_bleu.png"] and figures[0].is_file()
    assert "- LSTM: test BLEU 10.00 (orthogonal).\n" in text
    assert (
        "- GRU: test BLEU from 11.00 (orthogonal) to 13.00 (eigen (per gate block)), a spread of 2.00; "
        "the best by validation BLEU: the same run.\n"
    ) in text


def test_the_reading_names_the_run_validation_picks_where_test_would_pick_another():
    picked = {**record("gru", "eigen", 12.0), "test": {"bleu": 5.0, "perplexity": 25.0}}
    diverged = {**record("gru", "he_normal", 0.0), "diverged": True}
    lines = translation_study.reading([picked, record("gru", "orthogonal", 10.0), diverged])
    assert lines == [
        "- GRU: test BLEU from 5.00 (eigen (per gate block)) to 11.00 (orthogonal), a spread of 6.00; "
        "the best by validation BLEU: eigen (per gate block) (5.00 on test); 1 diverged."
    ]


def test_the_seed_spread_sets_the_repeated_setting_beside_its_run_in_the_comparison(tmp_path):
    runs = {"gru_orthogonal": record("gru", "orthogonal", 10.0), "gru_eigen": record("gru", "eigen", 12.0)}
    write(tmp_path, "eigen_translation", runs)
    text, _ = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "how far BLEU moves from seed to seed is not measured here" in text
    seeds = {
        f"gru_orthogonal_seed{seed}": record("gru", "orthogonal", 9.5 + seed, seed=seed) for seed in (2, 1)
    }
    write(tmp_path, "translation_seeds", seeds)
    text, _ = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert (
        "(`experiments/campaigns/translation_seeds.py`), GRU with orthogonal: test BLEU 11.00, 11.50, "
        "12.50 at seeds 0, 1, 2, a spread of 1.50;"
    ) in text
    write(tmp_path, "translation_seeds", {"lstm_orthogonal_seed1": record("lstm", "orthogonal", 8.0, seed=1)})
    text, _ = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "a spread of 1.50; a difference" in text  # the LSTM's one run at seed 1 spreads nothing yet
    write(tmp_path, "eigen_translation", {"lstm_orthogonal": record("lstm", "orthogonal", 7.5)})
    text, _ = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert (
        "a spread of 1.50; LSTM with orthogonal: test BLEU 8.50, 9.00 at seeds 0, 1, a spread of 0.50;"
        in text
    )


def test_pilots_alone_give_their_table_and_a_diverged_run_says_where(tmp_path):
    diverged = {**record("irnn", "identity", 0.0), "diverged": True, "diverged_at": 700}
    write(
        tmp_path,
        "translation_pilots",
        {"gru_pilot": record("gru", "orthogonal", 3.0), "irnn_pilot": diverged},
    )
    text, figures = translation_study.section(tmp_path, tmp_path / "figures", tmp_path)
    assert "Pilots (`experiments/campaigns/translation_pilots.py`)" in text
    assert "| IRNN | identity | 4000 | diverged at step 700 | | " in text
    assert "The comparison" not in text and figures == []


def test_without_records_there_is_no_section(tmp_path):
    assert translation_study.section(tmp_path, tmp_path, tmp_path) == ("", [])
