"""Who takes part: regions, institutions, programmes, leerteams, students and registers.

Everything here is fictitious.  Institution and organisation names come from DOMAIN.md;
practice locations, people, student numbers, e-mail addresses and phone numbers are made
up.  E-mail addresses use the reserved ``.example`` top-level domain (RFC 2606) so that no
generated address can reach a real person.

The functions are private building blocks of :func:`ipo_research.synth.generate`; each takes
a :class:`numpy.random.Generator` and returns plain DataFrames.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

REGIONS: tuple[str, ...] = ("Zwolle", "Deventer")
REGION_CODES: dict[str, str] = {"Zwolle": "ZW", "Deventer": "DV"}
COHORTS: tuple[str, ...] = ("2021-2022", "2022-2023", "2023-2024")
LEVELS: tuple[str, ...] = ("mbo", "hbo")

#: Institutions per region and level, with their relative share of students.
INSTITUTIONS: dict[str, dict[str, dict[str, float]]] = {
    "Zwolle": {
        "mbo": {"Landstede MBO": 0.35, "Deltion College": 0.45, "Menso Alting": 0.20},
        "hbo": {"Hogeschool KPZ": 0.35, "Hogeschool Viaa": 0.25, "Hogeschool Windesheim": 0.40},
    },
    "Deventer": {"mbo": {"Aventus": 1.0}, "hbo": {"Hogeschool Saxion": 1.0}},
}

_MBO3 = ("Onderwijsassistent", "Gespecialiseerd Medewerker Kinderopvang", "Sport & Bewegen")
#: Programmes offered per institution (which institution offers what is made up).
PROGRAMMES: dict[str, tuple[str, ...]] = {
    "Landstede MBO": _MBO3,
    "Deltion College": _MBO3,
    "Menso Alting": ("Onderwijsassistent", "Gespecialiseerd Medewerker Kinderopvang"),
    "Aventus": _MBO3,
    "Hogeschool KPZ": ("Pabo", "Ad Pedagogisch Educatief Professional"),
    "Hogeschool Viaa": ("Pabo", "Social Work"),
    "Hogeschool Windesheim": ("Pabo", "Social Work"),
    "Hogeschool Saxion": ("Pabo", "Social Work"),
}

#: Study years per programme (mbo 3, Ad 2, bachelor 4).
STUDY_YEARS: dict[str, int] = {
    "Onderwijsassistent": 3,
    "Gespecialiseerd Medewerker Kinderopvang": 3,
    "Sport & Bewegen": 3,
    "Pabo": 4,
    "Social Work": 4,
    "Ad Pedagogisch Educatief Professional": 2,
}

#: Practice organisations and their (made-up) locations per region.
PRACTICE: dict[str, dict[str, tuple[str, ...]]] = {
    "Zwolle": {
        "Kindcentra Zwolle (kindcentra)": (
            "Kindcentrum De Regenboog", "Kindcentrum Het Palet", "Kindcentrum De Boomgaard",
            "Kindcentrum Stadshagen-Noord", "Kindcentrum De Vlonder",
        ),
        "Scholengroep Vechtdal (scholen)": (
            "CBS De Wegwijzer", "OBS De Zonnewijzer", "KBS Sint-Jozef", "OBS Het Kompas",
        ),
        "Wijkteams Zwolle (wijkteams)": (
            "Wijkteam Holtenbroek", "Wijkteam Zwolle-Zuid", "Wijkteam Diezerpoort",
        ),
    },
    "Deventer": {
        "Stichting Varietas": (
            "Varietas De Sterrenboog", "Varietas Het Wilgenhof", "Varietas De Kleine Wereld",
        ),
        "Raster Groep": (
            "Raster BSO De Vlinder", "Raster Kinderopvang Het Nest",
            "Raster Jongerenwerk Rivierenwijk",
        ),
        "Opleidingsschool De Stedendriehoek": (
            "Stedendriehoek School De Brink", "Stedendriehoek School Het Anker",
        ),
    },
}

#: Short made-up themes a leerteam works on ("vraagstuk" of the practice location).
THEMES: tuple[str, ...] = (
    "Overgang kinderopvang naar groep 1",
    "Meer bewegen op het schoolplein",
    "Ouderbetrokkenheid vergroten",
    "Signaleren van zorgen om een kind",
    "Taalstimulering bij peuters",
    "Rust in de klas na de pauze",
    "Doorgaande lijn sociaal-emotionele ontwikkeling",
    "Samenwerking school en wijkteam",
    "Inclusief spelen op de BSO",
    "Gezonde lunch op school",
    "Meertalige gezinnen bereiken",
    "Pesten aanpakken met de hele keten",
)

CIHC_DOMAINS: tuple[str, ...] = (
    "communicatie", "persoonsgerichte zorg", "rolverheldering",
    "teamfunctioneren", "gezamenlijk leiderschap", "conflicthantering",
)
DEPTHS: tuple[str, ...] = ("geintroduceerd", "geoefend", "getoetst")

_IP_MODULES: tuple[str, ...] = (
    "Interprofessioneel samenwerken rond het kind", "Samen in de wijk",
    "Praktijkonderzoek in het leerteam", "Gezamenlijk casusoverleg",
    "Rollen en verantwoordelijkheden rond het kind", "Communiceren met ouders en professionals",
)
_OTHER_MODULES: tuple[str, ...] = (
    "Pedagogisch handelen", "Ontwikkelingspsychologie", "Taal en rekenen",
    "Bewegingsonderwijs", "Zorgstructuur en jeugdhulp", "Beroepshouding", "Didactiek",
    "Spel en ontwikkeling",
)

# Names: Latin-1 only (the Deventer export is cp1252), several with diacritics.
_FIRST = (
    "Zoë", "Chloë", "Noël", "Anaïs", "Joëlle", "René", "Mirjam", "Sjoerd", "Björn", "Daniëlle",
    "Lotte", "Sanne", "Fleur", "Femke", "Iris", "Anouk", "Esmée", "Noa", "Julia", "Lieke",
    "Daan", "Sem", "Bram", "Thijs", "Ruben", "Jesse", "Milan", "Luuk", "Niels", "Stijn",
    "Fatima", "Yasmina", "Mohamed", "Ayoub", "Emre", "Elif", "Gül", "Hüseyin",
    "Inès", "Maëlle", "Jeroen", "Eline", "Maud", "Tess", "Ilse", "Mila", "Hélène", "Joël",
)
_LAST = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
    "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok",
    "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek",
    "de Bruijn", "de Jong", "Schouten", "Willems", "Öztürk", "Çelik", "Müller", "Kuipers",
    "Groenewegen", "Hoekstra", "Zoër", "Reëlink", "Poël", "Boëlle", "El Amrani", "Bouzid",
    "Nijhuis", "Wolters", "Kamphuis", "ter Horst", "Oude Luttikhuis",
)


@dataclass(frozen=True)
class Population:
    """Students, leerteams and registers of one synthetic run.

    Attributes
    ----------
    students
        One row per student: ``Studentnummer``, ``Naam``, ``Voornaam``, ``Achternaam``,
        ``E-mail``, ``Telefoon``, ``Regio``, ``Instelling``, ``Opleiding``, ``Niveau``,
        ``Cohort``, ``Leerteam`` (empty for curriculum-only students), ``Jaar`` (study year),
        ``ip_hours`` (IP curriculum hours followed in the cohort year).
    leerteams
        One row per leerteam (columns as ``leerteams.csv``).
    curriculum
        The curriculum map (columns as ``curriculum.csv``).
    participation
        The participation register (columns as ``participation.csv``).
    """

    students: pd.DataFrame
    leerteams: pd.DataFrame
    curriculum: pd.DataFrame
    participation: pd.DataFrame


#: Leerteam students per region and cohort at scale 1.0 (total about 550).
LEERTEAM_TARGET: dict[str, tuple[int, ...]] = {"Zwolle": (90, 105, 125), "Deventer": (60, 75, 90)}
#: Surveyed curriculum-only students per region and cohort at scale 1.0.
CURRICULUM_TARGET: dict[str, tuple[int, ...]] = {"Zwolle": (80, 90, 100), "Deventer": (50, 60, 70)}


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _programme(rng: np.random.Generator, institution: str) -> str:
    options = PROGRAMMES[institution]
    p = np.array([0.5 if "Ad " in o else 1.0 for o in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(institution: str) -> str:
    word = institution.replace("Hogeschool ", "").replace(" MBO", "").replace(" College", "")
    return _ascii(word).lower().replace(" ", "")


def build_curriculum(rng: np.random.Generator) -> pd.DataFrame:
    """Return the curriculum map: modules per institution, programme and study year.

    Parameters
    ----------
    rng
        Random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``Regio``, ``Instelling``, ``Niveau``, ``Opleiding``, ``Module``, ``Jaar``,
        ``Uren``, ``Domeinen``, ``Diepte``, ``IP``.  Institutions differ in how much IP
        they built into the reworked curriculum, so exposure varies between students.
    """
    rows = []
    for region in REGIONS:
        for level in LEVELS:
            for inst in INSTITUTIONS[region][level]:
                intensity = float(rng.uniform(0.4, 1.3))  # how far the rework went
                for prog in PROGRAMMES[inst]:
                    for year in range(1, STUDY_YEARS[prog] + 1):
                        others = rng.choice(len(_OTHER_MODULES), size=2, replace=False)
                        for k in others:
                            dom = "" if rng.random() < 0.5 else CIHC_DOMAINS[int(rng.integers(2))]
                            rows.append((region, inst, level, prog, _OTHER_MODULES[int(k)], year,
                                         int(rng.choice([28, 42, 56, 84])), dom,
                                         DEPTHS[min(year - 1, 2)], "nee"))
                        n_ip = int(rng.integers(1, 3)) if year > 1 else 1
                        picks = rng.choice(len(_IP_MODULES), size=n_ip, replace=False)
                        for k in picks:
                            n_dom = int(rng.integers(2, 5))
                            doms = sorted(rng.choice(len(CIHC_DOMAINS), size=n_dom, replace=False))
                            base = float(rng.choice([8, 12, 16, 20, 24, 32]))
                            hours = int(round(intensity * base / 2) * 2)
                            depth = DEPTHS[0] if year == 1 else DEPTHS[int(rng.integers(1, 3))]
                            rows.append((region, inst, level, prog, _IP_MODULES[int(k)], year,
                                         max(hours, 4), ", ".join(CIHC_DOMAINS[d] for d in doms),
                                         depth, "ja"))
    cols = ["Regio", "Instelling", "Niveau", "Opleiding", "Module", "Jaar", "Uren",
            "Domeinen", "Diepte", "IP"]
    return pd.DataFrame(rows, columns=cols)


def _ip_hours_table(curriculum: pd.DataFrame) -> dict[tuple[str, str, int], float]:
    ip = curriculum[curriculum["IP"] == "ja"]
    sums = ip.groupby(["Instelling", "Opleiding", "Jaar"])["Uren"].sum()
    return {(str(k[0]), str(k[1]), int(k[2])): float(h)  # type: ignore[index]
            for k, h in sums.items()}


def _team_sizes(rng: np.random.Generator, target: int) -> list[int]:
    sizes: list[int] = []
    p = np.array([0.06, 0.12, 0.2, 0.22, 0.18, 0.13, 0.09])  # sizes 4..10
    while sum(sizes) < target:
        sizes.append(int(rng.choice(np.arange(4, 11), p=p)))
    return sizes


def build_population(rng: np.random.Generator, scale: float) -> Population:
    """Draw institutions, leerteams and students and derive the registers.

    Parameters
    ----------
    rng
        Random generator.
    scale
        Multiplies the number of students (leerteam and curriculum-only); every region
        and cohort keeps at least one leerteam.

    Returns
    -------
    Population
    """
    curriculum = build_curriculum(rng)
    hours = _ip_hours_table(curriculum)
    students: list[dict[str, object]] = []
    teams: list[dict[str, object]] = []

    def add_student(region: str, level: str, cohort: str, team: str, min_year: int) -> None:
        inst = _pick(rng, INSTITUTIONS[region][level])
        prog = _programme(rng, inst)
        top = STUDY_YEARS[prog]
        year = int(rng.integers(min(min_year, top), top + 1))
        attendance = float(rng.beta(9.0, 1.5))
        ip = round(hours.get((inst, prog, year), 0.0) * attendance * 2) / 2
        students.append({"Regio": region, "Instelling": inst, "Opleiding": prog, "Niveau": level,
                         "Cohort": cohort, "Leerteam": team, "Jaar": year, "ip_hours": ip})

    for region in REGIONS:
        organisations = PRACTICE[region]
        locations = [(org, loc) for org, locs in organisations.items() for loc in locs]
        for c, cohort in enumerate(COHORTS):
            target = max(4, round(LEERTEAM_TARGET[region][c] * scale))
            order = rng.permutation(len(locations))
            for t, size in enumerate(_team_sizes(rng, target)):
                team_id = f"{REGION_CODES[region]}-{cohort[2:4]}{cohort[7:9]}-{t + 1:02d}"
                org, loc = locations[int(order[t % len(order)])]
                teams.append({"Leerteam": team_id, "Regio": region, "Cohort": cohort,
                              "Praktijklocatie": loc, "Organisatie": org,
                              "Vraagstuk": THEMES[int(rng.integers(len(THEMES)))]})
                n_mbo = int(np.clip(rng.binomial(size, 0.5), 2, size - 2))
                for k in range(size):
                    add_student(region, "mbo" if k < n_mbo else "hbo", cohort, team_id, 2)
            n_cur = max(2, round(CURRICULUM_TARGET[region][c] * scale))
            for _ in range(n_cur):
                add_student(region, "mbo" if rng.random() < 0.55 else "hbo", cohort, "", 1)

    frame = pd.DataFrame(students)
    frame.insert(0, "Studentnummer", _student_numbers(rng, len(frame)))
    ident = _identities(rng, frame["Instelling"].tolist())
    for col in ("Naam", "Voornaam", "Achternaam", "E-mail", "Telefoon"):
        frame.insert(list(frame.columns).index("Regio"), col, ident[col])
    leerteams = pd.DataFrame(teams)
    participation = build_participation(rng, frame, leerteams, scale)
    return Population(frame, leerteams, curriculum, participation)


def _student_numbers(rng: np.random.Generator, n: int) -> list[str]:
    # 7 digits as text; about 8% start with 0 so reading them as numbers loses digits.
    numbers = 200_000 + rng.choice(9_800_000, size=n, replace=False)
    lead0 = rng.random(n) < 0.08
    numbers = np.where(lead0, numbers % 1_000_000, numbers)
    out = [f"{int(x):07d}" for x in numbers]
    seen: set[str] = set()
    for i, s in enumerate(out):  # leading-zero folding can collide: bump until unique
        while s in seen:
            s = f"{(int(s) + 1) % 10_000_000:07d}"
        seen.add(s)
        out[i] = s
    return out


def _identities(rng: np.random.Generator, institutions: list[str]) -> dict[str, list[str]]:
    first = [_FIRST[int(i)] for i in rng.integers(len(_FIRST), size=len(institutions))]
    last = [_LAST[int(i)] for i in rng.integers(len(_LAST), size=len(institutions))]
    names = [f"{f} {a}" for f, a in zip(first, last, strict=True)]
    mails = []
    for f, a, inst in zip(first, last, institutions, strict=True):
        local = f"{_ascii(f)[0]}.{_ascii(a).replace(' ', '')}".lower()
        mails.append(f"{local}@student.{_slug(inst)}.example")
    phones = [f"06-{int(x):08d}" for x in rng.integers(10_000_000, 99_999_999, size=len(names))]
    return {"Naam": names, "Voornaam": first, "Achternaam": last, "E-mail": mails,
            "Telefoon": phones}


def build_participation(rng: np.random.Generator, students: pd.DataFrame,
                        leerteams: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Return the participation register per region, calendar year, kind and institution.

    Leerteam counts for 2021-2023 are the generated leerteam students by cohort start year;
    2020 holds a small Zwolle pilot.  Curriculum students, teachers and supervisors are drawn
    so that the totals at the end of 2024 come close to the programme targets in DOMAIN.md
    (about 550, 4,000, 70 and 125; student counts multiplied by ``scale``).

    Parameters
    ----------
    rng
        Random generator.
    students, leerteams
        From :func:`build_population`.
    scale
        Student scale factor.

    Returns
    -------
    pandas.DataFrame
        Columns ``Regio``, ``Jaar``, ``Soort``, ``Instelling``, ``Aantal`` (rows with a
        zero count are left out, as a register would).
    """
    rows: list[tuple[str, int, str, str, int]] = []
    lt = students[students["Leerteam"] != ""]
    start = lt["Cohort"].str.slice(0, 4).astype(int)
    for key, n in lt.groupby([lt["Regio"], start, lt["Instelling"]]).size().items():
        parts: tuple[Any, ...] = key  # type: ignore[assignment]
        rows.append((str(parts[0]), int(parts[1]), "student_leerteam", str(parts[2]), int(n)))
    pilot = max(1, round(12 * scale))
    for inst, n in zip(INSTITUTIONS["Zwolle"]["mbo"] | INSTITUTIONS["Zwolle"]["hbo"],
                       rng.multinomial(pilot, [1 / 6] * 6), strict=True):
        if n:
            rows.append(("Zwolle", 2020, "student_leerteam", inst, int(n)))

    years = np.arange(2020, 2025)
    year_share = np.array([0.05, 0.15, 0.22, 0.27, 0.31])
    schools = [(r, i, w * (1.4 if r == "Zwolle" else 1.0))
               for r in REGIONS for lv in LEVELS for i, w in INSTITUTIONS[r][lv].items()]
    surveyed = students[students["Leerteam"] == ""].groupby(
        [students["Cohort"].str.slice(0, 4).astype(int), students["Instelling"]]).size()

    def spread(total: int, units: list[tuple[str, str, float]], kind: str,
               shares: np.ndarray) -> None:
        w = np.array([u[2] for u in units], dtype=float)
        cells = np.outer(shares, w / w.sum()).ravel()
        counts = rng.multinomial(total, cells / cells.sum()).reshape(len(shares), len(units))
        for y, year in enumerate(years):
            for u, (region, inst, _) in enumerate(units):
                n = int(counts[y, u])
                if kind == "student_curriculum":
                    n = max(n, int(surveyed.get((int(year), inst), 0)))
                if n:
                    rows.append((region, int(year), kind, inst, n))

    spread(round(4000 * scale * rng.uniform(0.94, 1.0)), schools, "student_curriculum", year_share)
    teacher_share = np.array([0.12, 0.25, 0.25, 0.2, 0.18])
    spread(int(rng.integers(64, 71)), schools, "docent", teacher_share)
    orgs = [(str(r["Regio"]), str(r["Organisatie"]), 1.0)
            for _, r in leerteams[["Regio", "Organisatie"]].drop_duplicates().iterrows()]
    spread(int(rng.integers(116, 126)), orgs, "praktijkbegeleider", teacher_share)
    out = pd.DataFrame(rows, columns=["Regio", "Jaar", "Soort", "Instelling", "Aantal"])
    kind_order = {"student_leerteam": 0, "student_curriculum": 1, "docent": 2,
                  "praktijkbegeleider": 3}
    out = out.assign(_k=out["Soort"].map(kind_order)).sort_values(
        ["Regio", "Jaar", "_k", "Instelling"], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)
