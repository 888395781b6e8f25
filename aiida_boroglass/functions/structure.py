"""Calcfunctions of the short-range structure panel (issue: partial RDFs, S(Q), T(r), Qn, ...).

Every function takes the glass (``StructureData`` or ``TrajectoryData``) and the panel
``parameters`` Dict, fills the defaults with :func:`panel_settings` and calls the pure
kernels of :mod:`aiida_boroglass.analysis`; units are in every output key or array name.
The analyses whose cost grows with the trajectory are a calcfunction ``<name>`` around a
pure function ``compute_<name>`` of plain data (:mod:`aiida_boroglass.functions.plain`),
which :mod:`aiida_boroglass.analysis.job` also runs as a job.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.angles import angle_histogram, bond_angles
from aiida_boroglass.analysis.cutoffs import bond_cutoffs, split_pair_key
from aiida_boroglass.analysis.density import mass_density_g_cm3, molar_volume_cm3_mol
from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.populations import labelled_distances, population_summary
from aiida_boroglass.analysis.rdf import PartialRDFs, all_partial_rdfs, running_coordination, species_pairs
from aiida_boroglass.analysis.scattering import (
    broadened_real_space,
    faber_ziman_partials,
    interference_function,
    neutron_scattering_lengths,
    r_chi,
    read_curve,
    real_space_functions,
    reciprocal_to_real,
    weighted_total,
    xray_form_factors,
)
from aiida_boroglass.analysis.speciation import (
    NETWORK_FORMERS,
    coordination_distribution,
    network_frame,
    network_units,
    oxygen_speciation,
)
from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.analysis.voronoi import volumes_by_species, voronoi_volumes
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs
from aiida_boroglass.functions.utils import (
    check_integers,
    check_positive_numbers,
    frames_of,
    parameter_error,
    with_defaults,
)

#: Defaults of the panel parameters; every key is documented in docs/structure_panel.md.
PANEL_DEFAULTS: dict[str, Any] = {
    'r_max_a': 10.0,  # upper end of g(r), capped at half the smallest cell width
    'dr_a': 0.01,  # g(r) bin width
    'cutoffs_a': {},  # {'B-O': 1.9}: bond cutoffs that override the first minima
    'isotopes': {},  # {'B': 11, 'Li': 7}: neutron lengths of these isotopes
    'q_max_neutron_a': 40.0,  # experimental Q_max of the neutron data (GEM: ~40-50)
    'q_max_xray_a': 25.0,  # experimental Q_max of the X-ray data (paper 002: 25)
    'dq_a': 0.02,  # Q grid step
    'max_frames': 20,  # the last frames of a trajectory used (evenly spaced)
    'angle_bins': 180,
    'voronoi': True,
}

#: Quantities an experimental curve can be compared with (``experiment_quantity``).
EXPERIMENT_QUANTITIES = ('T_neutron', 'D_neutron', 'S_neutron', 'D_xray', 'S_xray')

#: Distance-histogram bin of the bond populations, Å.
POPULATION_BIN_A = 0.01


def panel_settings(parameters: orm.Dict | dict | None) -> dict[str, Any]:
    """Panel parameters with the defaults filled in, checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: unknown key (listing the allowed ones) or a value of
        the wrong kind or range, naming ``parameters.<key>``.
    """
    settings = with_defaults(parameters, PANEL_DEFAULTS)
    check_positive_numbers(settings, ('r_max_a', 'dr_a', 'q_max_neutron_a', 'q_max_xray_a', 'dq_a'))
    check_integers(settings, {'max_frames': 1, 'angle_bins': 1})
    if not isinstance(settings['voronoi'], bool):
        raise parameter_error(f"parameters.voronoi must be true or false, got {settings['voronoi']!r}")
    for key in ('cutoffs_a', 'isotopes'):
        if not isinstance(settings[key], dict):
            raise parameter_error(f'parameters.{key} must be a mapping, got {settings[key]!r}')
    for pair, value in settings['cutoffs_a'].items():
        try:
            split_pair_key(pair)
        except ValueError as exc:
            raise parameter_error(f'parameters.cutoffs_a: {exc}') from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise parameter_error(f'parameters.cutoffs_a[{pair!r}] must be a positive distance in Å, got {value!r}')
    for element, mass in settings['isotopes'].items():
        if isinstance(mass, bool) or not isinstance(mass, int):
            raise parameter_error(f'parameters.isotopes[{element!r}] must be an integer mass number, got {mass!r}')
    return settings


def evenly_spaced(glass: Frames, max_frames: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Positions ``(n, n_atoms, 3)`` Å, cells ``(n, 3, 3)`` Å and symbols of at most ``max_frames``
    evenly spaced frames of ``glass``, the last one always included."""
    n_frames = len(glass.positions)
    keep = np.unique(np.round(np.linspace(n_frames - 1, 0, min(max_frames, n_frames))).astype(int))
    return glass.positions[keep], glass.cells[keep], list(glass.symbols)


def selected_frames(glass: orm.Data, max_frames: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`evenly_spaced` frames of a ``StructureData`` or ``TrajectoryData``."""
    return evenly_spaced(Frames(*frames_of(glass)), max_frames)


def rdfs_from_node(rdf: orm.ArrayData) -> PartialRDFs:
    """Rebuild the :class:`PartialRDFs` stored by :func:`pair_distributions`."""
    elements = tuple(rdf.base.attributes.get('elements'))
    return PartialRDFs(
        r=rdf.get_array('r_a'), edges=rdf.get_array('edges_a'), elements=elements,
        counts=rdf.get_array('counts'), pairs=tuple(species_pairs(elements)), g=rdf.get_array('g'),
        pair_counts=rdf.get_array('pair_counts'), number_density_a3=rdf.base.attributes.get('number_density_a3'),
    )


@calcfunction
@returns_exit_codes
def pair_distributions(glass: orm.Data, parameters: orm.Dict) -> dict:
    """All partial g_ij(r) and running coordination numbers, and the bond cutoffs from their first minima.

    Returns ``rdf`` (ArrayData: ``r_a``, ``edges_a``, ``g`` (n_pairs, n_bins), ``pair_counts``,
    ``counts``, ``running_cn`` (n_pairs, 2, n_bins: a around b, b around a); attributes
    ``elements``, ``pairs``, ``number_density_a3``, ``n_frames``) and ``cutoffs`` (Dict
    ``{'B-O': {'value_a', 'source'}}``): :func:`compute_pair_distributions`.
    """
    return calcfunction_result(compute_pair_distributions(**plain_inputs(glass=glass, parameters=parameters)))


def compute_pair_distributions(glass: Frames, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`pair_distributions` as plain data (``rdf``: ArrayContent, ``cutoffs``: dict)."""
    settings = panel_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    r_max = min(settings['r_max_a'], 0.999 * min(max_cutoff(cell) for cell in cells))
    rdfs = all_partial_rdfs(positions, cells, symbols, r_max=r_max, n_bins=max(1, int(round(r_max / settings['dr_a']))))
    arrays = {'r_a': rdfs.r, 'edges_a': rdfs.edges, 'g': rdfs.g, 'pair_counts': rdfs.pair_counts, 'counts': rdfs.counts,
              'running_cn': [[running_coordination(rdfs, a, b), running_coordination(rdfs, b, a)] for a, b in rdfs.pairs]}
    rdf = ArrayContent({name: np.asarray(value) for name, value in arrays.items()}, {
        'elements': list(rdfs.elements), 'pairs': [f'{a}-{b}' for a, b in rdfs.pairs],
        'number_density_a3': rdfs.number_density_a3, 'n_frames': int(len(positions)),
    })
    cutoffs = bond_cutoffs(rdfs, settings['cutoffs_a'])
    return {'rdf': rdf, 'cutoffs': {k: {'value_a': v.value_a, 'source': v.source} for k, v in cutoffs.items()}}


def bond_cutoffs_of_formers(cutoffs: dict, symbols: list[str]) -> dict[str, float]:
    """``{former: former-O cutoff}`` (Å) for the formers present."""
    return {f: cutoffs[f'{f}-O']['value_a'] for f in NETWORK_FORMERS if f in symbols}


@calcfunction
@returns_exit_codes
def short_range_order(glass: orm.Data, cutoffs: orm.Dict, parameters: orm.Dict) -> dict:
    """Coordination, N3/N4, BO/NBO/free O, network-former units and bond-type-resolved distances.

    Returns ``coordination`` (Dict: per ``'A-O'`` pair the distribution and mean of the O
    coordination of A; ``n3``, ``n4``; oxygen fractions), ``network_units`` (Dict: the
    B^(n), P^(m), Q^n table of :func:`.speciation.network_units`), ``bond_populations`` (Dict:
    :func:`.populations.population_summary`) and ``bond_distances`` (ArrayData: ``edges_a``
    and one histogram per class ``<family>/<class>`` in pairs per frame per bin):
    :func:`compute_short_range_order`.
    """
    return calcfunction_result(compute_short_range_order(**plain_inputs(glass=glass, cutoffs=cutoffs,
                                                                        parameters=parameters)))


def compute_short_range_order(glass: Frames, cutoffs: dict, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`short_range_order` as plain data (dicts; ``bond_distances``: ArrayContent)."""
    settings = panel_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    cut = cutoffs
    present = set(symbols)
    formers = bond_cutoffs_of_formers(cut, symbols)
    coordination: dict[str, Any] = {}
    for key, value in cut.items():
        centre, neighbour = split_pair_key(key)
        if neighbour == 'O' and centre != 'O':
            dist = coordination_distribution(positions, cells, symbols, centre, 'O', value['value_a'])
            coordination[key] = {'distribution': {str(k): v for k, v in dist.items()},
                                 'mean': float(sum(k * v for k, v in dist.items())), 'cutoff_a': value['value_a']}
    if 'B' in present:
        coordination['n3'] = coordination['B-O']['distribution'].get('3', 0.0)
        coordination['n4'] = coordination['B-O']['distribution'].get('4', 0.0)
    outputs = {}
    if formers:
        coordination['oxygen'] = oxygen_speciation(positions, cells, symbols, formers)
        outputs['network_units'] = network_units(positions, cells, symbols, formers)
        pair_cutoffs = {k: v['value_a'] for k, v in cut.items()}
        distances = labelled_distances(positions, cells, symbols, formers, pair_cutoffs)
        outputs['bond_populations'] = population_summary(distances, len(positions))
        outputs['bond_distances'] = _histograms(distances, len(positions))
    outputs['coordination'] = coordination
    return outputs


def _histograms(distances: dict[str, dict[str, np.ndarray]], n_frames: int) -> ArrayContent:
    """Per-class distance histograms (pairs per frame per bin) on one grid of edges (Å), as ArrayData content."""
    every = np.concatenate([d for family in distances.values() for d in family.values()] or [np.zeros(1)])
    low = np.floor(every.min() / POPULATION_BIN_A) * POPULATION_BIN_A
    edges = np.arange(low, every.max() + 2 * POPULATION_BIN_A, POPULATION_BIN_A)
    arrays = {'edges_a': edges}
    names = {}
    for family, classes in distances.items():
        for name, values in classes.items():
            key = _array_name(f'{family}__{name}')
            names[key] = [family, name]
            arrays[key] = np.histogram(values, bins=edges)[0] / n_frames
    return ArrayContent(arrays, {'classes': names})


def _array_name(label: str) -> str:
    """``label`` as an ArrayData array name: ``'-'`` -> ``'_'``, brackets dropped (``'O-[3]B-O'`` -> ``'O_3B_O'``)."""
    return label.replace('-', '_').replace('[', '').replace(']', '')


#: Angle families: (name, centre element, neighbour elements, centre label filter).
ANGLE_FAMILIES = (
    ('O-[3]B-O', 'B', ('O',), 3), ('O-[4]B-O', 'B', ('O',), 4), ('O-P-O', 'P', ('O',), None),
    ('O-Si-O', 'Si', ('O',), None), ('B-O-B', 'O', ('B', 'B'), None), ('B-O-P', 'O', ('B', 'P'), None),
    ('P-O-P', 'O', ('P', 'P'), None), ('Si-O-Si', 'O', ('Si', 'Si'), None), ('B-O-Si', 'O', ('B', 'Si'), None),
)


@calcfunction
@returns_exit_codes
def bond_angle_distributions(glass: orm.Data, cutoffs: orm.Dict, parameters: orm.Dict) -> dict:
    """Bond-angle distributions: O-B-O for three- and four-fold B, O-P-O, O-Si-O, B-O-B, B-O-P, ...

    Returns ``angles`` (ArrayData: ``angle_deg`` bin centres and one density in 1/deg per
    family present) and ``angle_summary`` (Dict: per family mean and standard deviation
    in degrees and the number of angles per frame): :func:`compute_bond_angle_distributions`.
    """
    return calcfunction_result(compute_bond_angle_distributions(**plain_inputs(glass=glass, cutoffs=cutoffs,
                                                                               parameters=parameters)))


def compute_bond_angle_distributions(glass: Frames, cutoffs: dict, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`bond_angle_distributions` as plain data (``angles``: ArrayContent, ``angle_summary``: dict)."""
    settings = panel_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    spec = np.asarray(symbols)
    former_cut = bond_cutoffs_of_formers(cutoffs, symbols)
    per_atom = np.array([former_cut.get(s, np.nan) for s in symbols])
    oxygen = np.flatnonzero(spec == 'O')
    formers = np.flatnonzero(~np.isnan(per_atom))
    collected: dict[str, list[np.ndarray]] = {name: [] for name, *_ in ANGLE_FAMILIES}
    for frame_pos, cell in zip(positions, cells):
        bonded = network_frame(frame_pos, cell, spec, former_cut).former_oxygens
        around_oxygen = bond_angles(frame_pos, cell, oxygen, formers, per_atom)
        for name, centre, neighbours, coordination in ANGLE_FAMILIES:
            if centre == 'O':
                pair = np.sort(np.stack([spec[around_oxygen.j], spec[around_oxygen.k]]), axis=0)
                keep = (pair[0] == min(neighbours)) & (pair[1] == max(neighbours))
                collected[name].append(around_oxygen.angle_deg[keep])
            elif centre in former_cut:
                centres = np.flatnonzero(spec == centre)
                if coordination is not None:
                    centres = centres[bonded[centres] == coordination]
                collected[name].append(bond_angles(frame_pos, cell, centres, oxygen, former_cut[centre]).angle_deg)
    arrays = {}
    summary = {}
    for name, parts in collected.items():
        values = np.concatenate(parts) if parts else np.zeros(0)
        if values.size == 0:
            continue
        centres, density = angle_histogram(values, n_bins=settings['angle_bins'])
        arrays['angle_deg'] = centres
        arrays[_array_name(name)] = density
        summary[name] = {'mean_deg': float(values.mean()), 'std_deg': float(values.std()),
                         'count_per_frame': values.size / len(positions)}
    angles = ArrayContent(arrays, {'families': {_array_name(name): name for name in summary}})
    return {'angles': angles, 'angle_summary': summary}


def _q_grid(settings: dict) -> np.ndarray:
    """Q grid (Å^-1) from one step up to the larger experimental Q_max."""
    q_top = max(settings['q_max_neutron_a'], settings['q_max_xray_a'])
    return settings['dq_a'] * np.arange(1, int(np.ceil(q_top / settings['dq_a'] - 1e-9)) + 1)


@calcfunction
@returns_exit_codes
def scattering_functions(rdf: orm.ArrayData, parameters: orm.Dict) -> dict:
    """Neutron and X-ray structure factors and real-space correlation functions from the partial g_ij(r).

    Returns ``neutron`` (ArrayData: ``q_a``, ``s_partials`` (n_pairs, n_q) Faber-Ziman with
    the Lorch window, ``s_total``, ``i_q_barn``, ``r_a``, ``G_barn``, ``D_barn_A2``,
    ``T_barn_A2``, ``T0_barn_A2`` and the same D, T broadened by ``q_max_neutron_a``:
    ``D_broadened_barn_A2``, ``T_broadened_barn_A2``; attribute ``lengths_fm``) and
    ``xray`` (ArrayData: ``q_a``, ``s_total``, ``r_a``, ``D_broadened_A2``: the Lorch-
    modified transform of Q (S(Q) - 1) up to ``q_max_xray_a``).
    """
    settings = panel_settings(parameters)
    rdfs = rdfs_from_node(rdf)
    # a lone atom of an element has no same-element pairs (g is NaN): count them as uncorrelated
    rdfs = rdfs._replace(g=np.nan_to_num(rdfs.g, nan=1.0))
    concentrations = rdfs.counts / rdfs.counts.sum()
    rho0 = rdfs.number_density_a3
    lengths = neutron_scattering_lengths(rdfs.elements, settings['isotopes'] or None)
    b = np.array([lengths[e] for e in rdfs.elements])
    q = _q_grid(settings)
    partials = faber_ziman_partials(rdfs.r, rdfs.g, rho0, q)
    s_neutron = weighted_total(partials, concentrations, b)
    real = real_space_functions(rdfs.r, rdfs.g, concentrations, b, rho0)
    broadened = broadened_real_space(rdfs.r, rdfs.g, concentrations, b, rho0, settings['q_max_neutron_a'],
                                     dq=settings['dq_a'])
    neutron = orm.ArrayData()
    arrays = {'q_a': q, 's_partials': partials, 's_total': s_neutron,
              'i_q_barn': interference_function(q, s_neutron, concentrations, b), 'r_a': rdfs.r, **real,
              'D_broadened_barn_A2': broadened['D_barn_A2'], 'T_broadened_barn_A2': broadened['T_barn_A2']}
    for name, value in arrays.items():
        neutron.set_array(name, np.asarray(value))
    neutron.base.attributes.set_many({'lengths_fm': lengths, 'q_max_a': settings['q_max_neutron_a'],
                                      'pairs': [f'{x}-{y}' for x, y in rdfs.pairs]})
    s_xray = weighted_total(partials, concentrations, xray_form_factors(rdfs.elements, q))
    xray = orm.ArrayData()
    xray.set_array('q_a', q)
    xray.set_array('s_total', s_xray)
    xray.set_array('r_a', rdfs.r)
    xray.set_array('D_broadened_A2', reciprocal_to_real(q, s_xray - 1.0, rdfs.r, settings['q_max_xray_a']))
    xray.base.attributes.set('q_max_a', settings['q_max_xray_a'])
    return {'neutron': neutron, 'xray': xray}


#: Where each experiment quantity lives: (output, x array, y array).
EXPERIMENT_ARRAYS = {
    'T_neutron': ('neutron', 'r_a', 'T_broadened_barn_A2'),
    'D_neutron': ('neutron', 'r_a', 'D_broadened_barn_A2'),
    'S_neutron': ('neutron', 'q_a', 's_total'),
    'D_xray': ('xray', 'r_a', 'D_broadened_A2'),
    'S_xray': ('xray', 'q_a', 's_total'),
}


@calcfunction
@returns_exit_codes
def experiment_agreement(simulated: orm.ArrayData, experiment: orm.SinglefileData, quantity: orm.Str) -> orm.Dict:
    """Wright's R_chi between a measured two-column curve and the simulated one on the measured grid.

    ``simulated`` is the ``neutron`` or ``xray`` output of :func:`scattering_functions`
    holding ``quantity`` (one of :data:`EXPERIMENT_QUANTITIES`).
    """
    _, x_name, y_name = EXPERIMENT_ARRAYS[quantity.value]
    with experiment.as_path() as path:
        x_exp, y_exp = read_curve(path)
    x_sim, y_sim = simulated.get_array(x_name), simulated.get_array(y_name)
    overlap = (max(x_exp.min(), x_sim.min()), min(x_exp.max(), x_sim.max()))
    return orm.Dict({'quantity': quantity.value, 'r_chi': r_chi(x_exp, y_exp, x_sim, y_sim),
                     'range': list(overlap), 'n_points': int(np.count_nonzero((x_exp >= overlap[0]) & (x_exp <= overlap[1]))),
                     'file': experiment.filename})


@calcfunction
@returns_exit_codes
def volume_analysis(glass: orm.Data, parameters: orm.Dict) -> orm.Dict:
    """Density (g/cm^3), molar volume (cm^3/mol of oxide units), number density (Å^-3), Voronoi volumes (Å^3):
    :func:`compute_volume_analysis`."""
    return calcfunction_result(compute_volume_analysis(**plain_inputs(glass=glass, parameters=parameters)))


def compute_volume_analysis(glass: Frames, parameters: dict) -> dict[str, Any]:
    """The output of :func:`volume_analysis` as plain data: ``{'result': dict}``."""
    settings = panel_settings(parameters)
    positions, cells, symbols = evenly_spaced(glass, settings['max_frames'])
    volume = float(np.mean(np.abs(np.linalg.det(cells))))
    result: dict[str, Any] = {
        'density_g_cm3': float(np.mean(mass_density_g_cm3(symbols, cells))),
        'molar_volume_cm3_mol': float(np.mean(molar_volume_cm3_mol(symbols, cells))),
        'number_density_a3': len(symbols) / volume,
        'cell_volume_a3': volume,
        'n_frames': int(len(positions)),
    }
    if settings['voronoi']:
        result['voronoi'] = volumes_by_species(voronoi_volumes(positions, cells), symbols)
    return {'result': result}
