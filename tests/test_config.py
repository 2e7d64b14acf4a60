import json
import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import pytest

from irnn_jax import config as config_lib
from irnn_jax import models
from irnn_jax.core import initializers, recurrence
from irnn_jax.core.errors import ConfigError
from irnn_jax.training import workdir as workdir_lib

from .helpers import ADDING_CONFIG

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "results"


def test_parse_arg_reads_flags_and_literal_values():
    assert config_lib.parse_arg("quick,T=300", ("T", "quick")) == {"quick": True, "T": 300}
    assert config_lib.parse_arg(None, ("T",)) == {}


def test_parse_arg_refuses_unknown_keys_listing_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown config argument 'L' in 'L=3'; allowed: T, quick"):
        config_lib.parse_arg("L=3", ("T", "quick"))


def test_load_calls_get_config_with_the_variant():
    assert config_lib.load(f"{ADDING_CONFIG}:T=300").task.seq_len == 300
    assert config_lib.load(str(ADDING_CONFIG)).task.seq_len == 150


def test_the_adding_config_holds_the_paper_protocol_by_default():
    config = config_lib.load(str(ADDING_CONFIG))
    assert (config.model.hidden_size, config.model.cell) == (100, "irnn")
    assert config.model.recurrent_init.to_dict() == {"name": "identity", "gain": 1.0}
    assert config.model.input_init.to_dict() == {"name": "gaussian", "std": 1e-3}
    assert (config.optim.name, config.optim.clip_mode, config.train.batch_size) == ("sgd", "global_norm", 16)


@pytest.mark.parametrize("spec", ["missing.py", str(ADDING_CONFIG.parent), "setup.cfg", "addding"])
def test_load_refuses_a_name_or_path_that_is_not_a_config(spec):
    with pytest.raises(
        ValueError, match=r"neither a packaged config \(adding, mnist, ptb, speech, tomita, translation\)"
    ):
        config_lib.load(spec)


def test_a_packaged_config_loads_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_lib.load("adding:T=150").to_dict() == config_lib.load(f"{ADDING_CONFIG}:T=150").to_dict()
    assert config_lib.load("mnist:permuted").task.permuted


def test_the_config_paths_of_older_records_still_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no experiments/configs/ here: the packaged file stands in
    old = config_lib.load("experiments/configs/adding.py:demo")
    assert old.to_dict() == config_lib.load("adding:demo").to_dict()


def make_config():
    return ml_collections.ConfigDict({"optim": {"lr": 0.1, "name": "sgd", "steps": 10, "flag": False}})


@pytest.mark.parametrize(
    ("assignment", "path", "value"),
    [
        ("optim.lr=1e-3", "lr", 1e-3),
        ("optim.lr=1", "lr", 1.0),
        ("optim.name=adam", "name", "adam"),
        ("optim.steps=20", "steps", 20),
        ("optim.flag=True", "flag", True),
    ],
)
def test_override_sets_a_field_keeping_its_type(assignment, path, value):
    config = make_config()
    config_lib.override(config, assignment)
    assert config.optim[path] == value and type(config.optim[path]) is type(value)


@pytest.mark.parametrize(
    ("assignment", "error", "message"),
    [
        ("optim.lr=fast", TypeError, r"config field 'optim.lr' is a float \(0.1\), got 'fast' \(str\)"),
        ("optim.steps=2.5", TypeError, "'optim.steps' is a int"),
        (
            "optim.momentum=0.9",
            ValueError,
            "unknown config field 'optim.momentum'; known here: flag, lr, name, steps",
        ),
        ("model.hidden_size=3", ValueError, "unknown config field 'model'"),
        ("optim.lr", ValueError, "must look like field.path=value"),
    ],
)
def test_override_refuses_unknown_fields_and_wrong_types(assignment, error, message):
    with pytest.raises(error, match=message):
        config_lib.override(make_config(), assignment)


@pytest.mark.parametrize("cell", ["irnn", "rnn_relu", "rnn_tanh", "lstm", "gru"])
def test_the_adding_config_selects_each_cell_with_its_own_initialisation(cell):
    model = config_lib.load(f"{ADDING_CONFIG}:cell={cell}").model
    assert model.cell == cell
    inits = {part: model[f"{part}_init"].to_dict() for part in ("recurrent", "input", "bias", "output")}
    assert inits == config_lib.INIT_BY_CELL[cell]


def test_only_the_irnn_starts_from_the_papers_small_gaussian_input_and_readout_weights():
    small = {"name": "gaussian", "std": 1e-3}
    for cell in config_lib.INIT_BY_CELL:
        model = config_lib.default_model(cell)
        assert (model.input_init.to_dict() == small) == (cell == "irnn"), cell
        assert (model.output_init.to_dict() == small) == (cell == "irnn"), cell


@pytest.mark.parametrize("cell", ["irnn", "rnn_relu", "rnn_tanh", "lstm"])
def test_the_former_init_variants_give_a_baseline_the_initialisation_of_the_older_records(cell):
    model = config_lib.load(f"{ADDING_CONFIG}:cell={cell}{config_lib.former_init(cell)}").model
    assert model.input_init.to_dict() == model.output_init.to_dict() == {"name": "gaussian", "std": 1e-3}
    record = json.loads((RESULTS / "adding" / f"T150_{cell}_lr0.0003.json").read_text())
    assert workdir_lib.as_dict(model) == config_lib.complete(record["config"])["model"]


@pytest.mark.parametrize("name", ["T150_rnn_relu_lr0.0003", "T150_lstm_lr0.0003", "T150_irnn_lr0.0003"])
def test_a_recorded_command_is_made_to_give_the_initialisation_its_run_had(name):
    record = json.loads((RESULTS / "adding" / f"{name}.json").read_text())
    command = config_lib.reproducing_command(record["command"], record["config"]["model"])
    words = command.split()
    spec = words[words.index("--config") + 1]
    assert workdir_lib.as_dict(config_lib.load(spec).model) == config_lib.complete(record["config"])["model"]
    assert command == record["command"] or "io_init=irnn" not in record["command"]


def test_a_command_with_the_io_init_variant_or_a_cells_own_initialisation_is_left_as_it_is():
    own = workdir_lib.as_dict(config_lib.default_model("lstm"))
    former = workdir_lib.as_dict(config_lib.load("adding:cell=lstm,io_init=irnn").model)
    assert config_lib.reproducing_command("irnn-jax train --config adding:cell=lstm", own).endswith(
        "cell=lstm"
    )
    given = "irnn-jax train --config adding:cell=lstm,io_init=irnn --workdir w"
    assert config_lib.reproducing_command(given, former) == given
    assert config_lib.reproducing_command(
        "irnn-jax train --config mnist:quick,cell=lstm,permuted", former
    ) == ("irnn-jax train --config mnist:quick,cell=lstm,io_init=irnn,permuted")


@pytest.mark.parametrize("config", ["ptb:peer,cell=irnn,io_init=glorot", "speech:cell=irnn,io_init=glorot"])
def test_the_glorot_io_init_gives_the_irnn_the_baselines_input_and_readout_but_keeps_its_identity(config):
    model = config_lib.load(config).model
    own = config_lib.load(config.removesuffix(",io_init=glorot")).model
    assert model.input_init.to_dict() == model.output_init.to_dict() == {"name": "glorot_uniform"}
    assert own.input_init.to_dict() == own.output_init.to_dict() == config_lib.IRNN_IO["input"]
    assert model.recurrent_init.to_dict() == own.recurrent_init.to_dict()


def test_an_unknown_io_init_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown io_init 'paper'; allowed: standard, irnn, glorot"):
        config_lib.load(f"{ADDING_CONFIG}:io_init=paper")


def test_default_model_refuses_an_unknown_cell():
    with pytest.raises(
        ValueError, match="unknown cell 'lstmm'; allowed: irnn, rnn_relu, rnn_tanh, lstm, gru"
    ):
        config_lib.default_model("lstmm")


@pytest.mark.network
@pytest.mark.parametrize(
    "spec",
    [
        "adding.py",
        "adding.py:quick,T=300,cell=gru",
        "adding.py:demo",
        "mnist.py",
        "mnist.py:quick,permuted,cell=lstm",
        "tomita.py",
        "tomita.py:grammar=7,quick,cell=rnn_tanh",
        "ptb.py",
        "ptb.py:quick,level=char,cell=lstm",
        "speech.py",
        "speech.py:quick,dataset=japanese_vowels,bidirectional,cell=gru",
    ],
)
def test_every_config_variant_builds_its_task_model_and_optimiser(spec):
    from irnn_jax import models, tasks
    from irnn_jax.training import optim, train

    config = config_lib.load(str(ADDING_CONFIG.parent / spec))
    task = tasks.from_config(config.task)
    models.from_config(config.model, task.output_size, getattr(task, "vocab_size", 0))
    completed = config_lib.complete(config)
    optim.make_optimizer(completed["optim"])
    assert train.describe(completed).startswith(f"task {config.task.name}")


def test_a_config_file_that_fails_to_import_is_one_error_naming_it(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import not_a_module_anywhere\n")
    with pytest.raises(ValueError, match=r"broken\.py' failed to load: ModuleNotFoundError"):
        config_lib.load(str(broken))


def test_switching_the_initialiser_by_name_drops_the_old_arguments_and_takes_the_new_defaults():
    config = config_lib.load(str(ADDING_CONFIG))
    config_lib.override(config, "model.recurrent_init.name=eigen")
    assert config.model.recurrent_init.to_dict() == {"name": "eigen", **initializers.defaults("eigen")}
    assert "gain" not in config.model.recurrent_init


def test_an_initialiser_argument_overrides_even_across_types():
    config = config_lib.load(str(ADDING_CONFIG))
    config_lib.override(config, "model.recurrent_init.name=eigen")
    config_lib.override(config, "model.recurrent_init.magnitude=0.95")  # the default is a (low, high) pair
    assert config.model.recurrent_init.magnitude == 0.95
    models.from_config(config.model, 1)  # and the initialiser accepts it


def test_a_whole_initialiser_section_can_be_assigned():
    config = config_lib.load(str(ADDING_CONFIG))
    config_lib.override(config, "model.recurrent_init={'name': 'scaled_identity', 'scale': 0.5}")
    assert config.model.recurrent_init.to_dict() == {"name": "scaled_identity", "scale": 0.5}


def test_switching_to_an_unknown_initialiser_lists_the_known_ones():
    config = config_lib.load(str(ADDING_CONFIG))
    with pytest.raises(ConfigError, match=r"unknown initializer 'eigne'; known initializers: eigen"):
        config_lib.override(config, "model.recurrent_init.name=eigne")


@pytest.mark.parametrize(
    "name", ["adding.py", "mnist.py", "ptb.py", "speech.py", "tomita.py", "translation.py"]
)
def test_every_task_config_takes_an_init_variant(name):
    config = config_lib.load(f"{ADDING_CONFIG.parent / name}:init=np_rnn")
    assert config.model.recurrent_init.to_dict() == {"name": "np_rnn"}


def test_the_relu_rnn_baseline_keeps_a_784_step_state_bounded_where_the_random_walk_overflows():
    pixels = jax.random.normal(jax.random.key(0), (64, 784, 1)) * 0.1 - 0.42  # MNIST-like: background
    final_norms = {}
    for variants in ("", ",init=random_walk"):
        model = config_lib.load(f"{ADDING_CONFIG}:cell=rnn_relu{variants}").model
        inits = {
            f"{part}_init": initializers.get(**model[f"{part}_init"].to_dict())
            for part in ("recurrent", "input", "bias")
        }
        params = recurrence.init_rnn(jax.random.key(1), 1, model.hidden_size, **inits)
        states = recurrence.rnn(params, pixels, activation="relu")
        final_norms[variants] = float(jnp.linalg.norm(states[:, -1], axis=-1).mean())
    assert 0.0 < final_norms[""] < 100.0
    assert not final_norms[",init=random_walk"] < 1e6
