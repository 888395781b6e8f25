"""CP2K inputs of the ab initio workflows, as the nested dicts ``aiida-cp2k`` renders (paper 000 section 2).

Paper 000: Born-Oppenheimer MD with PBE, DZVP-MOLOPT basis sets and GTH pseudopotentials,
geometry optimisation first, then NVT along a temperature ladder with a Nose-Hoover chain of
length 3 and a 1 fs step; the transport run adds an electric field of 0.02 a.u. along z with
the B-O network fixed. Every function here is pure: settings in, a parameter dict out.

Settings (the ``dft`` section of ``protocols/aimd.yaml``):

``basis_set``
    A basis of :data:`BASIS_SETS` (CP2K's ``BASIS_MOLOPT``), the same for every element.
``cutoff_ry``, ``rel_cutoff_ry``
    Plane-wave cutoff of the finest grid and of the Gaussian mapping, Ry.
``eps_scf``, ``max_scf``, ``max_outer_scf``
    SCF convergence (Hartree) and iterations of the inner (OT or diagonalisation) and outer loop.
``scf_method``
    ``ot`` (orbital transformation, insulators; ``ot_minimizer``, ``preconditioner``) or
    ``diagonalization`` (Broyden mixing with ``mixing_alpha``).
``kpoints``
    None for the Γ point, else a Monkhorst-Pack mesh ``[n1, n2, n3]``.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np

from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.glass.elements import FIELD_AU_V_A

#: CP2K data files (Debian: /usr/share/cp2k/) holding the basis sets and pseudopotentials.
BASIS_FILE = 'BASIS_MOLOPT'
POTENTIAL_FILE = 'GTH_POTENTIALS'

#: Basis sets of BASIS_MOLOPT defined for every element of the glass families.
BASIS_SETS = ('SZV-MOLOPT-SR-GTH', 'DZVP-MOLOPT-SR-GTH')

#: GTH-PBE pseudopotential of each element (valence charge q), from GTH_POTENTIALS.
PSEUDOPOTENTIALS = {
    'Li': 'GTH-PBE-q3', 'B': 'GTH-PBE-q3', 'O': 'GTH-PBE-q6', 'Na': 'GTH-PBE-q9',
    'Si': 'GTH-PBE-q4', 'P': 'GTH-PBE-q5', 'K': 'GTH-PBE-q9',
}

#: SCF methods and OT minimisers accepted.
SCF_METHODS = ('ot', 'diagonalization')
OT_MINIMIZERS = ('DIIS', 'CG', 'BROYDEN')

#: Fewest atoms of a Γ-point cell: below about 16 atoms an oxide glass cell is under 6 Å
#: across, shorter than the range of the DZVP basis functions and of the B-O-B correlations.
MIN_ATOMS = 16

#: Keys of the ``dft`` settings.
DFT_KEYS = ('basis_set', 'cutoff_ry', 'rel_cutoff_ry', 'eps_scf', 'max_scf', 'max_outer_scf', 'scf_method',
            'ot_minimizer', 'preconditioner', 'mixing_alpha', 'kpoints')

#: The file of each MD stage's energies (CP2K ``MOTION/MD/PRINT/ENERGY``) the parser reads.
ENERGY_FILE = 'aiida-1.ener'


def unknown_pseudopotentials(elements: Sequence[str]) -> list[str]:
    """Elements of ``elements`` without a pseudopotential in :data:`PSEUDOPOTENTIALS`, sorted."""
    return sorted(set(elements) - set(PSEUDOPOTENTIALS))


def validate_dft_settings(settings: Mapping, elements: Sequence[str], prefix: str = 'dft') -> str | None:
    """One line naming the first bad DFT setting and its allowed values, or None.

    Parameters
    ----------
    settings : Mapping
        The ``dft`` settings (keys of :data:`DFT_KEYS`).
    elements : sequence of str
        Elements of the structure.
    prefix : str
        Name of the settings in the message.

    Returns
    -------
    str or None
    """
    unknown = sorted(set(settings) - set(DFT_KEYS))
    if unknown:
        return f'{prefix}: unknown keys {unknown}; allowed: {list(DFT_KEYS)}'
    missing = unknown_pseudopotentials(elements)
    if missing:
        return (f'{prefix}: no GTH-PBE pseudopotential for {missing}; '
                f'elements with one: {sorted(PSEUDOPOTENTIALS)}')
    checks = (
        ('basis_set', lambda v: v in BASIS_SETS, f'one of {list(BASIS_SETS)} (from {BASIS_FILE})'),
        ('cutoff_ry', lambda v: is_real(v) and 50 <= v <= 2000, 'a cutoff in [50, 2000] Ry'),
        ('rel_cutoff_ry', lambda v: is_real(v) and 10 <= v <= 200, 'a cutoff in [10, 200] Ry'),
        ('eps_scf', lambda v: is_real(v) and 0 < v <= 1e-3, 'in (0, 1e-3] Hartree'),
        ('max_scf', lambda v: is_count(v, 1) and v <= 10000, 'an integer in [1, 10000]'),
        ('max_outer_scf', lambda v: is_count(v, 1) and v <= 1000, 'an integer in [1, 1000]'),
        ('scf_method', lambda v: v in SCF_METHODS, f'one of {list(SCF_METHODS)}'),
        ('ot_minimizer', lambda v: v in OT_MINIMIZERS, f'one of {list(OT_MINIMIZERS)}'),
        ('preconditioner', lambda v: isinstance(v, str) and v.isupper(), 'a CP2K preconditioner, e.g. FULL_ALL'),
        ('mixing_alpha', lambda v: is_real(v) and 0 < v <= 1, 'in (0, 1]'),
        ('kpoints', lambda v: v is None or (isinstance(v, (list, tuple)) and len(v) == 3
                                            and all(is_count(n, 1) for n in v)),
         'null (Γ point) or three positive integers'),
    )
    for key, ok, allowed in checks:
        if key in settings and not ok(settings[key]):
            return f'{prefix}.{key}: {settings[key]!r} is not {allowed}'
    return None


def validate_atom_count(n_atoms: int, field: str = 'structure') -> str | None:
    """A message when ``n_atoms`` is below :data:`MIN_ATOMS`, else None."""
    if n_atoms < MIN_ATOMS:
        return (f'{field}: {n_atoms} atoms; a Γ-point CP2K cell of a glass needs at least {MIN_ATOMS} atoms '
                '(about 6 Å across, the range of the MOLOPT basis functions)')
    return None


def validate_field(field_au: Sequence[float] | None, field: str = 'field_au') -> str | None:
    """A message unless ``field_au`` is None or three finite numbers, not all zero (atomic units)."""
    if field_au is None:
        return None
    if not isinstance(field_au, (list, tuple)) or len(field_au) != 3 or not all(is_real(v) for v in field_au):
        return f'{field}: must be three numbers (E_x, E_y, E_z in atomic units, 1 a.u. = {FIELD_AU_V_A:.2f} V/Å), got {field_au!r}'
    if not any(field_au):
        return f'{field}: all three components are zero; leave the field out for a run without one'
    return None


def kind_sections(elements: Sequence[str], basis_set: str) -> list[dict]:
    """The ``FORCE_EVAL/SUBSYS/KIND`` list: one kind per element with its basis and pseudopotential."""
    return [{'_': element, 'BASIS_SET': basis_set, 'POTENTIAL': PSEUDOPOTENTIALS[element]}
            for element in sorted(set(elements))]


def scf_section(dft: Mapping) -> dict:
    """The ``FORCE_EVAL/DFT/SCF`` section: OT with an outer loop, or diagonalisation with Broyden mixing."""
    scf = {'SCF_GUESS': 'ATOMIC', 'EPS_SCF': dft['eps_scf'], 'MAX_SCF': dft['max_scf']}
    if dft['scf_method'] == 'ot':
        scf['OT'] = {'MINIMIZER': dft['ot_minimizer'], 'PRECONDITIONER': dft['preconditioner']}
        scf['OUTER_SCF'] = {'EPS_SCF': dft['eps_scf'], 'MAX_SCF': dft['max_outer_scf']}
    else:
        scf['ADDED_MOS'] = 20
        scf['DIAGONALIZATION'] = {'ALGORITHM': 'STANDARD'}
        scf['MIXING'] = {'METHOD': 'BROYDEN_MIXING', 'ALPHA': dft['mixing_alpha']}
        scf['SMEAR'] = {'_': 'ON', 'METHOD': 'FERMI_DIRAC', 'ELECTRONIC_TEMPERATURE': 300}
    return scf


def force_eval_section(elements: Sequence[str], dft: Mapping, field_au: Sequence[float] | None = None,
                       stress: bool = False) -> dict:
    """The ``FORCE_EVAL`` section: PBE, GPW grids, SCF, kinds; optionally a periodic field and the stress.

    Parameters
    ----------
    elements : sequence of str
        Elements of the structure.
    dft : Mapping
        The ``dft`` settings (see the module docstring).
    field_au : sequence of 3 float, optional
        Homogeneous electric field (atomic units of field, 1 a.u. = :data:`FIELD_AU_V_A` V/Å),
        applied through the Berry phase (``DFT/PERIODIC_EFIELD``).
    stress : bool
        Compute the analytical stress tensor and print it (single points for training data).

    Returns
    -------
    dict
    """
    section = {
        'METHOD': 'QUICKSTEP',
        'DFT': {
            'BASIS_SET_FILE_NAME': BASIS_FILE,
            'POTENTIAL_FILE_NAME': POTENTIAL_FILE,
            'MGRID': {'CUTOFF': dft['cutoff_ry'], 'REL_CUTOFF': dft['rel_cutoff_ry'], 'NGRIDS': 4},
            'QS': {'EPS_DEFAULT': 1.0e-12, 'EXTRAPOLATION': 'ASPC', 'EXTRAPOLATION_ORDER': 3},
            'SCF': scf_section(dft),
            'XC': {'XC_FUNCTIONAL': {'_': 'PBE'}},
        },
        'SUBSYS': {'KIND': kind_sections(elements, dft['basis_set'])},
    }
    if field_au is not None:
        magnitude = float(np.linalg.norm(field_au))
        section['DFT']['PERIODIC_EFIELD'] = {
            'INTENSITY': magnitude, 'POLARISATION': ' '.join(f'{v / magnitude:.10g}' for v in field_au)}
    if stress:
        section['STRESS_TENSOR'] = 'ANALYTICAL'
        section['PRINT'] = {'FORCES': {'_': 'ON'}, 'STRESS_TENSOR': {'_': 'ON'}}
    return section


def global_section(run_type: str, walltime_s: int | None = None) -> dict:
    """The ``GLOBAL`` section; ``walltime_s`` makes CP2K stop cleanly (writing its restart) before the scheduler."""
    section = {'RUN_TYPE': run_type, 'PRINT_LEVEL': 'LOW'}
    if walltime_s is not None:
        section['WALLTIME'] = int(walltime_s)
    return section


def geo_opt_parameters(elements: Sequence[str], dft: Mapping, geo_opt: Mapping) -> dict:
    """Parameters of a geometry optimisation (BFGS, fixed cell).

    Parameters
    ----------
    elements : sequence of str
    dft : Mapping
        The ``dft`` settings.
    geo_opt : Mapping
        ``max_iter`` (steps) and ``max_force_ha_bohr`` (largest force at convergence, Hartree/Bohr).
        CP2K also requires the RMS force and the largest and RMS displacements to converge;
        they follow ``max_force_ha_bohr`` in CP2K's default ratios (4.5e-4 Ha/Bohr : 3e-4 Ha/Bohr
        : 3e-3 Bohr : 1.5e-3 Bohr), so one setting loosens or tightens them all.

    Returns
    -------
    dict
        GLOBAL, FORCE_EVAL and MOTION/GEO_OPT.
    """
    scale = geo_opt['max_force_ha_bohr'] / 4.5e-4
    criteria = {'MAX_FORCE': geo_opt['max_force_ha_bohr'], 'RMS_FORCE': float(f'{3e-4 * scale:.6g}'),
                'MAX_DR': float(f'{3e-3 * scale:.6g}'), 'RMS_DR': float(f'{1.5e-3 * scale:.6g}')}
    return {
        'GLOBAL': global_section('GEO_OPT'),
        'FORCE_EVAL': force_eval_section(elements, dft),
        'MOTION': {'GEO_OPT': {'OPTIMIZER': 'BFGS', 'MAX_ITER': int(geo_opt['max_iter']), **criteria},
                   'PRINT': {'TRAJECTORY': {'EACH': {'GEO_OPT': 1}}, 'FORCES': {'EACH': {'GEO_OPT': 1}}}},
    }


def md_parameters(elements: Sequence[str], dft: Mapping, temperature_k: float, steps: int, md: Mapping,
                  field_au: Sequence[float] | None = None, fixed_atoms: Sequence[int] | None = None) -> dict:
    """Parameters of one NVT stage: Nose-Hoover chain, positions, forces and cell every ``print_every``, energies
    and the restart file every step.

    Parameters
    ----------
    elements : sequence of str
    dft : Mapping
        The ``dft`` settings.
    temperature_k : float
        Thermostat temperature, K.
    steps : int
        MD steps of this run. CP2K's ``STEPS`` counts from the step the run starts at (0, or
        the step restored by ``EXT_RESTART`` with ``RESTART_COUNTERS``; measured with CP2K
        2023.1: restarted at step 3 with ``STEPS 6`` it writes steps 4 to 9 and nothing twice),
        so stages that continue each other keep one step counter.
    md : Mapping
        ``timestep_fs`` (fs), ``nose_length``, ``thermostat_timecon_fs`` (fs), ``print_every`` (steps).
    field_au : sequence of 3 float, optional
        Electric field, atomic units (see :func:`force_eval_section`).
    fixed_atoms : sequence of int, optional
        0-based indices of atoms held fixed (``MOTION/CONSTRAINT/FIXED_ATOMS``).

    Returns
    -------
    dict
    """
    every = int(md['print_every'])
    motion = {
        'MD': {
            'ENSEMBLE': 'NVT', 'STEPS': int(steps), 'TIMESTEP': md['timestep_fs'], 'TEMPERATURE': temperature_k,
            'THERMOSTAT': {'TYPE': 'NOSE', 'REGION': 'GLOBAL',
                           'NOSE': {'LENGTH': int(md['nose_length']), 'TIMECON': md['thermostat_timecon_fs']}},
            'PRINT': {'ENERGY': {'EACH': {'MD': 1}}},
        },
        'PRINT': {
            'TRAJECTORY': {'EACH': {'MD': every}},
            'FORCES': {'EACH': {'MD': every}},
            'CELL': {'EACH': {'MD': every}},
            'RESTART': {'EACH': {'MD': 1}, 'BACKUP_COPIES': 0},
            'RESTART_HISTORY': {'_': 'OFF'},
        },
    }
    if fixed_atoms:
        motion['CONSTRAINT'] = {'FIXED_ATOMS': {'LIST': ' '.join(str(i + 1) for i in fixed_atoms)}}
    return {
        'GLOBAL': global_section('MD'),
        'FORCE_EVAL': force_eval_section(elements, dft, field_au=field_au),
        'MOTION': motion,
    }


def single_point_parameters(elements: Sequence[str], dft: Mapping, field_au: Sequence[float] | None = None) -> dict:
    """Parameters of an energy, forces and stress calculation (a DFT label of one frame).

    With ``field_au`` (a Berry-phase field, atomic units) the forces are those in the field and
    no stress is computed (CP2K has no analytical stress of a periodic field).
    """
    section = force_eval_section(elements, dft, field_au=field_au, stress=field_au is None)
    if field_au is not None:
        section['PRINT'] = {'FORCES': {'_': 'ON'}}
    return {'GLOBAL': global_section('ENERGY_FORCE'), 'FORCE_EVAL': section}


def continue_from_parent(parameters: Mapping, restart_thermostat: bool = True) -> dict:
    """``parameters`` continued from ``parent_calc/`` (the previous run's restart file and wave function).

    Positions, velocities and the step counter always continue; the thermostat state only
    when the temperature stays (a new rung of the ladder starts a fresh Nose-Hoover chain).
    """
    params = copy.deepcopy(dict(parameters))
    params['EXT_RESTART'] = {
        'RESTART_FILE_NAME': './parent_calc/aiida-1.restart', 'RESTART_DEFAULT': '.FALSE.',
        'RESTART_POS': '.TRUE.', 'RESTART_VEL': '.TRUE.', 'RESTART_COUNTERS': '.TRUE.',
        'RESTART_THERMOSTAT': '.TRUE.' if restart_thermostat else '.FALSE.',
    }
    params['FORCE_EVAL']['DFT']['RESTART_FILE_NAME'] = './parent_calc/aiida-RESTART.wfn'
    params['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] = 'RESTART'
    return params

