"""Restartable wrapper around the multi-stage LAMMPS CalcJob."""
from __future__ import annotations

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS, remaining_stages


def set_lammps_code(namespace, code: orm.AbstractCode, cmdline: list[str], options: dict | None = None) -> None:
    """Fill the ``lammps`` code, command line and scheduler options of a builder's LAMMPS namespace.

    One MPI process and one OpenMP thread per run unless ``options`` (scheduler options:
    resources, wall time in s, ...) say otherwise.
    """
    namespace.lammps.code = code
    namespace.lammps.settings = orm.Dict({'cmdline': list(cmdline)})
    namespace.lammps.metadata.options = {
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
        'environment_variables': {'OMP_NUM_THREADS': '1'},
        **(options or {}),
    }


class LammpsBaseWorkChain(BaseRestartWorkChain):
    """Run :class:`BoroglassLammpsCalculation` and recover from unstable integration and wall time.

    * lost atoms / atoms out of PPPM range / atoms inside the table's inner radius: continue from the latest restart file with half
      the time step (the remaining simulated time kept), at most ``max_timestep_halvings`` times;
    * wall time: continue the unfinished stages from the restart file.
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

    def setup(self):
        """Collect the CalcJob inputs into the context, where the handlers may change them."""
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(BoroglassLammpsCalculation, 'lammps'))
        self.ctx.timestep_halvings = 0

    def _continue_from(self, node, step_factor: int = 1, timestep_factor: float = 1.0) -> str:
        """Point the next CalcJob at the failed one's restart file with the stages left to run."""
        parameters = self.ctx.inputs.parameters.get_dict()
        results = node.outputs.results.get_dict()
        if 'restart_file' in node.outputs:
            self.ctx.inputs.restart_file = node.outputs.restart_file
            stage, step = results['restart_stage'], results['restart_step']
            origin = f'restart file of stage {parameters["stages"][stage]["name"]} at step {step}'
        else:
            stage, step = 0, 0
            origin = 'the original inputs (no restart file was written)'
        parameters['stages'] = remaining_stages(parameters['stages'], stage, step, step_factor)
        parameters['timestep_fs'] = parameters.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs']) * timestep_factor
        self.ctx.inputs.parameters = orm.Dict(parameters)
        return origin

    @process_handler(priority=500, exit_codes=[
        BoroglassLammpsCalculation.exit_codes.ERROR_LOST_ATOMS,
        BoroglassLammpsCalculation.exit_codes.ERROR_ATOMS_OUT_OF_RANGE,
        BoroglassLammpsCalculation.exit_codes.ERROR_PAIR_DISTANCE_BELOW_TABLE,
    ])
    def handle_unstable_integration(self, node):
        """Halve the time step and continue from the latest restart file."""
        if self.ctx.timestep_halvings >= self.defaults.max_timestep_halvings:
            self.report(f'{node.process_label}<{node.pk}> unstable again after {self.ctx.timestep_halvings} halvings')
            return ProcessHandlerReport(True, self.exit_codes.ERROR_TIMESTEP_HALVINGS_EXHAUSTED.format(
                count=self.ctx.timestep_halvings))
        self.ctx.timestep_halvings += 1
        origin = self._continue_from(node, step_factor=2, timestep_factor=self.defaults.timestep_factor)
        timestep = self.ctx.inputs.parameters['timestep_fs']
        self.report(f'{node.process_label}<{node.pk}> unstable ({node.exit_message}): restarting from {origin} with a {timestep} fs step')
        return ProcessHandlerReport(True)

    @process_handler(priority=400, exit_codes=[BoroglassLammpsCalculation.exit_codes.ERROR_OUT_OF_WALLTIME])
    def handle_out_of_walltime(self, node):
        """Continue the unfinished stages from the restart file."""
        origin = self._continue_from(node)
        self.report(f'{node.process_label}<{node.pk}> ran out of wall time: continuing from {origin}')
        return ProcessHandlerReport(True)
