import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax import cli, data, models
from irnn_jax import config as config_lib
from irnn_jax.core import initializers
from irnn_jax.data import bible
from irnn_jax.tasks import translation
from irnn_jax.training import train

TEN_PAIRS = [
    ("el perro come pan.", "the dog eats bread."),
    ("el gato bebe agua.", "the cat drinks water."),
    ("la casa es grande.", "the house is big."),
    ("mi padre habla.", "my father speaks."),
    ("tu madre canta bien.", "your mother sings well."),
    ("el rey ve la luz.", "the king sees the light."),
    ("dios es amor.", "god is love."),
    ("el agua es buena.", "the water is good."),
    ("la luz del mundo.", "the light of the world."),
    ("yo soy el pan.", "i am the bread."),
]


def corpus(splits):
    """Arrays in the layout of ``bible_es_en`` from ``{split: [(spanish, english), ...]}``."""
    arrays = {"split": np.array([bible.SPLITS.index(s) for s, pairs in splits.items() for _ in pairs])}
    for index, language in enumerate(bible.LANGUAGES):
        encoded = [pair[index].encode() for pairs in splits.values() for pair in pairs]
        arrays[f"{language}_bytes"] = np.frombuffer(b"".join(encoded), np.uint8)
        arrays[f"{language}_offsets"] = np.cumsum([0] + [len(text) for text in encoded])
    return arrays


@pytest.fixture
def ten_pairs(monkeypatch):
    """``bible_es_en`` replaced by the ten pairs, the same in every split."""
    arrays = corpus(dict.fromkeys(bible.SPLITS, TEN_PAIRS))
    monkeypatch.setattr(data, "load", lambda name: arrays)
    return arrays


def test_text_survives_tokenising_and_detokenising_lower_cased():
    text = "The Lord\u2019s house (and) my father's, said: “Yes!” A well-known way—so."
    assert translation.tokenize(text)[:5] == ["the", "lord", "\u2019", "s", "house"]
    assert translation.detokenize(translation.tokenize(text)) == text.lower()


def test_bleu_of_identical_text_is_100_and_of_unrelated_text_0():
    references = ["In the beginning was the Word.", "The same was in the beginning with God."]
    assert translation.bleu(references, references) == pytest.approx(100.0)
    assert translation.bleu(["x y z w v", "a b c d e"], references) == 0.0
    with pytest.raises(ValueError, match="1 hypotheses for 2 references"):
        translation.bleu(references[:1], references)


def test_the_vocabulary_keeps_the_most_frequent_tokens_after_the_specials_and_others_read_as_unknown():
    vocab = translation.vocabulary([["b", "a", "b"], ["c", "b", "a"]], size=2)
    assert vocab == ("<pad>", "<unk>", "<s>", "</s>", "b", "a")
    ids = translation.encode([["a", "c"]], vocab, width=4, start=True)
    assert ids.tolist() == [[translation.START, 5, translation.UNKNOWN, translation.PAD]]


def test_a_pair_is_the_source_its_length_the_target_after_a_start_and_the_target_before_an_end(ten_pairs):
    task = translation.Translation(max_length=6, target_vocab=100)
    inputs, targets = task.arrays("train")
    vocab = task.vocabs[1]
    assert inputs["source_lengths"][0] == 5  # el perro come pan .
    assert [vocab[i] for i in inputs["target_inputs"][0]] == [
        "<s>",
        "the",
        "dog",
        "eats",
        "bread",
        ".",
        "<pad>",
    ]
    assert [vocab[i] for i in targets[0]] == ["the", "dog", "eats", "bread", ".", "</s>", "<pad>"]
    assert task.output_size == len(vocab) and task.vocab_size == len(task.vocabs[0])


def test_pairs_longer_than_max_length_on_either_side_are_left_out(ten_pairs):
    # "el rey ve la luz ." is 6 tokens on both sides, "the light of the world ." on the target side only
    assert translation.Translation(max_length=5).sizes() == dict.fromkeys(bible.SPLITS, 8)
    assert translation.Translation(max_length=6).sizes() == dict.fromkeys(bible.SPLITS, 10)


def lively_model(task, cell="lstm", layers=2):
    """A small encoder-decoder whose logits depend strongly on its inputs (unit-scale weights)."""
    return models.Seq2Seq(
        hidden_size=8,
        cell=cell,
        layers=layers,
        output_size=task.output_size,
        vocab_size=task.vocab_size,
        embed_size=4,
        input_init=initializers.gaussian(1.0),
        output_init=initializers.gaussian(1.0),
        embed_init=initializers.gaussian(1.0),
    )


def test_padding_never_changes_the_loss(ten_pairs):
    task = translation.Translation(max_length=8)
    model = lively_model(task)
    inputs, targets = task.arrays("train")
    params = model.init(jax.random.key(0), **inputs)["params"]
    logits = model.apply({"params": params}, **inputs)
    loss = float(task.loss(logits, targets))
    source_padding = np.arange(8)[None, :] >= inputs["source_lengths"][:, None]
    noisy = {
        **inputs,
        "source": np.where(source_padding, 7, inputs["source"]),
        "target_inputs": np.where(targets == translation.PAD, 9, inputs["target_inputs"]),
    }
    noisy_logits = model.apply({"params": params}, **noisy)
    assert not np.allclose(noisy_logits, logits)  # the padding is read, and changes what follows it
    assert task.loss(noisy_logits, targets) == pytest.approx(loss, rel=1e-6)
    scrambled = jnp.where(
        (targets == translation.PAD)[..., None],
        10 * jax.random.normal(jax.random.key(1), logits.shape),
        logits,
    )
    assert task.loss(scrambled, targets) == pytest.approx(loss, rel=1e-6)
    assert task.metrics(logits, targets)["count"] == np.sum(targets != translation.PAD)


def test_the_blocked_readout_gives_the_logits_loss_metrics_and_gradients(ten_pairs):
    task = translation.Translation(max_length=8)
    logits_model = lively_model(task)
    blocked_model = logits_model.clone(readout_kind="blocked")
    inputs, targets = task.arrays("train")
    params = logits_model.init(jax.random.key(0), **inputs)["params"]

    def loss_and_metrics(model, params):
        return task.loss_and_metrics(model.apply({"params": params}, **inputs), targets)

    (loss, metrics), grads = jax.value_and_grad(lambda p: loss_and_metrics(logits_model, p), has_aux=True)(
        params
    )
    (blocked_loss, blocked_metrics), blocked_grads = jax.value_and_grad(
        lambda p: loss_and_metrics(blocked_model, p), has_aux=True
    )(params)
    assert blocked_loss == pytest.approx(float(loss), rel=1e-5)
    for name in ("token_accuracy", "count"):
        assert blocked_metrics[name] == pytest.approx(float(metrics[name]), rel=1e-6)
    for got, want in zip(jax.tree.leaves(blocked_grads), jax.tree.leaves(grads), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_encoder_ends_each_source_at_its_last_real_token(ten_pairs):
    task = translation.Translation(max_length=8)
    model = lively_model(task, layers=1)
    inputs, _ = task.arrays("train")
    params = model.init(jax.random.key(0), **inputs)["params"]
    (state,) = model.apply({"params": params}, inputs["source"], inputs["source_lengths"], method="encode")
    alone = model.apply(
        {"params": params}, inputs["source"][:1, :5], inputs["source_lengths"][:1], method="encode"
    )
    for part, expected in zip(state, alone[0], strict=True):
        np.testing.assert_allclose(part[0], expected[0], rtol=1e-6)


@pytest.mark.slow
def test_a_model_trained_on_ten_pairs_translates_them_exactly(ten_pairs, tmp_path, capsys):
    config = config_lib.load("translation:quick")
    config.task.max_length = 8
    config.model.hidden_size = 64
    config.model.embed_size = 32
    config.optim.lr = 1e-2
    config.train.batch_size = 10
    config.train.eval_batch_size = 10
    config.train.steps = 300
    config.train.eval_every = 300
    fitted = train.fit(config, tmp_path / "run", log=lambda line: None, progress="none")
    run_task = translation.Translation(
        **{k: config.task[k] for k in ("max_length", "source_vocab", "target_vocab")}
    )
    model = models.ARCHITECTURES["seq2seq"](config.model, run_task.output_size, run_task.vocab_size)
    assert run_task.translate(model, fitted.state.params, "test") == [english for _, english in TEN_PAIRS]
    assert fitted.summary["test"]["bleu"] == pytest.approx(100.0)
    assert fitted.summary["test"]["token_accuracy"] == 1.0
    assert fitted.summary["examples"][0] == {
        "source": TEN_PAIRS[0][0],
        "reference": TEN_PAIRS[0][1],
        "translation": TEN_PAIRS[0][1],
    }
    assert [example["reference"] for example in fitted.summary["examples"]] == [
        TEN_PAIRS[row][1] for row in (0, 2, 4, 6, 9)
    ]
    texts = [TEN_PAIRS[6][0].upper(), TEN_PAIRS[0][0]]  # any texts, read lower-cased like the verses
    assert cli.main(["translate", str(tmp_path / "run"), *texts]) == 0
    assert capsys.readouterr().out.splitlines() == [TEN_PAIRS[6][1], TEN_PAIRS[0][1]]
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    (example,) = [block for block in blocks if "translate_texts" in block]
    namespace = {}
    exec(example.replace("runs/translation", str(tmp_path / "run")), namespace)
    assert namespace["english"] == [TEN_PAIRS[6][1]]  # the README's example: "Dios es amor."


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ("dios es amor.", TypeError, "got one string 'dios es amor.'; wrap it in a list"),
        (["dios es amor.", "  "], ValueError, "at least one word to translate, got '  '"),
    ],
)
def test_texts_to_translate_must_be_a_list_of_texts_with_words(texts, error, message):
    with pytest.raises(error, match=message):
        translation.Translation().translate_texts(None, None, texts)


def test_texts_translate_as_the_same_verses_of_a_split_do(ten_pairs):
    task = translation.Translation(max_length=8)
    model = lively_model(task)
    inputs, _ = task.arrays("test")
    params = model.init(jax.random.key(0), **inputs)["params"]
    verses = task.translate(model, params, "test")
    assert len(set(verses)) > 5  # the untrained model's translations differ with the source
    assert task.translate_texts(model, params, [spanish for spanish, _ in TEN_PAIRS]) == verses


def test_no_texts_translate_to_none():
    assert translation.Translation().translate_texts(None, None, []) == []


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        (
            {"source": "english"},
            ValueError,
            "source and target must be different languages, both are 'english'",
        ),
        ({"target": "french"}, ValueError, r"unknown target 'french'; allowed: spanish, english"),
        ({"dataset": "multi30k"}, ValueError, r"unknown dataset 'multi30k'; allowed: bible_es_en"),
        ({"max_length": 0}, ValueError, "max_length must be a positive int"),
    ],
)
def test_bad_fields_are_named(fields, error, message):
    with pytest.raises(error, match=message):
        translation.Translation(**fields)


@pytest.mark.parametrize(
    ("field", "value"), [("bidirectional", True), ("projection_size", 16), ("readout", "last")]
)
def test_an_encoder_decoder_refuses_the_fields_it_has_no_use_for(field, value):
    section = config_lib.load("translation:quick").model
    section[field] = value
    with pytest.raises(ValueError, match=f"model.{field} must be .* for an encoder-decoder, got {value!r}"):
        models.ARCHITECTURES["seq2seq"](section, 10, 10)


@pytest.mark.network
def test_the_real_pairs_within_50_tokens_and_the_copy_baseline():
    task = translation.Translation()
    assert task.sizes() == {"train": 26_636, "valid": 799, "test": 861}
    assert translation.Translation(max_length=40).sizes() == {"train": 23_108, "valid": 719, "test": 798}
    source, reference = task.references("test")
    assert source[0].startswith("EN el principio era el Verbo") and reference[0].startswith(
        "In the beginning"
    )
    assert 0 < task.baseline < 5
