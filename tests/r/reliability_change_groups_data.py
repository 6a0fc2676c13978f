"""Write the seeded datasets that ``reliability_change_groups.R`` and the tests read.

Run from the repository root (deterministic; re-running rewrites identical files)::

    .venv/bin/python tests/r/reliability_change_groups_data.py
    Rscript tests/r/reliability_change_groups.R

Datasets (``tests/fixtures/data/rcg_*.csv``, ``NA`` marks a missing value):

* ``rcg_rel_complete``: 300 x 8 Likert 1-5 items, no missing values;
* ``rcg_rel_missing``: 250 x 10 items 1-7, about 8% missing, one item reversed (negative
  loading, exercises psych's flip in omega) and two rows without any answer;
* ``rcg_rel_small``: 25 x 4 items on a 0-10 scale with decimals, weak correlations;
* ``rcg_rel_iccas``: 120 x 20 items 1-7, high alpha;
* ``rcg_change_*``: ``pre``/``post`` pairs: ties and zeros (normal approximation), distinct
  differences with n = 20 and 49 (exact Wilcoxon) and n = 50 (normal without ties), a large effect
  (tiny p-values), missing values;
* ``rcg_shift``: ``then``/``pre``/``post`` with missing values (response shift);
* ``rcg_groups_*``: ``score``/``group``: unbalanced with unequal variances and ties, two groups,
  four groups with tiny p-values, five groups with no effect (omega truncated at 0);
* ``rcg_clusters_*``: ``score``/``team``: unbalanced teams, balanced teams, no clustering.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "data"


def _likert(
    latent: np.ndarray, loading: float, noise: float, lo: int, hi: int, rng: np.random.Generator
) -> np.ndarray:
    centre = (lo + hi) / 2.0
    raw = centre + loading * latent + rng.normal(scale=noise, size=latent.size)
    return np.clip(np.round(raw), lo, hi)


def _poke_missing(frame: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    values = frame.to_numpy(dtype=float).copy()
    values[rng.random(values.shape) < share] = np.nan
    return pd.DataFrame(values, columns=frame.columns)


def reliability_sets(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    sets: dict[str, pd.DataFrame] = {}
    lat = rng.normal(size=300)
    sets["rel_complete"] = pd.DataFrame(
        {f"q{i}": _likert(lat, rng.uniform(0.5, 1.2), 0.9, 1, 5, rng) for i in range(1, 9)}
    )
    lat = rng.normal(size=250)
    frame = pd.DataFrame(
        {f"v{i}": _likert(lat, rng.uniform(0.6, 1.5), 1.1, 1, 7, rng) for i in range(1, 11)}
    )
    frame["v4"] = 8 - frame["v4"]  # a reverse-worded item left unreversed
    frame = _poke_missing(frame, 0.08, rng)
    frame.iloc[[17, 141]] = np.nan
    sets["rel_missing"] = frame
    lat = rng.normal(size=25)
    sets["rel_small"] = pd.DataFrame(
        {
            f"s{i}": np.round(np.clip(5 + 0.8 * lat + rng.normal(scale=2.0, size=25), 0, 10), 1)
            for i in range(1, 5)
        }
    )
    lat = rng.normal(size=120)
    sets["rel_iccas"] = pd.DataFrame(
        {f"item{i}": _likert(lat, 1.3, 0.5, 1, 7, rng) for i in range(1, 21)}
    )
    return sets


def change_sets(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    sets: dict[str, pd.DataFrame] = {}
    pre = np.round(rng.normal(3.2, 0.6, size=80) * 4) / 4
    post = pre + np.round(rng.normal(0.2, 0.5, size=80) * 4) / 4
    sets["change_ties"] = pd.DataFrame({"pre": pre, "post": post})
    for n in (20, 49, 50):
        pre = np.round(rng.normal(50, 10, size=n), 3)
        post = np.round(pre + rng.normal(2, 6, size=n), 3)
        sets[f"change_distinct{n}"] = pd.DataFrame({"pre": pre, "post": post})
    pre = np.round(rng.normal(3.0, 0.5, size=400), 2)
    post = np.round(pre + rng.normal(0.6, 0.4, size=400), 2)
    sets["change_tiny_p"] = pd.DataFrame({"pre": pre, "post": post})
    pre = np.round(rng.normal(4.0, 1.0, size=60))
    post = np.round(pre + rng.normal(0.3, 1.0, size=60))
    frame = pd.DataFrame({"pre": pre, "post": post})
    frame.loc[rng.choice(60, 6, replace=False), "pre"] = np.nan
    frame.loc[rng.choice(60, 5, replace=False), "post"] = np.nan
    sets["change_missing"] = frame
    n = 150
    true_pre = rng.normal(4.2, 0.8, size=n)
    post = np.clip(np.round((true_pre + rng.normal(0.9, 0.5, size=n)) * 5) / 5, 1, 7)
    then = np.clip(np.round((true_pre - 0.4 + rng.normal(0, 0.6, size=n)) * 5) / 5, 1, 7)
    pre = np.clip(np.round((true_pre + rng.normal(0, 0.4, size=n)) * 5) / 5, 1, 7)
    frame = pd.DataFrame({"then": then, "pre": pre, "post": post})
    frame.loc[rng.choice(n, 12, replace=False), "pre"] = np.nan
    frame.loc[rng.choice(n, 4, replace=False), "then"] = np.nan
    sets["shift"] = frame
    return sets


def group_sets(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    sets: dict[str, pd.DataFrame] = {}

    def make(spec: list[tuple[str, int, float, float]], digits: int) -> pd.DataFrame:
        parts = [
            pd.DataFrame({"score": np.round(rng.normal(m, s, size=n), digits), "group": g})
            for g, n, m, s in spec
        ]
        return (
            pd.concat(parts, ignore_index=True)
            .sample(frac=1.0, random_state=7)
            .reset_index(drop=True)
        )

    sets["groups_unbalanced"] = make(
        [
            ("Onderwijsassistent", 12, 3.4, 0.3),
            ("Pabo", 40, 3.7, 0.7),
            ("SocialWork", 25, 3.5, 1.1),
        ],
        1,
    )
    sets["groups_two"] = make([("mbo", 35, 3.6, 0.6), ("hbo", 28, 3.9, 0.5)], 2)
    sets["groups_tiny_p"] = make(
        [("A", 80, 2.0, 0.5), ("B", 70, 3.0, 0.6), ("C", 90, 3.5, 0.8), ("D", 60, 4.5, 0.4)], 3
    )
    sets["groups_null"] = make([(g, 15, 3.0, 0.8) for g in ("a", "b", "c", "d", "e")], 2)
    return sets


def cluster_sets(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    sets: dict[str, pd.DataFrame] = {}
    sizes = rng.integers(2, 13, size=40)
    team_effect = rng.normal(0, 0.4, size=40)
    rows = [
        (f"T{j:02d}", 3.5 + team_effect[j] + e)
        for j, m in enumerate(sizes)
        for e in rng.normal(0, 0.9, size=m)
    ]
    frame = pd.DataFrame(rows, columns=["team", "score"])
    frame["score"] = frame["score"].round(3)
    frame.loc[rng.choice(len(frame), 8, replace=False), "score"] = np.nan
    sets["clusters_unbalanced"] = frame[["score", "team"]]
    team_effect = rng.normal(0, 0.5, size=20)
    sets["clusters_balanced"] = pd.DataFrame(
        {
            "score": np.round(np.repeat(team_effect, 6) + rng.normal(3, 1, size=120), 3),
            "team": np.repeat([f"L{j:02d}" for j in range(20)], 6),
        }
    )
    sizes = rng.integers(3, 9, size=15)
    sets["clusters_none"] = pd.DataFrame(
        {
            "score": np.round(rng.normal(3, 1, size=int(sizes.sum())), 3),
            "team": np.repeat([f"N{j:02d}" for j in range(15)], sizes),
        }
    )
    return sets


def main() -> None:
    """Write every dataset to ``tests/fixtures/data``."""
    rng = np.random.default_rng(20240404)
    OUT.mkdir(parents=True, exist_ok=True)
    every: dict[str, pd.DataFrame] = {}
    every |= reliability_sets(rng)
    every |= change_sets(rng)
    every |= group_sets(rng)
    every |= cluster_sets(rng)
    for name, frame in every.items():
        frame.to_csv(OUT / f"rcg_{name}.csv", index=False, na_rep="NA", lineterminator="\n")
    print(f"wrote {len(every)} datasets to {OUT}")


if __name__ == "__main__":
    main()
