"""The classical force field as a labeller: LAMMPS single points, a cheap exact oracle for tests of learning.

Settings (the ``dft`` input of ``boroglass.dft_label`` with engine ``classical``):
``{'forcefield': name}``, a name of :data:`aiida_boroglass.glass.forcefields.FORCEFIELDS`. The
force field is resolved for the frame's own atoms: the atom counts, and for Deng-Du the
composition ratios ``R = [M2O]/[B2O3] = n_alkali / n_B`` and ``K = [SiO2]/[B2O3] = 2 n_Si / n_B``
(0 without boron). One ``boroglass.lammps`` CalcJob per frame runs a ``single_point`` stage
(``run 0`` at rest); its parser's ``labels`` output is the label node: energy (eV), forces
(eV/Å) and the pressure tensor of the virial (GPa, positive under compression: LAMMPS' bar
times 1e-4), the sign CP2K prints.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.engine import ProcessBuilder

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.glass.composition import ALKALI_OXIDES, OXIDES
from aiida_boroglass.glass.forcefields import FORCEFIELDS, ForceFieldError, build_forcefield
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

SETTINGS_KEYS = ('forcefield',)
#: the force field of a protocol's labels when the overrides name none
PROTOCOL_FORCEFIELD = 'deng_du'
#: the one stage of a single point
SINGLE_POINT_STAGES = [{'name': 'single_point', 'type': 'single_point'}]
_ALKALI = {element for oxide in ALKALI_OXIDES for element in OXIDES[oxide] if element != 'O'}


def frame_forcefield(symbols: Sequence[str], name: str) -> dict:
    """The force field ``name`` resolved for the atoms of one frame.

    Parameters
    ----------
    symbols : sequence of str
        Element of every atom.
    name : str
        One of :data:`~aiida_boroglass.glass.forcefields.FORCEFIELDS`.

    Returns
    -------
    dict
        :func:`~aiida_boroglass.glass.forcefields.build_forcefield`'s dict for these atom counts,
        with ``R = n_alkali / n_B`` and ``K = 2 n_Si / n_B`` (both 0 without boron).

    Raises
    ------
    ForceFieldError
        An element the force field does not cover, a frame that is not neutral (Deng-Du), R or
        K out of range.
    """
    counts = Counter(symbols)
    boron = counts.get('B', 0)
    ratio_r = sum(counts.get(element, 0) for element in _ALKALI) / boron if boron else 0.0
    ratio_k = 2.0 * counts.get('Si', 0) / boron if boron else 0.0
    return build_forcefield(name, dict(counts), ratio_r=ratio_r, ratio_k=ratio_k)


class ClassicalLabeller(ProtocolMixin):
    """Single points of the classical force field through ``boroglass.lammps`` (a ``single_point`` stage).

    Implements :class:`~aiida_boroglass.workflows.ab_initio.labellers.Labeller`, which registers
    it as a virtual subclass (``labellers`` imports this module, so it does not import ``labellers``).
    ``get_protocol_inputs`` gives the inputs of ``boroglass.dft_label`` from ``dft_label.yaml``
    with the force field as the ``dft`` settings.
    """

    name = 'classical'
    _protocol_file = 'dft_label.yaml'
    _protocol_open_sections = ('dft', 'options')

    @classmethod
    def get_protocol_inputs(cls, protocol: str | None = None, overrides: Mapping | None = None) -> dict:
        """``dft_label.yaml``'s inputs (engine ``classical``) whose ``dft`` is the overrides' or ``{'forcefield': 'deng_du'}``."""
        overrides = dict(overrides or {})
        settings = overrides.pop('dft', None) or {'forcefield': PROTOCOL_FORCEFIELD}
        return {**super().get_protocol_inputs(protocol, overrides), 'engine': cls.name, 'dft': dict(settings)}

    def validate(self, settings: Mapping, symbols: Sequence[str], field: str) -> str | None:
        """A known force-field name that covers the frame's elements and makes it neutral."""
        unknown = sorted(set(settings) - set(SETTINGS_KEYS))
        if unknown or 'forcefield' not in settings:
            return f'dft: the classical labeller takes exactly {list(SETTINGS_KEYS)}, got {sorted(settings)}'
        if settings['forcefield'] not in FORCEFIELDS:
            return f'dft.forcefield: {settings["forcefield"]!r} is not one of {list(FORCEFIELDS)}'
        try:
            frame_forcefield(symbols, settings['forcefield'])
        except ForceFieldError as exception:
            return f'{field}: {exception}'
        return None

    def builder(self, code: orm.AbstractCode, structure: orm.StructureData, settings: Mapping,
                options: Mapping) -> ProcessBuilder:
        """A ``BoroglassLammpsCalculation`` builder of one ``single_point`` stage of ``structure``."""
        builder = BoroglassLammpsCalculation.get_builder()
        builder.code = code
        builder.structure = structure
        builder.forcefield = orm.Dict(frame_forcefield(site_symbols(structure), settings['forcefield']))
        builder.parameters = orm.Dict({'stages': SINGLE_POINT_STAGES})
        builder.metadata.options = dict(options)
        return builder

    def labels(self, node: orm.ProcessNode) -> orm.ArrayData:
        """The parser's ``labels`` output."""
        return node.outputs.labels
