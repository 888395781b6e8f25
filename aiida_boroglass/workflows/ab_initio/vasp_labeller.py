"""VASP single points as labels: aiida-vasp's ``vasp.vasp`` work chain, one static run per frame.

Settings (the ``dft`` input of ``boroglass.dft_label`` with ``engine: vasp``; protocol file
``workflows/protocols/dft_label_vasp.yaml``):

======================  ==========================================================================
key                     meaning
======================  ==========================================================================
``potential_family``    label of a POTCAR family uploaded with ``aiida-vasp potcar uploadfamily``
``potential_mapping``   element -> POTCAR name in the family (``{'Li': 'Li_sv', 'B': 'B'}``)
``kpoints_mesh``        null: the Γ point only; or three integers, a Γ-centred mesh
``incar``               INCAR tags; ENCUT (eV), PREC, EDIFF (eV), ISMEAR, SIGMA (eV) and ALGO
                        required. The functional is the POTCAR's (PBE for ``PAW_PBE``) unless GGA
                        is given. NSW = 0, IBRION = -1 and ISIF = 2 (stress without relaxing
                        the cell) are set here; KSPACING and KGAMMA are refused (a KPOINTS file
                        is always written and VASP would ignore them).
======================  ==========================================================================

The label node is made by :func:`vasp_labels` from the retrieved ``vasprun.xml``, read with
dpdata: energy the free energy ``e_fr_energy`` (VASP's ``TOTEN``, whose derivatives the
forces are) in eV, forces in eV/Å in the atom order of the frame (aiida-vasp writes the
POSCAR in site order, one species block per run of equal kinds), and ``stress_gpa`` the
``stress`` tensor of vasprun.xml (the OUTCAR's ``in kB`` line; 1/3 of its trace is the
external pressure plus the Pulay stress, positive under compression) x 0.1 GPa/kBar.
"""
from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence

import numpy as np
from aiida import orm
from aiida.common.exceptions import NotExistent
from aiida.engine import ProcessBuilder, calcfunction
from aiida_vasp.data.potcar import PotcarData
from aiida_vasp.workchains.v2.vasp import VaspWorkChain
from dpdata.formats.vasp.xml import analyze as analyze_vasprun

from aiida_boroglass.functions.exit_codes import returns_exit_codes, run_checked
from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: Keys of the VASP ``dft`` settings.
VASP_KEYS = ('potential_family', 'potential_mapping', 'kpoints_mesh', 'incar')

#: INCAR tags the labeller sets: one static run (no ionic step) with forces and the stress tensor.
STATIC_TAGS = {'NSW': 0, 'IBRION': -1, 'ISIF': 2}

#: INCAR tags refused: the k-points come from ``kpoints_mesh`` (a KPOINTS file, which VASP prefers).
KPOINT_TAGS = ('KSPACING', 'KGAMMA')

#: INCAR tag -> (check, allowed values in the refusal); every one is required.
REQUIRED_TAGS = {
    'ENCUT': (lambda v: is_real(v) and 100 <= v <= 2000, 'a plane-wave cutoff in [100, 2000] eV'),
    'PREC': (lambda v: isinstance(v, str) and v.lower() in ('normal', 'accurate', 'high'),
             'one of Normal, Accurate, High'),
    'EDIFF': (lambda v: is_real(v) and 0 < v <= 1e-3, 'an SCF tolerance in (0, 1e-3] eV'),
    'ISMEAR': (lambda v: v in (-1, 0, 1, 2) and not isinstance(v, bool),
               'one of -1, 0, 1, 2 (a smearing; tetrahedra need a k-mesh)'),
    'SIGMA': (lambda v: is_real(v) and 0 < v <= 1, 'a smearing width in (0, 1] eV'),
    'ALGO': (lambda v: isinstance(v, str) and v.lower() in ('normal', 'fast', 'veryfast', 'all', 'damped'),
             'one of Normal, Fast, VeryFast, All, Damped'),
}

#: GPa per kBar (VASP prints the stress tensor in kBar).
GPA_PER_KBAR = 0.1

#: aiida-vasp parser settings: a run without CONTCAR is complete (a static run's CONTCAR is its
#: POSCAR); vasprun.xml and OUTCAR, which the labels and the run status come from, stay critical
#: (the parser's exit code 352 without them).
PARSER_SETTINGS = {'parser_settings': {'check_completeness': False}}


def upper_tags(incar: Mapping) -> dict:
    """INCAR tags with upper-case names; ``ValueError`` naming a tag given twice in different case."""
    tags = {}
    for name, value in incar.items():
        if name.upper() in tags:
            raise ValueError(f'dft.incar.{name.upper()}: given twice (tag names are case-insensitive)')
        tags[name.upper()] = value
    return tags


def incar_error(incar) -> str | None:
    """One line naming the first INCAR tag the labeller cannot run with, and the allowed values; else None."""
    if not isinstance(incar, Mapping):
        return f'dft.incar: {incar!r} is not a mapping of INCAR tags'
    try:
        tags = upper_tags(incar)
    except ValueError as error:
        return str(error)
    for name in (*STATIC_TAGS, *KPOINT_TAGS):
        if name in tags:
            why = f'set by the labeller ({STATIC_TAGS})' if name in STATIC_TAGS else 'the k-points are dft.kpoints_mesh'
            return f'dft.incar.{name}: remove it; {why}'
    for name, (ok, allowed) in REQUIRED_TAGS.items():
        if name not in tags:
            return f'dft.incar.{name}: missing; give {allowed}'
        if not ok(tags[name]):
            return f'dft.incar.{name}: {tags[name]!r} is not {allowed}'
    return None


def potential_error(family, mapping, elements: Sequence[str]) -> str | None:
    """One line naming a POTCAR the family or the mapping lacks for ``elements``; else None (queries the database)."""
    if not isinstance(family, str) or not family:
        return f'dft.potential_family: {family!r} is not the label of a POTCAR family'
    if not isinstance(mapping, Mapping) or not all(isinstance(name, str) for name in mapping.values()):
        return f'dft.potential_mapping: {mapping!r} is not a mapping of element -> POTCAR name'
    unmapped = sorted(set(elements) - set(mapping))
    if unmapped:
        return f'dft.potential_mapping: no POTCAR for {unmapped}; map every element of the frame'
    if PotcarData.get_potcar_group(family) is None:
        return f'dft.potential_family: no POTCAR family {family!r}; upload it with `aiida-vasp potcar uploadfamily`'
    try:
        PotcarData.get_potcars_dict(sorted(set(elements)), family, mapping)
    except NotExistent as error:
        return f'dft.potential_mapping: {error}'
    return None


def gamma_mesh(mesh: Sequence[int] | None) -> orm.KpointsData:
    """A Γ-centred mesh, ``[1, 1, 1]`` (the Γ point only) when ``mesh`` is None."""
    kpoints = orm.KpointsData()
    kpoints.set_kpoints_mesh(list(mesh) if mesh is not None else [1, 1, 1])
    return kpoints


def kind_mapping(structure: orm.StructureData, mapping: Mapping[str, str]) -> dict[str, str]:
    """POTCAR name of every kind of ``structure`` (aiida-vasp maps kind names) from the element mapping."""
    return {kind.name: mapping[kind.symbol] for kind in structure.kinds}


def static_parameters(incar: Mapping) -> dict:
    """aiida-vasp ``parameters`` of the static run: the given tags and :data:`STATIC_TAGS`, lower case."""
    tags = {**upper_tags(incar), **STATIC_TAGS}
    return {'incar': {name.lower(): value for name, value in tags.items()}}


def last_step_labels(vasprun: pathlib.Path) -> tuple[float, np.ndarray, np.ndarray]:
    """Free energy (eV), forces (n_atoms, 3) eV/Å and stress tensor (3, 3) kBar of the last converged ionic step.

    Read with dpdata's vasprun.xml reader, without the rotation of the cell to lower-triangular
    form that its ``vasp/xml`` format applies (forces stay in the frame's axes). A step whose
    SCF used all NELM iterations counts as not converged.

    Raises
    ------
    ValueError
        If the file holds no converged ionic step, or one without a stress tensor.
    """
    _, _, _, _, energies, forces, stress = analyze_vasprun(str(vasprun), convergence_check=True)
    if len(energies) == 0:
        raise ValueError('retrieved: vasprun.xml holds no ionic step with a converged SCF')
    if len(stress) != len(energies):
        raise ValueError('retrieved: vasprun.xml has no stress tensor; the run needs ISIF >= 1')
    return float(energies[-1]), forces[-1], stress[-1]


@calcfunction
@returns_exit_codes
def vasp_labels(retrieved: orm.FolderData) -> orm.ArrayData:
    """Label node of a VASP single point from its retrieved ``vasprun.xml``.

    Returns
    -------
    ArrayData
        ``energy_ev`` (1,) eV, the free energy; ``forces_ev_a`` (n_atoms, 3) eV/Å;
        ``stress_gpa`` (3, 3) GPa, the pressure tensor (positive under compression).
    """
    with retrieved.base.repository.as_path() as folder:
        energy, forces, stress_kbar = last_step_labels(pathlib.Path(folder) / 'vasprun.xml')
    labels = orm.ArrayData()
    labels.set_array('energy_ev', np.array([energy]))
    labels.set_array('forces_ev_a', forces)
    labels.set_array('stress_gpa', GPA_PER_KBAR * stress_kbar)
    return labels


class VaspLabeller(ProtocolMixin):
    """VASP single points (NSW = 0, IBRION = -1, ISIF = 2) through aiida-vasp's ``VaspWorkChain``.

    A :class:`~aiida_boroglass.workflows.ab_initio.labellers.Labeller` registered as a virtual
    subclass where ``labellers`` builds ``LABELLERS``: that module imports this one, so
    inheriting from it here would make the import circular. ``get_protocol_inputs`` gives the
    inputs of ``boroglass.dft_label`` (engine, dft, options, max_concurrent) from
    ``dft_label_vasp.yaml``.
    """

    name = 'vasp'
    _protocol_file = 'dft_label_vasp.yaml'
    _protocol_open_sections = ('dft', 'options')

    def validate(self, settings: Mapping, symbols: Sequence[str], field: str) -> str | None:
        """Every key given and known, the required INCAR tags in range, a POTCAR for every element of ``field``."""
        unknown = sorted(set(settings) - set(VASP_KEYS))
        if unknown:
            return f'dft: unknown keys {unknown}; allowed: {list(VASP_KEYS)}'
        missing = [key for key in VASP_KEYS if key not in settings]
        if missing:
            return f'dft: missing keys {missing}; give all of {list(VASP_KEYS)}'
        mesh = settings['kpoints_mesh']
        if mesh is not None and not (isinstance(mesh, (list, tuple)) and len(mesh) == 3 and all(is_count(n, 1) for n in mesh)):
            return f'dft.kpoints_mesh: {mesh!r} is not null (the Γ point) or three positive integers'
        return incar_error(settings['incar']) or potential_error(
            settings['potential_family'], settings['potential_mapping'], symbols)

    def builder(self, code: orm.AbstractCode, structure: orm.StructureData, settings: Mapping,
                options: Mapping) -> ProcessBuilder:
        """A ``VaspWorkChain`` builder of one static run of ``structure``."""
        builder = VaspWorkChain.get_builder()
        builder.code = code
        builder.structure = structure
        builder.parameters = orm.Dict(static_parameters(settings['incar']))
        builder.kpoints = gamma_mesh(settings['kpoints_mesh'])
        builder.potential_family = orm.Str(settings['potential_family'])
        builder.potential_mapping = orm.Dict(kind_mapping(structure, settings['potential_mapping']))
        builder.settings = orm.Dict(PARSER_SETTINGS)
        builder.calc.metadata.options = dict(options)
        return builder

    def labels(self, node: orm.ProcessNode) -> orm.ArrayData:
        """The label node read from the work chain's retrieved ``vasprun.xml`` by :func:`vasp_labels`."""
        return run_checked(vasp_labels, node.outputs.retrieved)
