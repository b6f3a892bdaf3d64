"""The retraining walkthrough runs top to bottom (small region, temporary data folder)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "retraining_walkthrough.ipynb"


@pytest.mark.slow
def test_walkthrough_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # a kernel spec pointing at this interpreter, whatever is on PATH
    kernels = tmp_path / "jupyter" / "kernels" / "plein-test"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "plein test", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("PLEIN_DATA_DIR", str(data))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("PLEIN_NOTEBOOK_CLIENTS", "2500")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="plein-test", timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "".join(
        o.get("text", "") + json.dumps(o.get("data", {}))
        for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "plein-ladder" in outputs
    assert "promoted to champion" in outputs or "NOT promoted" in outputs
    assert (data / "mlflow.db").exists()
    assert not any(o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_notebook_file_is_built_from_its_script():
    """The committed notebook matches notebooks/build_walkthrough.py (no hand edits drift)."""
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(NOTEBOOK.parent))
    try:
        import build_walkthrough
    finally:
        sys.path.pop(0)
    built = build_walkthrough.build()
    on_disk = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in on_disk.cells] == [c.source for c in built.cells]
