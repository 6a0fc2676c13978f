"""Typed report parameters: declaration, inference from the template, validation.

A plan declares the parameters of each template::

    params:
      region: {type: str, choices: [Zwolle, Deventer]}   # no default: required
      min_n: {type: int, default: 10, min: 1}
      lang: {choices: [nl, en], default: nl}             # type inferred from the template

A declaration without ``type`` takes the type of the default assigned in the template's
``parameters`` cell.  A declaration without ``default`` is required.  Every declared name
must be assigned in that cell (a typo in the plan is caught before anything runs).

:func:`validate_reports` checks every report of a plan at once and raises one
:class:`~ipo_research.errors.ParameterError` that names the report, the parameter, what was
expected and what was received (papermill itself only warns about unknown parameters).
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipo_research.errors import ParameterError, ReportError

__all__ = [
    "TYPES",
    "ParamSpec",
    "parse_declarations",
    "read_template_defaults",
    "validate_reports",
]

#: Parameter types a plan may declare, with the Python types they accept.
TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "list[str]": (list,),
    "list[int]": (list,),
    "list[float]": (list,),
}
_ITEM_TYPES: dict[str, tuple[type, ...]] = {
    "list[str]": (str,),
    "list[int]": (int,),
    "list[float]": (float, int),
}
_MISSING: Any = object()
_KEYS = {"type", "default", "choices", "min", "max", "nullable", "help"}


@dataclass(frozen=True)
class ParamSpec:
    """The declaration of one report parameter.

    Attributes
    ----------
    name
        Parameter name, as assigned in the template's ``parameters`` cell.
    type
        One of :data:`TYPES` (``str``, ``int``, ``float``, ``bool``, ``list[str]``...).
    default
        Value used when a report does not set the parameter; ``required`` when absent.
    choices
        Allowed values (``None``: any value of the type).
    min, max
        Inclusive bounds for ``int`` and ``float``.
    nullable
        Whether ``None`` (YAML ``null``) is allowed.
    help
        One-line description (shown by ``reports plan``).
    """

    name: str
    type: str
    default: Any = _MISSING
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    nullable: bool = False
    help: str = ""

    @property
    def required(self) -> bool:
        """Whether every report must set this parameter."""
        return self.default is _MISSING

    def describe(self) -> str:
        """Return what this parameter expects, in words (used in error messages)."""
        text = self.type
        if self.choices is not None:
            text = f"{text} in {list(self.choices)!r}"
        if self.min is not None:
            text = f"{text} >= {self.min}"
        if self.max is not None:
            text = f"{text} <= {self.max}"
        if self.nullable:
            text = f"{text} or null"
        return text

    def problem(self, value: Any) -> str | None:
        """Return why ``value`` is not allowed, or ``None`` when it is."""
        if value is None:
            return None if self.nullable else "null is not allowed"
        if not _is_type(value, self.type):
            return "wrong type"
        if self.type in _ITEM_TYPES:
            bad = [v for v in value if not _is_type(v, self.type[5:-1])]
            if bad:
                return f"list items must be {self.type[5:-1]}"
        if self.type == "float" and not math.isfinite(float(value)):
            return "not a finite number"
        if self.choices is not None and value not in self.choices:
            return "not one of the allowed values"
        if self.min is not None and value < self.min:
            return f"below the minimum {self.min}"
        if self.max is not None and value > self.max:
            return f"above the maximum {self.max}"
        return None

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in its canonical Python type (``float`` for ints given as float)."""
        if value is None:
            return None
        if self.type == "float":
            return float(value)
        if self.type == "list[float]":
            return [float(v) for v in value]
        if isinstance(value, list):
            return list(value)
        return value


def _is_type(value: Any, type_name: str) -> bool:
    if isinstance(value, bool) and type_name != "bool":
        return False
    return type_name in TYPES and isinstance(value, TYPES[type_name])


def _type_of(value: Any) -> str | None:
    """Return the declared type name that matches a template default, if any."""
    if isinstance(value, bool):
        return "bool"
    for name in ("int", "float", "str"):
        if type(value) in TYPES[name][:1]:
            return name
    if isinstance(value, list) and value:
        for name in ("list[str]", "list[int]", "list[float]"):
            if all(_is_type(v, name[5:-1]) for v in value):
                return name
    return None


def read_template_defaults(path: Path) -> dict[str, Any]:
    """Return the names and literal defaults assigned in a template's ``parameters`` cell.

    Parameters
    ----------
    path
        Notebook (``.ipynb``) with one code cell tagged ``parameters``.

    Returns
    -------
    dict
        Name to default value; a default that is not a literal maps to ``None``.

    Raises
    ------
    ReportError
        When the notebook cannot be read, has no ``parameters`` cell, or that cell is
        not valid Python.
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(
            "cannot read the report template", file=str(path),
            hint="check that the file exists and is a Jupyter notebook (.ipynb)",
        ) from err
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list) or not all(
            isinstance(c, dict) and isinstance(c.get("metadata", {}), dict)
            for c in nb.get("cells", [])):
        raise ReportError(
            f"the report template is JSON but not a Jupyter notebook (found {_found(nb)})",
            file=str(path),
            hint="give the path of an .ipynb notebook saved by JupyterLab or Jupyter Notebook",
        )
    cells = [
        c for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if not cells:
        raise ReportError(
            "the report template has no cell tagged 'parameters'", file=str(path),
            hint="tag the cell that assigns the parameter defaults with 'parameters' "
                 "(JupyterLab: property inspector > cell tags)",
        )
    source = cells[0].get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise ReportError(
            f"the parameters cell's source must be text, found {_found(source)}",
            file=str(path), hint="open the notebook in JupyterLab and save it again",
        )
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ReportError(
            f"the parameters cell is not valid Python: {err.msg}", file=str(path),
            row=err.lineno, hint="fix the parameters cell",
        ) from err
    defaults: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    defaults[target.id] = ast.literal_eval(value)
                except ValueError:
                    defaults[target.id] = None
    return defaults


def parse_declarations(
    declared: Mapping[str, Any] | None, template_defaults: Mapping[str, Any], *,
    template: str, file: str | None = None,
) -> dict[str, ParamSpec]:
    """Turn the ``params`` mapping of a plan's template into :class:`ParamSpec` objects.

    Parameters
    ----------
    declared
        ``{name: {type:, default:, choices:, min:, max:, nullable:, help:}}``; a bare string
        is a type (``region: str``).
    template_defaults
        Result of :func:`read_template_defaults` for the template.
    template, file
        Template name and plan file, for error messages.

    Raises
    ------
    ParameterError
        For an unknown type or key, a name the parameters cell does not assign, a type that
        cannot be inferred, or a default that breaks its own declaration.
    """
    specs: dict[str, ParamSpec] = {}
    if declared is not None and not isinstance(declared, Mapping):
        raise ParameterError(
            f"'params' of template {template!r} must be a mapping of parameter name to its "
            f"declaration, found {_found(declared)}", file=file,
            context={"template": template, "key": f"templates.{template}.params"},
            hint="write e.g. 'params: {region: {type: str}, min_n: {type: int, default: 10}}'",
        )
    for name, raw in (declared or {}).items():
        where = {"template": template, "parameter": name}
        if raw is not None and not isinstance(raw, str | Mapping):
            raise ParameterError(
                f"the declaration of parameter {name!r} must be a type name or a mapping, "
                f"found {_found(raw)}", file=file, context=where,
                hint=f"write e.g. '{name}: {{type: str, choices: [a, b]}}' or '{name}: str'",
            )
        decl: dict[str, Any] = {"type": raw} if isinstance(raw, str) else dict(raw or {})
        _check_declaration_shapes(name, decl, file, where)
        unknown = sorted(set(decl) - _KEYS)
        if unknown:
            raise ParameterError(
                f"unknown key(s) {unknown} in the declaration of parameter {name!r}",
                file=file, context=where, hint=f"use only {sorted(_KEYS)}",
            )
        if name not in template_defaults:
            raise ParameterError(
                f"parameter {name!r} is declared in the plan but not assigned in the "
                f"template's parameters cell (it assigns {sorted(template_defaults)})",
                file=file, context=where, hint="fix the name in the plan or add it to the cell",
            )
        type_name = decl.get("type") or _type_of(
            decl["default"] if decl.get("default") is not None else template_defaults[name]
        )
        if type_name not in TYPES:
            raise ParameterError(
                f"parameter {name!r} has type {type_name!r}, expected one of {list(TYPES)}",
                file=file, context=where,
                hint="declare 'type' (the template default gives no usable type)"
                if type_name is None else f"use one of {list(TYPES)}",
            )
        choices = decl.get("choices")
        spec = ParamSpec(
            name=name, type=type_name, default=decl.get("default", _MISSING),
            choices=tuple(choices) if choices is not None else None,
            min=decl.get("min"), max=decl.get("max"), nullable=bool(decl.get("nullable", False)),
            help=str(decl.get("help", "")),
        )
        if not spec.required:
            issue = spec.problem(spec.default)
            if issue:
                raise ParameterError(
                    f"the default of parameter {name!r} is invalid ({issue}): expected "
                    f"{spec.describe()}, received {_show(spec.default)}",
                    file=file, context=where, hint="fix the default in the plan",
                )
        specs[name] = spec
    return specs


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if value is not None else "null"


def _found(value: Any) -> str:
    """Describe a YAML value for an error message: its kind and (shortened) value."""
    if value is None:
        return "null (nothing)"
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"), ((int, float), "a number"), (str, "text"),
        (Mapping, "a mapping"), ((list, tuple), "a list"))
    kind = next((k for t, k in kinds if isinstance(value, t)), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


#: Declaration key -> (accepted Python types, what it must be in words, YAML example).
_DECL_SHAPES: dict[str, tuple[tuple[type, ...], str, str]] = {
    "type": ((str,), "a type name", "type: int"),
    "choices": ((list,), "a list of allowed values", "choices: [nl, en]"),
    "min": ((int, float), "a number", "min: 1"),
    "max": ((int, float), "a number", "max: 100"),
    "nullable": ((bool,), "true or false", "nullable: true"),
    "help": ((str,), "text", "help: \"Minimum group size\""),
}


def _check_declaration_shapes(name: str, decl: Mapping[str, Any], file: str | None,
                              where: Mapping[str, Any]) -> None:
    """Refuse declaration keys holding the wrong kind of value (``choices: nl``...)."""
    for key, (types, expected, example) in _DECL_SHAPES.items():
        value = decl.get(key)
        if value is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            raise ParameterError(
                f"'{key}' in the declaration of parameter {name!r} must be {expected}, "
                f"found {_found(value)}", file=file, context={**where, "key": key},
                hint=f"write e.g. '{example}'",
            )


def _check_values(
    specs: Mapping[str, ParamSpec], values: Mapping[str, Any],
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Return the complete parameters and the problems as ``(parameter, sentence)``."""
    problems: list[tuple[str, str]] = []
    result: dict[str, Any] = {}
    for name in values:
        if name not in specs:
            problems.append((name,
                f"unknown parameter {name!r} (received {_show(values[name])}); "
                f"expected one of {sorted(specs)}"
            ))
    for name, spec in specs.items():
        if name not in values:
            if spec.required:
                problems.append((name,
                    f"missing parameter {name!r}; expected {spec.describe()}"
                ))
                continue
            result[name] = spec.coerce(spec.default)
            continue
        issue = spec.problem(values[name])
        if issue:
            problems.append((name,
                f"parameter {name!r} {issue}; expected {spec.describe()}, "
                f"received {_show(values[name])}"
            ))
            continue
        result[name] = spec.coerce(values[name])
    return result, problems


#: How many distinct problems, and how many report ids per problem, the message shows.
_SHOWN_PROBLEMS = 5
_SHOWN_REPORTS = 3


def validate_reports(
    reports: Iterable[tuple[str, Mapping[str, ParamSpec], Mapping[str, Any]]], *,
    file: str | None = None,
) -> list[dict[str, Any]]:
    """Validate many reports at once; raise one error listing every distinct problem.

    Identical problems (the same parameter, the same fault, the same value received) are
    reported once, with the number of reports they affect and the first report ids, so a
    bad fixed parameter on a grid of hundreds of reports gives one line, not hundreds.

    Parameters
    ----------
    reports
        ``(report id, declarations, values)`` for each report.
    file
        The plan file, for the error message.

    Returns
    -------
    list of dict
        The complete parameters of each report, in order.

    Raises
    ------
    ParameterError
        When any report has an unknown, missing, ill-typed or not-allowed parameter.  The
        message gives the total count of problems, then each distinct problem (at most 5,
        in the order first met) as ``report 'id': problem`` or ``[N reports] report 'a',
        report 'b', report 'c' and N-3 more: problem``; ``report`` and ``parameter`` in the
        location name the first problem.

    Examples
    --------
    >>> spec = {"min_n": ParamSpec("min_n", "int", min=1)}
    >>> validate_reports([("a", spec, {"min_n": 0}), ("b", spec, {"min_n": 0})])
    Traceback (most recent call last):
    ...
    ipo_research.errors.ParameterError: 2 invalid report parameter(s) in 2 report(s), 1 distinct problem(s): (1) [2 reports] report 'a', report 'b': parameter 'min_n' below the minimum 1; expected int >= 1, received int 0 (report a, parameter min_n). Fix: fix the plan's grid or the template's parameter declaration; nothing was run
    """
    complete: list[dict[str, Any]] = []
    groups: dict[str, list[str]] = {}
    first: tuple[str, str] | None = None
    total = 0
    bad_reports: set[str] = set()
    for report, specs, values in reports:
        params, found = _check_values(specs, values)
        for name, text in found:
            if first is None:
                first = (report, name)
            total += 1
            bad_reports.add(report)
            affected = groups.setdefault(text, [])
            if not affected or affected[-1] != report:
                affected.append(report)
        complete.append(params)
    if total:
        shown = []
        for number, (text, affected) in enumerate(list(groups.items())[:_SHOWN_PROBLEMS], 1):
            ids = ", ".join(f"report {r!r}" for r in affected[:_SHOWN_REPORTS])
            if len(affected) > _SHOWN_REPORTS:
                ids += f" and {len(affected) - _SHOWN_REPORTS} more"
            prefix = f"[{len(affected)} reports] {ids}" if len(affected) > 1 else ids
            shown.append(f"({number}) {prefix}: {text}")
        more = len(groups) - _SHOWN_PROBLEMS
        tail = f"; and {more} more distinct problem(s)" if more > 0 else ""
        report, name = first or ("", "")
        raise ParameterError(
            f"{total} invalid report parameter(s) in {len(bad_reports)} report(s), "
            f"{len(groups)} distinct problem(s): {'; '.join(shown)}{tail}", file=file,
            context={"report": report, "parameter": name},
            hint="fix the plan's grid or the template's parameter declaration; nothing was run",
        )
    return complete
