import json

from irnn_jax.reproduce.studies import eigen_claims


def record(cell, init, score, metric="accuracy", diverged=False):
    result = {
        "command": "irnn-jax train ...",
        "config": {"model": {"cell": cell, "recurrent_init": {"name": init}}},
        "test": {metric: score},
    }
    return {**result, "diverged": "non-finite"} if diverged else result


def write(directory, campaign, records):
    (directory / campaign).mkdir(parents=True)
    for index, item in enumerate(records):
        (directory / campaign / f"{index}.json").write_text(json.dumps(item))


def test_each_claim_gets_the_comparisons_that_ran_eigen(tmp_path):
    write(
        tmp_path,
        "eigen_tomita",
        [
            record("irnn", "eigen", 0.9),
            record("irnn", "eigen", 0.7),  # mean 0.8
            *[record("irnn", "identity", 0.9)] * 2,
            *[record("irnn", "glorot_normal", 0.8)] * 2,  # a tie as shown: not beaten
            *[record("irnn", "np_rnn", 0.0, diverged=True)] * 2,  # chance, 0.5
        ],
    )
    # still running: eigen has run twice, orthogonal once, so the comparison is left out
    write(
        tmp_path,
        "eigen_gated_tomita",
        [record("gru", "eigen", 0.1), record("gru", "eigen", 0.1), record("gru", "orthogonal", 0.9)],
    )
    write(tmp_path, "eigen_gated_mnist", [record("lstm", "eigen", 0.95), record("lstm", "uniform", 0.90)])
    write(
        tmp_path,
        "eigen_translation",
        [record("gru", "orthogonal", 10.0, "bleu"), record("gru", "he_normal", 5.0, "bleu")],
    )
    text, figures = eigen_claims.section(tmp_path, tmp_path, tmp_path)
    assert "eigen was trained with LSTM, ReLU RNN" in text  # the GRU's are unfinished or lack eigen
    assert "GRU (" not in text
    assert "best initialiser (ties as shown included) in 1 of 2 comparisons" in text
    assert (
        "- Tomita (easy protocol), ReLU RNN (8 runs): eigen ranks 2 of 4 (eigen 80.0%; best IRNN (I) 90.0%)"
        in text
    )
    assert "- sequential MNIST, LSTM (2 runs): eigen ranks 1 of 2" in text
    assert "- Tomita (easy protocol), ReLU RNN: beats 1 of 3 (np-RNN (for sp-RNN))" in text
    assert "- sequential MNIST, LSTM: beats 0 of 0 (none)" in text
    assert "spectra of both kinds of task not recorded yet" in text and figures == []


def test_without_an_eigen_run_there_is_no_section(tmp_path):
    write(tmp_path, "eigen_mnist", [record("irnn", "identity", 0.9), record("irnn", "orthogonal", 0.5)])
    assert eigen_claims.section(tmp_path, tmp_path, tmp_path) == ("", [])


def one_seed_run(init, test, late_curve):
    steps = 2 * len(late_curve)
    curve = [
        {"step": steps // 2 + step, "split": "test", "accuracy": accuracy}
        for step, accuracy in enumerate(late_curve)
    ]
    return record("lstm", init, test) | {"steps": steps, "curve": curve}


def gated_mnist_claims(directory, runs):
    write(directory, "eigen_gated_mnist", runs)
    return eigen_claims.section(directory, directory, directory)[0]


def test_a_one_seed_comparisons_gaps_are_set_against_a_runs_late_wobble(tmp_path):
    runs = [
        one_seed_run("eigen", 0.95, [0.95, 0.90, 0.95]),  # falls 5 points once
        one_seed_run("glorot_normal", 0.92, [0.80, 0.92]),  # 3 points behind: within; a climb is no wobble
        one_seed_run("he_normal", 0.80, [0.80, 0.80]),  # 15 points behind: beyond
    ]
    text = gated_mnist_claims(tmp_path, runs)
    assert (
        "eigen ranks 1 of 3 (eigen 95.0%; best eigen 95.0%; "
        "a gap of 3.0 points to the runner-up, within one run's late wobble of 5.0 points)" in text
    )
    assert "beats 2 of 2 (Xavier (within one run's late wobble), Kaiming)" in text


def test_a_comparison_of_several_seeds_is_not_set_against_the_wobble(tmp_path):
    runs = [one_seed_run("eigen", 0.95, [0.95, 0.90]), one_seed_run("glorot_normal", 0.92, [0.92, 0.92])]
    text = gated_mnist_claims(tmp_path, runs + runs)
    assert "eigen ranks 1 of 2 (eigen 95.0%; best eigen 95.0%)" in text and "(Xavier)" in text


def translation_run(cell, init, bleu, seed=0):
    return record(cell, init, bleu, "bleu") | {
        "config": {"seed": seed, "model": {"cell": cell, "recurrent_init": {"name": init}}}
    }


def test_translations_gaps_are_set_against_the_spread_over_seeds_of_the_same_cell(tmp_path):
    comparison = [
        translation_run(cell, init, bleu)
        for cell in ("gru", "lstm")
        for init, bleu in (("eigen", 4.5), ("orthogonal", 5.0), ("glorot_normal", 4.0))
    ]
    write(tmp_path, "eigen_translation", comparison)
    write(tmp_path, "translation_seeds", [translation_run("gru", "orthogonal", 4.4, seed=1)])
    text, _ = eigen_claims.section(tmp_path, tmp_path, tmp_path)
    assert "a gap of 0.50 BLEU to the best, within the spread over 2 seeds of 0.60 BLEU)" in text
    unmeasured = "how far a score moves without a change of initialiser is not measured"
    assert f"(eigen 4.50 BLEU; best orthogonal 5.00 BLEU; {unmeasured})" in text  # the LSTM's
    assert "translation, GRU: beats 1 of 1 (Xavier (within the spread over 2 seeds))" in text
    assert "translation, LSTM: beats 1 of 1 (Xavier)" in text  # the GRU's seeds do not speak for it
    (tmp_path / "translation_seeds" / "lstm.json").write_text(
        json.dumps(translation_run("lstm", "orthogonal", 4.2, 1))
    )
    text, _ = eigen_claims.section(tmp_path, tmp_path, tmp_path)
    assert "translation, LSTM: beats 1 of 1 (Xavier (within the spread over 2 seeds))" in text
    assert "translation, GRU: beats 1 of 1 (Xavier (within the spread over 2 seeds))" in text


def test_a_gap_equal_to_the_wobble_as_shown_is_within_it(tmp_path):
    # 72.4 - 64.3 is 8.100000000000009 in floats; the wobble shows as 8.1 too
    runs = [one_seed_run("eigen", 0.724, [0.805, 0.724]), one_seed_run("he_normal", 0.643, [0.643])]
    text = gated_mnist_claims(tmp_path, runs)
    assert "a gap of 8.1 points to the runner-up, within one run's late wobble of 8.1 points" in text
    assert "beats 1 of 1 (Kaiming (within one run's late wobble))" in text


def test_a_gap_beyond_the_wobble_to_the_best_is_said_so(tmp_path):
    runs = [one_seed_run("eigen", 0.60, [0.62, 0.60]), one_seed_run("orthogonal", 0.90, [0.90])]
    text = gated_mnist_claims(tmp_path, runs)
    assert (
        "eigen ranks 2 of 2 (eigen 60.0%; best orthogonal 90.0%; a gap of 30.0 points to the best, beyond"
        in text
    )


def test_a_diverged_mnist_run_counts_as_ten_class_chance(tmp_path):
    runs = [record("irnn", "eigen", 0.3), record("irnn", "glorot_normal", 0.0, diverged=True)]
    write(tmp_path, "eigen_mnist", runs)
    text, _ = eigen_claims.section(tmp_path, tmp_path, tmp_path)
    assert "eigen ranks 1 of 2 (eigen 30.0%; best eigen 30.0%" in text and "beats 1 of 1 (Xavier)" in text
