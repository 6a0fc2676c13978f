"""Run report jobs on a Dask distributed cluster.

Workers execute :func:`ipo_research.reports.build.run_job` (each worker thread keeps its
own warm kernel) and send back the page and the executed notebook; the client writes them,
so the published tree is the same as with a local build.  Workers must be able to import
``ipo_research`` and read the plan's templates and inputs at the same paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ipo_research.errors import ReportError

if TYPE_CHECKING:  # pragma: no cover
    from ipo_research.reports.build import Job, Outcome

__all__ = ["run_on_dask"]


def run_on_dask(jobs: Sequence[Job], address: str) -> Iterator[Outcome]:
    """Submit the jobs to the scheduler at ``address``; yield outcomes as they finish.

    Warm kernels on the workers are shut down when the iteration ends.

    Raises
    ------
    ReportError
        When the scheduler cannot be reached.
    """
    import papermill  # noqa: F401  # first: its entry point imports our engine module
    from distributed import Client, as_completed

    from ipo_research.reports.build import run_job
    from ipo_research.reports.engine import shutdown_sessions

    try:
        client = Client(address, set_as_default=False, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise ReportError(f"cannot connect to the Dask scheduler: {err}",
                          context={"scheduler": address},
                          hint="check the address (tcp://host:8786) and that it runs") from err
    batch = uuid.uuid4().hex[:8]
    try:
        futures = [client.submit(run_job, job, key=f"ipo-report-{batch}-{i}", pure=False)
                   for i, job in enumerate(jobs)]
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        try:
            client.run(shutdown_sessions)
        finally:
            client.close()
