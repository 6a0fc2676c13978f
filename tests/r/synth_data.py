"""Write the synthetic demo cohort's clean total scores for ``synth.R`` and the tests.

Run from the repository root (deterministic; re-running rewrites an identical file)::

    .venv/bin/python tests/r/synth_data.py
    Rscript tests/r/synth.R

``tests/fixtures/data/synth_scores.csv`` holds the ``now`` total scores of RIPLS and ICCAS
(pre and post) of ``generate(seed=2024, scale=1.0)``, the demo's default, with the columns
the generating model uses.  ``tests/test_synth.py`` checks that the generator still makes
exactly this file (so the R results below stay valid), and that lme4/lmerTest recover the
generator's known parameters from it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ipo_research.synth import generate

SEED, SCALE = 2024, 1.0
PATH = Path("tests/fixtures/data/synth_scores.csv")
COLUMNS = ["instrument", "Studentnummer", "wave", "score", "Niveau", "Leerteam", "ip_hours"]


def scores_fixture() -> pd.DataFrame:
    """Return the table written to :data:`PATH`."""
    s = generate(seed=SEED, scale=SCALE).total_scores()
    return s.loc[s["rating"] == "now", COLUMNS].reset_index(drop=True)


def main() -> None:
    """Write the fixture."""
    PATH.parent.mkdir(parents=True, exist_ok=True)
    scores_fixture().to_csv(PATH, index=False, lineterminator="\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
