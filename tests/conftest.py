"""Shared, seeded fixtures for the whole test suite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
R_FIXTURES = FIXTURES / "r"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator."""
    return np.random.default_rng(20241122)


@pytest.fixture(scope="session")
def hmac_key() -> bytes:
    """A fixed test key for pseudonymisation (never used for real data)."""
    return b"test-key-not-secret-0123456789abcdef"
