"""Shared helpers for the hopping-model tests: small lattices and read-only arrays."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.hopping.landscape import build_landscape
from aiida_boroglass.hopping.lattice import face_sites, lattice_links


@pytest.fixture
def read_only(crystals):
    """Return copies of the given arrays marked read-only (kernels must not write into inputs)."""
    return crystals.read_only


@pytest.fixture
def cube(read_only):
    """``cube(size)`` -> (n_nodes, i, j, source, sink) of a fully accessible lattice, read-only."""

    def make(size):
        accessible = np.ones((size, size, size), dtype=bool)
        i, j = lattice_links(accessible)
        source, sink = face_sites(accessible)
        return (size**3, *read_only(i, j, source, sink))

    return make


@pytest.fixture(scope='module')
def sodium_landscape():
    """0.35 Na2O - 0.65[0.5 B2O3 - 0.5 P2O5] at size 14 with the paper's Na parameters (V0 0.76 eV, sigma 0.30)."""
    return build_landscape(14, 0.5, 0.35, 0.76, 0.30, seed=3)
