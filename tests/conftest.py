"""Shared fixtures: a temporary AiiDA configuration, the embedded profile and the engine codes."""
import os
import tempfile

# Never touch the user's ~/.aiida: every AiiDA configuration of the test session lives here.
os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='boroglass-aiida-')

import pytest  # noqa: E402

#: Seconds the tests' own daemon stops wait (aiida's 2 s is too short for a busy daemon on two shared cores; a
#: profile-wide 60 s would make the stop of a daemon that is not running, at the end of each worker, wait 60 s).
DAEMON_STOP_TIMEOUT_S = 60

pytest_plugins = ['aiida.tools.pytest_fixtures']


@pytest.fixture(scope='session')
def aiida_profile(aiida_config, aiida_profile_factory):
    """The embedded profile of the quick start: SQLite storage and the ZeroMQ broker."""
    with aiida_profile_factory(aiida_config, storage_backend='core.sqlite_dos', broker_backend='core.zeromq') as profile:
        yield profile


@pytest.fixture(scope='session')
def stop_daemon():
    """A function that stops the daemon of a client and waits until it is gone (other tests expect none)."""
    from aiida.engine.daemon.client import DaemonTimeoutException

    def stop(client) -> None:
        client.stop_daemon(wait=True, timeout=DAEMON_STOP_TIMEOUT_S)
        client._await_condition(lambda: not client.is_daemon_running, DaemonTimeoutException('The daemon failed to stop.'))

    return stop


@pytest.fixture(scope='session')
def local_codes(aiida_profile, tmp_path_factory):
    """Computer and codes registered exactly as ``aiida-boroglass setup`` does; LAMMPS, packmol and CP2K required."""
    from aiida_boroglass.cli.setup import ensure_codes, ensure_computer

    computer = ensure_computer(workdir=str(tmp_path_factory.mktemp('aiida_run')))
    found = ensure_codes(computer)
    missing = {'lmp', 'packmol', 'cp2k'} - set(found)
    assert not missing, f'engines {sorted(missing)} not found: install the package with the "engines" extra and CP2K (scripts/environment.sh)'
    return computer


@pytest.fixture(scope='session')
def lammps_code(local_codes):
    """The registered LAMMPS code."""
    from aiida import orm

    return orm.load_code(f'lmp@{local_codes.label}')


@pytest.fixture(scope='session')
def packmol_code(local_codes):
    """The registered packmol code."""
    from aiida import orm

    return orm.load_code(f'packmol@{local_codes.label}')


@pytest.fixture(scope='session')
def cp2k_code(local_codes):
    """The registered CP2K code (Debian ``cp2k.psmp``, installed by scripts/environment.sh)."""
    from aiida import orm

    return orm.load_code(f'cp2k@{local_codes.label}')


@pytest.fixture(scope='session')
def k_borate_21():
    """A 21-atom 40K2O-60B2O3 glass quenched with LAMMPS (tests/fixtures/README.md): an AIMD starting point."""
    import pathlib

    import ase.io
    from aiida import orm

    atoms = ase.io.read(pathlib.Path(__file__).parent / 'fixtures' / 'k_borate_21.extxyz')
    return orm.StructureData(ase=atoms)


@pytest.fixture(scope='session')
def tiny_overrides():
    """Protocol overrides for a 150-atom glass made in a few ps: CLI and daemon tests, not physics."""
    return {
        'n_atoms': 150,
        'schedule': {'push_off_ps': 0.2, 'melt_ps': 1.0, 'cooling_rate_k_ps': 2000.0, 'relax_nvt_ps': 0.5,
                     'relax_npt_ps': 0.5, 'production_ps': 0.5, 'dump_every_ps': 0.1},
    }


# --- Crystal builders for the analysis kernels and the structure panel ---------------------
# Each builder returns ``(positions, cell, species)``: positions ``(n_atoms, 3)`` in Å, cell
# ``(3, 3)`` in Å with lattice vectors as rows, species ``(n_atoms,)`` str; all READ-ONLY, so
# any kernel that writes into its input fails the test.

import numpy as np  # noqa: E402


def read_only(*arrays):
    """Return float / str copies of ``arrays`` marked read-only."""
    out = []
    for arr in arrays:
        copy = np.array(arr)
        copy.setflags(write=False)
        out.append(copy)
    return tuple(out)


def supercell(frac_basis, basis_species, cell, reps):
    """Replicate a basis given in fractional coordinates ``reps = (n1, n2, n3)`` times."""
    frac_basis = np.asarray(frac_basis, dtype=float)
    cell = np.asarray(cell, dtype=float)
    grid = np.array([(x, y, z) for x in range(reps[0]) for y in range(reps[1]) for z in range(reps[2])], dtype=float)
    frac = (grid[:, None, :] + frac_basis[None, :, :]).reshape(-1, 3) / np.asarray(reps, dtype=float)
    big_cell = cell * np.asarray(reps, dtype=float)[:, None]
    species = np.tile(np.asarray(basis_species), grid.shape[0])
    return read_only(frac @ big_cell, big_cell, species)


FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


def rock_salt(a=4.2, reps=3, labels=('Na', 'O')):
    """NaCl-type: cation-anion 6-fold at a/2, cation-cation 12-fold at a/sqrt(2)."""
    basis = np.vstack([FCC, FCC + 0.5])
    species = [labels[0]] * 4 + [labels[1]] * 4
    return supercell(basis % 1.0, species, np.eye(3) * a, (reps,) * 3)


def fluorite(a=5.46, reps=2, labels=('Ca', 'F')):
    """CaF2-type: cation 8 anions at a*sqrt(3)/4, anion 4 cations; anions simple cubic a/2."""
    anions = np.array([(x, y, z) for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)])
    basis = np.vstack([FCC, anions])
    species = [labels[0]] * 4 + [labels[1]] * 8
    return supercell(basis, species, np.eye(3) * a, (reps,) * 3)


def cristobalite_bo4(bo=1.47, reps=2):
    """Ideal beta-cristobalite topology with Si -> B: corner-sharing BO4, every O bridges two B."""
    a = 8.0 * bo / np.sqrt(3.0)
    formers = np.vstack([FCC, FCC + 0.25])
    tetra = np.array([[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]]) / 8.0
    oxygens = (FCC[:, None, :] + tetra[None, :, :]).reshape(-1, 3) % 1.0
    basis = np.vstack([formers, oxygens])
    species = ['B'] * 8 + ['O'] * 16
    return supercell(basis, species, np.eye(3) * a, (reps,) * 3)


def honeycomb_b2o3(bo=1.37, reps=(3, 3, 3), spacing=3.5):
    """Stacked planar B2O3 sheets in a hexagonal (non-orthorhombic) cell.

    B on a honeycomb, O at the middle of every B-B edge: corner-sharing BO3 triangles,
    every O bridges two B.
    """
    a = 2.0 * bo * np.sqrt(3.0)  # honeycomb lattice constant for a B-B distance of 2 * bo
    cell = np.array([[a, 0.0, 0.0], [0.5 * a, 0.5 * np.sqrt(3.0) * a, 0.0], [0.0, 0.0, spacing]])
    basis = np.array(
        [
            [0.0, 0.0, 0.0],
            [1 / 3, 1 / 3, 0.0],
            [1 / 6, 1 / 6, 0.0],
            [2 / 3, 1 / 6, 0.0],
            [1 / 6, 2 / 3, 0.0],
        ]
    )
    return supercell(basis, ['B', 'B', 'O', 'O', 'O'], cell, reps)


def isolated_bo3(bo=1.37, spacing=6.0, reps=2, lone_oxygen=True):
    """Planar BO3 units on a simple cubic grid (each O bonded to one B), plus a lone O."""
    unit = np.array(
        [
            [0.0, 0.0, 0.0],
            [bo, 0.0, 0.0],
            [-0.5 * bo, 0.5 * np.sqrt(3.0) * bo, 0.0],
            [-0.5 * bo, -0.5 * np.sqrt(3.0) * bo, 0.0],
        ]
    )
    grid = np.array([(x, y, z) for x in range(reps) for y in range(reps) for z in range(reps)], dtype=float) * spacing
    positions = (grid[:, None, :] + unit[None, :, :]).reshape(-1, 3)
    species = ['B', 'O', 'O', 'O'] * grid.shape[0]
    cell = np.eye(3) * spacing * reps
    if lone_oxygen:  # the grid's body centre, >= 2.7 Å from every other atom
        positions = np.vstack([positions, [0.5 * spacing, 0.5 * spacing, 0.5 * spacing]])
        species.append('O')
    return read_only(positions, cell, np.array(species))


def equivalent_cell(positions, cell, seed=0):
    """The same crystal in a skewed, rotated cell spanning the same lattice.

    The new rows are a unimodular integer combination of the old ones (det 1) and the
    whole structure is rotated by a random rotation; atoms are NOT wrapped into the
    new cell (kernels must wrap).
    """
    transform = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=float)
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    rotation = q * np.sign(np.diag(r))
    if np.linalg.det(rotation) < 0:
        rotation[:, 0] *= -1
    new_cell = transform @ np.asarray(cell) @ rotation.T
    new_positions = np.asarray(positions) @ rotation.T
    return read_only(new_positions, new_cell)


def jiggle(positions, sigma, n_frames, seed=0):
    """``n_frames`` copies of ``positions`` with Gaussian displacements of ``sigma`` Å."""
    rng = np.random.default_rng(seed)
    frames = np.asarray(positions)[None] + rng.normal(scale=sigma, size=(n_frames, *np.shape(positions)))
    return read_only(frames)[0]


@pytest.fixture
def rock_salt_crystal():
    return rock_salt()


@pytest.fixture
def fluorite_crystal():
    return fluorite()


@pytest.fixture
def bo4_network():
    return cristobalite_bo4()


@pytest.fixture
def bo3_sheets():
    return honeycomb_b2o3()


@pytest.fixture
def bo3_units():
    return isolated_bo3()


@pytest.fixture(scope='session')
def crystals():
    """The builders above, for tests that need non-default parameters."""
    from types import SimpleNamespace

    return SimpleNamespace(
        read_only=read_only,
        supercell=supercell,
        rock_salt=rock_salt,
        fluorite=fluorite,
        cristobalite_bo4=cristobalite_bo4,
        honeycomb_b2o3=honeycomb_b2o3,
        isolated_bo3=isolated_bo3,
        equivalent_cell=equivalent_cell,
        jiggle=jiggle,
        alpha_quartz=alpha_quartz,
    )


#: Symmetry operations of P3_221 (No. 154) as ``frac -> R @ frac + t``, in the setting
#: with the origin on the two-fold axis along a (the International Tables origin
#: shifted by c/6), where Si sits at (x, 0, 0):
#: (x, y, z), (-y, x-y, z+2/3), (-x+y, -x, z+1/3), (x-y, -y, -z), (y, x, -z+2/3),
#: (-x, -x+y, -z+1/3).
P3_221_OPS = (
    (((1, 0, 0), (0, 1, 0), (0, 0, 1)), (0, 0, 0)),
    (((0, -1, 0), (1, -1, 0), (0, 0, 1)), (0, 0, 2 / 3)),
    (((-1, 1, 0), (-1, 0, 0), (0, 0, 1)), (0, 0, 1 / 3)),
    (((1, -1, 0), (0, -1, 0), (0, 0, -1)), (0, 0, 0)),
    (((0, 1, 0), (1, 0, 0), (0, 0, -1)), (0, 0, 2 / 3)),
    (((-1, 0, 0), (-1, 1, 0), (0, 0, -1)), (0, 0, 1 / 3)),
)


def alpha_quartz(a=4.913, c=5.405, reps=2):
    """Ideal alpha-quartz (P3_221): corner-sharing SiO4, Si-O 1.604 and 1.613 Å, Si-O-Si 143.7 deg.

    Si on the orbit of (0.4697, 0, 0) (3 per cell), O on the orbit of
    (0.4135, 0.2669, 0.1191) (6 per cell) under :data:`P3_221_OPS`, in a hexagonal
    cell (gamma = 120 deg) replicated ``reps`` times along each vector.
    """
    cell = np.array([[a, 0.0, 0.0], [-0.5 * a, 0.5 * np.sqrt(3.0) * a, 0.0], [0.0, 0.0, c]])
    rotations = np.array([op[0] for op in P3_221_OPS], dtype=float)
    translations = np.array([op[1] for op in P3_221_OPS], dtype=float)

    def orbit(site):
        images = (rotations @ np.asarray(site, dtype=float) + translations) % 1.0
        return np.unique(np.round(images, 8) % 1.0, axis=0)

    silicon, oxygen = orbit((0.4697, 0.0, 0.0)), orbit((0.4135, 0.2669, 0.1191))
    species = ['Si'] * len(silicon) + ['O'] * len(oxygen)
    return supercell(np.vstack([silicon, oxygen]), species, cell, (reps,) * 3)


@pytest.fixture(name='alpha_quartz')
def alpha_quartz_fixture():
    return alpha_quartz()


# --- DeePMD model ensemble trained on classical force-field labels ------------------------

#: element names of the DeePMD models' types, in type order
DEEPMD_TYPE_MAP = ['B', 'K', 'O']


def _classical_labels(frames, cell, symbols, workdir):
    """Deng-Du energies (eV), forces (eV/Å) and pressure tensors (GPa) of frames of one orthorhombic glass.

    One LAMMPS ``rerun`` of ``frames`` (n_frames, n_atoms, 3) Å in ``cell`` (3, 3) Å (diagonal,
    so LAMMPS' frame is the input frame); returns energies (n_frames,), forces (n_frames,
    n_atoms, 3) and the virial pressure tensors (n_frames, 3, 3), positive under compression
    (LAMMPS' bar / 1e4, the frames at rest: the sign and unit of a labeller's ``stress_gpa``).
    """
    import subprocess

    from aiida_boroglass.calculations import lammps_inputs as li
    from aiida_boroglass.glass.forcefields import lammps_potential
    from aiida_boroglass.parsers.parse_raw.lammps import parse_dump
    from aiida_boroglass.workflows.ab_initio.classical_labeller import frame_forcefield

    forcefield = frame_forcefield(symbols, 'deng_du')
    species = sorted(set(symbols))
    commands, table = lammps_potential(forcefield, species)
    (workdir / 'potential.table').write_text(table)
    (workdir / 'structure.data').write_text(li.write_data_file(frames[0], cell, symbols, species, forcefield['charges_e']))
    types = [species.index(symbol) + 1 for symbol in symbols]
    lengths = np.diag(cell)
    with open(workdir / 'frames.dump', 'w') as handle:
        for step, positions in enumerate(frames):
            handle.write(f'ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{len(symbols)}\nITEM: BOX BOUNDS pp pp pp\n')
            handle.write(''.join(f'0.0 {length:.12f}\n' for length in lengths) + 'ITEM: ATOMS id type x y z\n')
            handle.write(''.join(f'{i + 1} {t} {x:.12f} {y:.12f} {z:.12f}\n' for i, (t, (x, y, z)) in enumerate(zip(types, positions))))
    script = ['units metal', 'atom_style charge', 'boundary p p p', 'read_data structure.data', *commands,
              'thermo_style custom step pe pxx pyy pzz pxy pxz pyz', 'thermo_modify format float %.15g', 'thermo 1',
              'dump forces all custom 1 forces.dump id type fx fy fz', 'dump_modify forces sort id format float %.15g',
              'rerun frames.dump dump x y z box yes']
    (workdir / 'rerun.in').write_text('\n'.join(script) + '\n')
    subprocess.run(['boroglass-lmp', '-in', 'rerun.in', '-log', 'rerun.log'], cwd=workdir, check=True, capture_output=True)
    lines = (workdir / 'rerun.log').read_text().splitlines()
    header = lines.index(next(line for line in lines if line.split()[:2] == ['Step', 'PotEng']))
    rows = np.array([[float(value) for value in line.split()[1:]] for line in lines[header + 1:header + 1 + len(frames)]])
    xx, yy, zz, xy, xz, yz = rows[:, 1:].T / li.BAR_PER_GPA
    pressure = np.stack([np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1), np.stack([xz, yz, zz], -1)], -2)
    forces = parse_dump((workdir / 'forces.dump').read_text()).positions
    return rows[:, 0], forces, pressure


def jittered_classical_system(symbols, cell, reference, workdir, n_frames=40, seed=7):
    """``n_frames`` Gaussian-jittered copies (0.03-0.12 Å) of one glass with their Deng-Du labels, a dpdata system.

    ``symbols`` (n_atoms,), ``cell`` (3, 3) Å diagonal, ``reference`` (n_atoms, 3) Å; the
    system's types follow :data:`DEEPMD_TYPE_MAP`; energies eV, forces eV/Å.
    """
    import dpdata

    rng = np.random.default_rng(seed)
    sigmas = np.linspace(0.03, 0.12, n_frames)
    frames = reference[None] + rng.normal(size=(n_frames, *reference.shape)) * sigmas[:, None, None]
    energies, forces, _ = _classical_labels(frames, cell, symbols, workdir)
    types = np.array([DEEPMD_TYPE_MAP.index(symbol) for symbol in symbols])
    return dpdata.LabeledSystem(data={
        'atom_names': list(DEEPMD_TYPE_MAP), 'atom_numbs': [int(np.sum(types == k)) for k in range(len(DEEPMD_TYPE_MAP))],
        'atom_types': types, 'orig': np.zeros(3), 'cells': np.repeat(cell[None], n_frames, axis=0),
        'coords': frames, 'energies': energies, 'forces': forces,
    })


def _deepmd_input(seed):
    """A tiny se_e2_a model and 200 training steps (``dp --tf train`` input), seeded."""
    return {
        'model': {
            'type_map': DEEPMD_TYPE_MAP,
            'descriptor': {'type': 'se_e2_a', 'sel': [16, 12, 32], 'rcut_smth': 0.5, 'rcut': 5.0, 'neuron': [4, 8],
                           'axis_neuron': 4, 'resnet_dt': False, 'seed': seed},
            'fitting_net': {'neuron': [16, 16], 'resnet_dt': True, 'seed': seed},
        },
        'learning_rate': {'type': 'exp', 'decay_steps': 50, 'start_lr': 0.005, 'stop_lr': 0.0005},
        'loss': {'type': 'ener', 'start_pref_e': 0.02, 'limit_pref_e': 1, 'start_pref_f': 1000, 'limit_pref_f': 1,
                 'start_pref_v': 0, 'limit_pref_v': 0},
        'training': {'training_data': {'systems': ['../data'], 'batch_size': 1}, 'numb_steps': 200, 'seed': seed,
                     'disp_file': 'lcurve.out', 'disp_freq': 100, 'save_freq': 200},
    }


@pytest.fixture(scope='session')
def classical_labels():
    """The Deng-Du oracle of one LAMMPS ``rerun``: ``(frames, cell, symbols, workdir) -> (energies, forces, pressure)``."""
    return _classical_labels


@pytest.fixture(scope='session')
def deepmd_models(k_borate_21, tmp_path_factory):
    """Two tiny frozen DeePMD models (TensorFlow, se_e2_a, seeds 1 and 2) of the K borate glass.

    Trained with plain ``dp --tf train`` + ``dp --tf freeze``, 200 steps each, side by side, on
    40 jittered copies (Gaussian, 0.03-0.12 Å) of ``k_borate_21`` labelled by the Deng-Du force
    field in LAMMPS (a real oracle). Returns ``(paths, type_map)``: the two ``.pb`` files and
    the models' element names in type order (``['B', 'K', 'O']``).
    """
    import json
    import subprocess

    workdir = tmp_path_factory.mktemp('deepmd_models')
    symbols = [site.kind_name for site in k_borate_21.sites]
    reference = np.array([site.position for site in k_borate_21.sites])
    system = jittered_classical_system(symbols, np.array(k_borate_21.cell), reference, workdir)
    system.to('deepmd/npy', str(workdir / 'data'))
    environment = {**os.environ, 'OMP_NUM_THREADS': '1', 'TF_CPP_MIN_LOG_LEVEL': '3',
                   'DP_INTRA_OP_PARALLELISM_THREADS': '1', 'DP_INTER_OP_PARALLELISM_THREADS': '1'}
    jobs = {}
    for seed in (1, 2):
        folder = workdir / f'model_{seed}'
        folder.mkdir()
        (folder / 'input.json').write_text(json.dumps(_deepmd_input(seed)))
        jobs[folder / 'model.pb'] = subprocess.Popen(
            'dp --tf train input.json && dp --tf freeze -o model.pb', shell=True, cwd=folder, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for job in jobs.values():
        assert job.wait() == 0, job.stderr.read().decode()[-2000:]
    return list(jobs), list(DEEPMD_TYPE_MAP)
