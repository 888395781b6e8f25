"""Labellers: the engines that compute the DFT labels of one frame, behind one interface.

``boroglass.dft_label`` asks a :class:`Labeller` for a process per frame and, once that process
has finished, for its *label node*: an ``ArrayData`` holding

==============  ================  =====  ===========================================
array           shape             unit   meaning
==============  ================  =====  ===========================================
``energy_ev``   (1,)              eV     total energy of the frame
``forces_ev_a`` (n_atoms, 3)      eV/Å   force on every atom, in the frame's atom order
``stress_gpa``  (3, 3)            GPa    pressure tensor, positive under compression
==============  ================  =====  ===========================================

``stress_gpa`` carries the sign CP2K and VASP print: 1/3 of its trace is the pressure. The
workflow never looks inside the engine's outputs, so its dataset is the same whichever engine
labelled it (:func:`aiida_boroglass.functions.labels.label_dataset`, which turns the pressure
tensor into the physical stress and the DeePMD virial).

What a VASP labeller (aiida-vasp ``vasp.vasp``) must provide, as a subclass registered in
:data:`LABELLERS` under ``'vasp'``:

- :meth:`Labeller.validate`: its settings (INCAR-like: ENCUT, PREC, EDIFF, KSPACING, POTCAR
  family, ...) and the elements it has POTCARs for, in one line naming the field;
- :meth:`Labeller.builder`: a ``VaspWorkChain`` builder of one static run (NSW = 0, ISIF = 2
  for the stress, forces written);
- :meth:`Labeller.labels`: a label node with the arrays above, made by a calcfunction from
  the run's outputs so that provenance stays (energies in eV and forces in eV/Å as VASP
  gives them; the OUTCAR's ``in kB`` tensor is the pressure tensor in kBar, so
  ``stress_gpa = 0.1 x`` it: check which sign aiida-vasp's ``stress`` output carries).
"""
from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.engine import ProcessBuilder

from aiida_boroglass.calculations.cp2k_inputs import (
    DFT_KEYS,
    single_point_parameters,
    validate_atom_count,
    validate_dft_settings,
)
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.workflows.ab_initio.cp2k_base import BoroglassCp2kBaseWorkChain
from aiida_boroglass.workflows.ab_initio.classical_labeller import ClassicalLabeller
from aiida_boroglass.workflows.ab_initio.vasp_labeller import VaspLabeller


class Labeller(abc.ABC):
    """One engine's single points: a builder per frame, and the label node of a finished one."""

    #: Name of the engine, the key of :data:`LABELLERS` and the dataset's ``engine`` attribute.
    name: str

    @abc.abstractmethod
    def validate(self, settings: Mapping, symbols: Sequence[str], field: str) -> str | None:
        """One line naming the first setting, or the frame ``field``, the engine cannot label; else None.

        Parameters
        ----------
        settings : Mapping
            The engine's DFT settings (the workflow's ``dft`` input).
        symbols : sequence of str
            Element of every atom of the frame.
        field : str
            Name of the frame in the message, e.g. ``structures.glass`` or ``trajectory``.
        """

    @abc.abstractmethod
    def builder(self, code: orm.AbstractCode, structure: orm.StructureData, settings: Mapping,
                options: Mapping) -> ProcessBuilder:
        """The builder of the single point of ``structure`` (energy, forces and stress).

        Parameters
        ----------
        code : AbstractCode
            The engine's code.
        structure : StructureData
            The frame, Å.
        settings : Mapping
            The engine's DFT settings, already validated.
        options : Mapping
            Scheduler options of the job (``resources``, ``max_wallclock_seconds``, ...).
        """

    @abc.abstractmethod
    def labels(self, node: orm.ProcessNode) -> orm.ArrayData:
        """The label node (``energy_ev``, ``forces_ev_a``, ``stress_gpa``) of a successfully finished single point."""


class Cp2kLabeller(Labeller):
    """CP2K single points (``ENERGY_FORCE``, analytical stress) through ``BoroglassCp2kBaseWorkChain``.

    Settings are the ``dft`` settings of :mod:`aiida_boroglass.calculations.cp2k_inputs`,
    every key of ``DFT_KEYS`` given; the label node is the ``labels`` output of the
    ``boroglass.cp2k`` parser.
    """

    name = 'cp2k'

    def validate(self, settings: Mapping, symbols: Sequence[str], field: str) -> str | None:
        """Every DFT key given and allowed, a pseudopotential for each element, enough atoms for the Γ point."""
        missing = sorted(set(DFT_KEYS) - set(settings))
        if missing:
            return f'dft: missing keys {missing}; give all of {list(DFT_KEYS)}'
        return validate_dft_settings(settings, symbols) or validate_atom_count(len(symbols), field)

    def builder(self, code: orm.AbstractCode, structure: orm.StructureData, settings: Mapping,
                options: Mapping) -> ProcessBuilder:
        """A ``BoroglassCp2kBaseWorkChain`` builder of one ``ENERGY_FORCE`` run; k-points as a mesh if set."""
        builder = BoroglassCp2kBaseWorkChain.get_builder()
        builder.cp2k.code = code
        builder.cp2k.structure = structure
        builder.cp2k.parameters = orm.Dict(single_point_parameters(site_symbols(structure), settings))
        builder.cp2k.metadata.options = dict(options)
        if settings['kpoints'] is not None:
            kpoints = orm.KpointsData()
            kpoints.set_kpoints_mesh(settings['kpoints'])
            builder.cp2k.kpoints = kpoints
        return builder

    def labels(self, node: orm.ProcessNode) -> orm.ArrayData:
        """The parser's ``labels`` output, passed on by the base work chain."""
        return node.outputs.labels


#: The labellers by engine name.
LABELLERS: dict[str, Labeller] = {labeller.name: labeller
                                  for labeller in (Cp2kLabeller(), Labeller.register(VaspLabeller)(),
                                                   Labeller.register(ClassicalLabeller)())}


def get_labeller(engine: str) -> Labeller:
    """The labeller of ``engine``; ``ValueError`` naming ``engine`` and the known ones otherwise."""
    try:
        return LABELLERS[engine]
    except KeyError:
        raise ValueError(f'engine: {engine!r} has no labeller; known engines: {sorted(LABELLERS)}') from None
