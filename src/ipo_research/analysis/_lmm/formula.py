"""Parse lme4 formulas and build the model matrices as R does.

The fixed part follows R's ``terms()``/``model.matrix()`` conventions: terms are
ordered by degree (main effects, then two-way interactions, ...), factors are
treatment coded when the term's margin is in the model and indicator coded
otherwise, and columns are named ``(Intercept)``, ``wavepost``,
``wavepost:levelhbo`` (the first factor of an interaction varies fastest).
Random terms ``(expr | g)``, ``(expr | g1:g2)`` and ``(expr | g1/g2)`` are expanded
as lme4's ``findbars()`` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ipo_research.errors import AnalysisError

Term = tuple[str, ...]
"""A model term: the variables it multiplies, in order of first appearance."""

_TOKEN = re.compile(r"\s*(?:(`[^`]+`)|([A-Za-z_.][A-Za-z0-9_.]*)|(\d+)|(\|\||[()+\-*:/|^~]))")


@dataclass(frozen=True)
class RandomSpec:
    """One random-effects term ``(expr | group)`` after expansion.

    Attributes
    ----------
    intercept
        Whether ``expr`` contains an intercept.
    terms
        Non-intercept terms of ``expr``.
    group
        The grouping variables; more than one means their interaction (``g1:g2``).
    """

    intercept: bool
    terms: tuple[Term, ...]
    group: tuple[str, ...]

    @property
    def group_name(self) -> str:
        """Group label as lme4 prints it, e.g. ``team:student``."""
        return ":".join(self.group)


@dataclass(frozen=True)
class ParsedFormula:
    """A parsed lme4 formula.

    Attributes
    ----------
    response
        Name of the response column.
    intercept
        Whether the fixed part has an intercept.
    fixed
        Fixed-effect terms, ordered as R's ``terms()`` orders them.
    random
        Random-effects terms.
    """

    response: str
    intercept: bool
    fixed: tuple[Term, ...]
    random: tuple[RandomSpec, ...]

    def variables(self) -> list[str]:
        """All column names used by the formula, in order of first use."""
        names: list[str] = [self.response]
        for term in self.fixed:
            names.extend(term)
        for spec in self.random:
            for term in spec.terms:
                names.extend(term)
            names.extend(spec.group)
        return list(dict.fromkeys(names))


def _tokenize(text: str, formula: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise AnalysisError(
                f"cannot read formula {formula!r} at {text[pos:]!r}",
                context={"parameter": "formula"},
                hint="use lme4 syntax such as 'score ~ wave * level + (1 | team)'",
            )
        backtick, name, number, op = match.groups()
        if backtick is not None:
            tokens.append("`" + backtick[1:-1])
        elif name is not None:
            tokens.append("`" + name)
        elif number is not None:
            tokens.append(number)
        else:
            tokens.append(op)
        pos = match.end()
    return tokens


class _TermParser:
    """Recursive-descent parser for the right-hand side of an R model formula.

    Each expression evaluates to ``(terms, intercept)`` where ``intercept`` is
    ``True``/``False`` when set explicitly (``1``, ``0``, ``-1``) and ``None`` otherwise.
    Random terms ``( ... | ... )`` are collected into ``self.bars``.
    """

    def __init__(self, tokens: list[str], formula: str, allow_bars: bool) -> None:
        self.tokens = tokens
        self.pos = 0
        self.formula = formula
        self.allow_bars = allow_bars
        self.bars: list[tuple[list[str], list[str]]] = []

    def error(self, message: str) -> AnalysisError:
        return AnalysisError(
            f"cannot read formula {self.formula!r}: {message}",
            context={"parameter": "formula"},
            hint="use lme4 syntax such as 'score ~ wave * level + (1 | team)'",
        )

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.pos += 1
        return token

    def parse(self) -> tuple[list[Term], bool | None]:
        terms, intercept = self.expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r}")
        return terms, intercept

    def expr(self) -> tuple[list[Term], bool | None]:
        terms: list[Term] = []
        intercept: bool | None = None
        sign = "+"
        if self.peek() == "-":
            self.take()
            sign = "-"
        while True:
            part, part_icpt = self.product()
            if sign == "+":
                terms = _union(terms, part)
                if part_icpt is not None:
                    intercept = part_icpt
            else:
                terms = [t for t in terms if frozenset(t) not in {frozenset(p) for p in part}]
                if part_icpt is True:
                    intercept = False
                elif part_icpt is False:
                    intercept = True
            nxt = self.peek()
            if nxt in ("+", "-"):
                sign = self.take()
                continue
            return terms, intercept

    def product(self) -> tuple[list[Term], bool | None]:
        terms, intercept = self.interaction()
        while self.peek() in ("*", "/"):
            op = self.take()
            right, _ = self.interaction()
            if op == "*":
                terms = _union(_union(terms, right), _cross(terms, right))
            else:
                # a/b = a + a:b  (b within a)
                outer = tuple(dict.fromkeys(v for t in terms for v in t))
                terms = _union(terms, _cross([outer], right))
        return terms, intercept

    def interaction(self) -> tuple[list[Term], bool | None]:
        terms, intercept = self.power()
        while self.peek() == ":":
            self.take()
            right, _ = self.power()
            terms = _cross(terms, right)
            intercept = None
        return terms, intercept

    def power(self) -> tuple[list[Term], bool | None]:
        terms, intercept = self.atom()
        if self.peek() == "^":
            self.take()
            token = self.take()
            if not token.isdigit():
                raise self.error("'^' needs a whole number")
            result = terms
            for _ in range(int(token) - 1):
                result = _union(result, _cross(result, terms))
            terms = result
        return terms, intercept

    def atom(self) -> tuple[list[Term], bool | None]:
        token = self.take()
        if token.startswith("`"):
            return [(token[1:],)], None
        if token in ("0", "1"):
            return [], token == "1"
        if token == "(":
            start = self.pos
            depth = 0
            bar_at = None
            while self.pos < len(self.tokens):
                tok = self.tokens[self.pos]
                if tok == "(":
                    depth += 1
                elif tok == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif tok in ("|", "||") and depth == 0:
                    bar_at = self.pos
                    if tok == "||":
                        raise self.error("'||' (uncorrelated random effects) is not supported")
                self.pos += 1
            else:
                raise self.error("unbalanced parentheses")
            end = self.pos
            self.pos += 1  # skip ')'
            if bar_at is not None:
                if not self.allow_bars:
                    raise self.error("random-effects term inside another term")
                self.bars.append((self.tokens[start:bar_at], self.tokens[bar_at + 1 : end]))
                return [], None
            inner = _TermParser(self.tokens[start:end], self.formula, self.allow_bars)
            terms, intercept = inner.parse()
            self.bars.extend(inner.bars)
            return terms, intercept
        raise self.error(f"unexpected {token!r}")


def _union(a: Sequence[Term], b: Sequence[Term]) -> list[Term]:
    seen = {frozenset(t) for t in a}
    out = list(a)
    for t in b:
        if frozenset(t) not in seen:
            seen.add(frozenset(t))
            out.append(t)
    return out


def _cross(a: Sequence[Term], b: Sequence[Term]) -> list[Term]:
    out: list[Term] = []
    for ta in a:
        for tb in b:
            out = _union(out, [tuple(dict.fromkeys(ta + tb))])
    return out


def _order_terms(terms: Sequence[Term]) -> tuple[Term, ...]:
    """Order terms as R's ``terms(keep.order = FALSE)`` does.

    Terms sort by degree (stable within degree) and the variables inside a term
    follow their first appearance in the formula, so ``level + wave + wave:level``
    gives the interaction ``level:wave``.
    """
    first: dict[str, int] = {}
    for term in terms:
        for var in term:
            first.setdefault(var, len(first))
    return tuple(tuple(sorted(t, key=first.__getitem__)) for t in sorted(terms, key=len))


def parse_formula(formula: str) -> ParsedFormula:
    """Parse an lme4 model formula.

    Parameters
    ----------
    formula
        For example ``"score ~ wave * level + (1 + wave | team)"``.

    Returns
    -------
    ParsedFormula
        Response, fixed terms and expanded random terms.

    Raises
    ------
    AnalysisError
        When the formula cannot be read.
    """
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise AnalysisError(
            f"formula must be a string with one '~', got {formula!r}",
            context={"parameter": "formula"},
            hint="write it as lme4 does, e.g. 'score ~ wave + (1 | team)'",
        )
    lhs, rhs = formula.split("~")
    lhs_tokens = _tokenize(lhs, formula)
    if len(lhs_tokens) != 1 or not lhs_tokens[0].startswith("`"):
        raise AnalysisError(
            f"the response of formula {formula!r} must be one column name",
            context={"parameter": "formula"},
            hint="transform the response in the DataFrame first",
        )
    parser = _TermParser(_tokenize(rhs, formula), formula, allow_bars=True)
    fixed, intercept = parser.parse()
    random: list[RandomSpec] = []
    for expr_tokens, group_tokens in parser.bars:
        sub = _TermParser(expr_tokens, formula, allow_bars=False)
        r_terms, r_icpt = sub.parse()
        groups = _TermParser(group_tokens, formula, allow_bars=False)
        group_terms, _ = groups.parse()
        if not group_terms:
            raise parser.error("a random-effects term needs a grouping variable after '|'")
        for g in group_terms:
            random.append(
                RandomSpec(
                    intercept=r_icpt is not False,
                    terms=_order_terms(r_terms),
                    group=g,
                )
            )
    if not random:
        raise AnalysisError(
            f"formula {formula!r} has no random-effects term",
            context={"parameter": "formula"},
            hint="add one such as '(1 | team)'; use an ordinary regression otherwise",
        )
    return ParsedFormula(
        response=lhs_tokens[0][1:],
        intercept=intercept is not False,
        fixed=_order_terms(fixed),
        random=tuple(random),
    )


@dataclass(frozen=True)
class _Variable:
    """How one column enters a model matrix."""

    levels: tuple[str, ...] | None  # R's level labels; None for numeric
    codes: np.ndarray  # float values (numeric) or integer codes (factor)


def is_factor(series: pd.Series) -> bool:
    """Whether R would treat the column as a factor (strings, categories, booleans)."""
    return not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _variable(series: pd.Series) -> _Variable:
    if not is_factor(series):
        return _Variable(None, series.to_numpy(dtype=float))
    if isinstance(series.dtype, pd.CategoricalDtype):
        cat = series.cat.remove_unused_categories()
        levels = tuple(str(c) for c in cat.cat.categories)
        codes = cat.cat.codes.to_numpy()
        return _Variable(levels, codes)
    if pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=bool)
        present = sorted(set(values.tolist()))
        labels = tuple("TRUE" if v else "FALSE" for v in present)
        codes = np.searchsorted(np.array(present), values)
        return _Variable(labels, codes)
    codes, uniques = _sorted_factorize(series.astype(str))
    levels = tuple(str(v) for v in uniques)
    return _Variable(levels, codes)


def _sorted_factorize(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and sorted unique values (hash-based, faster than sorting every row)."""
    codes, uniques = pd.factorize(values)
    labels = [str(u) for u in uniques]
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(labels), dtype=np.intp)
    rank[order] = np.arange(len(labels))
    return rank[codes], [labels[i] for i in order]


def model_matrix(
    data: pd.DataFrame, terms: Sequence[Term], intercept: bool
) -> tuple[np.ndarray, list[str]]:
    """Build a model matrix with R's column names and contrasts.

    Parameters
    ----------
    data
        Complete cases only.
    terms
        Terms ordered as R orders them.
    intercept
        Whether to include ``(Intercept)``.

    Returns
    -------
    tuple of ndarray and list of str
        The ``n x p`` matrix and its column names.
    """
    n = len(data)
    variables = {v: _variable(data[v]) for t in terms for v in t}
    present: set[frozenset[str]] = {frozenset()}
    # Without an intercept R codes the first factor it meets by indicators.
    first_factor: tuple[int, str] | None = None
    if not intercept:
        for t_index, term in enumerate(terms):
            factors = [v for v in term if variables[v].levels is not None]
            if factors:
                first_factor = (t_index, factors[0])
                break
    columns: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        columns.append(np.ones(n))
        names.append("(Intercept)")
    for t_index, term in enumerate(terms):
        # Columns of each factor in this term: contrasts if the margin is present.
        parts: list[tuple[list[np.ndarray], list[str]]] = []
        for var in term:
            info = variables[var]
            if info.levels is None:
                parts.append(([info.codes], [var]))
                continue
            margin = frozenset(term) - {var}
            start = 1 if margin in present and first_factor != (t_index, var) else 0
            cols = [(info.codes == k).astype(float) for k in range(start, len(info.levels))]
            labs = [f"{var}{info.levels[k]}" for k in range(start, len(info.levels))]
            parts.append((cols, labs))
        term_cols: list[np.ndarray] = [np.ones(n)]
        term_names: list[str] = [""]
        for cols, labs in parts:
            # the earlier factor varies fastest
            term_cols = [c0 * c1 for c1 in cols for c0 in term_cols]
            term_names = [f"{l0}:{l1}" if l0 else l1 for l1 in labs for l0 in term_names]
        columns.extend(term_cols)
        names.extend(term_names)
        present.add(frozenset(term))
    matrix = np.column_stack(columns) if columns else np.empty((n, 0))
    return matrix, names


def group_codes(data: pd.DataFrame, group: Sequence[str]) -> tuple[np.ndarray, int]:
    """Integer codes (0..m-1) of a grouping factor or an interaction of factors.

    Levels are ordered as R orders ``interaction`` levels that occur in the data; the
    order does not change any estimate.
    """
    codes = np.zeros(len(data), dtype=np.intp)
    for name in group:
        sub, uniques = _sorted_factorize(data[name].astype(str))
        codes = codes * len(uniques) + sub
    _, codes = np.unique(codes, return_inverse=True)
    return codes.astype(np.intp), int(codes.max()) + 1 if len(codes) else 0
