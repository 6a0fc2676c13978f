"""The warm-kernel papermill engine: reuse without leaking state between reports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from papermill.engines import papermill_engines

from ipo_research.errors import ReportError
from ipo_research.reports.engine import ENGINE_NAME, KernelSession, WarmKernelEngine

pytestmark = pytest.mark.notebooks

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test templates in a project folder, with the small dataset they read."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(FIXTURES, root / "notebooks")
    (root / "data").mkdir()
    rng = np.random.default_rng(20241122)
    pd.DataFrame({"region": rng.choice(["Zwolle", "Deventer"], 30),
                  "score": rng.normal(3.5, 0.6, 30).round(2)}).to_csv(
        root / "data" / "scores.csv", index=False)
    return root / "notebooks"


@pytest.fixture(scope="module")
def session() -> Iterator[KernelSession]:
    """One warm kernel (recycled after 4 reports) shared by the tests of this module."""
    warm = KernelSession(preload=("numpy", "pandas", "matplotlib.pyplot"), recycle_after=4)
    yield warm
    warm.shutdown()


def run(session: KernelSession, notebooks: Path, name: str, **parameters: Any) -> Any:
    nb = nbformat.read(notebooks / name, as_version=4)
    return pm.execute_notebook(
        nb, None, parameters=parameters, engine_name=ENGINE_NAME, kernel_name="python3",
        progress_bar=False, request_save_on_cell_execute=False, session=session,
        report_cwd=str(notebooks))


def outputs(nb: Any) -> list[Any]:
    """Cell sources, execution counts and outputs: everything a page is made of.

    stderr streams are left out: published pages drop them (``html.sanitise``), and a
    fresh kernel on a loaded or new machine may write environment notices there (e.g.
    matplotlib building its font cache) that say nothing about state from a former report.
    """
    def shown(cell: Any) -> list[Any]:
        return [o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]

    return [(c.source, c.get("execution_count"), shown(c)) for c in nb.cells]


def state(nb: Any) -> dict[str, Any]:
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return json.loads(text.split("STATE=")[1].splitlines()[0])


def test_engine_is_registered_with_papermill() -> None:
    assert papermill_engines.get_engine(ENGINE_NAME) is WarmKernelEngine


def test_report_output_does_not_depend_on_the_report_before_it(
        session: KernelSession, notebooks: Path) -> None:
    first = run(session, notebooks, "probe.ipynb")  # first report of a new kernel
    run(session, notebooks, "leaky.ipynb")
    after_leaky = run(session, notebooks, "probe.ipynb")
    run(session, notebooks, "basic.ipynb", region="Deventer")  # fourth report: the kernel is recycled
    after_basic = run(session, notebooks, "probe.ipynb")
    assert session.starts == 2
    expected = state(first)
    assert expected["leak"] is False and expected["helper_calls"] == 1
    assert expected["env"] is None and expected["cwd"] == "notebooks"
    assert state(after_leaky) == expected
    assert state(after_basic) == expected
    assert outputs(after_leaky) == outputs(first)  # same text, same figure bytes
    assert outputs(after_basic) == outputs(first)
    assert [c.execution_count for c in first.cells if c.cell_type == "code"] == [1, 2, 3]
    pngs = [o for c in first.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 1


def test_a_global_set_by_one_report_is_gone_in_the_next(
        session: KernelSession, notebooks: Path) -> None:
    run(session, notebooks, "leaky.ipynb")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('LEAK' in globals(), 'helper' in globals())"),
    ])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = pm.execute_notebook(nb, None, engine_name=ENGINE_NAME, kernel_name="python3",
                              progress_bar=False, session=session, report_cwd=str(notebooks))
    assert out.cells[-1].outputs[0]["text"] == "False False\n"


def test_failed_report_retires_the_kernel(session: KernelSession, notebooks: Path) -> None:
    with pytest.raises(pm.PapermillExecutionError, match=r"cannot open /home/lector"):
        run(session, notebooks, "failing.ipynb")
    # the build marks the report as failed; the kernel is then shut down
    session.finished(failed=True)
    assert not session.running
    printed = next(c for c in session.last_nb.cells if c.source.startswith("print("))
    assert printed.outputs[0]["text"] == "before the failure\n"


def test_recycle_after_must_be_positive() -> None:
    with pytest.raises(ReportError, match=r"recycle_after must be >= 1, got 0"):
        KernelSession(recycle_after=0)
