"""Restartable wrapper around the multi-stage LAMMPS CalcJob."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation, timeout_check_every, timeout_margin_s
from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS, remaining_stages
from aiida_boroglass.calculations.lammps_potentials import validate_deepmd
from aiida_boroglass.functions.segments import join_lammps_segments


def set_lammps_code(namespace, code: orm.AbstractCode, cmdline: list[str], options: dict | None = None,
                    ensemble: Mapping | None = None) -> None:
    """Fill the ``lammps`` code, command line and scheduler options of a builder's LAMMPS namespace.

    One MPI process and one OpenMP thread per run unless ``options`` (scheduler options:
    resources, wall time in s, ...) say otherwise. ``ensemble`` (``models``: name -> frozen
    DeePMD model, ``deepmd``: Dict) sets a DeePMD potential.
    """
    namespace.lammps.code = code
    namespace.lammps.settings = orm.Dict({'cmdline': list(cmdline)})
    namespace.lammps.metadata.options = {
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
        'environment_variables': {'OMP_NUM_THREADS': '1'},
        **(options or {}),
    }
    if ensemble is not None:
        namespace.lammps.models = dict(ensemble['models'])
        namespace.lammps.deepmd = ensemble['deepmd']


def md_models(inputs: Mapping) -> dict:
    """The DeePMD models in a workflow's exposed ``md.lammps.models`` ({} for a classical run)."""
    return dict(inputs.get('md', {}).get('lammps', {}).get('models') or {})


def validate_md_potential(inputs: Mapping, elements: Sequence[str], classical: str) -> str | None:
    """One line when a DeePMD ensemble in ``md.lammps`` cannot run a workflow's glass; None when fine or classical.

    A workflow takes its potential either from its own classical input ``classical`` (a force
    field) or from ``md.lammps.models`` + ``md.lammps.deepmd``, never both.

    Parameters
    ----------
    inputs : Mapping
        The workflow's inputs (the ``md`` namespace exposing :class:`LammpsBaseWorkChain`).
    elements : sequence of str
        Elements of the glass.
    classical : str
        Name of the workflow's force-field input.
    """
    models = md_models(inputs)
    if not models:
        return None
    if classical in inputs:
        return f'{classical}: give the potential as {classical} or as md.lammps.models (a DeePMD ensemble), not both'
    deepmd = inputs['md']['lammps'].get('deepmd')
    if deepmd is None:
        return 'md.lammps.deepmd: required with md.lammps.models (type_map, model_deviation_every)'
    message = validate_deepmd(deepmd.get_dict(), len(models), list(elements))
    return message and f'md.lammps.{message}'


def seconds_per_step(results: dict, n_atoms: int) -> float | None:
    """Measured wall time of one MD step, s, from a run's ``results`` (``None`` when not measured).

    Parameters
    ----------
    results : dict
        ``results`` output of a LAMMPS CalcJob: ``atom_steps_per_s`` of each of its runs.
    n_atoms : int
        Atoms of the system.
    """
    rates = [rate for rate in results.get('atom_steps_per_s') or [] if rate > 0]
    return n_atoms / min(rates) if rates else None


class LammpsBaseWorkChain(BaseRestartWorkChain):
    """Run :class:`BoroglassLammpsCalculation` and recover from unstable integration and wall time.

    * lost atoms / atoms out of PPPM range / atoms inside the table's inner radius: continue
      the interrupted stage from the latest restart file with half the time step (the
      remaining simulated time kept), at most ``max_timestep_halvings`` times per stage; the
      later stages then run at the original time step;
    * wall time (LAMMPS' timer or the scheduler): continue the unfinished stages from the
      restart file, LAMMPS checking its clock at an interval set from the measured step time.

    The outputs ``thermo``, ``trajectory`` and ``model_deviation`` are the whole run: when it took several
    CalcJobs, the calcfunction ``join_lammps_segments`` joins their segments (continuous
    time, no frame twice); ``structure``, ``restart_file`` and ``results`` are those of the
    last CalcJob. A crash (exit code 305) is not retried: running the same input again would
    crash again, or hide a broken machine.
    """

    _process_class = BoroglassLammpsCalculation

    defaults = AttributeDict({
        'max_timestep_halvings': 2,
        'timestep_factor': 0.5,
    })

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.expose_inputs(BoroglassLammpsCalculation, namespace='lammps')
        spec.expose_outputs(BoroglassLammpsCalculation)
        spec.outputs['thermo'].help = 'Thermodynamics of the whole run (all segments joined), LAMMPS metal units.'
        spec.outputs['trajectory'].help = ('Frames of the whole run (all segments joined, no frame twice): unwrapped '
                                           'positions (Å), cells (Å), times (ps).')
        spec.outputs['model_deviation'].help = ('Model deviation of the DeePMD ensemble over the whole run (all segments '
                                                'joined, no step twice): force deviations eV/Å, virial eV per atom.')
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(
                cls.run_process,
                cls.inspect_process,
            ),
            cls.results,
        )
        spec.exit_code(310, 'ERROR_TIMESTEP_HALVINGS_EXHAUSTED',
                       message='The integration stayed unstable after halving the time step {count} times.')
        spec.exit_code(311, 'ERROR_SEGMENTS_NOT_JOINED',
                       message='The segments of the restarted run could not be joined: {message}')

    def setup(self):
        """Collect the CalcJob inputs into the context, where the handlers may change them."""
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(BoroglassLammpsCalculation, 'lammps'))
        self.ctx.timestep_fs = self.ctx.inputs.parameters.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs'])
        self.ctx.timestep_halvings = 0
        self.ctx.pending_stages = []
        self.ctx.cuts = {}  # str(CalcJob pk) -> [stage name, step] the next segment continues from; absent: kept whole

    @staticmethod
    def _restart_point(node) -> tuple[int, int]:
        """Stage index and steps of it done from which the CalcJob ``node`` continues ((0, 0) without a restart file)."""
        if 'restart_file' in node.outputs:
            return node.outputs.results['restart_stage'], node.outputs.results['restart_step']
        return 0, 0

    def _continue_from(self, node, step_factor: int = 1, timestep_factor: float = 1.0, stages: slice = slice(None)) -> str:
        """Point the next CalcJob at the failed one's restart file with the stages left to run.

        ``stages`` selects which of the remaining stages (the interrupted one first) run next.
        The restart point is recorded as the segment's cut for the join.
        """
        parameters = self.ctx.inputs.parameters.get_dict()
        stage, step = self._restart_point(node)
        if 'restart_file' in node.outputs:
            self.ctx.inputs.restart_file = node.outputs.restart_file
            origin = f'restart file of stage {parameters["stages"][stage]["name"]} at step {step}'
        else:
            origin = 'the same starting point (no restart file was written)'
        start = parameters['stages'][stage].get('start_step', 0)
        self.ctx.cuts[str(node.pk)] = [parameters['stages'][stage]['name'], start + step]
        parameters['stages'] = remaining_stages(parameters['stages'], stage, step, step_factor)[stages]
        parameters['timestep_fs'] = parameters.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs']) * timestep_factor
        self._set_timeout_check(parameters, node.outputs.results.get_dict())
        self.ctx.inputs.parameters = orm.Dict(parameters)
        return origin

    def _set_timeout_check(self, parameters: dict, results: dict) -> None:
        """Set LAMMPS' clock-check interval from the step time measured in the last segment."""
        walltime = self.ctx.inputs.metadata.get('options', {}).get('max_wallclock_seconds')
        per_step = seconds_per_step(results, len(self.ctx.inputs.structure.sites))
        if walltime and per_step:
            parameters['timeout_every'] = timeout_check_every(timeout_margin_s(walltime), per_step)

    @process_handler(priority=500, exit_codes=[
        BoroglassLammpsCalculation.exit_codes.ERROR_LOST_ATOMS,
        BoroglassLammpsCalculation.exit_codes.ERROR_ATOMS_OUT_OF_RANGE,
        BoroglassLammpsCalculation.exit_codes.ERROR_PAIR_DISTANCE_BELOW_TABLE,
    ])
    def handle_unstable_integration(self, node):
        """Halve the time step for the rest of the interrupted stage; keep the later stages for afterwards."""
        if self.ctx.timestep_halvings >= self.defaults.max_timestep_halvings:
            self.report(f'{node.process_label}<{node.pk}> unstable again after {self.ctx.timestep_halvings} halvings')
            return ProcessHandlerReport(True, self.exit_codes.ERROR_TIMESTEP_HALVINGS_EXHAUSTED.format(
                count=self.ctx.timestep_halvings))
        self.ctx.timestep_halvings += 1
        stages = self.ctx.inputs.parameters['stages']
        stage, _ = self._restart_point(node)
        self.ctx.pending_stages = [dict(s) for s in stages[stage + 1:]] + self.ctx.pending_stages
        origin = self._continue_from(node, step_factor=2, timestep_factor=self.defaults.timestep_factor,
                                     stages=slice(0, 1))
        timestep = self.ctx.inputs.parameters['timestep_fs']
        self.report(f'{node.process_label}<{node.pk}> unstable ({node.exit_message}): continuing stage '
                    f'{stages[stage]["name"]} from {origin} with a {timestep} fs step')
        return ProcessHandlerReport(True)

    @process_handler(priority=400, exit_codes=[BoroglassLammpsCalculation.exit_codes.ERROR_OUT_OF_WALLTIME])
    def handle_out_of_walltime(self, node):
        """Continue the unfinished stages from the restart file."""
        origin = self._continue_from(node)
        self.report(f'{node.process_label}<{node.pk}> ran out of wall time: continuing from {origin}')
        return ProcessHandlerReport(True)

    @process_handler(priority=100)
    def restore_timestep(self, node):
        """After a stage finished at a halved time step, run the later stages at the original one."""
        if not node.is_finished_ok or not self.ctx.pending_stages:
            return None
        parameters = self.ctx.inputs.parameters.get_dict()
        parameters.update(stages=self.ctx.pending_stages, timestep_fs=self.ctx.timestep_fs)
        self._set_timeout_check(parameters, node.outputs.results.get_dict())
        self.ctx.inputs.parameters = orm.Dict(parameters)
        self.ctx.inputs.restart_file = node.outputs.restart_file
        self.ctx.pending_stages = []
        self.ctx.timestep_halvings = 0
        self.report(f'{node.process_label}<{node.pk}> finished its stage at a reduced time step: running '
                    f'{[s["name"] for s in parameters["stages"]]} at {self.ctx.timestep_fs} fs')
        return ProcessHandlerReport(True)

    def results(self):
        """Attach the last CalcJob's outputs, with thermo and trajectory of the whole run."""
        if len(self.ctx.children) == 1:
            return super().results()
        joined, node = join_lammps_segments.run_get_node(plan=orm.Dict({'segments': self._segment_plan()}),
                                                         **self._segment_outputs())
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SEGMENTS_NOT_JOINED.format(message=node.exit_message)
        self.report(f'joined {len(self.ctx.children)} segments into the whole run')
        self.out_many({**self.exposed_outputs(self.ctx.children[-1], BoroglassLammpsCalculation), **joined})
        return None

    def _segment_plan(self) -> list[dict]:
        """Stages, cut, dump stage and time step of every CalcJob, in run order."""
        plan = []
        for child in self.ctx.children:
            stages = child.inputs.parameters['stages']
            cut_stage, cut_step = self.ctx.cuts.get(str(child.pk)) or (None, None)
            plan.append({
                'stages': [s['name'] for s in stages], 'cut_stage': cut_stage, 'cut_step': cut_step,
                'dump_stage': next((s['name'] for s in stages if s.get('dump_every')), None),
                'timestep_fs': child.inputs.parameters.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs']),
            })
        return plan

    def _segment_outputs(self) -> dict:
        """``thermo_<i>``, ``trajectory_<i>`` and ``model_deviation_<i>`` of every CalcJob."""
        outputs = {}
        for index, child in enumerate(self.ctx.children):
            outputs[f'thermo_{index}'] = child.outputs.thermo
            for name in ('trajectory', 'model_deviation'):
                if name in child.outputs:
                    outputs[f'{name}_{index}'] = child.outputs[name]
        return outputs
