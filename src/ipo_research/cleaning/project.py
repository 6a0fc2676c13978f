"""Project files: clean every export a project names, all or nothing.

A project file (YAML) names the exports of one evaluation, their instruments and column
mappings; :func:`run_project` (``ipo-research clean PROJECT``) reads, cleans and validates
every export in memory first and only then writes ``<out>/<export>.parquet``,
``<out>/<export>.audit.csv`` and ``<out>/<export>.audit.json`` plus a combined
``<out>/audit.csv``.  The output folder is written as a whole: the files go to a staging
folder beside it that replaces the old folder in one step, so a failed run leaves the
previous output untouched.  ``data/raw`` is never written.  The format is documented in
``docs/cleaning.md``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ipo_research.cleaning.core import CleaningResult, clean, item_columns, retro_suffix
from ipo_research.cleaning.pseudonym import resolve_key
from ipo_research.cleaning.rules import CleaningRules
from ipo_research.errors import CleaningError, WriteError

_PROJECT_KEYS = ("name", "description", "root", "output", "defaults", "exports")
_EXPORT_KEYS = (
    "path", "instrument", "sheet", "encoding", "sep", "decimal", "respondent", "wave",
    "wave_value", "items", "retro_items", "columns", "rules",
)
_ROOT_MARKERS = (".git", "pyproject.toml")


@dataclass(frozen=True)
class ExportSpec:
    """One export of a project, with paths resolved against the project root."""

    name: str
    path: Path
    instrument: str
    respondent: str
    wave: str | None
    wave_value: str | None
    items: str | None
    retro_items: str | None
    columns: Mapping[str, str]
    rules: CleaningRules
    read_options: Mapping[str, Any]


def _fail(what: str, file: Path, key: str | None = None, hint: str | None = None) -> CleaningError:
    return CleaningError(what, file=str(file), hint=hint,
                         context={"key": key} if key is not None else {})


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], file: Path, prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise _fail(f"unknown key '{prefix}{key}' in project file", file, f"{prefix}{key}",
                        f"valid keys here: {', '.join(allowed)}")


#: Export settings holding one value (a path, a name or a column), with a YAML example.
_SCALAR_KEYS: dict[str, str] = {
    "path": "path: data/raw/demo/ripls_zwolle.csv",
    "instrument": "instrument: RIPLS",
    "respondent": "respondent: Studentnummer",
    "wave": "wave: Meting",
    "wave_value": "wave_value: post",
    "items": 'items: "Vraag {n}"',
    "retro_items": 'retro_items: "Voor_{n}"',
    "sheet": "sheet: Resultaten",
    "encoding": "encoding: cp1252",
    "sep": 'sep: ";"',
    "decimal": 'decimal: ","',
}
#: Cleaning rule -> (shape, YAML example).  Shapes: text, number, whole, bool, list,
#: mapping; a trailing "?" allows null.  Covers every field of CleaningRules (tested).
_RULE_SHAPES: dict[str, tuple[str, str]] = {
    "duplicates": ("text", "duplicates: latest_complete"),
    "speeders": ("text", "speeders: drop"),
    "speeder_fraction": ("number", "speeder_fraction: 0.333"),
    "speeder_seconds": ("number?", "speeder_seconds: 120"),
    "straightlining": ("text", "straightlining: flag"),
    "straightline_min_items": ("whole?", "straightline_min_items: 5"),
    "too_few": ("text", "too_few: flag"),
    "min_answered": ("number?", "min_answered: 0.75"),
    "identifiers": ("list", "identifiers: [Naam, E-mail]"),
    "keep": ("list?", "keep: [Regio, Instelling]"),
    "waves": ("mapping", "waves: {voormeting: pre, nameting: post}"),
    "duration": ("text?", 'duration: "Duur (sec)"'),
    "timestamp": ("text?", "timestamp: Einddatum"),
    "na_values": ("list", 'na_values: ["weet niet"]'),
    "strict": ("bool", "strict: true"),
    "drop_unmatched": ("bool", "drop_unmatched: true"),
    "retro_suffix": ("text?", "retro_suffix: _retro"),
}
_SHAPE_WORDS = {"text": "text", "number": "a number", "whole": "a whole number",
                "bool": "true or false", "list": "a list of names or answers",
                "mapping": "a mapping of raw label to name"}


def _found(value: Any) -> str:
    """Describe a YAML value for an error message: its kind and (shortened) value."""
    kind = ("a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, list)
            else "text" if isinstance(value, str) else "a boolean" if isinstance(value, bool)
            else "null" if value is None
            else "a number" if isinstance(value, int | float) else type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _has_shape(value: Any, shape: str) -> bool:
    if shape.endswith("?"):
        return value is None or _has_shape(value, shape[:-1])
    if shape == "text":
        return isinstance(value, str)
    if shape == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if shape == "whole":
        return isinstance(value, int) and not isinstance(value, bool)
    if shape == "bool":
        return isinstance(value, bool)
    if shape == "list":
        return isinstance(value, list) and all(_is_scalar(v) for v in value)
    return isinstance(value, Mapping) and all(
        _is_scalar(k) and _is_scalar(v) for k, v in value.items())


def _check_rule_shapes(rules: Mapping[str, Any], file: Path, prefix: str) -> None:
    """Refuse a cleaning rule whose value has the wrong shape (unknown rules are left to
    :meth:`CleaningRules.from_mapping`, which names them)."""
    for rule, value in rules.items():
        if rule not in _RULE_SHAPES:
            continue
        shape, example = _RULE_SHAPES[rule]
        if _has_shape(value, shape):
            continue
        expected = _SHAPE_WORDS[shape.rstrip("?")] + (", or null" if shape.endswith("?") else "")
        hint = f"write e.g. '{example}'"
        if isinstance(value, bool) and shape == "text":
            hint = (f"YAML reads off/no/false as a boolean: put the word in quotes, "
                    f"e.g. {rule}: 'off'")
        elif isinstance(value, str) and shape.startswith("list"):
            hint = f"write a list, even of one name: {rule}: [{value}]"
        raise _fail(f"cleaning rule '{rule}' has a value of the wrong type: expected "
                    f"{expected}, found {_found(value)}", file, f"{prefix}{rule}", hint)


def _check_shapes(settings: Mapping[str, Any], file: Path, prefix: str) -> None:
    """Refuse export settings (or defaults) of the wrong shape; the message names the key."""
    for key, example in _SCALAR_KEYS.items():
        value = settings.get(key)
        if value is not None and not _is_scalar(value):
            raise _fail(f"'{prefix}{key}' must be one value (text), found {_found(value)}",
                        file, prefix + key, f"write e.g. '{example}'")
    columns = settings.get("columns")
    if columns is not None and not _has_shape(columns, "mapping"):
        raise _fail(f"'{prefix}columns' must map raw column names to output names, found "
                    f"{_found(columns)}", file, prefix + "columns",
                    "write 'columns: {\"Vraag 1\": q1, Item_21: q21}'")
    rules = settings.get("rules")
    if rules is not None:
        if not isinstance(rules, Mapping):
            raise _fail(f"'{prefix}rules' must be a mapping of cleaning rules, found "
                        f"{_found(rules)}", file, prefix + "rules",
                        "write e.g. 'rules: {speeders: flag, keep: [Regio]}' "
                        "(keys as in CleaningRules, docs/cleaning.md)")
        _check_rule_shapes(rules, file, f"{prefix}rules.")


def project_root(project: Path, data: Mapping[str, Any]) -> Path:
    """Folder that the paths in a project file are relative to.

    ``root:`` in the file (relative to the file's folder) wins; otherwise the nearest
    folder, from the file's own upwards, holding ``.git`` or ``pyproject.toml``; otherwise
    the file's folder.
    """
    here = project.resolve().parent
    if data.get("root") is not None:
        return (here / str(data["root"])).resolve()
    for folder in [here, *here.parents]:
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
    return here


def load_project(project: str | os.PathLike[str]) -> tuple[str, Path, Path, list[ExportSpec]]:
    """Parse and check a project file without reading any export.

    Returns
    -------
    name, root, output, exports
        The project name, its root folder, the default output folder and the exports.

    Raises
    ------
    CleaningError
        Unknown or missing keys, wrong types (the message names the key).
    """
    from ipo_research.io import read_yaml

    file = Path(project)
    data = read_yaml(file)
    if not isinstance(data, Mapping):
        raise _fail("a project file must be a mapping with 'name' and 'exports'", file,
                    hint="start with 'name: my-project'")
    _check_keys(data, _PROJECT_KEYS, file, "")
    for key in ("name", "description", "root", "output"):
        if data.get(key) is not None and not _is_scalar(data[key]):
            raise _fail(f"'{key}' must be one value (text), found {_found(data[key])}", file,
                        key, f"write e.g. '{key}: ...' on one line")
    name = str(data.get("name") or file.stem).strip()
    if not name or "/" in name or name.startswith("."):
        raise _fail(f"project name {name!r} cannot name a folder", file, "name",
                    "use a plain name such as 'demo' (no '/', not starting with '.'); it "
                    "names the output folder data/processed/<name>")
    root = project_root(file, data)
    output = root / str(data.get("output") or Path("data/processed") / name)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise _fail(f"'defaults' must be a mapping, found {_found(defaults)}", file,
                    "defaults", "write export settings under it, e.g. "
                    "'defaults: {respondent: Studentnummer, wave: Meting}'")
    _check_keys(defaults, _EXPORT_KEYS, file, "defaults.")
    _check_shapes(defaults, file, "defaults.")
    exports = data.get("exports")
    if not isinstance(exports, Mapping) or not exports:
        raise _fail("'exports' must map export names to their settings", file, "exports",
                    "write 'exports: {ripls_zwolle: {path: ..., instrument: RIPLS, ...}}'")
    specs = [_export_spec(str(k), v, defaults, root, file) for k, v in exports.items()]
    return name, root, output, specs


def _export_spec(
    name: str, raw: Any, defaults: Mapping[str, Any], root: Path, file: Path
) -> ExportSpec:
    prefix = f"exports.{name}."
    if not isinstance(raw, Mapping):
        raise _fail(f"export '{name}' must be a mapping of settings, found {_found(raw)}",
                    file, f"exports.{name}",
                    f"write e.g. '{name}: {{path: data/raw/{name}.csv, instrument: RIPLS, "
                    "items: \"Vraag {n}\"}'")
    if not name or "/" in name or name.startswith("."):
        raise _fail(f"export name {name!r} cannot name a file", file, f"exports.{name}",
                    "use a plain name such as 'ripls_zwolle' (no '/', not starting with "
                    "'.'); it names the output file <output>/<name>.parquet")
    _check_keys(raw, _EXPORT_KEYS, file, prefix)
    _check_shapes(raw, file, prefix)
    merged: dict[str, Any] = {**defaults, **raw}
    rule_opts = {**(defaults.get("rules") or {}), **(raw.get("rules") or {})}
    for key in ("path", "instrument", "respondent"):
        if not merged.get(key):
            raise _fail(f"export '{name}' has no '{key}'", file, prefix + key,
                        f"set it on the export or under 'defaults', e.g. "
                        f"'{_SCALAR_KEYS[key]}'")
    if not merged.get("wave") and not merged.get("wave_value"):
        raise _fail(f"export '{name}' has neither 'wave' nor 'wave_value'", file, prefix + "wave",
                    "name the wave column, or give the wave of a one-wave export")
    columns = merged.get("columns") or {}  # a mapping: _check_shapes refused the rest
    rules = CleaningRules.from_mapping(rule_opts, where=str(file))
    instrument = str(merged["instrument"])
    if instrument.endswith((".yaml", ".yml")):
        instrument = str((root / instrument).resolve())
    read_options = _read_options(name, merged, raw, file, prefix)
    return ExportSpec(
        name=name,
        path=(root / str(merged["path"])).resolve(),
        instrument=instrument,
        respondent=str(merged["respondent"]),
        wave=str(merged["wave"]) if merged.get("wave") else None,
        wave_value=str(merged["wave_value"]) if merged.get("wave_value") else None,
        items=str(merged["items"]) if merged.get("items") else None,
        retro_items=str(merged["retro_items"]) if merged.get("retro_items") else None,
        columns={str(k): str(v) for k, v in columns.items()},
        rules=rules,
        read_options=read_options,
    )


def _read_options(name: str, merged: Mapping[str, Any], raw: Mapping[str, Any], file: Path,
                  prefix: str) -> dict[str, Any]:
    """The ``read_survey`` options of one export that apply to its file type.

    An option set on the export itself that its file type does not use (``sheet`` on a
    CSV export) is refused: ``read_survey`` would refuse it too, but here the message
    names the project key.  An option inherited from ``defaults`` applies only to the
    exports whose file type uses it, so ``defaults: {sheet: Resultaten}`` can serve the
    Excel exports of a project that also has CSV exports.
    """
    from ipo_research.io.readers import READ_OPTIONS, SUPPORTED_EXTENSIONS

    ext = Path(str(merged["path"])).suffix.lower()
    options: dict[str, Any] = {}
    for key in ("sheet", "encoding", "sep", "decimal"):
        if merged.get(key) is None:
            continue
        if ext in READ_OPTIONS[key] or ext not in SUPPORTED_EXTENSIONS:
            options[key] = merged[key]  # an unknown extension is refused by read_survey
        elif raw.get(key) is not None:
            raise _fail(
                f"'{key}' does not apply to export '{name}': {ext} files have no {key} "
                f"setting ({key} applies to {', '.join(READ_OPTIONS[key])} files)", file,
                prefix + key, f"remove '{key}' from export '{name}'",
            )
    return options


def _mapping(spec: ExportSpec, raw: pd.DataFrame, inst: Any, retro: str) -> dict[str, str]:
    """Expand the ``items``/``retro_items`` templates and add explicit ``columns``."""
    explicit = dict(spec.columns)
    taken = set(explicit.values())
    mapping: dict[str, str] = {}
    present = {str(c) for c in raw.columns}
    if spec.items:
        for raw_name, item in item_columns(spec.items, inst).items():
            if item not in taken:
                mapping[raw_name] = item
    if spec.retro_items:
        retro_map = item_columns(spec.retro_items, inst, suffix=retro)
        found = {k: v for k, v in retro_map.items() if k in present and v not in taken}
        if not found:
            raise CleaningError(
                f"no column matches retro_items {spec.retro_items!r}", file=str(spec.path),
                column=next(iter(retro_map)), hint="check the template against the export",
            )
        mapping.update(found)
    mapping.update(explicit)
    return mapping


def clean_export(spec: ExportSpec, key: bytes) -> tuple[CleaningResult, dict[str, Any]]:
    """Read and clean one export of a project (nothing is written)."""
    from ipo_research.instruments import load_instrument
    from ipo_research.io import read_survey

    inst = load_instrument(spec.instrument)
    raw = read_survey(spec.path, **dict(spec.read_options))
    retro = retro_suffix(inst, spec.rules)
    result = clean(
        raw, inst, respondent=spec.respondent, wave=spec.wave, wave_value=spec.wave_value,
        columns=_mapping(spec, raw, inst, retro), key=key, rules=spec.rules,
        source=str(spec.path),
    )
    reader = {k: raw.attrs.get(k) for k in ("format", "sha256", "encoding", "delimiter",
                                            "decimal", "sheet", "qualtrics")}
    return result, reader


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def run_project(
    project: str | os.PathLike[str],
    *,
    key_file: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    key: bytes | str | None = None,
) -> str:
    """Clean every export of a project file and write the results, all or nothing.

    Parameters
    ----------
    project
        The project file (YAML; format in ``docs/cleaning.md``).
    key_file
        File holding the pseudonymisation key; default ``$IPO_RESEARCH_KEY`` or
        ``$IPO_RESEARCH_KEY_FILE``.
    out
        Output folder; default the project's ``output`` (``data/processed/<name>``).
    key
        The key itself (for notebooks and tests; the CLI uses a key file).

    Returns
    -------
    str
        A short summary: one line per export with rows kept and dropped.

    Raises
    ------
    PrivacyError
        No key (checked before anything is read).
    CleaningError, ReadError, InstrumentError, SchemaError
        Any export fails: nothing is written.
    WriteError
        The output folder lies in ``data/raw`` or cannot be written.
    """
    from ipo_research import __version__
    from ipo_research.io import check_writable, write_csv, write_json, write_parquet

    secret = resolve_key(key, key_file=key_file)
    file = Path(project)
    name, root, default_out, specs = load_project(file)
    target = Path(out) if out is not None else default_out
    check_writable(target / "audit.csv")  # refuses data/raw before any work

    results: list[tuple[ExportSpec, CleaningResult, dict[str, Any]]] = []
    for spec in specs:
        result, reader = clean_export(spec, secret)
        results.append((spec, result, reader))

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging",
                                    dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    try:
        audits = []
        for spec, result, reader in results:
            data = result.data.copy(deep=False)
            data.attrs = {"project": name, "export": spec.name,
                          "instrument": result.provenance["instrument"]}
            write_parquet(data, staging / f"{spec.name}.parquet")
            write_csv(result.audit, staging / f"{spec.name}.audit.csv")
            provenance = {
                **dict(result.provenance),
                "source": _relative(spec.path, root),
                "reader": reader,
                "project": name,
                "export": spec.name,
                "package_version": __version__,
            }
            write_json(
                {"provenance": provenance, "audit": result.audit.to_dict(orient="records")},
                staging / f"{spec.name}.audit.json",
            )
            audits.append(result.audit.assign(export=spec.name))
        combined = pd.concat(audits, ignore_index=True)
        combined = combined[["export", *[c for c in combined.columns if c != "export"]]]
        write_csv(combined, staging / "audit.csv")
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    lines = [f"cleaned {len(results)} exports of project {name!r} into {target}"]
    for spec, result, _ in results:
        dropped = int(result.audit["rows_dropped"].sum())
        lines.append(f"  {spec.name}: {len(result.data)} rows kept, {dropped} dropped "
                     f"({result.provenance['instrument']})")
    return "\n".join(lines)


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (two renames; the old folder is removed after)."""
    old: Path | None = None
    try:
        if target.exists():
            if not target.is_dir():
                raise WriteError("the output path is a file", file=str(target),
                                 hint="give a folder for the cleaned data")
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as err:
        if old is not None and not target.exists():
            os.replace(old, target)
        raise WriteError(f"cannot move the cleaned data into place: {err.strerror}",
                         file=str(target),
                         hint="check that you may write to the output folder and its parent "
                              "and that no program holds files in it open; the previous "
                              "output is unchanged") from err
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
