"""Malformed configs and command lines end in one clean error line and exit code 2."""

import copy
import json
import pathlib

import ml_collections
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irnn_jax import cli
from irnn_jax import config as config_lib
from irnn_jax.config import schema
from irnn_jax.training import optim, parts, train
from irnn_jax.training import workdir as workdir_lib

from .helpers import ADDING_CONFIG

CONFIG = f"{ADDING_CONFIG}:T=8,quick"
RESULTS = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "results"
NOT_A_NUMBER = st.sampled_from(["abc", "None", "[1, 2]", "{'a': 1}", "nan", "inf", "''", "(1,"])
NOT_AN_INT = NOT_A_NUMBER | st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x!r}.5"[:20])
POSITIVE_INT_FIELDS = [
    "train.steps",
    "train.batch_size",
    "train.log_every",
    "train.eval_every",
    "train.eval_batch_size",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "model.hidden_size",
    "model.layers",
    "model.unroll",
    "task.held_out_size",
]
NAME_FIELDS = [
    "optim.name",
    "optim.clip_mode",
    "model.cell",
    "model.readout",
    "train.on_divergence",
    "task.name",
    "model.recurrent_init.name",
]


def invalid_override() -> st.SearchStrategy[str]:
    """``field=value`` overrides that no valid config has."""
    ints = st.tuples(st.sampled_from(POSITIVE_INT_FIELDS), st.integers(max_value=0).map(str) | NOT_AN_INT)
    names = st.tuples(
        st.sampled_from(NAME_FIELDS), st.text(alphabet="abcxyz_0", min_size=1, max_size=8).map(repr)
    )
    numbers = st.one_of(
        st.tuples(st.just("optim.lr"), st.floats(max_value=0).map(repr) | NOT_A_NUMBER),
        st.tuples(st.just("optim.clip"), st.floats(max_value=0, exclude_max=False).map(repr) | NOT_A_NUMBER),
        st.tuples(
            st.just("optim.momentum"),
            (st.floats(min_value=1) | st.floats(max_value=-1e-9)).map(repr) | NOT_A_NUMBER,
        ),
        st.tuples(
            st.just("train.rollback_lr_factor"),
            (st.floats(min_value=1) | st.floats(max_value=0)).map(repr) | NOT_A_NUMBER,
        ),
        st.tuples(st.just("train.max_rollbacks"), st.integers(max_value=-1).map(str) | NOT_AN_INT),
        st.tuples(st.just("seed"), st.integers(max_value=-1).map(str) | NOT_AN_INT),
        st.tuples(st.just("task.seq_len"), st.integers(max_value=1).map(str) | NOT_AN_INT),
        st.tuples(st.just("model.embed_size"), st.integers().filter(bool).map(str) | NOT_AN_INT),
        st.tuples(st.just("model.projection_size"), st.integers(max_value=-1).map(str) | NOT_AN_INT),
        st.tuples(st.just("model.bidirectional"), st.sampled_from(["0", "1", "'yes'", "None"])),
        st.tuples(st.just("model.forget_bias"), NOT_A_NUMBER),
        st.tuples(
            st.sampled_from(["foo", "model.foo", "optim.learning_rate", "train.epochs", "task.T"]),
            st.integers().map(str),
        ),
    )
    return st.one_of(ints, names, numbers).map(lambda pair: f"{pair[0]}={pair[1]}")


def assert_one_clean_error(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (argv, captured.err)
    assert len(lines) == 1 and lines[0].startswith("irnn-jax: error: "), (argv, captured.err)
    assert "Traceback" not in captured.err


@settings(max_examples=400, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(overrides=st.lists(invalid_override(), min_size=1, max_size=3))
def test_a_malformed_config_override_is_one_clean_error_before_training(overrides, capsys, tmp_path):
    argv = ["train", "--config", CONFIG, "--workdir", str(tmp_path)]
    assert_one_clean_error(argv + [f"--config.{item}" for item in overrides], capsys)


def garbage_command_lines() -> st.SearchStrategy[list[str]]:
    """Command lines that are wrong before any config field is read."""
    token = st.text(alphabet="abc-=.:/_", min_size=1, max_size=10)
    return st.one_of(
        st.lists(token, max_size=4).map(lambda rest: ["frobnicate", *rest]),
        st.lists(token, max_size=3).map(lambda rest: ["train", *rest]),  # no --config / --workdir
        token.map(lambda path: ["train", "--config", f"/nonexistent/{path}.py", "--workdir", "w"]),
        token.map(lambda variant: ["train", "--config", f"{ADDING_CONFIG}:{variant}x", "--workdir", "w"]),
        st.just(["train", "--config", CONFIG, "--workdir", "w", "--config.optim.lr"]),
        token.map(
            lambda grid: ["sweep", "--config", CONFIG, "--workdir", "w", "--grid", grid.replace("=", "")]
        ),
        token.map(lambda name: ["data", "verify", f"{name}_not_a_dataset"]),
    )


@settings(max_examples=120, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=garbage_command_lines())
def test_a_malformed_command_line_is_one_clean_error(argv, capsys):
    assert_one_clean_error(argv, capsys)


REQUIRED = [
    (section, field)
    for section, fields in (
        ("model", ("hidden_size", *schema.models.INIT_FIELDS)),
        ("optim", schema.OptimSettings.required()),
        ("task", ("seq_len", "held_out_size")),
        ("train", schema.TrainSettings.required()),
    )
    for field in fields
]
OPTIONAL = [
    *(("model", field) for field in schema.model_defaults()),
    *(("optim", field) for field in schema.OptimSettings.defaults()),
    *(("train", field) for field in schema.TrainSettings.defaults()),
]


@pytest.mark.parametrize(("section", "field"), REQUIRED)
def test_a_missing_required_field_is_named(section, field):
    broken = config_lib.load(CONFIG).to_dict()
    del broken[section][field]
    with pytest.raises(ValueError, match=f"{section} is missing field\\(s\\) {field}"):
        schema.validate(ml_collections.ConfigDict(broken))


def test_the_required_fields_are_those_without_a_default():
    assert schema.TrainSettings.required() == ("batch_size", "steps", "eval_every", "checkpoint_every")
    assert schema.OptimSettings.required() == ("name", "lr")
    assert {field for _, field in OPTIONAL if _ == "model"} | {
        "hidden_size",
        *schema.models.INIT_FIELDS,
    } == set(schema.MODEL_FIELDS)


@pytest.mark.parametrize(("section", "field"), OPTIONAL)
def test_a_field_left_out_takes_its_default_in_the_built_run(section, field):
    config = config_lib.load(CONFIG).to_dict()
    config[section][field] = default = schema.complete({section: {}})[section][field]
    short = copy.deepcopy(config)
    del short[section][field]
    schema.validate(short)
    run = parts.build(ml_collections.ConfigDict(short))
    assert run.config[section][field] == default
    assert workdir_lib.as_dict(run.config) == workdir_lib.as_dict(parts.build(config).config)


def test_a_whole_section_of_the_wrong_type_is_named():
    config = config_lib.load(CONFIG).to_dict()
    config["optim"] = 0.1
    with pytest.raises(TypeError, match="optim must be a section with fields name, lr"):
        schema.validate(config)


def test_the_demo_decay_follows_a_longer_budget_instead_of_ending_at_its_own():
    config = config_lib.load("adding:demo")
    config_lib.override(config, "train.steps=20000")
    completed = schema.complete(config)
    assert completed["optim"]["decay_steps"] == 20_000
    assert schema.schedule_note(completed) is None


def test_a_decay_that_ends_before_the_last_step_is_named_when_the_run_starts():
    config = config_lib.load("adding:demo")
    config_lib.override(config, "train.steps=20000")
    config_lib.override(config, "optim.decay_steps=8000")
    line = train.describe(schema.complete(config))
    assert "note: optim.decay_steps=8000 ends the cosine decay at step 8000 of train.steps=20000" in line
    config_lib.override(config, "optim.decay_steps=None")  # the way out the note names
    assert schema.complete(config)["optim"]["decay_steps"] == 20_000


def test_a_recorded_decay_keeps_its_number():
    record = json.loads((RESULTS / "demo_seed0.json").read_text())
    assert (
        schema.complete(record["config"])["optim"]["decay_steps"] == record["config"]["optim"]["decay_steps"]
    )


def test_an_optimizer_built_alone_from_a_decay_that_follows_the_budget_says_what_it_needs():
    with pytest.raises(
        ValueError, match=r"optim.decay_steps=None \(decay over train.steps\) needs the train"
    ):
        optim.make_optimizer({"name": "adam", "lr": 1e-3, "decay_steps": None})


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_an_unknown_name_is_refused_naming_its_dotted_field(field, capsys, tmp_path):
    argv = ["train", "--config", CONFIG, "--workdir", str(tmp_path), f"--config.{field}='bogus'"]
    assert_one_clean_error(argv, capsys)
    cli.main(argv)
    assert f"{field}" in capsys.readouterr().err
