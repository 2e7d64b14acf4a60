"""The run log's guard: one definition of a step that stayed finite, for training and sweeps."""

import numpy as np
import pytest

from irnn_jax.training import run_log


def step_metrics(runs=3, params=2):
    """Finite metrics of one step of ``runs`` runs with ``params`` parameter arrays."""
    norms = {name: np.ones(runs, np.float32) for name in run_log.FINITE_NORMS}
    flags = {name: np.ones((runs, params), bool) for name in ("grad_finite", "param_finite")}
    return norms | flags


@pytest.mark.parametrize("broken", [*run_log.FINITE_NORMS, "grad_finite", "param_finite"])
def test_a_run_is_not_finite_when_any_norm_or_any_parameter_array_is_not(broken):
    metrics = step_metrics()
    if broken.endswith("_finite"):
        metrics[broken][1, 0] = False
    else:
        metrics[broken][1] = np.nan
    assert np.asarray(run_log.finite(metrics)).tolist() == [True, False, True]


def test_the_guard_names_the_first_step_that_is_not_finite_and_its_parameters():
    stacked = step_metrics(runs=4)  # here the leading axis is four steps of one run
    stacked["update_l2"][2] = np.inf
    stacked["param_finite"][3, 1] = False
    with pytest.raises(
        run_log.TrainingDivergedError, match=r"step 12: .*non-finite parameters: none"
    ) as raised:
        run_log.check_finite(stacked, 10, ["w_hh", "w_ih"])
    assert raised.value.step == 12
