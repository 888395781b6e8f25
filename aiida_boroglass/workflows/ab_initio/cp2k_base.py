"""Restartable CP2K run of the ab initio workflows: aiida-cp2k's base work chain with our parser and handlers.

What :class:`BoroglassCp2kBaseWorkChain` adds to ``aiida-cp2k``'s ``Cp2kBaseWorkChain``:

* the CalcJob :class:`~aiida_boroglass.calculations.cp2k.BoroglassCp2kCalculation`, whose
  trajectory and energy files are retrieved temporarily (each trajectory is stored once, as
  ``output_trajectory``), with the parser ``boroglass.cp2k`` (trajectory, ``thermo`` and
  ``labels`` in Å, ps, eV, GPa); ``OMP_NUM_THREADS`` from ``resources.num_cores_per_mpiproc``;
  no MPI launcher unless ``withmpi`` is set;
* ``GLOBAL/WALLTIME`` so that CP2K stops cleanly before the scheduler's wall time;
* SCF not converged: diagonalisation gets half the Broyden mixing ``ALPHA``, then OT;
  OT gets the CG minimiser and twice ``MAX_SCF``; each once, then the work chain gives up.
  The next run starts from the failed run's wave function;
* an MD out of wall time (or whose output stops short) continues from the last restart
  file (positions, velocities, thermostat, step counter) to the step the interrupted run
  was to reach; a first attempt stopped before any restart file starts again from its wave
  function; a later one without a restart file ends the work chain (322);
* aiida-cp2k's ``restart_incomplete_calculation`` handler on by default (the other
  restarts: an incomplete output, a geometry optimisation out of wall time or out of
  iterations, which it continues with 1.4 times ``MAX_ITER``, at least one more);
* ``output_trajectory`` and ``thermo`` of the whole run, all segments joined with no
  step twice.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ProcessHandlerReport, process_handler
from aiida_cp2k.workchains import Cp2kBaseWorkChain

from aiida_boroglass.calculations.cp2k import PARSER_NAME, BoroglassCp2kCalculation
from aiida_boroglass.calculations.cp2k_inputs import continue_from_parent, scf_section
from aiida_boroglass.calculations.lammps import TIMEOUT_MARGIN_MIN_S, timeout_margin_s
from aiida_boroglass.functions.cp2k_segments import join_cp2k_segments

#: CP2K's defaults where an input leaves a keyword out
CP2K_DEFAULT_MAX_SCF = 50
CP2K_DEFAULT_EPS_SCF = 1.0e-5
CP2K_DEFAULT_MIXING_ALPHA = 0.4
CP2K_DEFAULT_MD_STEPS = 3
CP2K_DEFAULT_GEO_OPT_MAX_ITER = 200
_OFF = ('F', 'FALSE', '.FALSE.', 'OFF', 'NO')


def cp2k_walltime_s(max_wallclock_seconds: float) -> int:
    """CP2K's ``GLOBAL/WALLTIME`` for a job of ``max_wallclock_seconds``, s.

    The margin of :func:`~aiida_boroglass.calculations.lammps.timeout_margin_s`
    (``max(60 s, 5 %)``) is kept free: CP2K checks its clock in every SCF iteration and MD
    step and needs up to one force evaluation to stop and write its files.
    """
    return int(max_wallclock_seconds - timeout_margin_s(max_wallclock_seconds))


def omp_threads(resources: Mapping) -> str:
    """``OMP_NUM_THREADS`` for the scheduler ``resources``: ``num_cores_per_mpiproc``, else 1."""
    return str(int(resources.get('num_cores_per_mpiproc') or 1))


def uses_ot(scf: Mapping) -> bool:
    """Whether the ``FORCE_EVAL/DFT/SCF`` section ``scf`` minimises with OT (an ``OT`` section not switched off)."""
    ot = scf.get('OT')
    return isinstance(ot, Mapping) and str(ot.get('_', 'ON')).upper() not in _OFF


def next_scf_remedy(scf: Mapping, applied: Sequence[str], kpoints: bool = False) -> str | None:
    """The next remedy for an SCF that did not converge, None when they are spent.

    Parameters
    ----------
    scf : Mapping
        The ``FORCE_EVAL/DFT/SCF`` section of the failed run.
    applied : sequence of str
        Remedies already tried in this work chain.
    kpoints : bool
        The run samples k-points (OT is Γ-only: diagonalisation cannot switch to it).

    Returns
    -------
    str or None
        OT: ``ot_cg_more_scf`` once. Diagonalisation: ``halve_mixing_alpha`` once, then
        ``switch_to_ot`` (not with k-points).
    """
    if uses_ot(scf):
        remedy = 'ot_cg_more_scf'
    elif 'halve_mixing_alpha' not in applied:
        remedy = 'halve_mixing_alpha'
    else:
        remedy = None if kpoints else 'switch_to_ot'
    return remedy if remedy is not None and remedy not in applied else None


def halve_mixing_alpha(parameters: Mapping, factor: float = 0.5) -> dict:
    """``parameters`` with the Broyden mixing ``ALPHA`` multiplied by ``factor`` (CP2K's default 0.4 if unset)."""
    params = copy.deepcopy(dict(parameters))
    mixing = params['FORCE_EVAL']['DFT']['SCF'].setdefault('MIXING', {})
    mixing['ALPHA'] = mixing.get('ALPHA', CP2K_DEFAULT_MIXING_ALPHA) * factor
    return params


def switch_to_ot(parameters: Mapping, preconditioner: str, max_outer_scf: int) -> dict:
    """``parameters`` with the diagonalisation (mixing, smearing, added orbitals) replaced by OT with DIIS.

    The new section is :func:`~aiida_boroglass.calculations.cp2k_inputs.scf_section`'s OT
    section with the failed run's ``EPS_SCF``, ``MAX_SCF`` and ``SCF_GUESS``, an outer loop of
    ``max_outer_scf`` iterations and the ``preconditioner``.
    """
    params = copy.deepcopy(dict(parameters))
    old = params['FORCE_EVAL']['DFT']['SCF']
    new = scf_section({'scf_method': 'ot', 'eps_scf': old.get('EPS_SCF', CP2K_DEFAULT_EPS_SCF),
                       'max_scf': old.get('MAX_SCF', CP2K_DEFAULT_MAX_SCF), 'ot_minimizer': 'DIIS',
                       'preconditioner': preconditioner, 'max_outer_scf': max_outer_scf})
    new['SCF_GUESS'] = old.get('SCF_GUESS', new['SCF_GUESS'])
    params['FORCE_EVAL']['DFT']['SCF'] = new
    return params


def ot_cg_more_scf(parameters: Mapping, factor: int = 2) -> dict:
    """``parameters`` with the OT minimiser CG and ``factor`` times the inner ``MAX_SCF``."""
    params = copy.deepcopy(dict(parameters))
    scf = params['FORCE_EVAL']['DFT']['SCF']
    scf['OT']['MINIMIZER'] = 'CG'
    scf['MAX_SCF'] = int(scf.get('MAX_SCF', CP2K_DEFAULT_MAX_SCF)) * factor
    return params


def restart_wave_function(parameters: Mapping) -> dict:
    """``parameters`` starting the SCF from ``parent_calc/aiida-RESTART.wfn`` (the failed run's wave function)."""
    params = copy.deepcopy(dict(parameters))
    params['FORCE_EVAL']['DFT']['RESTART_FILE_NAME'] = './parent_calc/aiida-RESTART.wfn'
    params['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] = 'RESTART'
    return params


def md_last_step(parameters: Mapping, first_step_done: int) -> int:
    """The MD step at which a run of ``parameters`` ends, given the first step it completed.

    CP2K's ``MOTION/MD/STEPS`` counts from the run's starting step (``STEP_START_VAL``,
    restored by ``EXT_RESTART`` with ``RESTART_COUNTERS``), which is ``first_step_done - 1``.
    """
    steps = parameters.get('MOTION', {}).get('MD', {}).get('STEPS', CP2K_DEFAULT_MD_STEPS)
    return first_step_done - 1 + int(steps)


def continue_md(parameters: Mapping, restart_step: int, last_step: int) -> dict:
    """``parameters`` continued from ``parent_calc/aiida-1.restart`` written at ``restart_step``, up to ``last_step``.

    Positions, velocities, thermostat, step counter and wave function continue
    (:func:`~aiida_boroglass.calculations.cp2k_inputs.continue_from_parent`); ``STEPS``
    becomes the steps left, so the run ends where the interrupted one was to end.
    """
    params = continue_from_parent(parameters, restart_thermostat=True)
    params['MOTION']['MD']['STEPS'] = int(last_step - restart_step)
    return params


def more_geo_opt_iterations(parameters: Mapping, failed_max_iter: int) -> dict:
    """``parameters`` with ``MOTION/GEO_OPT/MAX_ITER`` above ``failed_max_iter`` by at least one.

    With ``RESTART_COUNTERS`` CP2K counts ``MAX_ITER`` from the first iteration of the whole
    optimisation (measured: a continuation at iteration 3 with ``MAX_ITER 4`` runs one).
    """
    params = copy.deepcopy(dict(parameters))
    geo_opt = params.setdefault('MOTION', {}).setdefault('GEO_OPT', {})
    geo_opt['MAX_ITER'] = max(int(geo_opt.get('MAX_ITER', CP2K_DEFAULT_GEO_OPT_MAX_ITER)), failed_max_iter + 1)
    return params


def validate_inputs(inputs, _):
    """Refuse a job wall time that leaves CP2K no time before the margin."""
    walltime = inputs.get('cp2k', {}).get('metadata', {}).get('options', {}).get('max_wallclock_seconds')
    if walltime is not None and walltime <= TIMEOUT_MARGIN_MIN_S:
        return (f'cp2k.metadata.options.max_wallclock_seconds: {walltime} s leaves CP2K no time; '
                f'it must be above {TIMEOUT_MARGIN_MIN_S:.0f} s (CP2K stops max(60 s, 5 %) before it)')
    return None


class BoroglassCp2kBaseWorkChain(Cp2kBaseWorkChain):
    """Run a ``BoroglassCp2kCalculation`` with our parser; recover from SCF, wall-time and iteration limits.

    See the module docstring for the handlers. Inputs are those of ``aiida-cp2k``'s
    ``Cp2kBaseWorkChain`` (namespace ``cp2k``, the ports of ``BoroglassCp2kCalculation``);
    ``withmpi`` defaults to False (one process with OpenMP threads).
    """

    _process_class = BoroglassCp2kCalculation

    defaults = AttributeDict({
        'mixing_alpha_factor': 0.5,
        'ot_preconditioner': 'FULL_SINGLE_INVERSE',
        'ot_max_outer_scf': 10,
        'max_scf_factor': 2,
    })

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.expose_inputs(BoroglassCp2kCalculation, namespace='cp2k')
        spec.expose_outputs(BoroglassCp2kCalculation)
        options = spec.inputs['cp2k']['metadata']['options']
        options['withmpi'].default = False
        options['parser_name'].help = f'Always {PARSER_NAME}: the work chain sets it.'
        spec.inputs.validator = validate_inputs
        spec.output('thermo', valid_type=orm.ArrayData, required=False,
                    help='MD energies of the whole run (all segments joined): step, time_ps (ps), kinetic_ev, '
                         'potential_ev, conserved_ev (eV), temperature_k (K).')
        spec.output('labels', valid_type=orm.ArrayData, required=False,
                    help='Single point (RUN_TYPE ENERGY_FORCE): energy_ev (1,), forces_ev_a (n_atoms, 3) in eV/Å, '
                         'stress_gpa (3, 3) in GPa when printed.')
        spec.outputs['output_trajectory'].help = (
            'Frames of the whole run (all segments joined, no step twice): positions and cells (Å), times (ps, MD), '
            'energies (eV), forces (eV/Å).')
        spec.exit_code(320, 'ERROR_SCF_REMEDIES_EXHAUSTED',
                       message='The SCF did not converge after every remedy was tried: {remedies}.')
        spec.exit_code(321, 'ERROR_SEGMENTS_NOT_JOINED',
                       message='The segments of the restarted run could not be joined: {message}')
        spec.exit_code(322, 'ERROR_MD_NO_PROGRESS',
                       message='The MD stopped again before writing a restart file: give the jobs a longer '
                               'max_wallclock_seconds or write restart files (MOTION/PRINT/RESTART) more often.')

    def setup(self):
        """Collect the inputs: our parser, threads and CP2K's own wall time."""
        super().setup()
        self.ctx.scf_remedies = []
        metadata = dict(self.ctx.inputs.get('metadata', {}))
        options = dict(metadata.get('options', {}))
        options['parser_name'] = PARSER_NAME
        environment = dict(options.get('environment_variables') or {})
        environment.setdefault('OMP_NUM_THREADS', omp_threads(options.get('resources', {})))
        options['environment_variables'] = environment
        self.ctx.inputs.metadata = {**metadata, 'options': options}

        parameters = self.ctx.inputs.parameters.get_dict()
        walltime = options.get('max_wallclock_seconds')
        if walltime is not None:
            limit = cp2k_walltime_s(walltime)
            current = parameters.setdefault('GLOBAL', {}).get('WALLTIME')
            parameters['GLOBAL']['WALLTIME'] = limit if current is None else min(int(current), limit)
            self.ctx.inputs.parameters = orm.Dict(parameters)

    def _continue_from(self, node, parameters: dict) -> str | None:
        """Point the next run at ``node``'s folder: its wave function, and for an MD its last restart file.

        Returns what the next run continues from, for the report; None for an MD that wrote
        no restart file although it was not the first attempt (it continued from a restart
        file, or from the wave function of an attempt that wrote none either): running it
        again would end the same way.
        """
        results = node.outputs.output_parameters.get_dict() if 'output_parameters' in node.outputs else {}
        is_md = parameters.get('GLOBAL', {}).get('RUN_TYPE') == 'MD'
        restart_step, first_step = results.get('restart_step'), results.get('md_first_step')
        if is_md and restart_step is not None and first_step is not None:
            last_step = md_last_step(node.inputs.parameters.get_dict(), first_step)
            self.ctx.inputs.parameters = orm.Dict(continue_md(parameters, restart_step, last_step))
            self.ctx.inputs.parent_calc_folder = node.outputs.remote_folder
            return f'the restart file at MD step {restart_step} (to step {last_step})'
        if is_md and 'parent_calc_folder' in self.ctx.inputs:
            return None
        self.ctx.inputs.parameters = orm.Dict(restart_wave_function(parameters))
        self.ctx.inputs.parent_calc_folder = node.outputs.remote_folder
        return 'its wave function'

    def _no_progress(self, node) -> ProcessHandlerReport:
        """Give up on an MD that wrote no restart file to continue from."""
        self.report(f'{node.process_label}<{node.pk}> wrote no restart file to continue from')
        return ProcessHandlerReport(True, self.exit_codes.ERROR_MD_NO_PROGRESS)

    @process_handler(priority=460, exit_codes=[BoroglassCp2kCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED])
    def handle_scf_not_converged(self, node):
        """Try the next SCF remedy from the failed run's wave function; give up when they are spent."""
        parameters = self.ctx.inputs.parameters.get_dict()
        kpoints = 'kpoints' in self.ctx.inputs or 'KPOINTS' in parameters['FORCE_EVAL']['DFT']
        remedy = next_scf_remedy(parameters['FORCE_EVAL']['DFT']['SCF'], self.ctx.scf_remedies, kpoints)
        if remedy is None:
            self.report(f'{node.process_label}<{node.pk}> SCF not converged after {self.ctx.scf_remedies}')
            return ProcessHandlerReport(True, self.exit_codes.ERROR_SCF_REMEDIES_EXHAUSTED.format(
                remedies=', '.join(self.ctx.scf_remedies) or 'none applies'))
        if remedy == 'halve_mixing_alpha':
            parameters = halve_mixing_alpha(parameters, self.defaults.mixing_alpha_factor)
        elif remedy == 'switch_to_ot':
            parameters = switch_to_ot(parameters, self.defaults.ot_preconditioner, self.defaults.ot_max_outer_scf)
        else:
            parameters = ot_cg_more_scf(parameters, self.defaults.max_scf_factor)
        self.ctx.scf_remedies.append(remedy)
        origin = self._continue_from(node, parameters)
        if origin is None:
            return self._no_progress(node)
        self.report(f'{node.process_label}<{node.pk}> SCF not converged: {remedy}, continuing from {origin}')
        return ProcessHandlerReport(True)

    @process_handler(priority=450, exit_codes=[BoroglassCp2kCalculation.exit_codes.ERROR_OUT_OF_WALLTIME,
                                               BoroglassCp2kCalculation.exit_codes.ERROR_OUTPUT_INCOMPLETE])
    def handle_md_interrupted(self, node):
        """Continue an MD stopped by its wall time or cut off from its last restart file to the same final step.

        aiida-cp2k's handler would keep ``STEPS`` and so run that many steps again from the
        restart step; other run types are left to it.
        """
        parameters = self.ctx.inputs.parameters.get_dict()
        if parameters.get('GLOBAL', {}).get('RUN_TYPE') != 'MD':
            return None
        origin = self._continue_from(node, parameters)
        if origin is None:
            return self._no_progress(node)
        self.report(f'{node.process_label}<{node.pk}> stopped early ({node.exit_message}): continuing from {origin}')
        return ProcessHandlerReport(True)

    @process_handler(priority=401, exit_codes=[
        BoroglassCp2kCalculation.exit_codes.ERROR_OUT_OF_WALLTIME,
        BoroglassCp2kCalculation.exit_codes.ERROR_OUTPUT_INCOMPLETE,
        BoroglassCp2kCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED,
        BoroglassCp2kCalculation.exit_codes.ERROR_MAXIMUM_NUMBER_OPTIMIZATION_STEPS_REACHED,
    ], enabled=True)
    def restart_incomplete_calculation(self, calc):
        """aiida-cp2k's restart handler, enabled; a geometry optimisation gets at least one more iteration."""
        report = Cp2kBaseWorkChain.restart_incomplete_calculation.__wrapped__(self, calc)
        if (report.exit_code.status == 0 and calc.exit_status
                == BoroglassCp2kCalculation.exit_codes.ERROR_MAXIMUM_NUMBER_OPTIMIZATION_STEPS_REACHED.status):
            failed = calc.inputs.parameters.get_dict().get('MOTION', {}).get('GEO_OPT', {})
            parameters = more_geo_opt_iterations(self.ctx.inputs.parameters.get_dict(),
                                                 int(failed.get('MAX_ITER', CP2K_DEFAULT_GEO_OPT_MAX_ITER)))
            self.ctx.inputs.parameters = orm.Dict(parameters)
        return report

    def results(self):
        """Attach the last run's outputs, with ``output_trajectory`` and ``thermo`` of the whole run."""
        node = self.ctx.children[self.ctx.iteration - 1]
        outputs = dict(self.exposed_outputs(node, BoroglassCp2kCalculation))
        outputs.update({name: node.outputs[name] for name in ('thermo', 'labels') if name in node.outputs})
        if len(self.ctx.children) > 1:
            segments = {}
            for index, child in enumerate(self.ctx.children):
                if 'output_trajectory' in child.outputs:
                    segments[f'trajectory_{index}'] = child.outputs.output_trajectory
                if 'thermo' in child.outputs:
                    segments[f'thermo_{index}'] = child.outputs.thermo
            if segments:
                joined, join = join_cp2k_segments.run_get_node(**segments)
                if not join.is_finished_ok:
                    return self.exit_codes.ERROR_SEGMENTS_NOT_JOINED.format(message=join.exit_message)
                outputs.update(joined)
                self.report(f'joined {len(self.ctx.children)} runs into the whole run')
        self.out_many(outputs)
        if self.inputs.cp2k.parameters.uuid != self.ctx.inputs.parameters.uuid:
            self.out('final_input_parameters', self.ctx.inputs.parameters)
        return None
