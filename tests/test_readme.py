import contextlib
import io
import pathlib
import re

import jax

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_python_example_runs_and_beats_the_baseline_tenfold():
    example = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL).group(1)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(example, str(README), "exec"), {})
    printed = output.getvalue()
    test_mse, baseline = map(float, re.search(r"test MSE ([\d.]+); .* scores ([\d.]+)", printed).groups())
    assert test_mse < 0.1 * baseline


def test_the_readme_lists_the_slow_modules_that_conftest_marks():
    from .conftest import SLOW_MODULES

    line = README.read_text().split("Slow modules (marked `slow` in `tests/conftest.py`): ")[1].split(".")[0]
    assert re.findall(r"`(test_\w+)`", line) == list(SLOW_MODULES)


def test_the_readme_registration_example_registers_the_example_parts_by_name(scoped_registries):
    from irnn_jax import tasks
    from irnn_jax.core import initializers, optimizers

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    (example,) = [block for block in blocks if "tasks.register(" in block]
    exec(compile(example, str(README), "exec"), {})
    assert tasks.task_class("delayed_recall").__name__ == "DelayedRecall"
    assert initializers.get("uniform_diagonal", low=0.5, high=0.5)(jax.random.PRNGKey(0), (2, 2))[0, 0] == 0.5
    assert optimizers.REGISTRY.get("lion").__name__ == "lion"
