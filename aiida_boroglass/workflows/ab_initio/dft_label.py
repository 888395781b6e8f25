"""``boroglass.dft_label``: DFT energies, forces and stress of a set of frames, as one training dataset.

Frames (of a trajectory, every ``stride``-th or a list of indices, or a namespace of
structures) -> one single point per frame, ``max_concurrent`` at a time, by the engine's
labeller (:mod:`aiida_boroglass.workflows.ab_initio.labellers`: CP2K here, VASP on clusters
later) -> one ``TrajectoryData`` of positions, cells, energies, forces, stress and virial
(:func:`aiida_boroglass.functions.labels.label_dataset`), the input of DeePMD training.
A frame whose single point fails is reported and left out; the dataset's ``skipped``
attribute names it with the exit status and message of its process.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.engine import WorkChain, while_

from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.labels import (
    frame_key,
    frame_selection,
    label_dataset,
    other_systems,
    trajectory_frames,
)
from aiida_boroglass.functions.utils import site_symbols, validate_max_concurrent
from aiida_boroglass.workflows.ab_initio.labellers import LABELLERS, get_labeller
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin
from aiida_boroglass.workflows.slots import BusySlotsMixin


def _optional_value(inputs: Mapping, key: str):
    """The Python value of the optional input ``key`` (an Int or a List), or None."""
    node = inputs.get(key)
    if node is None:
        return None
    return node.get_list() if isinstance(node, orm.List) else node.value


def selected_frames(inputs: Mapping) -> dict[str, int]:
    """Key -> index in the source of every frame to label, in source order.

    A trajectory's frames are keyed :func:`~aiida_boroglass.functions.labels.frame_key`
    (``frame_00012``) and numbered as in the trajectory; structures keep their keys and are
    numbered in the order of their sorted keys.

    Raises
    ------
    ValueError
        Naming the field: no source or two, ``stride``/``frames`` without a trajectory or
        out of range, an empty selection.
    """
    structures, trajectory = inputs.get('structures') or {}, inputs.get('trajectory')
    stride, frames = _optional_value(inputs, 'stride'), _optional_value(inputs, 'frames')
    if bool(structures) == (trajectory is not None):
        raise ValueError('structures/trajectory: give a trajectory or a namespace of structures (one of them), '
                         f'got {"both" if structures else "neither (or an empty namespace)"}')
    if trajectory is None:
        if stride is not None or frames is not None:
            raise ValueError('stride/frames: select frames of a trajectory only; label every given structure')
        return {key: index for index, key in enumerate(sorted(structures))}
    indices = frame_selection(trajectory.numsteps, stride, frames)
    if not indices:
        raise ValueError(f'trajectory: has no frames to label ({trajectory.numsteps} frames)')
    return {frame_key(index): index for index in indices}


class DftLabelWorkChain(BusySlotsMixin, ProtocolMixin, WorkChain):
    """Frames -> single points, ``max_concurrent`` at a time -> one dataset of energies, forces and stress.

    A queued frame starts as soon as any single point ends (:class:`~..slots.BusySlotsMixin`).
    """

    _protocol_file = 'dft_label.yaml'
    _protocol_open_sections = ('dft', 'options')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, required=False,
                             help='Frames to label, any keys; all with the same atoms in the same order.')
        spec.input('trajectory', valid_type=orm.TrajectoryData, required=False,
                   help='Trajectory whose frames are labelled (with cells), instead of `structures`.')
        spec.input('stride', valid_type=orm.Int, serializer=orm.to_aiida_type, required=False,
                   help='Label every stride-th frame of the trajectory, from the first.')
        spec.input('frames', valid_type=orm.List, serializer=orm.to_aiida_type, required=False,
                   help='Indices (from 0) of the trajectory frames to label, instead of a stride.')
        spec.input('engine', valid_type=orm.Str, serializer=orm.to_aiida_type, default=lambda: orm.Str('cp2k'),
                   help='Engine of the single points, a key of labellers.LABELLERS (cp2k).')
        spec.input('code', valid_type=orm.AbstractCode, help='Code of the engine (cp2k.psmp for cp2k).')
        spec.input('dft', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='DFT settings of the engine; cp2k: basis, cutoffs (Ry), SCF (see calculations.cp2k_inputs).')
        spec.input('options', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Scheduler options of every single point: resources, max_wallclock_seconds (s), withmpi.')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent,
                   help='Single points running at the same time (match it to the free cores).')
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            while_(cls.slots_busy)(cls.fill_slots),
            cls.results,
        )
        spec.output('dataset', valid_type=orm.TrajectoryData,
                    help='Labelled frames: positions, cells (Å), energies (eV), forces (eV/Å), stress (GPa), '
                         'virial (eV), frame_indices; skipped frames in its attributes. See functions.labels.')
        spec.exit_code(401, 'ERROR_ALL_FRAMES_FAILED', message='The single points of all {count} frames failed.')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, ctx):
        """One source and a selection in range; one system; settings the engine can label it with.

        Exposed without its frames (``boroglass.active_learning`` sets them per iteration), it
        checks nothing: the wrapping workflow validates the settings against its own frames.
        """
        if 'trajectory' not in ctx:
            return None
        try:
            selected_frames(value)
            labeller = get_labeller(value['engine'].value)
        except ValueError as exc:
            return str(exc)
        structures = value.get('structures') or {}
        if structures:
            systems = {f'structures.{key}': site_symbols(node) for key, node in sorted(structures.items())}
        elif value['trajectory'].get_cells() is None:
            return 'trajectory: has no cells; a single point needs the periodic cell of every frame'
        else:
            systems = {'trajectory': list(value['trajectory'].symbols)}
        first, symbols = next(iter(systems.items()))
        return other_systems(systems) or labeller.validate(value['dft'].get_dict(), symbols, first)

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode,
                                  structures_or_trajectory: orm.TrajectoryData | Mapping | Sequence,
                                  protocol: str | None = None, overrides: Mapping | None = None,
                                  options: Mapping | None = None):
        """Return a builder filled from a protocol.

        The engine is ``overrides['engine']`` (default ``cp2k``); a labeller with its own
        protocol file (``vasp``: ``dft_label_vasp.yaml``) fills the builder from it, the others
        from ``dft_label.yaml``.

        Parameters
        ----------
        code : AbstractCode
            Code of the engine (``cp2k.psmp``).
        structures_or_trajectory : TrajectoryData, or mapping or sequence of StructureData
            The frames: every frame of a trajectory (set ``builder.stride`` or
            ``builder.frames`` to select some), or structures (a sequence is keyed
            ``frame_00000, frame_00001, ...``).
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Nested values replacing the protocol's (keys of the YAML ``default_inputs``).
        options : Mapping, optional
            Scheduler options of the single points, merged over the protocol's.
        """
        engine = (overrides or {}).get('engine', cls._load_protocol_file()['default_inputs']['engine'])
        source = LABELLERS.get(engine)
        inputs = getattr(source, 'get_protocol_inputs', cls.get_protocol_inputs)(protocol, overrides)
        builder = cls.get_builder()
        if isinstance(structures_or_trajectory, orm.TrajectoryData):
            builder.trajectory = structures_or_trajectory
        elif isinstance(structures_or_trajectory, Mapping):
            builder.structures = dict(structures_or_trajectory)
        else:
            builder.structures = {frame_key(index): node for index, node in enumerate(structures_or_trajectory)}
        builder.engine = inputs['engine']
        builder.code = code
        builder.dft = inputs['dft']
        builder.options = {**inputs['options'], **(options or {})}
        builder.max_concurrent = inputs['max_concurrent']
        return builder

    @checked_step
    def setup(self):
        """Number the frames; cut the selected frames out of the trajectory (a calcfunction, for provenance)."""
        frames = selected_frames(self.inputs)
        if 'trajectory' in self.inputs:
            self.ctx.structures = run_checked(trajectory_frames, self.inputs.trajectory, orm.List(list(frames.values())))
        else:
            self.ctx.structures = dict(self.inputs.structures)
        self.ctx.frames = frames
        self.setup_slots(frames)
        self.ctx.labelled = []
        self.ctx.skipped = []
        self.report(f'{len(frames)} frames to label with {self.inputs.engine.value}, '
                    f'{self.inputs.max_concurrent.value} at a time')

    def launch_child(self, key: str) -> orm.ProcessNode:
        """Launch the single point of frame ``key``."""
        labeller = get_labeller(self.inputs.engine.value)
        builder = labeller.builder(self.inputs.code, self.ctx.structures[key], self.inputs.dft.get_dict(),
                                   self.inputs.options.get_dict())
        builder.metadata.call_link_label = key
        builder.metadata.label = key
        node = submit_once(self, builder)
        self.report(f'launched {key} (frame {self.ctx.frames[key]}) as {node.process_label}<{node.pk}>')
        return node

    def child_ended(self, key: str, node: orm.ProcessNode) -> None:
        """Keep a frame that was labelled; report and record one that was not as skipped."""
        if node.is_finished_ok:
            self.ctx.labelled.append(key)
            return
        status = node.exit_status
        message = node.exit_message or node.process_state.value
        self.ctx.skipped.append({'frame': self.ctx.frames[key], 'key': key, 'pk': node.pk,
                                 'exit_status': status, 'message': message})
        self.report(f'frame {self.ctx.frames[key]} ({key}) skipped: {node.process_label}<{node.pk}> failed '
                    f'with exit status {status}: {message}')

    @checked_step
    def results(self):
        """Gather the labelled frames into one dataset; fail only when no frame was labelled."""
        if not self.ctx.labelled:
            self.report(f'no frame was labelled: all {len(self.ctx.frames)} single points failed')
            return self.exit_codes.ERROR_ALL_FRAMES_FAILED.format(count=len(self.ctx.frames))
        labeller = get_labeller(self.inputs.engine.value)
        labelled = sorted(self.ctx.labelled, key=self.ctx.frames.get)
        skipped = sorted(self.ctx.skipped, key=lambda row: row['frame'])
        selection = orm.Dict({'engine': labeller.name, 'skipped': skipped,
                              'frame_indices': {key: self.ctx.frames[key] for key in labelled}})
        dataset = run_checked(label_dataset, selection,
                              structures={key: self.ctx.structures[key] for key in labelled},
                              labels={key: labeller.labels(orm.load_node(self.ctx.slot_children[key]))
                                      for key in labelled})
        self.out('dataset', dataset)
        self.report(f'dataset TrajectoryData<{dataset.pk}>: {len(self.ctx.labelled)} frames labelled, '
                    f'{len(self.ctx.skipped)} skipped')
        return None
