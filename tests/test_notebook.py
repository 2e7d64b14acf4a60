"""The quickstart notebook runs top to bottom (in its fast mode) and is committed without outputs."""

import json
import pathlib
import tempfile

import matplotlib

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "notebooks" / "quickstart.ipynb"


def code_cells():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def test_the_quickstart_notebook_is_committed_without_outputs():
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code_cells())


def test_the_quickstart_notebook_runs_top_to_bottom_in_its_fast_mode(monkeypatch, tmp_path):
    matplotlib.use("Agg")  # plt.show() draws nothing
    monkeypatch.setenv("IRNN_JAX_NOTEBOOK_FAST", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the notebook's runs go here
    namespace = {"__name__": "__main__"}
    for number, cell in enumerate(code_cells()):
        # Shell and magic lines (%pip install) are the notebook's set-up, not Python.
        source = "".join(line for line in cell["source"] if not line.lstrip().startswith(("%", "!")))
        exec(compile(source, f"{NOTEBOOK.name} cell {number}", "exec"), namespace)
    assert namespace["irnn"].summary["steps"] == 40
    assert int(namespace["loaded"].state.step) == 40
    assert len(namespace["norms"]) == 100 and all(norm > 0 for norm in namespace["norms"])
