"""Calcfunctions of the medium-range order panel: rings, superstructural units, persistent homology, cavities.

Every function takes the glass (``StructureData`` or ``TrajectoryData``) and the
``parameters`` Dict, fills the defaults with :func:`medium_range_settings` and calls the
pure kernels of :mod:`aiida_boroglass.analysis`; units are in every output key or array name.
Each is a calcfunction ``<name>`` around a pure function ``compute_<name>`` of plain data
(:mod:`aiida_boroglass.functions.plain`), which :mod:`aiida_boroglass.analysis.job` also runs as a job.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.cavities import MAX_RESOLUTION_PER_CUTOFF, trajectory_cavities, volume_histogram
from aiida_boroglass.analysis.homology import DEFAULT_RADII_A, mean_accumulated_persistence, persistence_diagrams, pooled_diagram
from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.analysis.rings import frame_rings, ring_atom_types, ring_statistics
from aiida_boroglass.analysis.speciation import network_frame
from aiida_boroglass.analysis.superstructural import superstructural_units
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs
from aiida_boroglass.functions.structure import bond_cutoffs_of_formers, evenly_spaced
from aiida_boroglass.functions.utils import check_integers, check_positive_numbers, parameter_error, with_defaults

#: Defaults of the medium-range parameters; every key is documented in docs/medium_range.md.
MEDIUM_RANGE_DEFAULTS: dict[str, Any] = {
    'cutoffs_a': {},  # {'B-O': 1.9}: bond cutoffs that override the first minima of g(r)
    'max_frames': 5,  # the last frames of a trajectory used (evenly spaced)
    'ring_max_atoms': 12,  # largest ring, counted as formers + oxygens (paper 000: 12)
    'ring_kind': 'primitive',  # 'primitive' or 'shortest_path' (King / Franzblau)
    'radii_a': {},  # {'O': 1.21}: ball radii of persistent homology overriding paper 002's
    'apf_max_a2': 10.0,  # upper end of the APF grid (mean age), Å^2
    'apf_points': 400,
    'cavity_cutoff_a': 2.0,  # pyMolDyn cutoff radius around every atom (paper 000)
    'cavity_resolution_a': 0.25,  # cavity grid spacing
}

#: Alkali ions whose distance to the nearest cavity is reported.
MOBILE_IONS = ('Li', 'Na', 'K')


def medium_range_settings(parameters: orm.Dict | dict | None) -> dict[str, Any]:
    """Medium-range parameters with the defaults filled in, checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: unknown key (listing the allowed ones) or a value of
        the wrong kind or range, naming ``parameters.<key>``.
    """
    settings = with_defaults(parameters, MEDIUM_RANGE_DEFAULTS)
    check_integers(settings, {'max_frames': 1, 'apf_points': 1, 'ring_max_atoms': 4})  # rings: formers + oxygens
    if settings['ring_kind'] not in ('primitive', 'shortest_path'):
        raise parameter_error(f"parameters.ring_kind must be 'primitive' or 'shortest_path', got {settings['ring_kind']!r}")
    check_positive_numbers(settings, ('apf_max_a2', 'cavity_cutoff_a', 'cavity_resolution_a'))
    if settings['cavity_resolution_a'] > MAX_RESOLUTION_PER_CUTOFF * settings['cavity_cutoff_a']:
        raise parameter_error(f'parameters.cavity_resolution_a must be at most {MAX_RESOLUTION_PER_CUTOFF:g} x '
                              f'cavity_cutoff_a = {MAX_RESOLUTION_PER_CUTOFF * settings["cavity_cutoff_a"]:g} Å, '
                              f'got {settings["cavity_resolution_a"]!r}')
    for key in ('cutoffs_a', 'radii_a'):
        if not isinstance(settings[key], dict) or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 for v in settings[key].values()
        ):
            raise parameter_error(f'parameters.{key} must map names to distances >= 0 in Å, got {settings[key]!r}')
    unknown = sorted(set(settings['radii_a']) - set(DEFAULT_RADII_A))
    if unknown:
        raise parameter_error(f'parameters.radii_a: no default radius to override for {unknown}; '
                         f'known: {sorted(DEFAULT_RADII_A)}')
    return settings


def panel_parameters(settings: dict[str, Any]) -> dict[str, Any]:
    """The structure-panel parameters that give the same bond cutoffs and frames."""
    return {'cutoffs_a': settings['cutoffs_a'], 'max_frames': settings['max_frames']}


@calcfunction
@returns_exit_codes
def persistent_homology(glass: orm.Data, parameters: orm.Dict) -> orm.ArrayData:
    """1-dimensional persistence diagram and APF of the glass (paper 002, section 2.10 and eq. 15).

    Returns ArrayData with ``diagram_a2`` (n_pairs, 2: birth, death in Å^2 of the weighted
    alpha filtration, pooled over frames), ``apf_t_a2`` (n_points, mean ages from the
    smallest one, or 0, to ``apf_max_a2``), ``apf_a2`` (mean over frames, Å^2) and
    ``apf_per_atom_a2``; attributes ``radii_a``, ``n_frames``,
    ``n_atoms``, ``total_persistence_a2`` (per frame): :func:`compute_persistent_homology`.
    """
    return calcfunction_result(compute_persistent_homology(**plain_inputs(glass=glass, parameters=parameters)))


def compute_persistent_homology(glass: Frames, parameters: dict) -> dict[str, Any]:
    """The output of :func:`persistent_homology` as plain data: ``{'result': ArrayContent}``."""
    settings = medium_range_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    radii = {**DEFAULT_RADII_A, **settings['radii_a']}
    diagrams = persistence_diagrams(positions, cells, symbols, radii=radii)
    pooled = pooled_diagram(diagrams)
    lowest = min(0.0, float(pooled.mean(axis=1).min())) if pooled.size else 0.0  # births can be negative
    grid = np.linspace(lowest, settings['apf_max_a2'], settings['apf_points'])
    arrays = {'diagram_a2': pooled, 'apf_t_a2': grid, 'apf_a2': mean_accumulated_persistence(diagrams, grid),
              'apf_per_atom_a2': mean_accumulated_persistence(diagrams, grid, n_atoms=len(symbols))}
    return {'result': ArrayContent(arrays, {
        'radii_a': {element: radii[element] for element in sorted(set(symbols))}, 'n_frames': len(diagrams),
        'n_atoms': len(symbols), 'total_persistence_a2': float(np.sum(pooled[:, 1] - pooled[:, 0]) / len(diagrams)),
    })}


@calcfunction
@returns_exit_codes
def cavity_analysis(glass: orm.Data, parameters: orm.Dict) -> dict:
    """Domain cavities (paper 000, section 3.2.3): volume fraction, count, volumes, ion distances.

    Returns ``cavities`` (Dict: ``volume_fraction``, ``n_cavities`` (mean per frame),
    ``n_cavities_above_1a3``, ``mean_volume_a3``, ``largest_volume_a3``, ``cutoff_a``,
    ``resolution_a``, ``mean_ion_distance_a`` per mobile-ion element) and
    ``cavity_volumes`` (ArrayData: ``volumes_a3`` pooled, ``histogram_counts``,
    ``histogram_edges_a3``, and ``ion_distance_a`` (n_frames, n_ions) with ``ion_indices``):
    :func:`compute_cavity_analysis`.
    """
    return calcfunction_result(compute_cavity_analysis(**plain_inputs(glass=glass, parameters=parameters)))


def compute_cavity_analysis(glass: Frames, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`cavity_analysis` as plain data (``cavities``: dict, ``cavity_volumes``: ArrayContent)."""
    settings = medium_range_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    mobile = [element for element in MOBILE_IONS if element in symbols]
    stats = trajectory_cavities(positions, cells, symbols, cutoff_a=settings['cavity_cutoff_a'],
                                resolution_a=settings['cavity_resolution_a'], mobile_ions=mobile or None)
    volumes = np.asarray(stats.volumes_a3, dtype=float)
    n_frames = len(positions)
    distances = np.asarray(stats.ion_cavity_distance_a, dtype=float)
    species = np.asarray(symbols)
    summary = {
        'volume_fraction': float(stats.mean_volume_fraction), 'n_cavities': float(stats.mean_n_cavities),
        'n_cavities_above_1a3': float(np.count_nonzero(volumes > 1.0) / n_frames),
        'mean_volume_a3': float(volumes.mean()) if volumes.size else 0.0,
        'largest_volume_a3': float(volumes.max()) if volumes.size else 0.0,
        'cutoff_a': settings['cavity_cutoff_a'], 'resolution_a': settings['cavity_resolution_a'], 'n_frames': n_frames,
        'mean_ion_distance_a': {
            element: float(np.mean(distances[:, species[stats.ion_indices] == element]))
            for element in mobile if np.all(np.isfinite(distances))
        },
    }
    counts, edges = volume_histogram(volumes, n_bins=20) if volumes.size else (np.zeros(0), np.zeros(0))
    arrays = {'volumes_a3': volumes, 'histogram_counts': np.asarray(counts), 'histogram_edges_a3': np.asarray(edges),
              'ion_distance_a': distances, 'ion_indices': np.asarray(stats.ion_indices)}
    return {'cavities': summary, 'cavity_volumes': ArrayContent(arrays, {})}


@calcfunction
@returns_exit_codes
def ring_analysis(glass: orm.Data, cutoffs: orm.Dict, parameters: orm.Dict) -> dict:
    """Rings of the former + bridging-O network, their B-coordination classes, membership and superstructural units.

    Returns ``rings`` (Dict: ``kind``, ``max_atoms``, ``n_frames``, ``n_former_atoms``;
    ``by_formers`` and ``by_atoms`` ``{size: mean rings per frame}``; the same per former
    atom in ``per_former_by_formers`` and ``per_former_by_atoms``; ``classes`` ``{class: mean
    per frame}``; ``boroxol_fraction``, the share of boron in boroxol rings),
    ``ring_membership`` (Dict: ``{tag: fraction of that element's atoms}`` for the tags
    B3r, B3n, B4r, B4n, Or, On of paper 001 Fig. 9, 3-former rings, last frame) and
    ``superstructural_units`` (Dict: ``{unit: {count, boron_fraction}}``; empty without boron):
    :func:`compute_ring_analysis`.
    """
    return calcfunction_result(compute_ring_analysis(**plain_inputs(glass=glass, cutoffs=cutoffs, parameters=parameters)))


def compute_ring_analysis(glass: Frames, cutoffs: dict, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`ring_analysis` as plain data (three dicts)."""
    settings = medium_range_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    formers = bond_cutoffs_of_formers(cutoffs, symbols)
    stats = ring_statistics(positions, cells, symbols, formers, settings['ring_max_atoms'], settings['ring_kind'])
    units = superstructural_units(positions, cells, symbols, formers) if 'B' in symbols else {}
    rings = {
        'kind': stats.kind, 'max_atoms': stats.max_atoms, 'n_frames': stats.n_frames,
        'n_former_atoms': stats.n_former_atoms,
        'by_formers': _nonzero(stats.mean_by_formers), 'by_atoms': _nonzero(stats.mean_by_atoms),
        'per_former_by_formers': _nonzero(stats.per_former_by_formers),
        'per_former_by_atoms': _nonzero(stats.per_former_by_atoms),
        'classes': {label: float(value) for label, value in stats.classes.items()},
        'boroxol_fraction': float(units['boroxol']['boron_fraction']) if units else 0.0,
    }
    last = frame_rings(positions[-1], cells[-1], symbols, formers, settings['ring_max_atoms'], settings['ring_kind'])
    frame = network_frame(positions[-1], cells[-1], symbols, formers)
    tags = ring_atom_types(symbols, frame.former_oxygens, last)
    membership = _tag_fractions(tags, np.asarray(symbols))
    return {'rings': rings, 'ring_membership': membership,
            'superstructural_units': {name: dict(unit) for name, unit in units.items()}}


def _nonzero(values: np.ndarray) -> dict[str, float]:
    """``{str(size): value}`` for the sizes with a nonzero value."""
    return {str(size): float(value) for size, value in enumerate(values) if value}


def _tag_fractions(tags: np.ndarray, species: np.ndarray) -> dict[str, float]:
    """Share of each element's atoms carrying each ring tag (e.g. B3r: 3-coordinated B in rings, of all B)."""
    fractions = {}
    for tag in sorted(set(tags) - {''}):
        element = species[tags == tag][0]
        fractions[tag] = float(np.count_nonzero(tags == tag) / np.count_nonzero(species == element))
    return fractions
