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
