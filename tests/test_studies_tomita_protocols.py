import json

from irnn_jax.reproduce.studies import tomita_protocols


def record(grammar, accuracy, wall=10.0, diverged=False):
    result = {
        "config": {"task": {"grammar": grammar}, "model": {}},
        "command": f"irnn-jax train --config tomita:grammar={grammar},quick",
        "wall_s": wall,
    }
    return result | (
        {"diverged": "non-finite loss", "diverged_at": 9} if diverged else {"test": {"accuracy": accuracy}}
    )


def write(directory, named):
    (directory / "tomita_protocols").mkdir(parents=True, exist_ok=True)
    for name, item in named.items():
        (directory / "tomita_protocols" / f"{name}.json").write_text(json.dumps(item))


def test_the_protocol_that_separates_the_initialisers_on_more_grammars_is_chosen(tmp_path):
    write(
        tmp_path,
        {
            "easy_tomita1_eigen": record(1, 1.0),
            "easy_tomita1_identity": record(1, 0.99),
            "easy_tomita2_eigen": record(2, 1.0),
            "easy_tomita2_identity": record(2, 0.95),
            "hard_tomita1_eigen": record(1, 0.9),
            "hard_tomita1_identity": record(1, 0.6),
            "hard_tomita2_eigen": record(2, 0.8, wall=5.0),
            "hard_tomita2_identity": record(2, 0.0, diverged=True),  # counts as chance, 50%
        },
    )
    text, figures = tomita_protocols.section(tmp_path, tmp_path, tmp_path)
    assert "| easy | 1.0 | 5.0 | 0 |" in text
    assert "| hard | 30.0 | 30.0 | 2 |" in text
    assert "Chosen: **hard**." in text and figures == []


def test_of_protocols_that_separate_alike_the_cheaper_is_chosen(tmp_path):
    write(
        tmp_path,
        {
            "slow_tomita1_a": record(1, 1.0, wall=50.0),
            "slow_tomita1_b": record(1, 0.5, wall=50.0),
            "fast_tomita1_a": record(1, 1.0, wall=5.0),
            "fast_tomita1_b": record(1, 0.7, wall=5.0),
        },
    )
    assert "Chosen: **fast**." in tomita_protocols.section(tmp_path, tmp_path, tmp_path)[0]
