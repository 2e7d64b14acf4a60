import contextlib
import io
import pathlib
import re

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
