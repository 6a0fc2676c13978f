"""Report plans: which templates to run for which parameter sets, and where pages go.

A plan is a YAML file.  Paths in it are relative to ``root`` (itself relative to the plan
file; default: the plan's folder).  Example::

    root: ..
    output_dir: reports              # published tree (HTML only)
    executed_dir: build/executed     # executed notebooks, for audit
    datasets:
      responses: data/processed/demo/responses.parquet
    templates:
      team:
        path: notebooks/03_leerteam.ipynb
        title: "Leerteam {leerteam}"
        inputs: [responses]          # dataset names, paths or globs (hashed for the cache)
        params:
          leerteam: {type: str}
          min_n: {type: int, default: 10, min: 1}
    reports:
      - template: team
        grid:                        # cartesian product of the lists
          leerteam: {distinct: {dataset: responses, column: Leerteam}}
        parameters: {min_n: 10}      # the same for every report of this entry
        output: "leerteam/{leerteam}.html"

``grid`` values are lists or ``{distinct: {dataset:, column:, where: {column: value}}}``
(one report per distinct non-missing value found in the data); ``cases`` is an explicit
list of parameter mappings, crossed with the grid.  Output patterns use the complete
parameters (declared defaults included), slugified; the report id is the output path
without ``.html``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ipo_research.errors import ReadError, ReportError
from ipo_research.reports.params import (
    ParamSpec,
    _found,
    parse_declarations,
    read_template_defaults,
    validate_reports,
)

__all__ = ["EngineOptions", "Plan", "ReportSpec", "TemplateSpec", "load_plan", "slugify"]

_PLAN_KEYS = {"root", "output_dir", "executed_dir", "log_dir", "cache", "title", "lang",
              "engine", "datasets", "templates", "reports"}
_TEMPLATE_KEYS = {"path", "title", "inputs", "params", "cwd", "description"}
_ENTRY_KEYS = {"template", "grid", "cases", "parameters", "output", "title"}
#: Plan keys that hold one value (a path or a name), with an example for error messages.
_PLAN_TEXT_KEYS = {"root": "root: ..", "output_dir": "output_dir: reports",
                   "executed_dir": "executed_dir: build/executed", "log_dir": "log_dir: build/logs",
                   "cache": "cache: .ipo_cache/reports.json", "title": "title: Rapporten",
                   "lang": "lang: nl"}


def slugify(value: Any) -> str:
    """Return a lowercase ASCII slug of ``value`` for use in a file name.

    Examples
    --------
    >>> slugify("Hogeschool Windesheim")
    'hogeschool-windesheim'
    >>> slugify("ZW-2223-07")
    'zw-2223-07'
    >>> slugify("Sport & Bewegen")
    'sport-bewegen'
    """
    if isinstance(value, list | tuple):
        value = "-".join(str(v) for v in value)
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")


@dataclass(frozen=True)
class EngineOptions:
    """How reports are executed.

    Attributes
    ----------
    kernel
        Jupyter kernel name.
    recycle_after
        Start a fresh kernel after this many reports on one worker.
    cell_timeout
        Seconds one cell may run (``None``: no limit).
    startup_timeout
        Seconds a kernel may take to start.
    preload
        Modules imported once per kernel before the first report (speed only: reports
        still import what they use).
    seed
        Seed of ``random`` and ``numpy.random`` at the start of every report.

    Every option is type- and range-checked on construction (a
    :class:`~ipo_research.errors.ReportError` names the option, what it expects and what
    it found); :meth:`from_mapping` also refuses unknown options and names the plan file.
    """

    kernel: str = "python3"
    recycle_after: int = 25
    cell_timeout: int | None = 600
    startup_timeout: int = 60
    preload: tuple[str, ...] = ("numpy", "pandas", "matplotlib.pyplot")
    seed: int = 0

    def __post_init__(self) -> None:
        for name in _ENGINE_RULES:
            _check_engine_option(name, getattr(self, name), None)
        object.__setattr__(self, "preload", tuple(self.preload))

    @classmethod
    def from_mapping(cls, raw: Any, *, file: str | None = None) -> EngineOptions:
        """Build the options from a plan's ``engine:`` mapping, checking every value.

        Parameters
        ----------
        raw
            The parsed ``engine:`` value (``None``: all defaults).
        file
            The plan file, for error messages.

        Raises
        ------
        ReportError
            When ``engine`` is not a mapping, names an unknown option, or an option has
            the wrong type or is out of range (the message names the option, what it
            expects and what it found).

        Examples
        --------
        >>> EngineOptions.from_mapping({"recycle_after": 10, "preload": ["numpy"]}).preload
        ('numpy',)
        """
        options = _mapping(raw, "engine", file, "engine: {recycle_after: 25, cell_timeout: 600}",
                           expected="a mapping of engine options")
        unknown = sorted(str(k) for k in options if k not in _ENGINE_RULES)
        if unknown:
            raise ReportError(f"invalid 'engine' options: unknown option(s) {unknown}", file=file,
                              context={"key": "engine"},
                              hint=f"allowed: {sorted(_ENGINE_RULES)}")
        for name, value in options.items():
            _check_engine_option(str(name), value, file)
        values: dict[str, Any] = {
            str(k): (tuple(v) if k == "preload" else v) for k, v in options.items()}
        return cls(**values)


#: Engine option -> (what it must be, in words; a YAML example).
_ENGINE_RULES: dict[str, tuple[str, str]] = {
    "kernel": ("a Jupyter kernel name (text)", "kernel: python3"),
    "recycle_after": ("a whole number >= 1", "recycle_after: 25"),
    "cell_timeout": ("a whole number of seconds >= 1, or null for no limit",
                     "cell_timeout: 600"),
    "startup_timeout": ("a whole number of seconds >= 1", "startup_timeout: 60"),
    "preload": ("a list of module names", "preload: [numpy, pandas, matplotlib.pyplot]"),
    "seed": (f"a whole number from 0 to {2**32 - 1}", "seed: 0"),
}
_MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_engine_option(name: str, value: Any, file: str | None) -> None:
    """Refuse an engine option of the wrong type or out of range."""
    if name in ("recycle_after", "startup_timeout"):
        ok = _is_int(value) and value >= 1
    elif name == "cell_timeout":
        ok = value is None or (_is_int(value) and value >= 1)
    elif name == "seed":
        ok = _is_int(value) and 0 <= value < 2**32
    elif name == "kernel":
        ok = isinstance(value, str) and bool(value.strip())
    else:  # preload: the names are imported in the kernel, so only dotted names pass
        ok = isinstance(value, list | tuple)
        bad = [v for v in value if not (isinstance(v, str) and _MODULE_NAME.match(v))] if ok \
            else []
        if bad:
            ok, value = False, bad[0]
    if not ok:
        expected, example = _ENGINE_RULES[name]
        raise ReportError(
            f"engine option {name!r} must be {expected}, found {_found(value)}", file=file,
            context={"key": f"engine.{name}"}, hint=f"write e.g. '{example}' under 'engine:'",
        )


def _mapping(value: Any, key: str, file: str | None, example: str, *,
             expected: str = "a mapping") -> dict[Any, Any]:
    """Return ``value`` as a dict (``None``: empty) or refuse another shape."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ReportError(f"{key!r} must be {expected}, found {_found(value)}", file=file,
                          context={"key": key}, hint=f"write e.g. '{example}'")
    return dict(value)


def _list(value: Any, key: str, file: str | None, example: str, *,
          expected: str = "a list") -> list[Any]:
    """Return ``value`` as a list (``None``: empty) or refuse another shape."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReportError(f"{key!r} must be {expected}, found {_found(value)}", file=file,
                          context={"key": key}, hint=f"write e.g. '{example}'")
    return value


def _text(value: Any, key: str, file: str | None, example: str) -> str:
    """Return a scalar (text or number) as text, or refuse a list, mapping or boolean."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ReportError(f"{key!r} must be text, found {_found(value)}", file=file,
                          context={"key": key}, hint=f"write e.g. '{example}'")
    return str(value)


@dataclass(frozen=True)
class TemplateSpec:
    """A report template (notebook) with its declared parameters and inputs."""

    name: str
    path: Path
    title: str
    inputs: tuple[str, ...]
    params: Mapping[str, ParamSpec]
    cwd: Path
    description: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """One report of a plan: a template, complete parameters and an output page."""

    id: str
    template: str
    template_path: Path
    parameters: Mapping[str, Any]
    output: Path
    title: str
    lang: str

    def to_json(self, root: Path) -> dict[str, Any]:
        """Return a JSON-ready description (paths relative to ``root`` where possible)."""
        return {
            "id": self.id,
            "template": self.template,
            "template_path": _rel(self.template_path, root),
            "parameters": dict(self.parameters),
            "output": self.output.as_posix(),
            "title": self.title,
            "lang": self.lang,
        }


@dataclass(frozen=True)
class Plan:
    """A loaded, validated report plan (see the module docstring for the YAML)."""

    file: Path
    root: Path
    output_dir: Path
    executed_dir: Path
    log_dir: Path
    cache_file: Path
    title: str
    lang: str
    engine: EngineOptions
    datasets: Mapping[str, Path]
    templates: Mapping[str, TemplateSpec]
    reports: tuple[ReportSpec, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data (what ``reports plan --json`` prints)."""
        return {
            "plan": str(self.file),
            "root": str(self.root),
            "output_dir": _rel(self.output_dir, self.root),
            "executed_dir": _rel(self.executed_dir, self.root),
            "count": len(self.reports),
            "reports": [r.to_json(self.root) for r in self.reports],
        }

    def input_files(self, template: str) -> list[Path]:
        """Return the existing files the template declares as inputs (globs expanded).

        Raises
        ------
        ReportError
            When a declared input matches no file.
        """
        spec = self.templates[template]
        files: list[Path] = []
        for item in spec.inputs:
            pattern = str(self.datasets[item]) if item in self.datasets else str(self.root / item)
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else (
                [pattern] if Path(pattern).is_file() else [])
            if not matches:
                raise ReportError(
                    f"input {item!r} of template {template!r} matches no file",
                    file=str(self.file), context={"path": pattern},
                    hint="build the processed data first (ipo-research clean) or fix 'inputs'",
                )
            files.extend(Path(m) for m in matches)
        return files


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str, file: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ReportError(f"unknown key(s) {unknown} in {where}", file=file,
                          hint=f"allowed keys: {sorted(allowed)}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReadError("cannot read the report plan", file=str(path),
                        hint="check the path") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ReadError(f"the report plan is not valid YAML: {getattr(err, 'problem', err)}",
                        file=str(path), row=mark.line + 1 if mark else None,
                        hint="fix the YAML syntax") from err
    if not isinstance(data, dict):
        raise ReportError("the report plan must be a YAML mapping", file=str(path),
                          hint="start with keys such as 'templates:' and 'reports:'")
    return data


def distinct_values(path: Path, column: str, where: Mapping[str, Any] | None = None, *,
                    file: str | None = None) -> list[Any]:
    """Return the sorted distinct non-missing values of ``column`` in a Parquet or CSV file.

    Raises
    ------
    ReportError
        When the file cannot be read or lacks the column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys([column, *(where or {})]))
    try:
        if path.suffix == ".csv":
            table = pacsv.read_csv(path)
            names = table.column_names
        else:
            names = pq.read_schema(path).names
        missing = [c for c in columns if c not in names]
        if missing:
            raise ReportError(
                f"dataset has no column(s) {missing}", file=file,
                context={"dataset": str(path)}, hint=f"use one of {names}",
            )
        if path.suffix != ".csv":
            table = pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as err:
        raise ReportError(
            f"cannot read distinct values of column {column!r}: {err}", file=file,
            context={"dataset": str(path)},
            hint="check that the dataset exists (ipo-research clean) and is Parquet or CSV",
        ) from err
    for name, value in (where or {}).items():
        table = table.filter(pc.equal(table[name], value))
    values = [v for v in pc.unique(table[column]).to_pylist() if v is not None and v != ""]
    return sorted(values, key=lambda v: (str(type(v)), v))


class _DistinctMemo:
    """Distinct values remembered per (file size, mtime): reading Parquet needs pyarrow and
    pandas (about a second to import), which an unchanged plan should not pay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False
        try:
            self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def values(self, dataset: Path, column: str, where: Mapping[str, Any] | None,
               file: str) -> list[Any]:
        key = json.dumps([str(dataset), column, where or {}], sort_keys=True)
        try:
            st = dataset.stat()
            stamp = [st.st_size, st.st_mtime_ns]
        except OSError:
            stamp = None
        known = self.data.get(key)
        if stamp is not None and known and known.get("stamp") == stamp:
            return list(known["values"])
        values = distinct_values(dataset, column, where, file=file)
        if stamp is not None:
            self.data[key] = {"stamp": stamp, "values": values}
            self.changed = True
        return values

    def save(self) -> None:
        if not self.changed:
            return
        from ipo_research.reports.cache import atomic_write

        # only a speed-up: a read-only checkout still loads plans
        with contextlib.suppress(ReportError):
            atomic_write(self.path, json.dumps(self.data, default=str))


def _expand_grid(grid: Mapping[str, Any], datasets: Mapping[str, Path],
                 root: Path, file: str, memo: _DistinctMemo) -> list[dict[str, Any]]:
    axes: list[list[tuple[str, Any]]] = []
    for name, spec in (grid or {}).items():
        if isinstance(spec, list):
            values = spec
        elif isinstance(spec, dict) and set(spec) == {"distinct"}:
            example = "{distinct: {dataset: responses, column: Leerteam}}"
            src = _mapping(spec["distinct"], f"grid.{name}.distinct", file, example,
                           expected="a mapping with 'dataset' and 'column'")
            _check_keys(src, {"dataset", "column", "where"}, f"grid {name!r} 'distinct'", file)
            if "column" not in src or "dataset" not in src:
                raise ReportError(f"grid {name!r}: 'distinct' needs 'dataset' and 'column'",
                                  file=file, hint=f"e.g. {example}")
            column = _text(src["column"], f"grid.{name}.distinct.column", file, example)
            dataset_name = _text(src["dataset"], f"grid.{name}.distinct.dataset", file, example)
            where = _mapping(src.get("where"), f"grid.{name}.distinct.where", file,
                             "where: {Regio: Zwolle}",
                             expected="a mapping of column name to value")
            for column_name, value in where.items():
                if not isinstance(value, str | int | float | bool):
                    raise ReportError(
                        f"grid {name!r}: 'where' value of column {column_name!r} must be one "
                        f"value (text, number or boolean), found {_found(value)}", file=file,
                        context={"key": f"grid.{name}.distinct.where.{column_name}"},
                        hint="write e.g. 'where: {Regio: Zwolle}'; make one grid entry per value",
                    )
            dataset = datasets.get(dataset_name, root / dataset_name)
            values = memo.values(dataset, column, where, file=file)
        else:
            raise ReportError(
                f"grid {name!r} must be a list of values or {{distinct: ...}}, got {spec!r}",
                file=file, hint="write a YAML list, e.g. [Zwolle, Deventer]",
            )
        axes.append([(name, v) for v in values])
    return [dict(combo) for combo in itertools.product(*axes)]


def _format(pattern: str, values: Mapping[str, Any], *, slug: bool, what: str,
            file: str) -> str:
    fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    unknown = sorted({f for f in fields if f not in values})
    if unknown:
        raise ReportError(
            f"{what} pattern {pattern!r} uses unknown name(s) {unknown}", file=file,
            hint=f"use parameters of the template: {sorted(values)}",
        )
    shown = {k: (slugify(v) if slug else v) for k, v in values.items()}
    return pattern.format_map(shown)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a report plan; expand its grids into reports.

    Every report's parameters are validated before anything runs.

    Parameters
    ----------
    path
        The plan (YAML).

    Returns
    -------
    Plan

    Raises
    ------
    ReadError
        When the plan cannot be read or parsed.
    ReportError
        For an unknown key, a value of the wrong shape (``templates``, ``datasets``,
        ``grid``, ``parameters``, ``cases`` or ``engine`` given as a list or a scalar; the
        message names the key, the expected shape and what was found), an engine option of
        the wrong type or out of range, a missing template, a bad grid, output pattern or
        duplicate output.
    ParameterError
        For unknown, missing, ill-typed or not-allowed parameters (all reports checked).
    """
    file = Path(path).resolve()
    where = str(path)
    data = _read_yaml(file)
    _check_keys(data, _PLAN_KEYS, "the plan", where)
    for key, example in _PLAN_TEXT_KEYS.items():
        if key in data:
            _text(data[key], key, where, example)
    root = (file.parent / str(data.get("root", "."))).resolve()
    lang = str(data.get("lang", "nl"))
    engine = EngineOptions.from_mapping(data.get("engine"), file=where)
    datasets = {
        str(k): root / _text(v, f"datasets.{k}", where, f"{k}: data/processed/{k}.parquet")
        for k, v in _mapping(data.get("datasets"), "datasets", where,
                             "datasets: {responses: data/processed/demo/responses.parquet}",
                             expected="a mapping of dataset name to path").items()
    }

    templates: dict[str, TemplateSpec] = {}
    for name, raw in _mapping(data.get("templates"), "templates", where,
                              "templates: {leerteam: {path: notebooks/03_leerteam.ipynb}}",
                              expected="a mapping of template name to settings").items():
        key = f"templates.{name}"
        raw = {"path": raw} if isinstance(raw, str) else _mapping(
            raw, key, where, f"{name}: {{path: notebooks/{name}.ipynb, params: {{...}}}}",
            expected="a notebook path or a mapping with 'path'")
        _check_keys(raw, _TEMPLATE_KEYS, f"template {name!r}", where)
        if "path" not in raw:
            raise ReportError(f"template {name!r} has no 'path'", file=where,
                              hint="give the notebook path relative to the plan's root")
        for sub in ("path", "title", "cwd", "description"):
            if sub in raw:
                _text(raw[sub], f"{key}.{sub}", where, f"{sub}: ...")
        inputs = _list(raw.get("inputs"), f"{key}.inputs", where, "inputs: [responses]",
                       expected="a list of dataset names, paths or globs")
        tpath = (root / str(raw["path"])).resolve()
        if not tpath.is_file():
            raise ReportError(f"template {name!r} not found", file=where,
                              context={"path": str(tpath)}, hint="fix 'path'")
        defaults = read_template_defaults(tpath)
        templates[str(name)] = TemplateSpec(
            name=str(name), path=tpath, title=str(raw.get("title", name)),
            inputs=tuple(_text(i, f"{key}.inputs", where, "inputs: [responses]")
                         for i in inputs),
            params=parse_declarations(raw.get("params"), defaults, template=str(name),
                                      file=where),
            cwd=(root / str(raw["cwd"])).resolve() if "cwd" in raw else tpath.parent,
            description=str(raw.get("description", "")),
        )

    cache_file = root / str(data.get("cache", ".ipo_cache/reports.json"))
    memo = _DistinctMemo(cache_file.with_name("distinct.json"))
    pending: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    entries = _list(data.get("reports"), "reports", where,
                    "reports: [{template: team, grid: {...}, output: \"team/{leerteam}.html\"}]",
                    expected="a list of report entries (each starting with '- template:')")
    for index, entry in enumerate(entries, start=1):
        label = f"reports entry {index}"
        if not isinstance(entry, dict):
            raise ReportError(f"{label} must be a mapping, found {_found(entry)}", file=where,
                              context={"key": f"reports[{index}]"},
                              hint="give 'template', 'grid'/'cases' and 'output'")
        _check_keys(entry, _ENTRY_KEYS, label, where)
        key = f"reports[{index}]"
        tname = entry.get("template")
        if not isinstance(tname, str) or tname not in templates:
            raise ReportError(f"{label} names unknown template {tname!r}", file=where,
                              hint=f"use one of {sorted(templates)}")
        if "output" not in entry or not isinstance(entry["output"], str) or \
                not entry["output"].endswith(".html"):
            raise ReportError(f"{label} needs an 'output' pattern ending in .html", file=where,
                              context={"key": f"{key}.output"},
                              hint="e.g. output: \"leerteam/{leerteam}.html\"")
        if entry.get("title") is not None:
            _text(entry["title"], f"{key}.title", where, "title: \"Leerteam {leerteam}\"")
        fixed = _mapping(entry.get("parameters"), f"{key}.parameters", where,
                         "parameters: {min_n: 10}",
                         expected="a mapping of parameter name to value")
        cases = _list(entry.get("cases"), f"{key}.cases", where,
                      "cases: [{min_n: 5}, {min_n: 20}]",
                      expected="a list of parameter mappings") or [{}]
        for number, case in enumerate(cases, start=1):
            _mapping(case, f"{key}.cases[{number}]", where, "- {min_n: 5}",
                     expected="a mapping of parameter name to value")
        grid = _mapping(entry.get("grid"), f"{key}.grid", where,
                        "grid: {region: [Zwolle, Deventer]}",
                        expected="a mapping of parameter name to a list of values")
        for combo in _expand_grid(grid, datasets, root, where, memo):
            for case in cases:
                values = {**fixed, **combo, **dict(case)}
                pending.append((str(tname), str(entry["output"]),
                                {"title": entry.get("title")}, values))

    complete = _validate_named(pending, templates, where)

    reports: list[ReportSpec] = []
    seen: dict[str, int] = {}
    for (tname, out_pattern, extra, _), params in zip(pending, complete, strict=True):
        names = {**params, "template": tname}
        out = _format(out_pattern, names, slug=True, what="output", file=where)
        rel = Path(out)
        if rel.is_absolute() or ".." in rel.parts or any(p == "" for p in out.split("/")):
            raise ReportError(f"output {out!r} must be a relative path inside output_dir",
                              file=where, hint="remove leading '/' and '..' from the pattern")
        report_id = rel.with_suffix("").as_posix()
        if report_id in seen:
            raise ReportError(
                f"two reports write the same page {out!r}", file=where,
                context={"report": report_id},
                hint="add the differing parameters to the output pattern",
            )
        seen[report_id] = len(reports)
        title_pattern = extra.get("title") or templates[tname].title
        title = _format(str(title_pattern), names, slug=False, what="title", file=where)
        reports.append(ReportSpec(
            id=report_id, template=tname, template_path=templates[tname].path,
            parameters=params, output=rel, title=title,
            lang=str(params.get("lang", lang)),
        ))

    memo.save()  # only for a valid plan: a refused plan writes nothing
    return Plan(
        file=file, root=root,
        output_dir=root / str(data.get("output_dir", "reports")),
        executed_dir=root / str(data.get("executed_dir", "build/executed")),
        log_dir=root / str(data.get("log_dir", "build/logs")),
        cache_file=cache_file,
        title=str(data.get("title", "Rapporten")), lang=lang, engine=engine,
        datasets=datasets, templates=templates, reports=tuple(reports),
    )


def _validate_named(pending: list[tuple[str, str, dict[str, Any], dict[str, Any]]],
                    templates: Mapping[str, TemplateSpec], where: str) -> list[dict[str, Any]]:
    """Validate with readable report names (the output pattern filled with raw values)."""
    def name(tname: str, pattern: str, values: Mapping[str, Any]) -> str:
        try:
            return str(Path(pattern.format_map(
                {**{k: slugify(v) for k, v in values.items()}, "template": tname}
            )).with_suffix("").as_posix())
        except (KeyError, ValueError, IndexError):
            return f"{tname} {dict(values)!r}"

    return validate_reports(
        ((name(t, o, v), templates[t].params, v) for t, o, _, v in pending), file=where,
    )
