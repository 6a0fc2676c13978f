"""A papermill engine that reuses warm Jupyter kernels.

Starting a kernel and importing pandas and matplotlib costs one to two seconds, which
dominates small reports.  :class:`KernelSession` keeps one kernel per worker thread,
preloads the heavy libraries once, and before every report resets the kernel to the state
it had right after preloading (see :mod:`ipo_research.reports._kernelside`): a fresh user
namespace, execution count 1, the same working directory, environment, ``sys.path``,
matplotlib/pandas/numpy options and seeded random generators.  After ``recycle_after``
reports, after a failure, or when the kernel died, the next report gets a new kernel.

Kernels run their BLAS (OpenBLAS, MKL, OpenMP) with one thread unless the environment sets
the thread variables itself: the engine already runs one kernel per core, and report-sized
matrices are far slower with several BLAS threads competing for the same cores (omega for
the RIPLS took 1.8 s with two OpenBLAS threads and 0.09 s with one on a 2-core machine).
One thread also makes the output independent of the number of workers.

The engine is registered with papermill as ``ipo_warm``::

    import papermill as pm
    import ipo_research.reports.engine  # registers the engine
    pm.execute_notebook("in.ipynb", "out.ipynb", engine_name="ipo_warm")

so papermill still parameterises the notebook, records cell timing and raises
:class:`papermill.exceptions.PapermillExecutionError` on a failing cell.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines
from papermill.log import logger

from ipo_research.errors import ReportError

__all__ = [
    "BLAS_THREAD_VARIABLES",
    "ENGINE_NAME",
    "KernelSession",
    "WarmKernelEngine",
    "session_for_thread",
    "shutdown_sessions",
]

#: Name under which the engine is registered with papermill.
ENGINE_NAME = "ipo_warm"
#: Matplotlib backend that makes figures appear as notebook outputs (the process may run
#: with ``MPLBACKEND=Agg``; the kernel must not).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Environment variables that set the number of BLAS/OpenMP threads in the kernel.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
_KERNELSIDE = "ipo_research.reports._kernelside"


class KernelSession:
    """One warm kernel, reused for many reports and reset between them.

    Parameters
    ----------
    kernel_name
        Jupyter kernel to start (must be a Python kernel that can import ``ipo_research``).
    recycle_after
        Number of reports after which the kernel is replaced by a fresh one.
    startup_timeout
        Seconds to wait for a kernel to start.
    preload
        Modules imported once, right after the kernel starts.
    seed
        Seed of ``random`` and ``numpy.random`` at the start of every report.
    blas_threads
        BLAS/OpenMP threads of the kernel, set through :data:`BLAS_THREAD_VARIABLES` where
        the environment does not set them already (``None``: the libraries' default).

    Notes
    -----
    A session belongs to one thread: its kernel client lives on that thread's event loop.
    """

    def __init__(self, *, kernel_name: str = "python3", recycle_after: int = 25,
                 startup_timeout: int = 60, preload: Iterable[str] = (), seed: int = 0,
                 blas_threads: int | None = 1) -> None:
        if recycle_after < 1:
            raise ReportError(f"recycle_after must be >= 1, got {recycle_after}",
                              hint="set engine.recycle_after in the plan to a positive number")
        if blas_threads is not None and blas_threads < 1:
            raise ReportError(f"blas_threads must be >= 1 or None, got {blas_threads}",
                              hint="pass None to keep the libraries' default")
        self.kernel_name = kernel_name
        self.recycle_after = recycle_after
        self.startup_timeout = startup_timeout
        self.preload = tuple(preload)
        self.seed = seed
        self.blas_threads = blas_threads
        self.km: Any = None
        self.kc: Any = None
        self.used = 0
        self.starts = 0
        self.last_nb: Any = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """Whether a kernel is started (and not yet shut down)."""
        return self.km is not None

    def start(self) -> None:
        """Start a kernel, preload modules and take the state snapshot."""
        from jupyter_client.manager import AsyncKernelManager

        self.shutdown()
        km = AsyncKernelManager(kernel_name=self.kernel_name)
        env = {**os.environ, "MPLBACKEND": INLINE_BACKEND, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        if self.blas_threads is not None:
            for name in BLAS_THREAD_VARIABLES:
                env.setdefault(name, str(self.blas_threads))
        try:
            run_sync(km.start_kernel)(env=env, stderr=subprocess.DEVNULL, extra_arguments=[
                "--HistoryManager.hist_file=:memory:"])
            kc = km.client()
            kc.start_channels()
            run_sync(kc.wait_for_ready)(timeout=self.startup_timeout)
        except Exception as err:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            raise ReportError(f"kernel {self.kernel_name!r} did not start: {err}",
                              hint="check `jupyter kernelspec list` and the environment") from err
        kc.allow_stdin = False
        self.km, self.kc = km, kc
        self.used = 0
        self.starts += 1
        imports = "".join(f"import {name}\n" for name in self.preload)
        self.control(f"{imports}__import__({_KERNELSIDE!r}, fromlist=['_']).snapshot()\n")

    def shutdown(self) -> None:
        """Stop the kernel (if any)."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)

    def control(self, code: str, timeout: float = 60) -> None:
        """Run engine code in the kernel, silently (no history, no execution count).

        Raises
        ------
        ReportError
            When the code fails in the kernel.
        """
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["header"]["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        reply = run_sync(self.kc.execute_interactive)(
            code, silent=True, store_history=False, timeout=timeout, output_hook=hook)
        content = reply["content"]
        if content["status"] != "ok":
            errors.append(f"{content.get('ename')}: {content.get('evalue')}")
        if errors:
            raise ReportError(f"the warm kernel could not be prepared: {errors[0]}",
                              context={"kernel": self.kernel_name},
                              hint="check that the kernel's Python can import ipo_research "
                                   "and the modules in engine.preload")

    def prepare(self, cwd: str | Path) -> None:
        """Get the kernel ready for the next report: start or recycle it, then reset it."""
        if self.running and (self.used >= self.recycle_after or not self._alive()):
            self.shutdown()
        if not self.running:
            self.start()
        self.control(f"__import__({_KERNELSIDE!r}, fromlist=['_']).reset("
                     f"{str(cwd)!r}, {int(self.seed)})\n")

    def finished(self, *, failed: bool) -> None:
        """Tell the session how a report ended; a failed report retires the kernel."""
        if failed:
            self.shutdown()

    def _alive(self) -> bool:
        return bool(run_sync(self.km.is_alive)())


class WarmKernelEngine(Engine):
    """Papermill engine executing notebooks in a :class:`KernelSession`.

    Extra keyword arguments (through ``papermill.execute_notebook(..., **engine_kwargs)``):
    ``session`` (a :class:`KernelSession`; default: this thread's session) and
    ``report_cwd`` (working directory of the report; default: the process's).  Do not use
    papermill's own ``cwd`` argument with this engine: it changes the directory of the
    whole process, which is unsafe with threads.
    """

    @classmethod
    def execute_managed_notebook(
        cls, nb_man: Any, kernel_name: str, log_output: bool = False,
        stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
        execution_timeout: int | None = None, session: KernelSession | None = None,
        report_cwd: str | Path | None = None, **kwargs: Any,
    ) -> Any:
        """Execute the managed notebook in a warm kernel (papermill's engine hook)."""
        session = session or session_for_thread(kernel_name=kernel_name,
                                                startup_timeout=start_timeout)
        session.prepare(report_cwd or os.getcwd())
        session.last_nb = nb_man.nb
        client = PapermillNotebookClient(
            nb_man, km=session.km, timeout=execution_timeout, startup_timeout=start_timeout,
            kernel_name=kernel_name, log=logger, log_output=log_output,
            stdout_file=stdout_file, stderr_file=stderr_file,
        )
        client.kc = session.kc
        try:
            return client.execute()
        except BaseException:
            session.shutdown()  # timeout, dead kernel, interrupt: never reuse this kernel
            raise
        finally:
            session.used += 1


# ---------------------------------------------------------------------- per-thread sessions
_LOCK = threading.Lock()
_SESSIONS: dict[tuple[int, tuple[Any, ...]], KernelSession] = {}


def session_for_thread(**options: Any) -> KernelSession:
    """Return this thread's warm session for the given options (created on first use).

    Parameters
    ----------
    **options
        Keyword arguments of :class:`KernelSession`.
    """
    key = (threading.get_ident(), tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = KernelSession(**options)
            _SESSIONS[key] = session
    return session


def shutdown_sessions() -> int:
    """Shut down every warm kernel started in this process; return how many were running.

    Sessions belong to threads, but stopping a kernel only needs its manager, so this
    may be called from any thread once the workers are done.
    """
    with _LOCK:
        sessions = list(_SESSIONS.values())
        _SESSIONS.clear()
    running = 0
    for session in sessions:
        if session.running:
            running += 1
            try:
                session.shutdown()
            except Exception:  # best effort: orphaned kernels exit with us
                session.km = session.kc = None
    return running


def _register(register: Callable[[str, type], None] = papermill_engines.register) -> None:
    register(ENGINE_NAME, WarmKernelEngine)


_register()
atexit.register(shutdown_sessions)
