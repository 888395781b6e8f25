"""Tests of aiida_boroglass.glass.forcefields: published checks, analytic model, LAMMPS rendering."""

import json
import os
import re
import subprocess

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from aiida_boroglass.glass import forcefields as ffm

# 40Li2O-30B2O3-30P2O5 (paper 004's Li40B30P30): R = 40/30, K = 0
LIBP = ({'Li': 80, 'B': 60, 'P': 60, 'O': 280}, 4 / 3, 0.0)
# one formula unit each of Li2O, Na2O, K2O, SiO2, Al2O3, B2O3, P2O5: every Deng-Du element
DD_ALL = ({'Li': 2, 'Na': 2, 'K': 2, 'Si': 1, 'Al': 2, 'B': 2, 'P': 2, 'O': 16}, 0.3, 1.0)
# 0.2Na2O-0.8B2O3 and Li2O-B2O3-SiO2
SHIK_NAB = {'Na': 40, 'B': 160, 'O': 260}
SHIK_LIBSI = {'Li': 2, 'B': 2, 'Si': 1, 'O': 6}

CASES = {
    'deng_du_libp': ('deng_du', *LIBP),
    'deng_du_all': ('deng_du', *DD_ALL),
    'shik_nab': ('shik', SHIK_NAB, 0.0, 0.0),
    'shik_libsi': ('shik', SHIK_LIBSI, 0.0, 0.0),
}


def build(case):
    name, counts, ratio_r, ratio_k = CASES[case]
    return ffm.build_forcefield(name, counts, ratio_r, ratio_k)


def parse_table(text):
    """Return {keyword: (r, e, f, fplo, fphi)} from a pair_style table file."""
    sections = {}
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith('#')]
    i = 0
    while i < len(lines):
        keyword, header = lines[i].strip(), lines[i + 1].split()
        n = int(header[1])
        assert header[2] == 'R' and header[5] == 'FPRIME', header
        rows = np.array([[float(x) for x in line.split()] for line in lines[i + 2 : i + 2 + n]])
        np.testing.assert_array_equal(rows[:, 0], np.arange(1, n + 1))
        sections[keyword] = (rows[:, 1], rows[:, 2], rows[:, 3], float(header[6]), float(header[7]))
        i += 2 + n
    return sections


def tabulated_pairs(ff):
    """Return (a, b) for every element pair the LAMMPS table of ff carries."""
    elements = ff['elements']
    return [(elements[i], elements[j]) for i, j in ffm.tabulated_pairs(ff, elements)]


def lammps_runtime_table(ff, section):
    """Emulate LAMMPS pair_style table linear N: clamped spline of the file onto N points in r^2.

    Returns the midpoints (A) of the run-time bins and LAMMPS's linearly interpolated energy (eV)
    and force (eV/A) there.
    """
    r, e, f, fplo, fphi = section
    energy_spline = CubicSpline(r, e, bc_type=((1, -f[0]), (1, -f[-1])))
    force_spline = CubicSpline(r, f, bc_type=((1, fplo), (1, fphi)))
    rsq = np.linspace(r[0] ** 2, r[-1] ** 2, ff['table']['points'])
    grid = np.sqrt(rsq)
    e_grid, f_over_r = energy_spline(grid), force_spline(grid) / grid
    mid = np.sqrt(0.5 * (rsq[:-1] + rsq[1:]))
    return mid, 0.5 * (e_grid[:-1] + e_grid[1:]), 0.5 * (f_over_r[:-1] + f_over_r[1:]) * mid


# --------------------------------------------------------------------------- published checks


def test_a_bo_borosilicate_check_value():
    # 30B2O3-70SiO2: K = 70/30 (the published 12362.78 eV needs K = 7/3, not K = 2.333)
    assert ffm.deng_du_a_bo(0.0, 70 / 30) == pytest.approx(12362.78, abs=0.005)


@pytest.mark.parametrize(('ratio_r', 'expected'), [(0.1, 12683.0), (0.25, 13531.25), (0.5, 14075.0)])
def test_a_bo_binary_borates(ratio_r, expected):
    assert ffm.deng_du_a_bo(ratio_r, 0.0) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize('ratio_k', [0.0, 1.0, 7 / 3, 4.0])
def test_a_bo_continuous_at_r_max(ratio_k):
    """The erratum's T3 joins the two branches at R_max."""
    r_max = 0.5 + ratio_k / 16
    below, above = ffm.deng_du_a_bo(r_max - 1e-9, ratio_k), ffm.deng_du_a_bo(r_max + 1e-9, ratio_k)
    assert above == pytest.approx(below, abs=1e-3)


def test_n4_low_r_and_plateau():
    for ratio_k in (0.0, 2.0, 5.0):
        r_max, r_d1 = 0.5 + ratio_k / 16, 0.5 + ratio_k / 4
        for ratio_r in (0.0, 0.05, 0.3, 0.49):
            assert ffm.dell_bray_n4(ratio_r, ratio_k) == pytest.approx(ratio_r, abs=1e-15)
        for ratio_r in np.linspace(r_max, r_d1, 7)[:-1]:
            assert ffm.dell_bray_n4(ratio_r, ratio_k) == pytest.approx(r_max, abs=1e-15)


def test_n4_binary_branch_is_two_minus_r_over_three():
    for ratio_r in (0.5, 0.8, 1.0, 1.5, 1.99):
        assert ffm.dell_bray_n4(ratio_r, 0.0) == pytest.approx((2 - ratio_r) / 3, abs=1e-12)
    assert ffm.dell_bray_n4(2.0, 0.0) == 0.0
    assert ffm.dell_bray_n4(3.0, 0.0) == 0.0


@pytest.mark.parametrize('ratio_k', [0.0, 0.5, 2.0, 7 / 3, 8.0])
def test_n4_continuous_in_r_and_k(ratio_k):
    ratios = np.linspace(0.0, ratio_k + 3.0, 4001)
    n4 = np.array([ffm.dell_bray_n4(x, ratio_k) for x in ratios])
    assert np.all((n4 >= 0) & (n4 <= 1))
    assert np.max(np.abs(np.diff(n4))) < 2 * (ratios[1] - ratios[0])
    # continuous in K; at K = 0 this is the K -> 0 limit of the published expression
    nearby_k = ratio_k + 1e-9 if ratio_k < 8.0 else ratio_k - 1e-9
    n4_nearby = np.array([ffm.dell_bray_n4(x, nearby_k) for x in ratios])
    np.testing.assert_allclose(n4_nearby, n4, atol=1e-8)


def test_shik_oxygen_charge_sodium_borate():
    ff = ffm.build_forcefield('shik', {'Na': 4, 'B': 16, 'O': 26})  # 0.2Na2O-0.8B2O3
    assert ff['charges_e']['O'] == pytest.approx(-1.08495, abs=5e-6)


@pytest.mark.parametrize('case', list(CASES))
def test_neutral_and_json_serializable(case):
    ff = build(case)
    counts = CASES[case][1]
    assert sum(ff['charges_e'][el] * n for el, n in counts.items()) == pytest.approx(0.0, abs=1e-10)
    assert json.loads(json.dumps(ff)) == ff


def test_deng_du_refuses_non_neutral_cell():
    with pytest.raises(ffm.ForceFieldError, match='net charge'):
        ffm.build_forcefield('deng_du', {'B': 2, 'O': 2}, 0.0, 0.0)


# --------------------------------------------------------------------------- Deng-Du core


def core_pairs():
    for case in ('deng_du_all', 'deng_du_libp'):
        ff = build(case)
        for key, params in ff['pairs'].items():
            if 'core' in params:
                yield pytest.param(ff, key, id=f'{case}-{key}')
    for ratio_r, ratio_k in ((0.0, 0.0), (0.5, 0.0), (2.5, 0.0), (0.0, 8.0), (1.0, 7 / 3)):
        ff = ffm.build_forcefield('deng_du', {'Na': 2, 'B': 2, 'O': 4}, ratio_r, ratio_k)
        yield pytest.param(ff, 'B-O', id=f'B-O-R{ratio_r:.2f}-K{ratio_k:.2f}')


@pytest.mark.parametrize(('ff', 'key'), list(core_pairs()))
def test_core_continuity_and_repulsion(ff, key):
    a, b = key.split('-')
    r0 = ff['pairs'][key]['core']['r0_A']
    inside, outside = r0, np.nextafter(r0, np.inf)  # core holds for r <= r0
    v_in, v_out = ffm.pair_energy(ff, a, b, np.array([inside, outside]))
    f_in, f_out = ffm.pair_force(ff, a, b, np.array([inside, outside]))
    assert v_in == pytest.approx(v_out, rel=1e-12)
    assert f_in == pytest.approx(f_out, rel=1e-12)
    # V'' = -dF/dr from each side, second-order one-sided differences
    h = 1e-5
    left = ffm.pair_force(ff, a, b, r0 - h * np.arange(3))
    right = ffm.pair_force(ff, a, b, outside + h * np.arange(3))
    curvature_left = -(3 * left[0] - 4 * left[1] + left[2]) / (2 * h)
    curvature_right = -(-3 * right[0] + 4 * right[1] - right[2]) / (2 * h)
    assert curvature_left == pytest.approx(curvature_right, rel=2e-5)
    # repulsive core: energy rises monotonically towards the table's inner radius
    r = np.linspace(ff['table']['inner_A'], r0, 500)
    assert np.all(ffm.pair_force(ff, a, b, r) > 0)
    assert np.all(np.diff(ffm.pair_energy(ff, a, b, r)) < 0)
    assert ffm.pair_energy(ff, a, b, np.array([ff['table']['inner_A']]))[0] > 100.0


def test_core_reproduces_published_b_n_d():
    """Solving V, V', V'' continuity at the printed r0 gives the printed B, n, D to rounding."""
    ff = build('deng_du_all')
    published = ffm._load('deng_du')['pairs']
    for key, params in ff['pairs'].items():
        if key == 'B-O' or 'core' not in params:
            continue
        core, ref = params['core'], published[key]['published_core']
        assert core['B_eV_An'] == pytest.approx(ref['B_eV_An'], rel=4e-3), key
        assert core['D_eV_A2'] == pytest.approx(ref['D_eV_A2'], rel=4e-3), key
        assert core['n'] == pytest.approx(ref['n'], abs=6e-3), key
        # the printed r0 follows the V''' = 0 rule used for B-O
        rule = ffm._core_radius(params['A_eV'], params['rho_A'], params['C_eV_A6'])
        assert rule == pytest.approx(core['r0_A'], abs=1.5e-3), key


def test_li_o_has_no_core_and_b_o_follows_composition():
    low, high = (ffm.build_forcefield('deng_du', LIBP[0], r, 0.0) for r in (0.1, 4 / 3))
    assert 'core' not in low['pairs']['Li-O']
    assert low['pairs']['B-O']['A_eV'] == pytest.approx(12683.0)
    assert high['pairs']['B-O']['A_eV'] == pytest.approx(12525 + 3100 * (2 - 4 / 3) / 3 * 0.5 / (4 / 3))
    assert low['pairs']['B-O']['core']['r0_A'] != high['pairs']['B-O']['core']['r0_A']


# --------------------------------------------------------------------------- analytic model


@pytest.mark.parametrize('case', list(CASES))
def test_forces_are_minus_energy_derivatives(case):
    ff = build(case)
    h = 1e-6
    for a, b in tabulated_pairs(ff):
        r = np.linspace(ff['table']['inner_A'] + 0.01, ff['cutoff_short_range_A'] - 0.01, 997)
        core = ff['pairs'].get(ffm.pair_key(a, b), {}).get('core')
        if core:
            r = r[np.abs(r - core['r0_A']) > 2 * h]
        for energy, force in ((ffm.pair_energy, ffm.pair_force), (ffm.table_energy, ffm.table_force)):
            numeric = -(energy(ff, a, b, r + h) - energy(ff, a, b, r - h)) / (2 * h)
            np.testing.assert_allclose(force(ff, a, b, r), numeric, rtol=1e-6, atol=1e-6, err_msg=f'{a}-{b}')


def test_coulomb_energy_values():
    ff = build('deng_du_libp')
    r = np.array([1.0, 2.5])
    np.testing.assert_allclose(ffm.coulomb_energy(ff, 'B', 'O', r), 14.399645 * 1.8 * -1.2 / r, rtol=1e-15)
    np.testing.assert_allclose(ffm.model_coulomb_energy(ff, 'B', 'O', r), ffm.coulomb_energy(ff, 'B', 'O', r))
    shik = build('shik_nab')
    rc = shik['coulomb']['cutoff_A']
    q = 14.399645 * shik['charges_e']['B'] * shik['charges_e']['O']
    expected = q * (1 / r - 1 / rc + (r - rc) / rc**2) * np.exp(-0.04 / (r - rc) ** 2)
    np.testing.assert_allclose(ffm.model_coulomb_energy(shik, 'B', 'O', r), expected, rtol=1e-14)
    beyond = np.array([rc, rc + 1.0])
    np.testing.assert_array_equal(ffm.model_coulomb_energy(shik, 'B', 'O', beyond), 0.0)
    np.testing.assert_array_equal(ffm.pair_energy(shik, 'B', 'O', np.array([8.0, 9.0])), 0.0)


# --------------------------------------------------------------------------- rendering


@pytest.mark.parametrize('case', list(CASES))
def test_table_rows_equal_model(case):
    ff = build(case)
    _, text = ffm.lammps_potential(ff, ff['elements'])
    sections = parse_table(text)
    assert sorted(sections) == sorted(ffm.pair_key(a, b) for a, b in tabulated_pairs(ff))
    for a, b in tabulated_pairs(ff):
        r, e, f, _, _ = sections[ffm.pair_key(a, b)]
        exact_r = ffm.table_distances(ff, a, b)  # the file prints 13 significant digits of these
        assert r[0] == ff['table']['inner_A'] and r.size == ff['table']['file_points']
        np.testing.assert_allclose(r, exact_r, rtol=1e-12)
        np.testing.assert_allclose(e, ffm.table_energy(ff, a, b, exact_r), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(f, ffm.table_force(ff, a, b, exact_r), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('case', list(CASES))
def test_lammps_runtime_table_matches_model(case):
    """What LAMMPS interpolates at run time stays within the error stated in the YAML files."""
    ff = build(case)
    _, text = ffm.lammps_potential(ff, ff['elements'])
    sections = parse_table(text)
    for a, b in tabulated_pairs(ff):
        mid, e_lmp, f_lmp = lammps_runtime_table(ff, sections[ffm.pair_key(a, b)])
        e, f = ffm.table_energy(ff, a, b, mid), ffm.table_force(ff, a, b, mid)
        reachable = e < 10.0
        assert np.max(np.abs(e_lmp - e)[reachable]) < 3e-3, f'{a}-{b}'
        assert np.max((np.abs(f_lmp - f) / np.maximum(np.abs(f), 1.0))[reachable]) < 5e-4, f'{a}-{b}'
        # thermally accessible beyond the first shell (E < 1 eV, r >= 1.8 A): 1e-5 eV and 1e-4 eV/A
        far = (mid >= 1.8) & (e < 1.0)
        if far.any():  # a Deng-Du core table ends at r0, for B-O below 1.8 A
            assert np.max(np.abs(e_lmp - e)[far]) < 1e-5, f'{a}-{b}'
            assert np.max(np.abs(f_lmp - f)[far]) < 1e-4, f'{a}-{b}'


def test_lammps_commands_deng_du():
    ff = build('deng_du_libp')
    commands, text = ffm.lammps_potential(ff, ['Li', 'B', 'P', 'O'], table_filename='ff.table')
    r0 = {key: ff['pairs'][key]['core']['r0_A'] for key in ('B-O', 'P-O', 'O-O')}
    assert r0['O-O'] == 1.906 and r0['P-O'] == 1.169  # published; B-O follows the composition
    pairs = ff['pairs']
    buckingham = {key: f"{pairs[key]['A_eV']!r} {pairs[key]['rho_A']!r} {pairs[key]['C_eV_A6']!r}" for key in pairs}
    assert commands == [
        'pair_style hybrid/overlay buck/coul/long 10 10 table linear 50000',
        'pair_coeff 1 1 buck/coul/long 0.0 1.0 0.0 0.0',
        'pair_coeff 1 2 buck/coul/long 0.0 1.0 0.0 0.0',
        'pair_coeff 1 3 buck/coul/long 0.0 1.0 0.0 0.0',
        f"pair_coeff 1 4 buck/coul/long {buckingham['Li-O']}",
        'pair_coeff 2 2 buck/coul/long 0.0 1.0 0.0 0.0',
        'pair_coeff 2 3 buck/coul/long 0.0 1.0 0.0 0.0',
        f"pair_coeff 2 4 buck/coul/long {buckingham['B-O']}",
        'pair_coeff 3 3 buck/coul/long 0.0 1.0 0.0 0.0',
        f"pair_coeff 3 4 buck/coul/long {buckingham['P-O']}",
        f"pair_coeff 4 4 buck/coul/long {buckingham['O-O']}",
        f"pair_coeff 2 4 table ff.table B-O {r0['B-O']:.12g}",
        'pair_coeff 3 4 table ff.table P-O 1.169',
        'pair_coeff 4 4 table ff.table O-O 1.906',
        'kspace_style pppm 1e-05',
        'kspace_modify order 7',
    ]
    assert sorted(parse_table(text)) == ['B-O', 'O-O', 'P-O']  # Li-O has no core


def test_deng_du_table_holds_only_the_core_correction():
    ff = build('deng_du_libp')
    p, r0 = ff['pairs']['O-O'], ff['pairs']['O-O']['core']['r0_A']
    r = np.array([0.8, 1.2, 1.6, r0, 2.0, 3.0])
    buckingham = p['A_eV'] * np.exp(-r / p['rho_A']) - p['C_eV_A6'] / r**6
    expected = np.where(r <= r0, ffm.pair_energy(ff, 'O', 'O', r) - buckingham, 0.0)
    np.testing.assert_allclose(ffm.table_energy(ff, 'O', 'O', r), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ffm.table_energy(ff, 'Li', 'O', r), 0.0)
    assert ffm.table_energy(ff, 'O', 'O', np.array([0.8]))[0] > 1.0  # the core is stiffer than Buckingham there


def test_lammps_commands_shik_cover_every_type_pair():
    ff = build('shik_libsi')
    commands, _ = ffm.lammps_potential(ff, ['Si', 'O', 'Li', 'B'])
    assert commands[0] == 'pair_style table linear 50000'
    pairs = [tuple(map(int, c.split()[1:3])) for c in commands[1:]]
    assert pairs == [(i, j) for i in range(1, 5) for j in range(i, 5)]
    assert not any(c.startswith('kspace') for c in commands)


# --------------------------------------------------------------------------- bad input


def test_unknown_forcefield_lists_available():
    with pytest.raises(ffm.ForceFieldError, match=r"'bks'.*deng_du, shik"):
        ffm.build_forcefield('bks', {'Si': 1, 'O': 2})


def test_element_not_covered_is_named():
    with pytest.raises(ffm.ForceFieldError, match=r"'shik' has no parameters for P; it covers B, K, Li, Na, O, Si"):
        ffm.build_forcefield('shik', {'Li': 2, 'P': 2, 'O': 6})


def test_shik_refuses_mixed_alkali_without_published_cross_term():
    with pytest.raises(ffm.ForceFieldError, match='Li-Na'):
        ffm.build_forcefield('shik', {'Li': 2, 'Na': 2, 'B': 2, 'O': 5})


@pytest.mark.parametrize(
    ('kwargs', 'field'),
    [({'ratio_r': -0.1}, 'ratio_r'), ({'ratio_k': -1.0}, 'ratio_k'), ({'ratio_r': float('nan')}, 'ratio_r'),
     ({'ratio_k': 9.0}, 'ratio_k')],
)
def test_bad_ratios_name_the_field(kwargs, field):
    with pytest.raises(ffm.ForceFieldError, match=field):
        ffm.build_forcefield('deng_du', {'Na': 2, 'B': 2, 'O': 4}, **kwargs)
    with pytest.raises(ffm.ForceFieldError, match=field):
        ffm.deng_du_a_bo(**{'ratio_r': 0.2, 'ratio_k': 0.0, **kwargs})


def test_species_order_must_match_forcefield():
    ff = build('deng_du_libp')
    with pytest.raises(ffm.ForceFieldError, match='species_order'):
        ffm.lammps_potential(ff, ['Li', 'B', 'Si', 'O'])


# --------------------------------------------------------------------------- real LAMMPS

LAMMPS_SCAN = """units metal
atom_style charge
atom_modify map yes
boundary p p p
region box block 0 60 0 60 0 60
create_box {ntypes} box
{atoms}
mass * 10.0
{charges}
{commands}
thermo_style custom step pe
variable d index {distances}
label scan
set atom 2 x $(20.0+v_d)
run 0 post no
print "RESULT ${{d}} $(pe:%.15g) $(fx[2]:%.15g)"
next d
jump SELF scan
"""


def run_lammps(workdir, ff, symbols, commands, table_text, distances, extra_atoms=()):
    """Run LAMMPS (-sf omp) on atom 1 at x = 20 A, atom 2 at 20 + d; return (d, pe, fx2), log text.

    symbols lists the element of each atom (types in that order of first appearance);
    extra_atoms gives fixed positions (A) of atoms 3, 4, ...
    """
    species = list(dict.fromkeys(symbols))
    positions = [(20.0, 30.0, 30.0), (21.0, 30.0, 30.0), *extra_atoms]
    atoms = '\n'.join(
        f'create_atoms {species.index(el) + 1} single {x} {y} {z} units box' for el, (x, y, z) in zip(symbols, positions)
    )
    charges = '\n'.join(f'set atom {i + 1} charge {ff["charges_e"][el]!r}' for i, el in enumerate(symbols))
    script = LAMMPS_SCAN.format(
        ntypes=len(species), atoms=atoms, charges=charges, commands='\n'.join(commands),
        distances=' '.join(f'{d:.6f}' for d in distances),
    )
    (workdir / 'in.lmp').write_text(script)
    (workdir / 'potential.table').write_text(table_text)
    proc = subprocess.run(
        ['boroglass-lmp', '-sf', 'omp', '-in', 'in.lmp', '-log', 'log.lammps', '-screen', 'none'],
        cwd=workdir, env={**os.environ, 'OMP_NUM_THREADS': '1'}, capture_output=True, text=True, timeout=300,
    )
    log = (workdir / 'log.lammps').read_text()
    assert proc.returncode == 0, log[-3000:] + proc.stderr[-2000:]
    rows = np.array([[float(x) for x in line.split()[1:]] for line in log.splitlines() if line.startswith('RESULT')])
    assert rows.shape == (len(distances), 3), log[-3000:]
    return rows, log


def assert_clean_table_log(log, table_text):
    """Check LAMMPS used table/omp and read every table without a real force/energy mismatch.

    LAMMPS flags a row whose force lies outside the two neighbouring secants of -dE/dr; this is
    expected at an inflection point of E (extremum of F, "Should only be flagged at inflection
    points"), so each table may have at most as many flagged rows as its force has extrema.
    A force column that disagreed with the energy would flag a large fraction of the rows.
    """
    # -sf omp picked the OpenMP table style (hybrid reports it as its last /omp sub-style)
    assert 'pair table/omp' in log or 'Hybrid pair style last /omp style table' in log
    sections = parse_table(table_text)
    for match in re.finditer(r'WARNING: (\d+) of (\d+) force values in table (\S+) are inconsistent', log):
        flagged, key = int(match.group(1)), match.group(3)
        force = sections[key][2]
        extrema = int(np.count_nonzero(np.diff(np.sign(np.diff(force)))))
        assert flagged <= extrema, (key, flagged, extrema)


def coulomb_only_commands(ff, commands):
    """``pair_style coul/long`` at the force field's real-space cut-off for every pair, with the kspace lines of ``commands``."""
    kspace = [c for c in commands if c.startswith('kspace')]
    return [f'pair_style coul/long {ff["coulomb"]["cutoff_real_space_A"]:g}', 'pair_coeff * *', *kspace]


@pytest.mark.lammps
@pytest.mark.parametrize(('a', 'b'), [('B', 'O'), ('Li', 'O'), ('O', 'O'), ('P', 'O')])
def test_lammps_deng_du_short_range(tmp_path, a, b):
    """Rendered Deng-Du potential minus a Coulomb-only run with the same PPPM = the pair's table.

    Both runs share positions, charges and PPPM grid, so the k-space part (and its error)
    cancels exactly and the difference is the short-range table as LAMMPS evaluates it.
    """
    ff = build('deng_du_libp')
    species = list(dict.fromkeys([a, b]))
    commands, text = ffm.lammps_potential(ff, species)
    core = ff['pairs'][ffm.pair_key(a, b)].get('core')
    distances = [0.8, 1.0, 1.2, 1.45, 1.9, 2.4, 3.0, 4.5, 7.0, 9.9]
    if core:
        distances += [core['r0_A'] - 0.02, core['r0_A'] + 0.02]
    symbols = [a, b]
    full, log = run_lammps(tmp_path, ff, symbols, commands, text, distances)
    if core:
        assert_clean_table_log(log, text)
    assert 'kspace_style pppm 1e-05' in log
    reference = coulomb_only_commands(ff, commands)
    coulomb_only, _ = run_lammps(tmp_path, ff, symbols, reference, '', distances)
    r = full[:, 0]
    energy, force = ffm.pair_energy(ff, a, b, r), ffm.pair_force(ff, a, b, r)
    np.testing.assert_allclose(full[:, 1] - coulomb_only[:, 1], energy, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(full[:, 2] - coulomb_only[:, 2], force, rtol=1e-4, atol=1e-5)


@pytest.mark.lammps
def test_lammps_deng_du_total_energy_of_neutral_triple(tmp_path):
    """O between two Li in a 60 A box: pe = bare Coulomb + short range, to PPPM accuracy."""
    ff = build('deng_du_libp')
    commands, text = ffm.lammps_potential(ff, ['O', 'Li'])
    distances = [1.7, 1.95, 2.3]
    rows, log = run_lammps(tmp_path, ff, ['O', 'Li', 'Li'], commands, text, distances, extra_atoms=[(18.05, 30.0, 30.0)])
    assert_clean_table_log(log, text)
    for d, pe, _ in rows:
        pairs = [('O', 'Li', d), ('O', 'Li', 1.95), ('Li', 'Li', d + 1.95)]
        expected = sum(
            ffm.coulomb_energy(ff, x, y, np.array([s]))[0] + ffm.pair_energy(ff, x, y, np.array([s]))[0]
            for x, y, s in pairs
        )
        # PPPM at 1e-5 relative force accuracy leaves ~3e-3 eV on this -9 eV cluster (at 1e-7 the
        # difference falls to 7e-5 eV, so it is the k-space error, not the model)
        assert pe == pytest.approx(expected, abs=5e-3)


@pytest.mark.lammps
@pytest.mark.parametrize(('a', 'b'), [('B', 'O'), ('Na', 'O'), ('O', 'O'), ('B', 'B')])
def test_lammps_shik_pair(tmp_path, a, b):
    """Rendered SHIK potential: pe and force of a pair = model Coulomb + short range."""
    ff = build('shik_nab')
    species = list(dict.fromkeys([a, b]))
    commands, text = ffm.lammps_potential(ff, species)
    distances = [1.1, 1.37, 1.8, 2.4, 3.0, 4.5, 7.0, 7.95, 8.5, 9.9]
    rows, log = run_lammps(tmp_path, ff, [a, b], commands, text, distances)
    assert_clean_table_log(log, text)
    r = rows[:, 0]
    energy = ffm.pair_energy(ff, a, b, r) + ffm.model_coulomb_energy(ff, a, b, r)
    force = ffm.pair_force(ff, a, b, r) + ffm.model_coulomb_force(ff, a, b, r)
    np.testing.assert_allclose(rows[:, 1], energy, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rows[:, 2], force, rtol=1e-4, atol=1e-5)


def image_pair_sum(ff, symbols, positions, cell):
    """Short-range energy (eV) and forces (n, 3) eV/A of a periodic frame, summed over every image pair.

    A naive loop over all atom pairs and all cell images within the cut-off (any cell, its rows the
    cell vectors), the self-images counted once per pair of images.
    """
    cutoff = ff['cutoff_short_range_A']
    reach = int(np.ceil(cutoff / np.min(np.linalg.norm(cell, axis=1)))) + 1
    shifts = np.array([[i, j, k] for i in range(-reach, reach + 1) for j in range(-reach, reach + 1)
                       for k in range(-reach, reach + 1)]) @ cell
    energy, forces = 0.0, np.zeros_like(positions)
    for i in range(len(symbols)):
        for j in range(len(symbols)):
            vectors = positions[i] - positions[j] - shifts  # from j's images to i
            r = np.linalg.norm(vectors, axis=1)
            keep = (r > 1e-9) & (r <= cutoff)
            energy += 0.5 * ffm.pair_energy(ff, symbols[i], symbols[j], r[keep]).sum()
            force = ffm.pair_force(ff, symbols[i], symbols[j], r[keep])
            forces[i] += (force[:, None] * vectors[keep] / r[keep][:, None]).sum(axis=0)
    return energy, forces


def lammps_single_point(workdir, ff, symbols, positions, cell, commands, table_text):
    """Energy (eV) and forces (n, 3) eV/A of one frame from LAMMPS with the given potential commands."""
    from aiida_boroglass.calculations import lammps_inputs as li
    from aiida_boroglass.parsers.parse_raw.lammps import parse_dump

    workdir.mkdir()
    species = ff['elements']
    (workdir / 'potential.table').write_text(table_text)
    (workdir / 'frame.data').write_text(li.write_data_file(positions, cell, symbols, species, ff['charges_e']))
    script = ['units metal', 'atom_style charge', 'boundary p p p', 'read_data frame.data', *commands,
              'thermo_style custom step pe', 'thermo_modify format float %.15g',
              'dump forces all custom 1 forces.dump id type fx fy fz', 'dump_modify forces sort id format float %.15g',
              'run 0']
    (workdir / 'in.lmp').write_text('\n'.join(script) + '\n')
    subprocess.run(['boroglass-lmp', '-sf', 'omp', '-in', 'in.lmp', '-log', 'log.lammps', '-screen', 'none'],
                   cwd=workdir, env={**os.environ, 'OMP_NUM_THREADS': '1'}, check=True, capture_output=True, timeout=300)
    lines = (workdir / 'log.lammps').read_text().splitlines()
    header = next(k for k, line in enumerate(lines) if line.split() == ['Step', 'PotEng'])
    return float(lines[header + 1].split()[1]), parse_dump((workdir / 'forces.dump').read_text()).positions[0]


@pytest.mark.lammps
@pytest.mark.parametrize('push_o_to_b_a', [None, 1.0])
def test_lammps_deng_du_glass_frame_equals_analytic_short_range(tmp_path, push_o_to_b_a):
    """A quenched glass frame (tests/fixtures/k_borate_21.extxyz): native buck/coul/long + core table,
    minus a Coulomb-only run with the same PPPM, equals the analytic short range summed over every
    image pair (a naive loop). As quenched no pair lies inside a core: exact to round-off. With one
    O pushed to 1.0 A of a B (inside its core, r0 about 1.06 A): within the table's stated error."""
    import ase.io

    atoms = ase.io.read(os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'k_borate_21.extxyz'))
    symbols, positions, cell = atoms.get_chemical_symbols(), atoms.get_positions(), np.array(atoms.cell)
    ff = ffm.build_forcefield('deng_du', {el: symbols.count(el) for el in set(symbols)},
                              symbols.count('K') / symbols.count('B'), 0.0)
    if push_o_to_b_a is not None:
        boron = symbols.index('B')
        oxygen = min((k for k, el in enumerate(symbols) if el == 'O'),
                     key=lambda k: np.linalg.norm(atoms.get_distance(boron, k, mic=True, vector=True)))
        bond = atoms.get_distance(boron, oxygen, mic=True, vector=True)
        positions[oxygen] = positions[boron] + bond * push_o_to_b_a / np.linalg.norm(bond)
        assert push_o_to_b_a < ff['pairs']['B-O']['core']['r0_A']
    commands, text = ffm.lammps_potential(ff, ff['elements'])
    e_full, f_full = lammps_single_point(tmp_path / 'full', ff, symbols, positions, cell, commands, text)
    e_coul, f_coul = lammps_single_point(tmp_path / 'coulomb', ff, symbols, positions, cell,
                                         coulomb_only_commands(ff, commands), '')
    energy, forces = image_pair_sum(ff, symbols, positions, cell)
    tolerance = (1e-8, 1e-8) if push_o_to_b_a is None else (3e-3, 5e-4 * max(1.0, np.abs(forces).max()))
    assert abs((e_full - e_coul) - energy) < tolerance[0]
    assert np.abs((f_full - f_coul) - forces).max() < tolerance[1]
    assert abs(energy) > 1.0  # the short range is a real part of the energy
