"""LAMMPS runs on replicas of one glass, ``max_concurrent`` at a time: the part transport and mechanics share.

A workflow with :class:`ReplicaRunsMixin` defines its inputs with :meth:`define_replica_runs`,
plans ``self.ctx.runs`` (``{key: (StructureData, stages, velocity seed)}``) and
``self.ctx.pending`` (keys to launch; more may be added between loops), then loops
``while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch)``: each run is a
``boroglass.lammps_base`` on the workflow's potential (a force field or a DeePMD ensemble),
called ``key``, found as ``self.ctx['run_' + key]`` once :meth:`launch_batch` saw it end (every
run, when the loop is over). The slots stay busy
(:class:`~aiida_boroglass.workflows.slots.BusySlotsMixin`): a queued run starts as soon as any
running one ends, and :meth:`inspect_batch` runs after each; after a failed run nothing more
is launched and the workflow stops once the running ones ended.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.common import AttributeDict

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS
from aiida_boroglass.functions.utils import site_symbols, validate_max_concurrent
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain, md_models, set_lammps_code, validate_md_potential
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.melt_quench import _MD_EXCLUDE, validate_md_parameters
from aiida_boroglass.workflows.slots import BusySlotsMixin


def replica_elements(structures: Mapping[str, orm.StructureData]) -> tuple[list[str], str | None]:
    """Sorted elements of every atom of the first replica, and one line naming what is wrong, else None.

    Replicas are one glass: every structure must hold the same atoms (as a multiset).
    """
    if not structures:
        return [], 'structures: give at least one glass (replicas keyed r0, r1, ...)'
    symbols = {key: sorted(site_symbols(node)) for key, node in structures.items()}
    first = next(iter(symbols.values()))
    different = sorted(key for key, elements in symbols.items() if elements != first)
    if different:
        return first, f'structures: {different} hold other atoms than the first replica; replicas must be one glass'
    return first, None


def potential_problem(inputs: Mapping, symbols: Sequence[str]) -> str | None:
    """One line when the workflow's potential cannot run the glass, else None (for an inputs validator).

    Parameters
    ----------
    inputs : Mapping
        The workflow's inputs: ``forcefield``, or a DeePMD ensemble in ``md.lammps``.
    symbols : sequence of str
        The element of every atom of the glass (:func:`replica_elements`).

    A force field needs parameters for every element and leaves the glass neutral; an
    ensemble must know every element.
    """
    if md_models(inputs):
        return validate_md_potential(inputs, symbols, 'forcefield')
    if 'forcefield' not in inputs:
        return 'forcefield: required (the melt-quench `forcefield` output), or give md.lammps.models'
    return BoroglassLammpsCalculation._validate_forcefield(inputs['forcefield'].get_dict(), list(symbols))


def timestep_fs(inputs: Mapping) -> float:
    """The MD time step (fs) of a workflow's ``md_parameters`` input, or LAMMPS runs' default."""
    md_parameters = inputs['md_parameters'].get_dict() if inputs.get('md_parameters') is not None else {}
    return md_parameters.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs'])


class ReplicaRunsMixin(BusySlotsMixin):
    """Inputs, builder and launches into busy slots of ``boroglass.lammps_base`` runs on replicas of one glass."""

    @classmethod
    def define_replica_runs(cls, spec):
        """The replicas, the potential, MD settings and concurrency; exit code 401 for a failed run."""
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True,
                             help='Independent replicas of one glass (e.g. melt-quench outputs), keyed r0, r1, ...')
        spec.input('forcefield', valid_type=orm.Dict, required=False,
                   help='Resolved force-field parameters (the melt-quench `forcefield` output); leave it unset for a '
                        'DeePMD ensemble (md.lammps.models + md.lammps.deepmd).')
        spec.input('md_parameters', valid_type=orm.Dict, serializer=orm.to_aiida_type, required=False,
                   validator=validate_md_parameters,
                   help='Time step (fs), thermo/restart intervals (steps), velocity seed, damping (ps).')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent,
                   help='LAMMPS runs at the same time (match it to the free cores).')
        spec.expose_inputs(LammpsBaseWorkChain, namespace='md', exclude=_MD_EXCLUDE)
        spec.exit_code(401, 'ERROR_MD_FAILED', message='The LAMMPS runs {runs} failed.')

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode, structures: Sequence[orm.StructureData] | Mapping,
                                  forcefield: orm.Dict | None, protocol: str | None = None,
                                  overrides: Mapping | None = None, options: Mapping | None = None,
                                  ensemble: Mapping | None = None):
        """Return a builder filled from a protocol of the workflow's protocol file.

        Parameters
        ----------
        code : AbstractCode
            LAMMPS code (``lmp``).
        structures : sequence or mapping of StructureData
            Independent replicas of one glass; a sequence is keyed ``r0, r1, ...``.
        forcefield : Dict or None
            Resolved force-field parameters (a melt-quench's ``forcefield`` output); None with ``ensemble``.
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Nested values replacing the protocol's (keys of the YAML ``default_inputs``).
        options : Mapping, optional
            Scheduler options of the LAMMPS jobs.
        ensemble : Mapping, optional
            A DeePMD ensemble instead of ``forcefield``: ``models`` and ``deepmd`` (see
            :func:`~aiida_boroglass.workflows.learning.deepmd_ensemble.ensemble_potential`).
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        if not isinstance(structures, Mapping):
            structures = {f'r{index}': node for index, node in enumerate(structures)}
        builder = cls.get_builder()
        builder.structures = dict(structures)
        if forcefield is not None:
            builder.forcefield = forcefield
        builder.md_parameters = inputs['md']
        builder.max_concurrent = inputs['max_concurrent']
        set_lammps_code(builder.md, code, inputs['lammps_cmdline'], options, ensemble)
        cls.fill_protocol_inputs(builder, inputs)
        return builder

    @staticmethod
    def fill_protocol_inputs(builder, inputs: Mapping):
        """Set the workflow's own inputs on ``builder`` from the protocol's ``inputs``."""
        raise NotImplementedError

    def md_parameters(self) -> dict:
        """The ``md_parameters`` input over the LAMMPS runs' defaults."""
        given = self.inputs.md_parameters.get_dict() if 'md_parameters' in self.inputs else {}
        return {**DEFAULT_PARAMETERS, **given}

    def run_forcefield(self, key: str) -> orm.Dict | None:
        """The force field of run ``key``: the ``forcefield`` input (None for a DeePMD ensemble).

        A workflow whose runs change the composition (a pre-crack) overrides it.
        """
        return self.inputs.get('forcefield')

    def has_pending(self) -> bool:
        """Whether runs are left to launch or to see end."""
        return bool(self.ctx.pending) or ('slot_queue' in self.ctx and self.slots_busy())

    def launch_batch(self):
        """Queue ``self.ctx.pending``, launch into the free slots and wait until a run ends (:meth:`fill_slots`)."""
        if 'slot_queue' not in self.ctx:
            self.setup_slots([])
        self.ctx.slot_queue += self.ctx.pending
        self.ctx.pending = []
        self.fill_slots()

    def launch_child(self, key: str) -> orm.ProcessNode:
        """Launch run ``key`` of ``self.ctx.runs`` with its structure, stages and velocity seed."""
        structure, stages, seed = self.ctx.runs[key]
        inputs = AttributeDict(self.exposed_inputs(LammpsBaseWorkChain, namespace='md'))
        inputs.lammps = AttributeDict(inputs.lammps)
        inputs.lammps.structure = structure
        forcefield = self.run_forcefield(key)
        if forcefield is not None:
            inputs.lammps.forcefield = forcefield
        inputs.lammps.parameters = orm.Dict({**self.md_parameters(), 'seed': seed, 'stages': stages})
        inputs.metadata = {'call_link_label': key, 'label': key}
        node = submit_once(self, LammpsBaseWorkChain, **inputs)
        self.report(f'launched {key} as {node.process_label}<{node.pk}>')
        return node

    def child_ended(self, key: str, node: orm.ProcessNode) -> None:
        """Put run ``key`` in the context as ``run_<key>``; after a run that did not finish ok, launch no more."""
        self.ctx[f'run_{key}'] = node
        if not node.is_finished_ok:
            self.report(f'{key} {node.process_label}<{node.pk}> did not finish ok: launching no more runs')
            self.ctx.slot_queue = []

    def failed_runs(self):
        """``ERROR_MD_FAILED`` naming the runs that did not finish ok, once none is running; else None.

        After a failure nothing more is launched; the workflow waits for the running runs so that
        it does not end with children still working.
        """
        nodes = {key: orm.load_node(pk) for key, pk in self.ctx.get('slot_children', {}).items()}
        failed = [key for key, node in nodes.items() if node.is_terminated and not node.is_finished_ok]
        if not failed:
            return None
        self.ctx.pending, self.ctx.slot_queue = [], []
        if not all(node.is_terminated for node in nodes.values()):
            return None
        return self.exit_codes.ERROR_MD_FAILED.format(runs=', '.join(failed))
