import json

import numpy as np
import pytest

from irnn_jax.reproduce.studies import eigen_spectra


def record(init, initial, trained, diverged=False):
    snapshots = [
        {
            "step": step,
            "eigenvalues_real": np.real(values).tolist(),
            "eigenvalues_imag": np.imag(values).tolist(),
        }
        for step, values in ((0, initial), (100, trained))
    ]
    result = {
        "config": {"model": {"recurrent_init": {"name": init}}},
        "command": f"irnn-jax train --config adding:demo,init={init}",
        "diagnostics": snapshots,
    }
    return result | ({"diverged": "non-finite loss", "diverged_at": 50} if diverged else {})


def write(directory, campaign, named):
    (directory / campaign).mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / campaign / f"{name}.json").write_text(json.dumps(item))


def test_the_table_and_reading_give_each_tasks_spectra_before_and_after_from_the_diagnostics(tmp_path):
    rotation = np.array([0.9 * np.exp(0.5j), 0.9 * np.exp(-0.5j)])
    write(
        tmp_path,
        "eigen_adding",
        {
            "adding_identity_seed0": record("identity", [1.0, 1.0], [1.2, 0.6]),
            "adding_eigen_seed0": record("eigen", rotation, rotation * 1.1),
            "adding_eigen_seed1": record("eigen", rotation, rotation, diverged=True),  # left out
        },
    )
    write(tmp_path, "eigen_mnist", {"mnist_orthogonal": record("orthogonal", [1.0], [2.0])})  # not compared
    text, figures = eigen_spectra.section(tmp_path, tmp_path / "figures", tmp_path)
    task = "| adding problem, T = 100 | regression"
    assert f"{task} | IRNN (I) | 1 | 1.000 -> 1.200 | 1.000 -> 0.900 | 0.000 -> 0.000 |" in text
    assert f"{task} | eigen | 1 | 0.900 -> 0.990 | 0.900 -> 0.990 | 0.500 -> 0.500 |" in text
    assert "- eigen, regression (1 runs): mean magnitude +0.090, mean absolute phase +0.000 rad" in text
    assert "classification" not in text.split("by kind of task:")[1]
    assert [path.name for path in figures] == ["eigen_spectra.png"] and figures[0].is_file()


def test_the_summary_is_radius_mean_magnitude_and_mean_absolute_phase():
    radius, magnitude, phase = eigen_spectra.summary(np.array([2.0, 1j, -1.0]))
    assert (radius, magnitude, phase) == pytest.approx((2.0, 4 / 3, (0 + np.pi / 2 + np.pi) / 3))


def test_without_spectra_there_is_no_section(tmp_path):
    assert eigen_spectra.section(tmp_path, tmp_path, tmp_path) == ("", [])


def test_the_kind_of_task_separates_a_change_only_when_all_classification_runs_lie_on_one_side(tmp_path):
    write(tmp_path, "eigen_adding", {"adding_identity": record("identity", [1.0, 1.0], [1.5, 1.0])})
    write(tmp_path, "eigen_mnist", {"mnist_identity": record("identity", [1.0, 1.0], [1.1, 1.0])})
    tomita = {
        f"tomita_identity_{n}": record("identity", [1.0, 1.0], [radius, 1.0])
        for n, radius in enumerate((1.2, 1.4))
    }
    write(tmp_path, "eigen_tomita", tomita)
    lines = eigen_spectra.separation(eigen_spectra.collect(tmp_path))
    radius, magnitude, phase = lines  # one line per quantity for the one initialiser that ran
    assert radius == (
        "- IRNN (I), spectral radius: regression +0.500 (adding problem, T = 100, 1 run); classification "
        "+0.100 (sequential pixel MNIST, 1 run), +0.300 (Tomita grammars 1-7, 2 runs, +0.200 to +0.400): "
        "every classification run's change lies below every regression run's."
    )
    assert magnitude.endswith("below every regression run's.")
    assert phase.endswith("the two kinds' runs overlap, so the kind of task does not separate them.")
    write(tmp_path, "eigen_tomita", {"tomita_identity_2": record("identity", [1.0, 1.0], [1.6, 1.0])})
    radius = eigen_spectra.separation(eigen_spectra.collect(tmp_path))[0]  # one run above, others below
    assert radius.endswith("the two kinds' runs overlap, so the kind of task does not separate them.")


def test_one_kind_of_task_alone_gives_no_separation(tmp_path):
    write(tmp_path, "eigen_adding", {"adding_identity": record("identity", [1.0], [1.5])})
    assert eigen_spectra.separation(eigen_spectra.collect(tmp_path)) == []
