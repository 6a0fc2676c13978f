"""Kernel-side state snapshot and reset for the warm-kernel engine.

This module is imported *inside* a warm Jupyter kernel by
:class:`ipo_research.reports.engine.KernelSession`.  After the kernel has started and
preloaded the heavy libraries, :func:`snapshot` records the process state a report can
change; before every report :func:`reset` puts it back, so a report sees the same state
as in a kernel that was started for it alone:

* the user namespace (IPython ``reset``: variables, ``In``/``Out``, ``_`` history);
* the execution counter (the first cell of every report gets execution count 1);
* the working directory, ``sys.path``, ``os.environ`` and the warning filters;
* modules imported by a report from outside the Python installation (a helper module
  next to a notebook is imported afresh by the next report), except submodules of a
  package that was imported before the snapshot (a preloaded library, such as
  ``ipo_research`` itself in an editable install: re-importing it for every report would
  cost time and discard its caches of built-in definitions);
* matplotlib (figures closed, ``rcParams`` restored, inline figure formats), pandas
  options, numpy print and floating-point error options;
* the global random generators of :mod:`random` and ``numpy.random`` (seeded).

Libraries installed in the environment stay imported: that is the speed gain.
"""

from __future__ import annotations

import copy
import gc
import os
import random
import sys
import warnings
from typing import Any

_STATE: dict[str, Any] = {}


def _installation_prefixes() -> tuple[str, ...]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(os.path.realpath(p) + os.sep for p in prefixes)


def snapshot() -> None:
    """Record the state that :func:`reset` restores (call once, after preloading).

    When pyplot was preloaded, the inline backend is activated first (as ``%matplotlib
    inline`` does), so that figures of every report are shown as in a fresh kernel.
    """
    _STATE.clear()
    if "matplotlib.pyplot" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("matplotlib", "inline")
    _STATE["modules"] = set(sys.modules)
    _STATE["path"] = list(sys.path)
    _STATE["environ"] = dict(os.environ)
    _STATE["filters"] = list(warnings.filters)
    _STATE["prefixes"] = _installation_prefixes()
    _STATE["libraries"] = _preloaded_packages()
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        _STATE["rc"] = copy.deepcopy(dict(mpl.rcParams))
        inline = _inline_backend()
        if inline is not None:
            _STATE["inline"] = (set(inline.figure_formats), dict(inline.print_figure_kwargs))
    np = sys.modules.get("numpy")
    if np is not None:
        _STATE["np_print"] = np.get_printoptions()
        _STATE["np_err"] = np.geterr()


def _inline_backend() -> Any:
    try:
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # pragma: no cover - matplotlib-inline ships with ipykernel
        return None
    return InlineBackend.instance()


def _preloaded_packages() -> frozenset[str]:
    """Top-level packages (not plain modules) imported so far, e.g. ``ipo_research``."""
    return frozenset(name for name, module in list(sys.modules.items())
                     if "." not in name and getattr(module, "__path__", None) is not None)


def _drop_report_modules() -> None:
    """Forget modules a report imported from outside the Python installation.

    Submodules of packages imported before the snapshot stay: they are library code.
    """
    known: set[str] = _STATE["modules"]
    prefixes: tuple[str, ...] = _STATE["prefixes"]
    libraries: frozenset[str] = _STATE["libraries"]
    for name in [n for n in list(sys.modules) if n not in known]:
        if name.partition(".")[0] in libraries:
            continue
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if origin is None:
            continue
        if not os.path.realpath(origin).startswith(prefixes):
            del sys.modules[name]


def reset(cwd: str, seed: int) -> None:
    """Reset the kernel to the snapshot, change to ``cwd`` and seed the generators."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        # IPython's reset ends with gc.collect(), which costs ~0.2 s once pandas is
        # loaded; the cycles are collected by the automatic collector or on recycling.
        collect = gc.collect
        gc.collect = lambda *args, **kwargs: 0
        try:
            shell.reset(new_session=True)
        finally:
            gc.collect = collect
    _drop_report_modules()
    sys.path[:] = _STATE["path"]
    if dict(os.environ) != _STATE["environ"]:
        os.environ.clear()
        os.environ.update(_STATE["environ"])
    filters: list[Any] = warnings.filters  # type: ignore[assignment]
    filters[:] = _STATE["filters"]
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is not None:
        mutated()
    os.chdir(cwd)
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
        if "rc" in _STATE:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dict.update(mpl.rcParams, copy.deepcopy(_STATE["rc"]))
        if "inline" in _STATE and shell is not None:
            formats, kwargs = _STATE["inline"]
            inline = _inline_backend()
            if inline is not None and (
                set(inline.figure_formats) != formats or dict(inline.print_figure_kwargs) != kwargs
            ):
                from matplotlib_inline.backend_inline import set_matplotlib_formats

                inline.print_figure_kwargs = dict(kwargs)
                set_matplotlib_formats(*sorted(formats), **kwargs)
    pd = sys.modules.get("pandas")
    if pd is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.reset_option("all")
    np = sys.modules.get("numpy")
    if np is not None:
        if "np_print" in _STATE:
            np.set_printoptions(**_STATE["np_print"])
            np.seterr(**_STATE["np_err"])
        np.random.seed(seed)
    random.seed(seed)
