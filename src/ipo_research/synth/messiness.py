"""Turn clean answers into the messy exports lectors receive, counting every mess injected.

Each export is built in three steps:

1. *Rows*: pick disjoint sets of rows to become speeders (random answers, duration under a
   fifth of the wave median), straight-liners (every item the same answer, before reverse
   keying) and duplicate submissions (an extra row for the same student and wave: either
   an *earlier complete* attempt with other answers, or a *later incomplete* attempt; the
   rule "keep the latest complete submission" always keeps the original).  Natural durations
   are never below half the wave median, so "under a third of the median" finds exactly
   the speeders, whether the median is taken per file or per file and wave.
2. *Cells*: in the other rows, blank answers (single cells and a few abandoned runs), typos
   out of range, junk text, ``n.v.t.`` (ICCAS) or SPSS user-missing codes.  A row whose
   remaining valid answers would all be equal gets its clean answers back, so that the only
   rows with one repeated answer are the injected straight-liners.
3. *Format*: CSV exports write some rows with Dutch labels and some cells as ``4,0``.

:func:`build_exports` returns the tables ready for the writers, the counts
(``truth/messiness.json``) and one flag row per affected export row (``truth/row_flags.csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ipo_research.synth.responses import MEDIAN_DURATION, WAVE_LABELS

#: Dutch response labels of the RIPLS (1-5).
RIPLS_LABELS: tuple[str, ...] = (
    "Helemaal mee oneens", "Mee oneens", "Neutraal", "Mee eens", "Helemaal mee eens",
)
ICCAS_NA_LABEL = "n.v.t."
SAV_USER_MISSING = 9
SAV_USER_MISSING_LABEL = "Weet ik niet"
_TYPOS = {5: (0, 6, 55, 44), 7: (0, 8, 55, 66)}
_JUNK = {
    "RIPLS": ("weet ik niet", "?", "geen mening", "x", "zie opmerking", "snap ik niet", "4 of 5"),
    "ICCAS": ("weet niet", "?", "x", "geen idee", "6 of 7", "zie toelichting"),
}
_COMMENTS = (
    "Leuk om met andere opleidingen samen te werken.", "Veel geleerd over de rol van de school.",
    "De bijeenkomsten waren soms te lang.", "Goede begeleiding op de locatie.",
    "Ik had graag meer tijd gehad voor het vraagstuk.", "Lastig te plannen naast de stage.",
)
_NAMED_COMMENTS = (
    "Fijne samenwerking met {name}.", "{name} uit mijn leerteam heeft me veel geholpen.",
    "Onze begeleider {name} was vaak afwezig.", "Met {name} liep het niet zo goed.",
)

#: Share of rows / cells that get each kind of mess.
RATES: dict[str, float] = {
    "duplicate": 0.03, "speeder": 0.02, "straight_liner": 0.015,
    "missing": 0.012, "abandoned_run": 0.012, "out_of_range": 0.0025, "junk": 0.0015,
    "na": 0.006, "user_missing": 0.004, "label_rows": 0.10, "decimal_comma": 0.012,
    "free_text": 0.06, "free_text_name": 0.35, "earlier_complete": 0.6,
}

COUNT_KEYS: tuple[str, ...] = (
    "rows", "kept_rows", "duplicate_rows", "duplicate_rows_earlier_complete",
    "duplicate_rows_later_incomplete", "speeder_rows", "straight_liner_rows",
    "item_cells", "missing_cells", "rows_with_missing", "duplicate_missing_cells",
    "out_of_range_cells", "junk_text_cells", "na_cells", "user_missing_cells", "label_cells",
    "decimal_comma_cells", "identifier_cells", "free_text_cells", "free_text_naming_people",
)


@dataclass(frozen=True)
class ExportSpec:
    """One survey export: which responses it holds and how it is messy.

    Attributes
    ----------
    name
        File name inside the demo folder.
    instrument
        ``"RIPLS"`` or ``"ICCAS"``.
    fmt
        ``"csv"`` (``;``, decimal comma), ``"sav"``, ``"xlsx"`` or ``"qualtrics"``.
    encoding
        Text encoding of CSV files.
    select
        Chooses the file's rows from the clean responses merged with the student table.
    phone
        Adds a ``Telefoon`` column.
    free_text
        Adds an ``Opmerkingen`` column (free text, some naming people).
    """

    name: str
    instrument: str
    fmt: str
    select: Callable[[pd.DataFrame], pd.Series]
    encoding: str = "utf-8-sig"
    phone: bool = False
    free_text: bool = False

    @property
    def junk(self) -> bool:
        """Whether text answers can occur (not in SPSS or Qualtrics numeric exports)."""
        return self.fmt in ("csv", "xlsx")

    @property
    def typos(self) -> bool:
        """Whether out-of-range typos can occur (not in Qualtrics, which forces choices)."""
        return self.fmt != "qualtrics"


def _qualtrics_part(d: pd.DataFrame) -> pd.Series:
    return ((d["Instelling"] == "Hogeschool Windesheim") & (d["Cohort"] == "2023-2024")
            & (d["wave"] == "post"))


EXPORTS: tuple[ExportSpec, ...] = (
    ExportSpec("ripls_zwolle.csv", "RIPLS", "csv",
               lambda d: (d["Regio"] == "Zwolle") & ~_qualtrics_part(d),
               phone=True, free_text=True),
    ExportSpec("ripls_deventer.csv", "RIPLS", "csv",
               lambda d: (d["Regio"] == "Deventer") & (d["Cohort"] != "2023-2024"),
               encoding="cp1252"),
    ExportSpec("ripls_deventer_2024.sav", "RIPLS", "sav",
               lambda d: (d["Regio"] == "Deventer") & (d["Cohort"] == "2023-2024")),
    ExportSpec("ripls_qualtrics.csv", "RIPLS", "qualtrics", _qualtrics_part),
    ExportSpec("iccas_zwolle.xlsx", "ICCAS", "xlsx", lambda d: d["Regio"] == "Zwolle"),
    ExportSpec("iccas_deventer.xlsx", "ICCAS", "xlsx", lambda d: d["Regio"] == "Deventer",
               phone=True),
)


@dataclass(frozen=True)
class Export:
    """A messy export before it is written.

    Attributes
    ----------
    spec
        What the export is.
    table
        The table exactly as the writer writes it (column names of the export; cells as
        strings for CSV, numbers and strings for Excel, floats for SPSS).
    counts
        Mess injected, keys as :data:`COUNT_KEYS` plus ``identifier_columns`` and
        ``rows_by_wave``.
    flags
        One row per flagged export row: ``file``, ``row`` (1-based data row), ``Studentnummer``,
        ``Meting``, ``flag``.
    """

    spec: ExportSpec
    table: pd.DataFrame
    counts: dict[str, Any]
    flags: pd.DataFrame


@dataclass
class _Layout:
    """Item cells of one instrument in an export: names and straight-line blocks."""

    columns: list[str]
    blocks: list[slice]
    lo: int
    hi: int


def _layout(instrument: str) -> _Layout:
    if instrument == "RIPLS":
        return _Layout([f"q{j}" for j in range(1, 20)], [slice(0, 19)], 1, 5)
    cols = [f"Voor_{j}" for j in range(1, 21)] + [f"Nu_{j}" for j in range(1, 21)] + ["Item_21"]
    return _Layout(cols, [slice(0, 20), slice(20, 40)], 1, 7)


def _iccas_wide(iccas: pd.DataFrame) -> pd.DataFrame:
    """One row per student and wave: Voor_*, Nu_*, Item_21 (pre rows: Nu only)."""
    items = [f"q{j}" for j in range(1, 21)]
    now = iccas[iccas["rating"] == "now"].set_index(["Studentnummer", "wave"])
    before = iccas[iccas["rating"] == "before"].set_index(["Studentnummer", "wave"])
    b = before[items].reindex(now.index).to_numpy(dtype=float)
    grid = np.hstack([b, now[items].to_numpy(dtype=float),
                      now[["q21"]].astype("Float64").to_numpy(dtype=float, na_value=np.nan)])
    cols = [f"Voor_{j}" for j in range(1, 21)] + [f"Nu_{j}" for j in range(1, 21)] + ["Item_21"]
    wide = pd.concat([now[["start", "duration"]].reset_index(),
                      pd.DataFrame(grid, columns=cols)], axis=1)
    return wide


def _valid(vals: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Cells holding an answer inside the scale (NaN and text cells are not valid)."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(vals) & (vals >= lo) & (vals <= hi)


def _repeated(vals: np.ndarray, blocks: list[slice], lo: int, hi: int) -> np.ndarray:
    """Per row: True when some block's valid answers (two or more) are all equal."""
    vals = np.atleast_2d(vals)
    out = np.zeros(len(vals), dtype=bool)
    for b in blocks:
        v = vals[:, b]
        ok = _valid(v, lo, hi)
        low = np.where(ok, v, np.inf).min(axis=1)
        high = np.where(ok, v, -np.inf).max(axis=1)
        out |= (ok.sum(axis=1) >= 2) & (low == high)
    return out


def _nudge(rng: np.random.Generator, row: np.ndarray, lay: _Layout) -> None:
    """Move single answers of ``row`` (in place) until no block repeats one answer."""
    while _repeated(row, lay.blocks, lay.lo, lay.hi)[0]:
        j = int(rng.choice(np.flatnonzero(_valid(row, lay.lo, lay.hi))))
        row[j] = row[j] - 1 if row[j] > lay.lo else row[j] + 1


def _fmt_dt(ts: pd.Timestamp) -> str:
    return ts.strftime("%d-%m-%Y %H:%M")


def build_export(rng: np.random.Generator, spec: ExportSpec, responses: pd.DataFrame,
                 students: pd.DataFrame) -> Export:
    """Build one messy export from the clean responses it holds.

    Parameters
    ----------
    rng
        Random generator.
    spec
        The export.
    responses
        Clean responses of the instrument (RIPLS long or ICCAS long), all students.
    students
        Student table (context and identifiers).

    Returns
    -------
    Export
    """
    lay = _layout(spec.instrument)
    wide = responses if spec.instrument == "RIPLS" else _iccas_wide(responses)
    data = wide.merge(students, on="Studentnummer", how="left", validate="many_to_one")
    data = data[spec.select(data).to_numpy()].sort_values(["start", "Studentnummer"])
    data = data.reset_index(drop=True)
    n = len(data)
    clean = data[lay.columns].astype(float).to_numpy(dtype=float)
    structural = np.isnan(clean)
    vals = clean.copy()
    text = np.full(clean.shape, None, dtype=object)
    median = np.array([MEDIAN_DURATION[(spec.instrument, w)] for w in data["wave"]])
    duration = data["duration"].to_numpy(dtype=float).copy()

    # 1. rows: disjoint special sets
    def k_of(rate: str) -> int:
        return max(1, round(RATES[rate] * n)) if n >= 12 else 0

    order = rng.permutation(n)
    k_dup, k_speed, k_flat = k_of("duplicate"), k_of("speeder"), k_of("straight_liner")
    dup_rows = np.sort(order[:k_dup])
    speed_rows = np.sort(order[k_dup:k_dup + k_speed])
    flat_rows = np.sort(order[k_dup + k_speed:k_dup + k_speed + k_flat])
    normal = np.ones(n, dtype=bool)
    normal[order[:k_dup + k_speed + k_flat]] = False

    for r in speed_rows:
        free = ~structural[r]
        vals[r, free] = rng.integers(lay.lo, lay.hi + 1, int(free.sum()))
        _nudge(rng, vals[r], lay)
        duration[r] = round(float(rng.uniform(0.12, 0.2)) * median[r], 1)
    flat_values = (3, 4, 5) if lay.hi == 5 else (4, 5, 6, 7)
    for r in flat_rows:
        vals[r, ~structural[r]] = float(rng.choice(flat_values))

    # 2. cells: mess in the ordinary rows
    kinds = ["missing"]
    if spec.typos:
        kinds.append("out_of_range")
    if spec.junk:
        kinds.append("junk")
    if spec.instrument == "ICCAS" and spec.fmt == "xlsx":
        kinds.append("na")
    if spec.fmt == "sav":
        kinds.append("user_missing")
    cum = np.cumsum([RATES[k] for k in kinds])
    typos = np.array(_TYPOS[lay.hi], dtype=float)
    junk = np.array(_JUNK[spec.instrument], dtype=object)
    kind = np.searchsorted(cum, rng.random(clean.shape), side="right")
    typo_pick = typos[rng.integers(len(typos), size=clean.shape)]
    junk_pick = junk[rng.integers(len(junk), size=clean.shape)]
    eligible = normal[:, None] & ~structural
    for k, name in enumerate(kinds):
        hit = eligible & (kind == k)
        if name == "missing":
            vals[hit] = np.nan
        elif name == "out_of_range":
            vals[hit] = typo_pick[hit]
        elif name == "junk":
            vals[hit] = np.nan
            text[hit] = junk_pick[hit]
        elif name == "na":
            vals[hit] = np.nan
            text[hit] = ICCAS_NA_LABEL
        else:
            vals[hit] = SAV_USER_MISSING
    abandon = normal & (rng.random(n) < RATES["abandoned_run"])
    abandon_block = rng.integers(len(lay.blocks), size=n)
    abandon_run = rng.integers(5, 9, size=n)
    for r in np.flatnonzero(abandon):
        block = lay.blocks[int(abandon_block[r])]
        idx = [j for j in range(block.start, block.stop) if not structural[r, j]]
        for j in idx[-int(abandon_run[r]):]:
            vals[r, j] = np.nan
            text[r, j] = None
    restore = normal & _repeated(vals, lay.blocks, lay.lo, lay.hi)
    vals[restore] = clean[restore]
    text[restore] = None

    # duplicates: extra rows ("keep the latest complete" must keep the original)
    extra_vals = np.empty((len(dup_rows), clean.shape[1]))
    roles, ex_start, ex_dur = [], [], []
    starts = pd.to_datetime(data["start"])
    for e, r in enumerate(dup_rows):
        free = np.flatnonzero(~structural[r])
        row = clean[r].copy()
        ex_dur.append(round(max(median[r] * float(np.exp(rng.normal(0, 0.3))),
                                0.5 * median[r]), 1))
        if rng.random() < RATES["earlier_complete"]:
            roles.append("duplicate_earlier_complete")
            moved = free[rng.random(len(free)) < 0.3]
            row[moved] = np.clip(row[moved] + rng.choice([-1.0, 1.0], len(moved)), lay.lo, lay.hi)
            ex_start.append(starts.iloc[r] - pd.Timedelta(minutes=int(rng.integers(60, 72 * 60))))
        else:
            roles.append("duplicate_later_incomplete")
            answered = int(rng.integers(2, len(free) // 2 + 1))
            row[free[answered:]] = np.nan
            ex_start.append(starts.iloc[r] + pd.Timedelta(minutes=int(rng.integers(45, 48 * 60))))
        _nudge(rng, row, lay)
        extra_vals[e] = row

    # assemble rows (originals + extras) and sort by end time
    meta = data.copy()
    meta["duration"] = duration
    meta["_role"] = "kept"
    meta.loc[speed_rows, "_role"] = "speeder"
    meta.loc[flat_rows, "_role"] = "straight_liner"
    if len(dup_rows):
        ex = data.iloc[dup_rows].copy()
        ex["start"] = ex_start
        ex["duration"] = ex_dur
        ex["_role"] = roles
        meta = pd.concat([meta, ex], ignore_index=True)
    vals = np.vstack([vals, extra_vals])
    text = np.vstack([text, np.full(extra_vals.shape, None, dtype=object)])
    structural = np.vstack([structural, structural[dup_rows]])
    meta["start"] = pd.to_datetime(meta["start"])
    meta["end"] = meta["start"] + pd.to_timedelta(meta["duration"], unit="s")
    sort = np.lexsort((meta["Studentnummer"].to_numpy(dtype=str),
                       meta["end"].to_numpy().astype("datetime64[s]").astype(np.int64)))
    meta = meta.iloc[sort].reset_index(drop=True)
    return _finish(rng, spec, lay, meta, _Cells(vals[sort], text[sort], structural[sort]))


@dataclass(frozen=True)
class _Cells:
    """Item cells of an export: numbers (NaN = empty), text overlay, structural blanks."""

    vals: np.ndarray
    text: np.ndarray
    structural: np.ndarray

    @property
    def has_text(self) -> np.ndarray:
        return np.asarray(pd.notna(self.text), dtype=bool)


def _count_cells(cells: _Cells, rows: np.ndarray, lay: _Layout, sav: bool) -> dict[str, int]:
    free = ~cells.structural & rows[:, None]
    has_text = cells.has_text & free
    na = has_text & (cells.text == ICCAS_NA_LABEL)
    empty = free & np.isnan(cells.vals) & ~has_text
    user = free & (cells.vals == SAV_USER_MISSING) if sav else np.zeros_like(free)
    oor = free & ~np.isnan(cells.vals) & ~_valid(cells.vals, lay.lo, lay.hi) & ~user
    return {"item_cells": int(free.sum()), "missing_cells": int(empty.sum()),
            "rows_with_missing": int(empty.any(axis=1).sum()),
            "out_of_range_cells": int(oor.sum()), "junk_text_cells": int((has_text & ~na).sum()),
            "na_cells": int(na.sum()), "user_missing_cells": int(user.sum())}


def _finish(rng: np.random.Generator, spec: ExportSpec, lay: _Layout, meta: pd.DataFrame,
            cells: _Cells) -> Export:
    role = meta["_role"].to_numpy(dtype=str)
    is_extra = np.char.startswith(role, "duplicate")
    kept = np.flatnonzero(~is_extra)
    counts: dict[str, Any] = dict.fromkeys(COUNT_KEYS, 0)
    counts.update(_count_cells(cells, ~is_extra, lay, spec.fmt == "sav"))
    counts["duplicate_missing_cells"] = _count_cells(cells, is_extra, lay,
                                                     spec.fmt == "sav")["missing_cells"]
    counts.update(rows=len(meta), kept_rows=len(kept), duplicate_rows=int(is_extra.sum()),
                  duplicate_rows_earlier_complete=int((role == "duplicate_earlier_complete").sum()),
                  duplicate_rows_later_incomplete=int((role == "duplicate_later_incomplete").sum()),
                  speeder_rows=int((role == "speeder").sum()),
                  straight_liner_rows=int((role == "straight_liner").sum()))
    waves = meta.loc[kept, "wave"].map(WAVE_LABELS)
    counts["rows_by_wave"] = {w: int((waves == w).sum()) for w in ("voormeting", "nameting")}
    counts["students"] = int(meta.loc[kept, "Studentnummer"].nunique())

    flags = [(i + 1, meta.at[i, "Studentnummer"], WAVE_LABELS[str(meta.at[i, "wave"])], role[i])
             for i in range(len(meta)) if role[i] != "kept"]
    comments: list[str] = [""] * len(meta)
    if spec.free_text:
        for i in kept:
            if role[i] != "kept" or rng.random() >= RATES["free_text"]:
                continue
            if rng.random() < RATES["free_text_name"]:
                name = f"{rng.choice(_FIRST_FOR_TEXT)} {rng.choice(_LAST_FOR_TEXT)}"
                comments[i] = str(rng.choice(_NAMED_COMMENTS)).format(name=name)
                counts["free_text_naming_people"] += 1
                flags.append((int(i) + 1, meta.at[i, "Studentnummer"],
                              WAVE_LABELS[str(meta.at[i, "wave"])], "name_in_free_text"))
            else:
                comments[i] = str(rng.choice(_COMMENTS))
            counts["free_text_cells"] += 1

    writer = _FORMATTERS[spec.fmt]
    table, fmt_counts, id_cols = writer(rng, spec, lay, meta, cells, comments)
    counts.update(fmt_counts)
    counts["identifier_columns"] = id_cols
    counts["identifier_cells"] = int(sum(
        (table[c].notna() & (table[c].astype(str) != "")).sum() for c in id_cols))
    flag_frame = pd.DataFrame(flags, columns=["row", "Studentnummer", "Meting", "flag"])
    flag_frame.insert(0, "file", spec.name)
    flag_frame = flag_frame.sort_values(["row", "flag"], kind="stable").reset_index(drop=True)
    return Export(spec, table, counts, flag_frame)


# Made-up names used inside free text (people who are not respondents: supervisors, peers).
_FIRST_FOR_TEXT = ("Sanne", "Joëlle", "Mark", "Inge", "Bas", "Noor", "Ömer", "Linda")
_LAST_FOR_TEXT = ("de Vries", "Brinkman", "Haverkamp", "Eshuis", "Brüggemann", "Pieterse")

_CONTEXT = ["Regio", "Instelling", "Opleiding", "Niveau", "Cohort", "Leerteam"]


def _numbers_as_text(vals: np.ndarray) -> np.ndarray:
    flat = ["" if np.isnan(v) else str(int(v)) for v in vals.ravel()]
    return np.array(flat, dtype=object).reshape(vals.shape)


def _format_csv(rng: np.random.Generator, spec: ExportSpec, lay: _Layout, meta: pd.DataFrame,
                cells: _Cells, comments: list[str]
                ) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    valid = _valid(cells.vals, lay.lo, lay.hi)
    as_label = valid & (rng.random(len(meta)) < RATES["label_rows"])[:, None]
    as_decimal = valid & ~as_label & (rng.random(cells.vals.shape) < RATES["decimal_comma"])
    out = _numbers_as_text(cells.vals)
    labels = np.array(RIPLS_LABELS, dtype=object)
    codes = np.where(valid, cells.vals, 1).astype(int) - 1
    out[as_label] = labels[codes[as_label]]
    out[as_decimal] = np.char.add(out[as_decimal].astype(str), ",0").astype(object)
    out[cells.has_text] = cells.text[cells.has_text]
    id_cols = ["Studentnummer", "Naam", "E-mail"] + (["Telefoon"] if spec.phone else [])
    table = meta[id_cols + _CONTEXT].copy()
    table.insert(len(table.columns), "Meting", meta["wave"].map(WAVE_LABELS))
    table["Startdatum"] = [_fmt_dt(t) for t in meta["start"]]
    table["Einddatum"] = [_fmt_dt(t) for t in meta["end"]]
    table["Duur (sec)"] = [f"{d:.1f}".replace(".", ",") for d in meta["duration"]]
    table = pd.concat([table, pd.DataFrame(out, columns=[f"Vraag {j + 1}" for j in range(
        out.shape[1])], index=table.index, dtype=object)], axis=1)
    if spec.free_text:
        table["Opmerkingen"] = comments
        id_cols = [*id_cols, "Opmerkingen"]
    table = table.astype(object).where(table.notna(), "")
    return table, {"label_cells": int(as_label.sum()),
                   "decimal_comma_cells": int(as_decimal.sum())}, id_cols


def _format_sav(rng: np.random.Generator, spec: ExportSpec, lay: _Layout, meta: pd.DataFrame,
                cells: _Cells, comments: list[str]
                ) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    table = pd.DataFrame({
        "Studentnummer": meta["Studentnummer"].astype(str).to_numpy(dtype=object),
        "Naam": meta["Naam"].to_numpy(dtype=object),
        "Email": meta["E-mail"].to_numpy(dtype=object),
    })
    for c in _CONTEXT:
        table[c] = meta[c].to_numpy(dtype=object)
    table["Meting"] = meta["wave"].map(WAVE_LABELS).to_numpy(dtype=object)
    table["Startdatum"] = [_fmt_dt(t) for t in meta["start"]]
    table["Einddatum"] = [_fmt_dt(t) for t in meta["end"]]
    table["Duur_sec"] = meta["duration"].to_numpy(dtype=float)
    items = pd.DataFrame(cells.vals, columns=[f"V{j + 1}" for j in range(cells.vals.shape[1])])
    return pd.concat([table, items], axis=1), {}, ["Studentnummer", "Naam", "Email"]


def _format_xlsx(rng: np.random.Generator, spec: ExportSpec, lay: _Layout, meta: pd.DataFrame,
                 cells: _Cells, comments: list[str]
                 ) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    id_cols = ["Studentnummer", "Naam", "E-mail"] + (["Telefoon"] if spec.phone else [])
    table = meta[id_cols + _CONTEXT].astype(object).copy()
    table["Leerteam"] = [None if t == "" else t for t in table["Leerteam"]]
    table["Meting"] = meta["wave"].map(WAVE_LABELS).to_numpy(dtype=object)
    table["Startdatum"] = [_fmt_dt(t) for t in meta["start"]]
    table["Einddatum"] = [_fmt_dt(t) for t in meta["end"]]
    table["Duur (sec)"] = meta["duration"].to_numpy(dtype=float)
    flat = [None if np.isnan(v) else int(v) for v in cells.vals.ravel()]
    out = np.array(flat, dtype=object).reshape(cells.vals.shape)
    out[cells.has_text] = cells.text[cells.has_text]
    items = pd.DataFrame(out, columns=lay.columns, index=table.index, dtype=object)
    return pd.concat([table, items], axis=1), {}, id_cols


_QUALTRICS_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/Amsterdam"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/Amsterdam"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/Amsterdam"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]


def _format_qualtrics(rng: np.random.Generator, spec: ExportSpec, lay: _Layout,
                      meta: pd.DataFrame, cells: _Cells, comments: list[str]
                      ) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    n = len(meta)
    grid = _numbers_as_text(cells.vals)
    answered = (~np.isnan(cells.vals)).sum(axis=1)
    incomplete = meta["_role"].to_numpy(dtype=str) == "duplicate_later_incomplete"
    alnum = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    ids = ["R_" + "".join(rng.choice(alnum, 15)) for _ in range(n)]
    ip = [f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{int(rng.integers(1, 255))}"
          for _ in range(n)]
    end = meta["end"]
    cols: dict[str, list[str]] = {
        "StartDate": [t.strftime("%Y-%m-%d %H:%M:%S") for t in meta["start"]],
        "EndDate": [t.strftime("%Y-%m-%d %H:%M:%S") for t in end],
        "Status": ["0"] * n,
        "IPAddress": ip,
        "Progress": [str(round(100 * a / grid.shape[1])) if inc else "100"
                     for a, inc in zip(answered, incomplete, strict=True)],
        "Duration (in seconds)": [str(round(d)) for d in meta["duration"]],
        "Finished": ["0" if inc else "1" for inc in incomplete],
        "RecordedDate": [(t + pd.Timedelta(seconds=int(rng.integers(1, 40)))).strftime(
            "%Y-%m-%d %H:%M:%S") for t in end],
        "ResponseId": ids,
        "RecipientLastName": meta["Achternaam"].astype(str).tolist(),
        "RecipientFirstName": meta["Voornaam"].astype(str).tolist(),
        "RecipientEmail": meta["E-mail"].astype(str).tolist(),
        "ExternalReference": meta["Studentnummer"].astype(str).tolist(),
        "LocationLatitude": [f"{52.5 + rng.normal(0, 0.02):.4f}" for _ in range(n)],
        "LocationLongitude": [f"{6.09 + rng.normal(0, 0.03):.4f}" for _ in range(n)],
        "DistributionChannel": ["email"] * n,
        "UserLanguage": ["NL"] * n,
    }
    for j in range(grid.shape[1]):
        cols[f"Q{j + 1}"] = list(grid[:, j])
    for c in _CONTEXT:
        cols[c] = meta[c].astype(str).tolist()
    cols["Meting"] = meta["wave"].map(WAVE_LABELS).astype(str).tolist()
    table = pd.DataFrame(cols, dtype=object)
    id_cols = ["IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
               "ExternalReference", "LocationLatitude", "LocationLongitude"]
    return table, {}, id_cols


def qualtrics_header_rows(columns: list[str]) -> tuple[list[str], list[str]]:
    """Return Qualtrics' second and third header rows (question text, ImportId JSON).

    Parameters
    ----------
    columns
        Column names of a Qualtrics table built by this module.

    Returns
    -------
    tuple of two lists
        Question texts (item texts are not shipped: ``"RIPLS item j"``) and ImportId JSON.
    """
    known = {name: (text, imp) for name, text, imp in _QUALTRICS_META}
    texts, imports = [], []
    for col in columns:
        if col in known:
            texts.append(known[col][0])
            imports.append(known[col][1])
        elif col.startswith("Q") and col[1:].isdigit():
            texts.append(f"RIPLS item {col[1:]}")
            imports.append(f'{{"ImportId":"QID{col[1:]}"}}')
        else:
            texts.append(col)
            imports.append(f'{{"ImportId":"{col}"}}')
    return texts, imports


_FORMATTERS = {"csv": _format_csv, "sav": _format_sav, "xlsx": _format_xlsx,
               "qualtrics": _format_qualtrics}


def build_exports(rng: np.random.Generator, ripls: pd.DataFrame, iccas: pd.DataFrame,
                  students: pd.DataFrame) -> tuple[Export, ...]:
    """Build every survey export of :data:`EXPORTS`.

    Parameters
    ----------
    rng
        Random generator.
    ripls, iccas
        Clean responses from :mod:`ipo_research.synth.responses`.
    students
        Student table.

    Returns
    -------
    tuple of Export
        In the order of :data:`EXPORTS`.
    """
    out = []
    for spec in EXPORTS:
        source = ripls if spec.instrument == "RIPLS" else iccas
        out.append(build_export(rng, spec, source, students))
    return tuple(out)

