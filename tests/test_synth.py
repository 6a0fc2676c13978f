"""The synthetic cohort generator: determinism, structure, exact mess counts, known truth."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from scipy import stats

from ipo_research.cli import main
from ipo_research.errors import SynthError, WriteError
from ipo_research.synth import (
    EXPORTS,
    FILE_NAMES,
    ICCAS_MODEL,
    RIPLS_MODEL,
    SyntheticCohort,
    generate,
    write_demo,
)
from ipo_research.synth.messiness import RIPLS_LABELS
from ipo_research.synth.population import INSTITUTIONS, PROGRAMMES

SEED, SCALE = 11, 0.3
SPECS = {s.name: s for s in EXPORTS}


@pytest.fixture(scope="module")
def small() -> SyntheticCohort:
    """A small cohort for structure tests."""
    return generate(seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def full() -> SyntheticCohort:
    """The default-size cohort (the demo's), for truth recovery."""
    return generate(seed=2024, scale=1.0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo folder on disk."""
    out = tmp_path_factory.mktemp("synth") / "demo"
    write_demo(out, seed=SEED, scale=SCALE)
    return out


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_byte_identical_files(demo: Path, tmp_path: Path) -> None:
    write_demo(tmp_path / "again", seed=SEED, scale=SCALE)
    first, second = _hashes(demo), _hashes(tmp_path / "again")
    assert sorted(first) == sorted([*FILE_NAMES, "MANIFEST.json"])
    assert first == second


def test_other_seed_gives_other_data(small: SyntheticCohort) -> None:
    other = generate(seed=SEED + 1, scale=SCALE)
    assert not small.students["Studentnummer"].equals(other.students["Studentnummer"])
    assert not small.ripls.equals(other.ripls)


def test_in_memory_cohort_is_reproducible(small: SyntheticCohort) -> None:
    again = generate(seed=SEED, scale=SCALE)
    pd.testing.assert_frame_equal(small.ripls, again.ripls)
    pd.testing.assert_frame_equal(small.iccas, again.iccas)
    pd.testing.assert_frame_equal(small.truth.students, again.truth.students)
    assert small.truth.messiness == again.truth.messiness


def test_manifest_records_every_file_with_its_hash(demo: Path) -> None:
    manifest = json.loads((demo / "MANIFEST.json").read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["scale"], manifest["generator"]) == (
        SEED, SCALE, "ipo_research.synth")
    hashes = _hashes(demo)
    assert {k: v["sha256"] for k, v in manifest["files"].items()} == {
        k: v for k, v in hashes.items() if k != "MANIFEST.json"}


def test_no_clock_time_in_any_file(demo: Path) -> None:
    # files claim the fixed export moment; the real date must not leak in
    today = pd.Timestamp.now()
    needles = [today.strftime("%d-%m-%Y"), today.strftime("%Y-%m-%d")]
    for path in demo.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("latin-1")
            assert not any(n in text for n in needles), path.name


# --------------------------------------------------------------------------- re-runs and refusals
def test_second_run_returns_without_rewriting(demo: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in demo.rglob("*") if p.is_file()}
    paths = write_demo(demo, seed=SEED, scale=SCALE)
    assert paths[-1] == demo / "MANIFEST.json"
    assert {p: p.stat().st_mtime_ns for p in demo.rglob("*") if p.is_file()} == before


def test_other_settings_are_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_demo(out, seed=3, scale=0.05)
    with pytest.raises(WriteError, match=r"other settings \(seed 3, scale 0\.05.*Fix: pass force"):
        write_demo(out, seed=4, scale=0.05)
    write_demo(out, seed=4, scale=0.05, force=True)
    assert json.loads((out / "MANIFEST.json").read_text())["seed"] == 4


def test_altered_folder_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_demo(out, seed=3, scale=0.05)
    (out / "leerteams.csv").write_text("changed", encoding="utf-8")
    with pytest.raises(WriteError, match="altered after it was generated"):
        write_demo(out, seed=3, scale=0.05)
    write_demo(out, seed=3, scale=0.05, force=True)
    assert write_demo(out, seed=3, scale=0.05)[-1].name == "MANIFEST.json"


def test_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text("a;b\n", encoding="utf-8")
    with pytest.raises(WriteError, match=r"holds files the generator does not write \(mine\.csv\)"):
        write_demo(tmp_path, seed=3, scale=0.05)
    assert (tmp_path / "mine.csv").read_text(encoding="utf-8") == "a;b\n"


def test_interrupted_run_is_completed(tmp_path: Path) -> None:
    # a folder holding only generator files but no manifest (a run that was cut off)
    (tmp_path / "leerteams.csv").write_text("half", encoding="utf-8")
    write_demo(tmp_path, seed=3, scale=0.05)
    assert (tmp_path / "MANIFEST.json").is_file()


@pytest.mark.parametrize(("seed", "scale", "message"), [
    (-1, 1.0, r"seed must be a whole number >= 0, got -1 \(parameter seed\)"),
    (1, 0.0, r"scale must be a number in \(0, 20\], got 0\.0"),
    (1, float("nan"), r"scale must be a number in \(0, 20\], got nan"),
    (1, 50.0, r"scale must be a number in \(0, 20\], got 50\.0"),
])
def test_bad_settings_are_refused(seed: int, scale: float, message: str, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=message):
        write_demo(tmp_path / "x", seed=seed, scale=scale)
    assert not (tmp_path / "x").exists()


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tmp"
    assert main(["synth", "--out", str(out), "--seed", "5", "--scale", "0.05"]) == 0
    assert f"synthetic demo data in {out} ({len(FILE_NAMES) + 1} files)" in capsys.readouterr().out
    assert main(["synth", "--out", str(out), "--seed", "6", "--scale", "0.05"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("ipo-research synth: error: the folder holds demo data")
    assert "Fix: pass force=True (CLI: --force)" in err


# --------------------------------------------------------------------------- population
def test_leerteams_are_mixed_and_sized_4_to_10(full: SyntheticCohort) -> None:
    s = full.students[full.students["Leerteam"] != ""]
    per_team = s.groupby("Leerteam")
    sizes = per_team.size()
    assert sizes.between(4, 10).all()
    assert (per_team["Niveau"].nunique() == 2).all()
    assert (per_team[["Regio", "Cohort"]].nunique() == 1).all().all()
    teams = full.leerteams.set_index("Leerteam")
    assert set(teams.index) == set(sizes.index)
    assert teams.index.str.fullmatch(r"(ZW|DV)-(2122|2223|2324)-\d{2}").all()
    assert (teams["Regio"].map({"Zwolle": "ZW", "Deventer": "DV"}) == teams.index.str[:2]).all()
    assert 500 <= len(s) <= 620  # about 550 leerteam students at scale 1.0
    assert set(full.students["Cohort"]) == {"2021-2022", "2022-2023", "2023-2024"}
    assert (full.students["Leerteam"] == "").sum() > 300  # curriculum-only students


def test_institutions_and_programmes_follow_the_domain(full: SyntheticCohort) -> None:
    st = full.students
    for (region, level), g in st.groupby(["Regio", "Niveau"]):
        assert set(g["Instelling"]) == set(INSTITUTIONS[str(region)][str(level)])
    ad = st[st["Opleiding"] == "Ad Pedagogisch Educatief Professional"]
    assert len(ad) > 0 and set(ad["Instelling"]) == {"Hogeschool KPZ"}
    assert all(p in PROGRAMMES[i] for i, p in zip(st["Instelling"], st["Opleiding"], strict=True))
    assert st["Studentnummer"].is_unique
    assert st["Studentnummer"].str.fullmatch(r"\d{7}").all()
    assert st["Studentnummer"].str.startswith("0").any()
    assert st["E-mail"].str.endswith(".example").all()
    assert st["Naam"].str.contains("[éëöüï]").any()


def test_registers_approach_the_end_2024_targets(full: SyntheticCohort) -> None:
    totals = full.participation.groupby("Soort")["Aantal"].sum()
    assert 520 <= totals["student_leerteam"] <= 620
    assert 3700 <= totals["student_curriculum"] <= 4100
    assert 60 <= totals["docent"] <= 72
    assert 110 <= totals["praktijkbegeleider"] <= 127
    assert set(full.participation["Jaar"]) == {2020, 2021, 2022, 2023, 2024}
    lt = full.participation[(full.participation["Soort"] == "student_leerteam")
                            & (full.participation["Jaar"] >= 2021)]
    assert lt["Aantal"].sum() == (full.students["Leerteam"] != "").sum()
    cur = full.curriculum
    assert set(cur["IP"]) == {"ja", "nee"}
    assert set(cur["Diepte"]) <= {"geintroduceerd", "geoefend", "getoetst"}
    domains = {d.strip() for ds in cur["Domeinen"] for d in ds.split(",") if d.strip()}
    assert domains == {"communicatie", "persoonsgerichte zorg", "rolverheldering",
                       "teamfunctioneren", "gezamenlijk leiderschap", "conflicthantering"}


# --------------------------------------------------------------------------- reading the files back
@dataclass
class Parsed:
    """An export read back and classified cell by cell, independent of the generator."""

    ids: pd.Series
    wave: pd.Series
    end: pd.Series
    duration: np.ndarray
    kind: np.ndarray       # per item cell: valid / missing / oor / junk / na / user / struct
    value: np.ndarray      # parsed number (NaN when none)
    label: np.ndarray      # written as a Dutch label
    decimal: np.ndarray    # written as "4,0"
    table: pd.DataFrame
    blocks: list[list[int]]


def _classify_text(cells: pd.DataFrame, hi: int, na: str | None) -> tuple[np.ndarray, ...]:
    labels = {lab: i + 1 for i, lab in enumerate(RIPLS_LABELS)}
    shape = cells.shape
    kind = np.full(shape, "", dtype=object)
    value = np.full(shape, np.nan)
    label = np.zeros(shape, dtype=bool)
    decimal = np.zeros(shape, dtype=bool)
    for (i, j), c in np.ndenumerate(cells.to_numpy(dtype=object)):
        c = "" if c is None or (isinstance(c, float) and np.isnan(c)) else c
        if isinstance(c, int | float):
            c = str(int(c))
        if c == "":
            kind[i, j] = "missing"
            continue
        if c in labels:
            label[i, j] = True
            value[i, j] = labels[c]
        elif re.fullmatch(r"\d+,0", c):
            decimal[i, j] = True
            value[i, j] = int(c[:-2])
        elif re.fullmatch(r"\d+", c):
            value[i, j] = int(c)
        elif na is not None and c == na:
            kind[i, j] = "na"
            continue
        else:
            kind[i, j] = "junk"
            continue
        kind[i, j] = "valid" if 1 <= value[i, j] <= hi else "oor"
    return kind, value, label, decimal


def _read(folder: Path, name: str) -> Parsed:
    spec = SPECS[name]
    path = folder / name
    blocks = [list(range(19))]
    if spec.fmt == "csv":
        t = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=spec.encoding)
        items = [f"Vraag {j}" for j in range(1, 20)]
        ids, wave, end = t["Studentnummer"], t["Meting"], pd.to_datetime(
            t["Einddatum"], format="%d-%m-%Y %H:%M")
        dur = t["Duur (sec)"].str.replace(",", ".").astype(float).to_numpy()
        kind, value, label, decimal = _classify_text(t[items], 5, None)
    elif spec.fmt == "qualtrics":
        t = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        skiprows=[1, 2])
        items = [f"Q{j}" for j in range(1, 20)]
        ids, wave = t["ExternalReference"], t["Meting"]
        end = pd.to_datetime(t["EndDate"], format="%Y-%m-%d %H:%M:%S")
        dur = t["Duration (in seconds)"].astype(float).to_numpy()
        kind, value, label, decimal = _classify_text(t[items], 5, None)
    elif spec.fmt == "sav":
        t, _ = pyreadstat.read_sav(path, user_missing=True)
        items = [f"V{j}" for j in range(1, 20)]
        ids, wave = t["Studentnummer"], t["Meting"]
        end = pd.to_datetime(t["Einddatum"], format="%d-%m-%Y %H:%M")
        dur = t["Duur_sec"].to_numpy(dtype=float)
        value = t[items].to_numpy(dtype=float)
        kind = np.where(np.isnan(value), "missing",
                        np.where(value == 9, "user",
                                 np.where((value >= 1) & (value <= 5), "valid", "oor")))
        label = decimal = np.zeros(value.shape, dtype=bool)
    else:
        t = pd.read_excel(path, sheet_name="Resultaten", dtype=object)
        items = ([f"Voor_{j}" for j in range(1, 21)] + [f"Nu_{j}" for j in range(1, 21)]
                 + ["Item_21"])
        ids, wave = t["Studentnummer"].astype(str), t["Meting"]
        end = pd.to_datetime(t["Einddatum"], format="%d-%m-%Y %H:%M")
        dur = t["Duur (sec)"].to_numpy(dtype=float)
        kind, value, label, decimal = _classify_text(t[items], 7, "n.v.t.")
        pre = (wave == "voormeting").to_numpy()
        struct_cols = [j for j, c in enumerate(items) if not c.startswith("Nu_")]
        for j in struct_cols:
            assert (kind[pre, j] == "missing").all()  # structurally empty
            kind[pre, j] = "struct"
        blocks = [list(range(20)), list(range(20, 40))]
    return Parsed(ids.astype(str).reset_index(drop=True), wave.reset_index(drop=True),
                  end.reset_index(drop=True), dur, kind, value, label, decimal, t, blocks)


def _kept_rows(p: Parsed) -> np.ndarray:
    """Apply the contract's rule: per student and wave keep the latest complete submission."""
    complete = ~(p.kind == "missing").any(axis=1)
    frame = pd.DataFrame({"id": p.ids, "wave": p.wave, "end": p.end, "complete": complete})
    keep = np.zeros(len(frame), dtype=bool)
    for _, g in frame.groupby(["id", "wave"]):
        pool = g[g["complete"]] if g["complete"].any() else g
        keep[pool.sort_values("end").index[-1]] = True
    return keep


def _flat(p: Parsed, rows: np.ndarray) -> np.ndarray:
    """Rows whose item cells are all answered validly with one and the same value."""
    out = np.zeros(len(rows), dtype=bool)
    for i in np.flatnonzero(rows):
        live = p.kind[i] != "struct"
        vals = p.value[i][live]
        out[i] = bool((p.kind[i][live] == "valid").all() and len(set(vals)) == 1)
    return out


def _partly_flat(p: Parsed, rows: np.ndarray) -> np.ndarray:
    """Rows where some block's valid answers (2 or more) are all equal (a lenient rule)."""
    out = np.zeros(len(rows), dtype=bool)
    for i in np.flatnonzero(rows):
        for b in p.blocks:
            vals = [p.value[i, j] for j in b if p.kind[i, j] == "valid"]
            out[i] |= len(vals) >= 2 and len(set(vals)) == 1
    return out


@pytest.mark.parametrize("name", list(SPECS))
def test_mess_counts_match_the_files(demo: Path, name: str) -> None:
    truth = json.loads((demo / "truth" / "messiness.json").read_text(encoding="utf-8"))[name]
    flags = pd.read_csv(demo / "truth" / "row_flags.csv", dtype=str)
    flags = flags[flags["file"] == name]
    p = _read(demo, name)
    keep = _kept_rows(p)
    kept_k, extra_k = p.kind[keep], p.kind[~keep]
    assert truth["rows"] == len(p.ids)
    assert truth["kept_rows"] == keep.sum()
    big = truth["rows"] >= 12  # tiny exports get no row-level mess
    assert truth["duplicate_rows"] == (~keep).sum()
    assert truth["duplicate_rows"] > 0 or not big
    dup_flags = flags[flags["flag"].str.startswith("duplicate")]
    assert sorted(dup_flags["row"].astype(int)) == sorted(np.flatnonzero(~keep) + 1)
    assert truth["missing_cells"] == (kept_k == "missing").sum()
    assert truth["rows_with_missing"] == (kept_k == "missing").any(axis=1).sum()
    assert truth["duplicate_missing_cells"] == (extra_k == "missing").sum()
    assert truth["out_of_range_cells"] == (kept_k == "oor").sum()
    assert truth["junk_text_cells"] == (kept_k == "junk").sum()
    assert truth["na_cells"] == (kept_k == "na").sum()
    assert truth["user_missing_cells"] == (kept_k == "user").sum()
    assert truth["item_cells"] == (kept_k != "struct").sum()
    assert truth["label_cells"] == p.label.sum()
    assert truth["decimal_comma_cells"] == p.decimal.sum()
    id_cols = truth["identifier_columns"]
    assert truth["identifier_cells"] == sum(
        (p.table[c].astype(str).replace("nan", "") != "").sum() for c in id_cols)
    # speeders: under a third of the median, per file and per file and wave alike
    speed = keep & (p.duration < np.median(p.duration[keep]) / 3)
    assert truth["speeder_rows"] == speed.sum()
    assert truth["speeder_rows"] > 0 or not big
    per_wave = np.zeros(len(keep), dtype=bool)
    for w in ("voormeting", "nameting"):
        m = keep & (p.wave == w).to_numpy()
        if m.any():
            per_wave |= m & (p.duration < np.median(p.duration[m]) / 3)
    assert (per_wave == speed).all()
    assert sorted(flags.loc[flags["flag"] == "speeder", "row"].astype(int)) == sorted(
        np.flatnonzero(speed) + 1)
    # straight-liners: strict and lenient rules find exactly the injected rows
    flat = _flat(p, keep)
    assert truth["straight_liner_rows"] == flat.sum()
    assert truth["straight_liner_rows"] > 0 or not big
    assert (_partly_flat(p, keep) == flat).all()
    assert sorted(flags.loc[flags["flag"] == "straight_liner", "row"].astype(int)) == sorted(
        np.flatnonzero(flat) + 1)
    assert not (_partly_flat(p, ~keep)).any()  # duplicates never look straight-lined
    by_wave = p.wave[keep].value_counts()
    assert truth["rows_by_wave"] == {w: int(by_wave.get(w, 0)) for w in ("voormeting", "nameting")}


def test_every_kind_of_mess_occurs(demo: Path) -> None:
    truth = json.loads((demo / "truth" / "messiness.json").read_text(encoding="utf-8"))
    total = pd.DataFrame(truth).T
    for key in ("duplicate_rows_earlier_complete", "duplicate_rows_later_incomplete",
                "missing_cells", "out_of_range_cells", "junk_text_cells", "na_cells",
                "user_missing_cells", "label_cells", "decimal_comma_cells",
                "free_text_naming_people"):
        assert total[key].astype(int).sum() > 0, key


def test_free_text_and_identifiers(demo: Path) -> None:
    t = pd.read_csv(demo / "ripls_zwolle.csv", sep=";", dtype=str, keep_default_na=False,
                    encoding="utf-8-sig")
    truth = json.loads((demo / "truth" / "messiness.json").read_text(encoding="utf-8"))
    zw = truth["ripls_zwolle.csv"]
    assert zw["free_text_cells"] == (t["Opmerkingen"] != "").sum()
    named = pd.read_csv(demo / "truth" / "row_flags.csv", dtype=str)
    named = named[(named["flag"] == "name_in_free_text") & (named["file"] == "ripls_zwolle.csv")]
    assert len(named) == zw["free_text_naming_people"]
    texts = t["Opmerkingen"].iloc[named["row"].astype(int) - 1]
    assert texts.str.contains(r"[A-ZÖ][a-zëü]+ [A-Z]?[a-z]*\s?[A-Z][a-zü]+").all()
    assert t["Telefoon"].str.fullmatch(r"06-\d{8}").all()


def test_clean_answers_survive_in_ordinary_rows(small: SyntheticCohort, demo: Path) -> None:
    # every valid cell of an ordinary kept row equals what the model generated
    for name in ("ripls_zwolle.csv", "ripls_deventer_2024.sav", "iccas_deventer.xlsx"):
        p = _read(demo, name)
        flagged = set(small.truth.row_flags.query("file == @name")["row"])
        ordinary = np.array([i + 1 not in flagged for i in range(len(p.ids))])
        waves = p.wave.map({"voormeting": "pre", "nameting": "post"})
        if SPECS[name].instrument == "RIPLS":
            clean = small.ripls.set_index(["Studentnummer", "wave"])[
                [f"q{j}" for j in range(1, 20)]]
        else:
            ic = small.iccas.set_index(["Studentnummer", "wave", "rating"])
            items = [f"q{j}" for j in range(1, 21)]
            before = ic.xs("before", level="rating")[items].reindex(
                ic.xs("now", level="rating").index)
            now = ic.xs("now", level="rating")
            clean = pd.concat([before.set_axis([f"b{j}" for j in range(20)], axis=1),
                               now[items], now[["q21"]]], axis=1)
        expected = clean.reindex(pd.MultiIndex.from_arrays([p.ids, waves])).to_numpy(dtype=float)
        valid = (p.kind == "valid") & ordinary[:, None]
        assert valid.sum() > 1000
        np.testing.assert_array_equal(p.value[valid], expected[valid])


def test_formats_encodings_and_headers(demo: Path) -> None:
    assert (demo / "ripls_zwolle.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    raw = (demo / "ripls_deventer.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert re.search("[éëö]", raw.decode("cp1252"))
    _, meta = pyreadstat.read_sav(demo / "ripls_deventer_2024.sav")
    assert meta.variable_value_labels["V1"][1] == "Helemaal mee oneens"
    assert meta.variable_value_labels["V19"][5] == "Helemaal mee eens"
    assert meta.column_names_to_labels["Duur_sec"] == "Duur (sec)"
    df, _ = pyreadstat.read_sav(demo / "ripls_deventer_2024.sav")
    assert set(df["Cohort"]) == {"2023-2024"} and set(df["Regio"]) == {"Deventer"}
    with (demo / "ripls_qualtrics.csv").open(encoding="utf-8-sig") as fh:
        header = [next(fh) for _ in range(3)]
    third = next(csv.reader([header[2]]))
    assert all(json.loads(c)["ImportId"] for c in third)
    assert json.loads(third[17]) == {"ImportId": "QID1"}
    xl = pd.ExcelFile(demo / "iccas_zwolle.xlsx")
    assert xl.sheet_names == ["Resultaten"]
    for name in ("curriculum.csv", "participation.csv", "leerteams.csv"):
        head = (demo / name).read_text(encoding="utf-8").splitlines()[0]
        assert ";" in head


# --------------------------------------------------------------------------- known truth
def _ripls_scores(cohort: SyntheticCohort) -> pd.DataFrame:
    items = [f"q{j}" for j in range(1, 20)]
    x = cohort.ripls[items].to_numpy(dtype=float).copy()
    x[:, 9:12] = 6 - x[:, 9:12]  # items 10-12 reverse-keyed
    scores = cohort.ripls[["Studentnummer", "wave"]].assign(score=x.mean(axis=1))
    return scores.pivot(index="Studentnummer", columns="wave", values="score").dropna()


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def test_growth_by_level_is_recovered(full: SyntheticCohort) -> None:
    truth = full.truth.students.set_index("Studentnummer")
    w = _ripls_scores(full).join(truth)
    observed = (w["post"] - w["pre"]).groupby(w["Niveau"]).mean()
    latent = (w["ripls_latent_post"] - w["ripls_latent_pre"]).groupby(w["Niveau"]).mean()
    # ceiling effects make observed change a little smaller than latent change
    assert observed["hbo"] == pytest.approx(latent["hbo"], abs=0.05)
    assert observed["mbo"] == pytest.approx(latent["mbo"], abs=0.05)
    p = full.truth.parameters["RIPLS"]
    # the expected latent growth by level from the model's fixed effects
    for level, hbo in (("mbo", 0.0), ("hbo", 1.0)):
        g = w[w["Niveau"] == level]
        expected = (p["growth"] + p["growth_hbo"] * hbo + p["growth_per_10h"] * g["ip_hours"] / 10
                    + p["growth_leerteam"] * (g["Leerteam"].notna() & (g["Leerteam"] != "")))
        assert latent[level] == pytest.approx(expected.mean(), abs=0.03)
    assert observed["hbo"] - observed["mbo"] == pytest.approx(p["growth_hbo"], abs=0.06)


def test_growth_effects_are_recovered_by_regression(full: SyntheticCohort) -> None:
    truth = full.truth.students.set_index("Studentnummer")
    w = _ripls_scores(full).join(truth)
    X = np.column_stack([np.ones(len(w)), w["Niveau"] == "hbo", w["ip_hours"] / 10,
                         w["Leerteam"].fillna("") != ""]).astype(float)
    coef, *_ = np.linalg.lstsq(X, (w["post"] - w["pre"]).to_numpy(), rcond=None)
    p = full.truth.parameters["RIPLS"]
    assert coef[1] == pytest.approx(p["growth_hbo"], abs=0.05)
    assert coef[2] == pytest.approx(p["growth_per_10h"], abs=0.02)
    assert coef[3] == pytest.approx(p["growth_leerteam"], abs=0.06)


def test_iccas_response_shift_is_recovered(full: SyntheticCohort) -> None:
    items = [f"q{j}" for j in range(1, 21)]
    ic = full.iccas.assign(score=full.iccas[items].mean(axis=1))
    pre = ic[ic["wave"] == "pre"].set_index("Studentnummer")["score"]
    before = ic[(ic["wave"] == "post") & (ic["rating"] == "before")].set_index(
        "Studentnummer")["score"]
    shift = (pre - before).dropna().mean()
    assert shift == pytest.approx(full.truth.parameters["ICCAS"]["response_shift"], abs=0.06)
    now = ic[(ic["wave"] == "post") & (ic["rating"] == "now")].set_index("Studentnummer")
    change = now["score"] - before.reindex(now.index)
    r = np.corrcoef(change, now["q21"].astype(float))[0, 1]
    assert r < -0.5  # item 21 runs the other way: 1 = much better now


def test_reliability_is_realistic(full: SyntheticCohort) -> None:
    pre = full.ripls[full.ripls["wave"] == "pre"]
    x = pre[[f"q{j}" for j in range(1, 20)]].to_numpy(dtype=float).copy()
    x[:, 9:12] = 6 - x[:, 9:12]
    assert 0.85 <= _alpha(x) <= 0.90
    assert _alpha(x[:, 16:19]) < 0.5  # Roles & Responsibilities is weak, as published
    ic = full.iccas[(full.iccas["wave"] == "pre")]
    assert 0.93 <= _alpha(ic[[f"q{j}" for j in range(1, 21)]].to_numpy(dtype=float)) <= 0.97
    # unreversed, items 10-12 correlate negatively with the rest
    raw = pre[[f"q{j}" for j in range(1, 20)]].to_numpy(dtype=float)
    assert np.corrcoef(raw[:, 10], raw[:, :9].mean(axis=1))[0, 1] < -0.2


def test_truth_files_match_the_models(demo: Path) -> None:
    params = json.loads((demo / "truth" / "parameters.json").read_text(encoding="utf-8"))
    assert params["seed"] == SEED
    assert params["RIPLS"]["reverse"] == [10, 11, 12]
    assert params["RIPLS"]["growth_hbo"] == RIPLS_MODEL.growth_hbo
    assert params["ICCAS"]["response_shift"] == ICCAS_MODEL.response_shift
    students = pd.read_csv(demo / "truth" / "students.csv", dtype={"Studentnummer": str})
    assert {"ripls_team_effect", "ripls_student_effect", "ripls_latent_pre", "ripls_latent_post",
            "iccas_latent_before", "ip_hours"} <= set(students.columns)
    no_team = students["Leerteam"].isna()
    assert (students.loc[no_team, "ripls_team_effect"] == 0).all()
    team_sd = students[~no_team].groupby("Leerteam")["ripls_team_effect"].first().std()
    assert team_sd == pytest.approx(RIPLS_MODEL.sd_team, rel=0.6)



# --------------------------------------------------------------------------- R (lme4 + lmerTest)
R_FIT = Path(__file__).parent / "fixtures" / "r" / "synth_lmer.json"
SCORES = Path(__file__).parent / "fixtures" / "data" / "synth_scores.csv"


def test_score_fixture_is_what_the_generator_makes(full: SyntheticCohort) -> None:
    # the R results below were computed on this file; it must still be what generate() makes
    fixture = pd.read_csv(SCORES, dtype={"Studentnummer": str, "Leerteam": str},
                          keep_default_na=False)
    s = full.total_scores()
    s = s.loc[s["rating"] == "now", list(fixture.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(fixture, s, check_dtype=False)


def test_lme4_recovers_the_fixed_effects() -> None:
    fit = json.loads(R_FIT.read_text(encoding="utf-8"))
    assert (fit["seed"], fit["scale"]) == (2024, 1.0)
    names = {"(Intercept)": "intercept", "hbo": "hbo", "post": "growth", "post:hbo": "growth_hbo",
             "post:hours10": "growth_per_10h", "post:leerteam": "growth_leerteam"}
    checks = 2 * 8
    for instr, model in (("RIPLS", RIPLS_MODEL), ("ICCAS", ICCAS_MODEL)):
        fixed = fit[instr]["fixed"]
        truth = {k: float(getattr(model, v)) for k, v in names.items()}
        truth |= {"hours10": 0.0, "leerteam": 0.0}  # no effect on the pretest
        assert set(fixed) == set(truth)
        for term, value in truth.items():
            f = fixed[term]
            # familywise 95% over all 16 coefficients (Bonferroni), Satterthwaite df as lmerTest
            crit = stats.t.ppf(1 - 0.05 / (2 * checks), f["df"])
            assert abs(f["estimate"] - value) <= crit * f["se"], (instr, term, f, value)
        # nesting in leerteams is visible: the team variance is not estimated at zero
        assert fit[instr]["sd"]["team"] > 0.05
