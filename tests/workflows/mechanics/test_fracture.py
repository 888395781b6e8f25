"""boroglass.fracture with real LAMMPS: an ideal cleavage against the surface energy (and every output of a separated
sample); a small glass that does not separate, with the bond switching and softness of B; bad input. Each LAMMPS
workflow runs once (module-scoped fixtures) and serves several tests.

The ideal cleavage: AA-stacked 2D silica bilayers (Si4O8 per hexagonal cell, every Si four-fold,
every O two-fold; no bond crosses the gap between bilayers) under the Deng-Du force field, pulled
apart along z at 0.01 K without a pre-crack. The surface energy comes separately from two
single points (the conftest's LAMMPS ``rerun`` oracle): the workflow's relaxed unstrained cell
and the same cell with the bilayers moved rigidly 12 Å apart.

Deng-Du's Buckingham terms are cut at 10 Å without a shift: every pair that leaves the cutoff
changes the energy by ``-V_sr(10 Å)`` (the dispersion tail, about 3e-5 eV for O-O) while the
forces, and so the stress, never see it. Separating the bilayers moves tens of thousands of
pairs out of range: about 1.6 eV of the 14.5 eV energy difference (measured). The stress
integral is compared with the energy difference of the shifted short-range terms (each pair's
``V_sr(10 Å)`` subtracted), the energy whose derivative the forces are.
"""
import re

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run, run_get_node

from aiida_boroglass.analysis.mechanics.fracture import J_M2_PER_GPA_A
from aiida_boroglass.functions.utils import frames_of
from aiida_boroglass.glass.forcefields import pair_energy, pair_key
from aiida_boroglass.workflows.ab_initio.classical_labeller import frame_forcefield
from aiida_boroglass.workflows.mechanics.fracture import FractureWorkChain

#: eV per GPa Å^3 (1e9 Pa x 1e-30 m^3 / 1.602176634e-19 J).
EV_PER_GPA_A3 = 1e-21 / 1.602176634e-19
#: Near 0 K, no NPT: the cell relaxed to zero pressure by the minimisation alone.
COLD = {'temperature_k': 0.01, 'relax_ps': 0.0, 'equilibrate_ps': 0.0, 'step_relax_ps': 0.01, 'step_average_ps': 0.01}
#: Separation on the first step within 5 % of the peak stress (hold_steps 1): one LAMMPS run fewer than the default 2,
#: for 0.7 % of the stress integral (measured).
CLEAVAGE = {'repeats': [1, 1, 1], 'crack': {'width_fraction': 0.0}, 'strain_step': 0.06, 'max_strain': 0.9,
            'minimize': {'ftol_rms_ev_a': 1e-4, 'maxiter': 3000}, 'schedule': COLD, 'detection': {'hold_steps': 1}}
ELASTIC = {'youngs_modulus_gpa': 60.0, 'poisson_ratio': 0.25}


def silica_bilayers(a=5.30, z_si=1.61, z_o=2.11, interlayer=3.0, repeats=(2, 2), layers=2) -> orm.StructureData:
    """AA-stacked 2D silica bilayers in an orthorhombic cell (a x sqrt(3) a per rectangle), Å.

    Per hexagonal cell: Si on the honeycomb sites at z = +-z_si, an apical O between them at z = 0,
    and three O bridging in-plane Si-Si pairs at z = +-z_o (Si-O 1.61 Å); bilayers ``interlayer``
    Å apart (O to O).
    """
    hexagonal = np.array([[a, 0.0], [a / 2, a * np.sqrt(3) / 2]])
    rectangle = np.array([a, a * np.sqrt(3)])
    sites = []
    for frac in ((1 / 3, 1 / 3), (2 / 3, 2 / 3)):
        sites += [(frac, z_si, 'Si'), (frac, -z_si, 'Si'), (frac, 0.0, 'O')]
    for frac in ((0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        sites += [(frac, z_o, 'O'), (frac, -z_o, 'O')]
    period = 2 * z_o + interlayer
    structure = orm.StructureData(cell=np.diag([*(rectangle * repeats), period * layers]).tolist())
    for i in range(repeats[0]):
        for j in range(repeats[1]):
            for k in range(layers):
                for frac, z, symbol in sites:
                    for centre in (np.zeros(2), hexagonal[1]):  # the rectangle's two lattice points
                        xy = (np.array(frac) @ hexagonal + centre) % rectangle + rectangle * [i, j]
                        structure.append_atom(position=[*xy, z + (k + 0.5) * period], symbols=symbol)
    return structure


def test_the_bilayers_are_a_fully_bonded_network():
    structure = silica_bilayers()
    positions = np.array([site.position for site in structure.sites])
    lengths = np.diag(structure.cell)
    delta = positions[:, None] - positions[None]
    delta -= lengths * np.round(delta / lengths)
    distance = np.linalg.norm(delta, axis=-1) + 99 * np.eye(len(positions))
    silicon = np.array([site.kind_name for site in structure.sites]) == 'Si'
    assert distance.min() > 1.6
    assert ((distance[silicon][:, ~silicon] < 1.8).sum(axis=1) == 4).all()
    assert ((distance[~silicon][:, silicon] < 1.8).sum(axis=1) == 2).all()
    assert len(positions) == 192 and silicon.sum() == 64


def truncation_energy(positions, lengths, symbols, forcefield: dict) -> float:
    """Sum over pairs closer than the short-range cutoff (every periodic image) of ``V_sr(cutoff)``, eV."""
    cutoff = forcefield['cutoff_short_range_A']
    symbols = np.asarray(symbols)
    elements = sorted(set(symbols))
    tail = {(a, b): float(pair_energy(forcefield, a, b, np.array([cutoff]))[0])
            if pair_key(a, b) in forcefield['pairs'] else 0.0 for a in elements for b in elements}
    images = np.ceil(cutoff / lengths).astype(int)
    total = 0.0
    for shift in np.indices(2 * images + 1).reshape(3, -1).T - images:
        distance = np.linalg.norm(positions[None, :] + shift * lengths - positions[:, None], axis=-1)
        within = distance < cutoff
        if not shift.any():
            np.fill_diagonal(within, False)
        for (a, b), value in tail.items():
            total += value * within[np.ix_(symbols == a, symbols == b)].sum()
    return total / 2.0


@pytest.fixture(scope='module')
def bilayers(aiida_profile):
    structure = silica_bilayers()
    return structure, orm.Dict(frame_forcefield([site.kind_name for site in structure.sites], 'deng_du'))


def run_fracture(code, structures, forcefield, overrides, elastic=ELASTIC):
    builder = FractureWorkChain.get_builder_from_protocol(code, structures, forcefield, protocol='fast',
                                                          overrides=overrides)
    builder.elastic = elastic
    return run_get_node(builder).node


@pytest.fixture(scope='module')
def cleavage(bilayers, lammps_code):
    structure, forcefield = bilayers
    return run_fracture(lammps_code, [structure], forcefield, CLEAVAGE)


def test_ideal_cleavage_gives_twice_the_surface_energy(cleavage, bilayers, classical_labels, tmp_path):
    _, forcefield = bilayers
    node = cleavage
    assert node.is_finished_ok, node.exit_message
    summary = node.outputs.fracture.r0.get_dict()
    cross_section = summary['cross_section_a2']
    # both gaps of the period open (two cracks): the measured area is twice the cross-section
    assert summary['crack_area_a2'] == pytest.approx(2 * cross_section, rel=0.02)
    # surface energy by separate single points: the relaxed unstrained cell, and its bilayers 12 Å apart
    relaxed = node.outputs.frames.r0.get_step_structure(0)
    positions = np.array([site.position for site in relaxed.sites])
    cell = np.array(relaxed.cell)
    symbols = [site.kind_name for site in relaxed.sites]
    upper = positions[:, 2] % cell[2, 2] >= cell[2, 2] / 2  # the second bilayer; the gaps lie at 0 and L/2
    apart = positions + np.outer(upper, [0.0, 0.0, 12.0])
    (bulk,), _, _ = classical_labels(positions[None], cell, symbols, tmp_path)
    slab_dir = tmp_path / 'slab'
    slab_dir.mkdir()
    slab_cell = cell + np.diag([0.0, 0.0, 24.0])
    (slab,), _, _ = classical_labels(apart[None], slab_cell, symbols, slab_dir)
    ff = forcefield.get_dict()
    shift = truncation_energy(apart, np.diag(slab_cell), symbols, ff) - truncation_energy(positions, np.diag(cell), symbols, ff)
    to_j_m2 = J_M2_PER_GPA_A / EV_PER_GPA_A3 / (2 * cross_section)  # eV over two cracks -> J/m^2 each
    twice_gamma, twice_gamma_truncated = (slab - bulk - shift) * to_j_m2, (slab - bulk) * to_j_m2
    print(f'G_c = {summary["g_c_j_m2"]:.4f} J/m^2, 2 gamma = {twice_gamma:.4f} J/m^2 '
          f'({twice_gamma_truncated:.4f} with the truncated terms)')
    assert twice_gamma > 0.1
    assert node.outputs.g_c.r0.value == pytest.approx(twice_gamma, rel=0.1)


def test_a_separated_sample_returns_every_output(cleavage):
    node = cleavage
    for name in ('precracked', 'curve', 'frames', 'separated', 'crack_area', 'g_c', 'k_ic', 'fracture'):
        assert set(node.outputs[name]) == {'r0'}, name
    assert node.outputs.separated.r0.value is True
    assert 'bond_switching' not in node.outputs and 'softness' not in node.outputs  # not asked for
    curve = node.outputs.curve.r0
    strain = curve.get_array('strain')
    steps = len(strain)
    assert strain == pytest.approx(0.06 * np.arange(steps), abs=1e-9)
    assert all(curve.get_array(name).shape == (steps,) for name in curve.get_arraynames())
    assert node.outputs.frames.r0.numsteps == steps
    summary = node.outputs.fracture.r0.get_dict()
    assert summary['steps'] == steps and summary['separated']
    assert summary['crack_area_a2'] == pytest.approx(node.outputs.crack_area.r0.value) and summary['crack_area_a2'] > 0


def test_g_c_and_k_ic_follow_eqs_13_and_14(cleavage):
    node = cleavage
    curve, summary = node.outputs.curve.r0, node.outputs.fracture.r0.get_dict()
    lengths, stress = curve.get_array('length_a'), curve.get_array('stress_gpa')
    work = np.sum((stress[1:] + stress[:-1]) / 2 * np.diff(lengths))
    g_c = node.outputs.g_c.r0.value
    assert g_c == pytest.approx(0.1 * work * summary['cross_section_a2'] / summary['crack_area_a2'])
    assert node.outputs.k_ic.r0.value == pytest.approx(np.sqrt(g_c * 60e9 / (1 - 0.25**2)) / 1e6)
    average = node.outputs.average.get_dict()
    assert average['replicas'] == ['r0'] and average['k_ic_mpa_m05'] == {'mean': node.outputs.k_ic.r0.value, 'std': None}


def test_each_strained_cell_is_the_previous_one_strained_by_a_calcfunction(cleavage):
    step = cleavage.base.links.get_outgoing(link_label_filter='r0_step002').one().node
    creator = step.inputs.lammps.structure.creator
    assert creator.process_label == 'strained_structures'
    previous = cleavage.base.links.get_outgoing(link_label_filter='r0_step001').one().node
    assert creator.inputs.structure.uuid == previous.outputs.structure.uuid


@pytest.fixture(scope='module')
def glass(aiida_profile, k_borate_21):
    """The 21-atom K borate glass (6.8 Å) under SHIK, whose O charge the cut redefines."""
    return k_borate_21, orm.Dict(frame_forcefield([site.kind_name for site in k_borate_21.sites], 'shik'))


#: The glass doubled along x (13.6 x 6.8 x 6.8 Å) replicated 1 x 2 x 2 (168 atoms, 13.6 Å), a pre-crack across 85 % of
#: x, 1 K, 10 % strain steps to 20 %: not separated (measured: it separates at 50 %). Bond switching with a B-O cutoff
#: of 1.6 Å (between the B-O bond lengths of 3- and 4-fold B, so that the strain switches a few), softness of B with
#: shells to 4.8 Å (the cell allows 5.8 Å).
GLASS = {'repeats': [1, 2, 2], 'crack': {'width_fraction': 0.85, 'height_fraction': 0.3}, 'strain_step': 0.1,
         'max_strain': 0.2, 'minimize': {'ftol_rms_ev_a': 1e-3, 'maxiter': 300},
         'detection': {'stress_fraction': 0.1, 'hold_steps': 1},
         'schedule': {'temperature_k': 1.0, 'relax_ps': 0.05, 'equilibrate_ps': 0.02, 'step_relax_ps': 0.02,
                      'step_average_ps': 0.02},
         'softness': {'r_max_a': 4.8, 'cutoffs_a': {'B': 1.6}}}


@pytest.fixture(scope='module')
def glass_run(glass, lammps_code):
    """One replica of the small glass doubled along x, so that x need not be replicated and the softness holds out
    the upper half along x. Its halves are copies of one 21-atom glass: the accuracy checks the plumbing only."""
    structure, forcefield = glass
    doubled = orm.StructureData(ase=structure.get_ase().repeat((2, 1, 1)))
    return run_fracture(lammps_code, [doubled], forcefield, GLASS)


def test_a_sample_that_does_not_separate_is_reported_with_what_it_has(glass, glass_run):
    structure, forcefield = glass
    node = glass_run
    assert node.exit_status == FractureWorkChain.exit_codes.ERROR_NOT_SEPARATED.status
    assert 'Replicas r0 had not separated' in node.exit_message
    assert node.outputs.separated.r0.value is False
    assert node.outputs.curve.r0.get_array('strain') == pytest.approx([0.0, 0.1, 0.2], abs=1e-9)  # to max_strain
    assert node.outputs.frames.r0.numsteps == 3
    assert node.outputs.fracture.r0['g_c_j_m2'] is None and node.outputs.fracture.r0['k_ic_mpa_m05'] is None
    assert 'g_c' not in node.outputs and 'k_ic' not in node.outputs and 'average' not in node.outputs
    cracked = node.outputs.precracked.r0
    symbols = [site.kind_name for site in cracked.sites]
    assert len(symbols) < 8 * 21 and np.diag(cracked.cell) == pytest.approx(np.diag(structure.cell) * 2)
    # the runs use SHIK resolved again for the cut composition: neutral with its new O charge
    relax = node.base.links.get_outgoing(link_label_filter='r0_relax').one().node
    charges = relax.inputs.lammps.forcefield['charges_e']
    assert charges['O'] != forcefield['charges_e']['O']
    assert sum(charges[symbol] for symbol in symbols) == pytest.approx(0.0, abs=1e-9)


def naive_switched(frames: orm.TrajectoryData, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """B atom indices, and whether each one's set of O within ``cutoff`` (minimum image) ever differs from step 0."""
    all_positions, cells, symbols = frames_of(frames)
    symbols = np.array(symbols)
    boron, oxygen = np.flatnonzero(symbols == 'B'), np.flatnonzero(symbols == 'O')
    neighbours = []
    for positions, cell in zip(all_positions, cells):
        lengths = np.diag(cell)
        delta = positions[oxygen][None] - positions[boron][:, None]
        delta -= lengths * np.round(delta / lengths)
        neighbours.append(np.linalg.norm(delta, axis=-1) < cutoff)
    return boron, np.array([any((frame[i] != neighbours[0][i]).any() for frame in neighbours[1:])
                            for i in range(len(boron))])


def test_bond_switching_labels_every_b_as_a_naive_neighbour_count_does(glass_run):
    switching = glass_run.outputs.bond_switching.r0
    boron, switched = naive_switched(glass_run.outputs.frames.r0, 1.6)
    assert switching.get_array('indices_B').tolist() == boron.tolist()
    assert switching.get_array('switched_B').tolist() == switched.tolist()
    assert 0 < switched.sum() < len(boron)
    assert switching.get_array('strain') == pytest.approx(glass_run.outputs.curve.r0.get_array('strain'))


def test_softness_is_trained_on_one_half_tested_on_the_other_and_follows_the_strain(glass_run):
    softness, summary = glass_run.outputs.softness, glass_run.outputs.softness_summary.get_dict()
    print(f'softness of B: accuracy {summary["accuracy"]:.3f} (train {summary["train_accuracy"]:.3f}), '
          f'{summary["n_switched"]} of {summary["n_atoms"]} switched, mean softness {summary["mean_softness"]}')
    assert summary['held_out'] == 'r0: the B atoms of the upper half along x' and summary['species'] == 'B'
    frames = glass_run.outputs.frames.r0
    boron = glass_run.outputs.bond_switching.r0.get_array('indices_B')
    upper = np.mod(frames.get_array('positions')[0][boron, 0] / frames.get_array('cells')[0][0, 0], 1.0) >= 0.5
    assert softness.get_array('test_r0').tolist() == upper.tolist() and summary['n_test'] == upper.sum()
    confusion = softness.get_array('confusion')
    assert confusion.sum() == upper.sum() and summary['accuracy'] == pytest.approx(np.trace(confusion) / upper.sum())
    frame_softness = softness.get_array('frame_softness_r0')
    assert frame_softness.shape == (3, len(boron))
    # the model applied to the unstrained cell gives the softness it was trained with
    assert frame_softness[0] == pytest.approx(softness.get_array('softness_r0'))
    assert softness.get_array('mean_softness_r0') == pytest.approx(frame_softness.mean(axis=1))
    # the switched fraction of the softest quartile at the last step, counted directly
    first = glass_run.outputs.bond_switching.r0.get_array('first_strain_B')
    top = softness.get_array('softness_r0') >= softness.get_array('quantile_edges')[3]
    assert softness.get_array('switched_fraction')[3, -1] == pytest.approx(np.mean(first[top] <= 0.2 + 1e-9))


def test_the_mechanics_table_and_plots_show_the_softness(glass_run, cleavage, tmp_path):
    """The command's row and table (``aiida-boroglass mechanics --fracture --softness``) and fracture_softness.png."""
    from aiida_boroglass.cli.mechanics import mechanics_row, mechanics_table
    from aiida_boroglass.cli.mechanics_plots import plot_fracture

    summary = glass_run.outputs.softness_summary.get_dict()
    row = mechanics_row(glass_run)
    assert row['softness_accuracy'] == summary['accuracy'] and row['softness']['held_out'] == summary['held_out']
    header, line = mechanics_table([row, mechanics_row(cleavage)]).splitlines()[:3:2]
    assert 'softness accuracy' in header and line.split()[-1] == f'{summary["accuracy"]:.2f}'
    paths = plot_fracture(glass_run, tmp_path)
    assert [path.name for path in paths] == ['fracture_curve.png', 'fracture_snapshots.png', 'fracture_softness.png']
    assert paths[2].read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and paths[2].stat().st_size > 10_000


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


def inputs_of(code, structure, forcefield, overrides, elastic=ELASTIC) -> dict:
    builder = FractureWorkChain.get_builder_from_protocol(code, [structure], forcefield, protocol='fast',
                                                          overrides={'repeats': [2, 2, 2], **overrides})
    builder.elastic = elastic
    return builder._inputs(prune=True)


@pytest.mark.parametrize(('overrides', 'message'), [
    ({'repeats': [2, 2, 4], 'crack': {'width_fraction': 0.6}},
     'crack.width_fraction: the pre-crack width 16.33 Å must lie in (0, 13.61) Å, the cell side along x'),
    ({'repeats': [1, 1, 1]}, 'repeats: the replicated cell of structures.r0 is 6.8 x 6.8 x 6.8 Å; every side must be >= 10'),
    ({'repeats': [0, 2, 2]}, 'repeats: must be three integers >= 1'),
    ({'strain_step': 0.0}, 'strain_step: must lie in (0, 0.1]'),
    ({'strain_step': -0.01}, 'strain_step: must lie in (0, 0.1]'),
    ({'max_strain': 0.005}, 'max_strain: 0.005 is below one strain_step (0.02)'),
    ({'crack': {'width': 0.3}}, "crack: unknown keys ['width']"),
    ({'detection': {'gap_a': 0.0}}, 'detection.gap_a: must be a length > 0 Å'),
    ({'schedule': {'step_average_ps': 0.0}}, 'schedule.step_average_ps: must cover at least one MD step'),
    ({'softness': {'radius': 3.0}}, "softness: unknown keys ['radius']"),
    ({'softness': {'species': 'Li'}}, 'softness.species must be a network former'),
    ({'softness': {'species': 'P'}}, "softness.species: P is not in the glass (['B', 'K', 'O'])"),
    ({'softness': {'r_max_a': 10.0}}, 'softness.r_max_a: r_max_a + 5 dr_a = 11 Å exceeds half the smallest side'),
    ({'softness': {'r_max_a': 4.0}}, 'softness: with one replica its upper half along x is held out, but repeats[0] = 2'),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(glass, lammps_code, overrides, message):
    """Refused in one line by the builder (a port's validator) or at launch (the inputs' validator)."""
    structure, forcefield = glass
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(message)) as refusal:
        run(FractureWorkChain, **inputs_of(lammps_code, structure, forcefield, overrides))
    assert '\n' not in str(refusal.value).strip()
    assert node_count() == before


def test_bad_elastic_input_is_refused(glass, lammps_code):
    structure, forcefield = glass
    before = node_count()
    with pytest.raises(ValueError, match=re.escape('elastic: needs youngs_modulus_gpa and poisson_ratio')):
        run(FractureWorkChain, **inputs_of(lammps_code, structure, forcefield, {}, {'youngs_modulus_gpa': 60.0}))
    assert node_count() == before


def test_every_protocol_builds_inputs_the_spec_accepts(glass, lammps_code):
    structure, forcefield = glass
    protocols = FractureWorkChain.get_available_protocols()
    assert set(protocols) == {'fast', 'balanced', 'stringent'} and all(p['estimated_cost'] for p in protocols.values())
    average = {'youngs_modulus_gpa': {'mean': 60.0, 'std': None}, 'poisson_ratio': {'mean': 0.25, 'std': None}}
    for protocol in protocols:
        builder = FractureWorkChain.get_builder_from_protocol(lammps_code, [structure], forcefield, protocol=protocol,
                                                              overrides={'repeats': [2, 2, 2]})
        builder.elastic = average
        assert FractureWorkChain.spec().inputs.validate(builder._inputs(prune=True)) is None, protocol


@pytest.mark.parametrize('potential', ['deng_du', None])
def test_the_precrack_calcfunction_keeps_the_cut_cell_neutral(aiida_profile, k_borate_21, potential):
    """Deng-Du (fixed charges) or no force field (a DeePMD ensemble: oxidation states K +1, B +3, O -2)."""
    from aiida_boroglass.functions.fracture import precracked_structure

    symbols = [site.kind_name for site in k_borate_21.sites]
    extra = {'forcefield': orm.Dict(frame_forcefield(symbols, potential))} if potential else {}
    result = precracked_structure(k_borate_21, orm.List([2, 2, 2]), orm.Dict({'width_fraction': 0.6}), **extra)
    assert 'forcefield' not in result
    cut = [site.kind_name for site in result['structure'].sites]
    charges = {'K': 1.0, 'B': 3.0, 'O': -2.0}
    assert sum(charges[symbol] for symbol in cut) == pytest.approx(0.0)
    assert result['crack']['removed'] == 8 * len(symbols) - len(cut) > 0
    assert result['crack']['width_a'] == pytest.approx(0.6 * 2 * 6.8045597439507)


def test_bond_switching_above_the_job_threshold_without_a_python_code_is_refused(glass, lammps_code):
    """The bond switching runs as a boroglass.analysis job above job_threshold_atom_frames: a code is needed."""
    structure, forcefield = glass
    builder = FractureWorkChain.get_builder_from_protocol(
        lammps_code, {'r0': structure, 'r1': structure}, forcefield, protocol='fast',
        overrides={'repeats': [2, 2, 2], 'softness': {'r_max_a': 4.0}})
    builder.elastic = ELASTIC
    builder.job_threshold_atom_frames = 1000
    before = node_count()
    with pytest.raises(ValueError, match=re.escape('analysis_code: the bond switching of structures.r0 (up to ')) as refusal:
        run(FractureWorkChain, **builder._inputs(prune=True))
    assert '\n' not in str(refusal.value).strip() and 'above job_threshold_atom_frames = 1000' in str(refusal.value)
    assert node_count() == before
