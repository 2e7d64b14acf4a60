"""The task interface's reading of headline metrics: direction and format."""

from irnn_jax.tasks import base


def test_accuracy_is_better_high_and_errors_losses_and_perplexities_low():
    assert base.higher_is_better("accuracy")
    assert not any(base.higher_is_better(name) for name in ("mse", "frame_error_rate", "perplexity"))


def test_percentages_read_as_percent_with_two_decimals_and_the_rest_with_five_digits():
    assert base.format_metric("accuracy", 0.96661) == "96.66%"
    assert base.format_metric("frame_error_rate", 0.1558) == "15.58%"
    assert base.format_metric("mse", 0.000422357) == "0.00042236"
