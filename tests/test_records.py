"""What the paper studies share: reading a campaign's records."""

from irnn_jax.reproduce import records as records_lib

from .test_studies_init_comparison import record, write


def test_loaded_records_carry_their_name_and_a_workdir_relative_to_the_repository(tmp_path):
    made = record(1, "identity", 0, 0.9, 0.8) | {
        "command": "irnn-jax train --config tomita --workdir /home/me/irnn_jax/experiments/campaigns/"
        "eigen_tomita.runs/g1 --config.seed=0"
    }
    write(tmp_path, "eigen_tomita", [made, record(2, "identity", 0, 0.9, 0.8)])

    loaded = records_lib.load(tmp_path, "eigen_tomita")

    assert [item["name"] for item in loaded] == ["0", "1"]
    assert loaded[0]["command"] == (
        "irnn-jax train --config tomita --workdir experiments/campaigns/eigen_tomita.runs/g1 --config.seed=0"
    )
    assert loaded[1]["command"] == record(2, "identity", 0, 0.9, 0.8)["command"]  # nothing to shorten


def curve_record(metric, valid, test, keep_best=None, best=None):
    points = [{"step": 10 * i, "split": "valid", metric: value} for i, value in enumerate(valid)]
    points += [{"step": 10 * i, "split": "test", metric: value} for i, value in enumerate(test)]
    result = {"config": {"train": {"keep_best": keep_best}}, "curve": points}
    return result | ({"best": best} if best else {})


def test_the_best_point_of_a_curve_follows_the_metrics_direction():
    assert records_lib.best_point(curve_record("mse", [0.5, 0.1, 0.1, 0.3], [0.6, 0.2, 0.0, 0.4]), "mse") == (
        10,
        0.1,
        0.2,
        False,
    )
    accuracy = curve_record("accuracy", [0.5, 0.9, 0.7], [0.4, 0.8, 0.9])
    assert records_lib.best_point(accuracy, "accuracy") == (10, 0.9, 0.8, False)
    assert records_lib.best_point(curve_record("mse", [], []), "mse") is None


def test_a_run_that_kept_its_best_checkpoint_is_read_at_that_point_not_at_its_curves():
    kept = {"metric": "mse", "step": 25, "valid": {"mse": 0.05}, "test": {"mse": 0.07}}
    record = curve_record("mse", [0.5, 0.1], [0.6, 0.2], keep_best="mse", best=kept)
    assert records_lib.best_point(record, "mse") == (25, 0.05, 0.07, True)
    assert records_lib.best_point(record | {"config": {"train": {}}}, "mse") == (10, 0.1, 0.2, False)


def test_a_runs_wall_time_is_its_elapsed_seconds_across_resumes_where_recorded():
    resumed = {"wall_s": 600.0, "resumed_from": 16000}
    assert records_lib.wall(resumed) == "600.0 (steps 16000 on)"  # the last part only, and says so
    assert records_lib.seconds(resumed) == 600.0
    assert records_lib.wall(resumed | {"elapsed_s": 3800.5}) == "3800.5"
    assert records_lib.seconds(resumed | {"elapsed_s": 3800.5}) == 3800.5
    assert records_lib.wall(resumed | {"elapsed_s": None}) == "600.0 (steps 16000 on)"  # unknown: not guessed
    assert records_lib.wall({"wall_s": 30.0, "resumed_from": None}) == "30.0"
