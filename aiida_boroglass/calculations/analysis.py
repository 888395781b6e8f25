"""``boroglass.analysis``: one analysis of the package run as a job on the chosen computer.

The job route of the analyses whose cost grows with the trajectory (DESIGN.md, "Where work
runs"): the inputs of the calcfunction ``function`` are written as plain data, the code (a
Python of an environment where this package is installed; :func:`ensure_python_code`) runs
``python -m aiida_boroglass.analysis.job`` there with its threads capped to the job's cores,
and :class:`~aiida_boroglass.parsers.analysis.AnalysisParser` stores the same output nodes,
under the same labels, as the calcfunction would. A refusal of the analysis finishes the
job with the calcfunction's exit status and message.
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

from aiida import orm
from aiida.common.datastructures import CalcInfo, CodeInfo
from aiida.engine import CalcJob

from aiida_boroglass.analysis.job import ANALYSES, INPUTS, LOG_FILENAME, RESULTS, analysis_functions, write_bundle
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_EXIT_CODES
from aiida_boroglass.functions.plain import plain_inputs

#: Label of the Python code :func:`ensure_python_code` registers on a computer.
PYTHON_CODE_LABEL = 'python'


def validate_function(value: orm.Str, _) -> str | None:
    """Port validator of ``function``: one of the analyses that run as jobs."""
    try:
        analysis_functions(value.value)
    except ValueError as exc:
        return str(exc)
    return None


def validate_inputs(inputs, _) -> str | None:
    """The ``nodes`` are inputs of ``function``'s calcfunction: all its required ones, none it does not take."""
    if 'function' not in inputs or inputs['function'].value not in ANALYSES:
        return None
    name = inputs['function'].value
    parameters = inspect.signature(analysis_functions(name)[1]).parameters.values()
    named = {p.name for p in parameters if p.kind is not p.VAR_KEYWORD}
    required = {p.name for p in parameters if p.kind is not p.VAR_KEYWORD and p.default is p.empty}
    more = [p.name for p in parameters if p.kind is p.VAR_KEYWORD]
    given = set(inputs.get('nodes', {}))
    if required <= given and (more or given <= named):
        return None
    optional = f' (optional: {sorted(named - required)})' if named - required else ''
    return (f'nodes: {name} takes {sorted(required)}{optional}{f" and any number of {more[0]}" if more else ""}, '
            f'got {sorted(given)}')


def job_threads(resource) -> int:
    """Threads the job may use: its MPI slots times the cores of each (``num_cores_per_mpiproc``, default 1).

    Parameters
    ----------
    resource : aiida.schedulers.datastructures.JobResource
        The scheduler's job resource of ``metadata.options.resources``.
    """
    return resource.get_tot_num_mpiprocs() * (getattr(resource, 'num_cores_per_mpiproc', None) or 1)


def ensure_python_code(computer: orm.Computer) -> orm.InstalledCode:
    """The code ``python@<computer>``: this Python (its environment holds the package), plugin ``boroglass.analysis``.

    Registered on first use; on a remote computer register the Python of an environment
    where aiida-boroglass is installed under the same label instead.
    """
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_code(f'{PYTHON_CODE_LABEL}@{computer.label}')
    except NotExistent:
        return orm.InstalledCode(label=PYTHON_CODE_LABEL, computer=computer, filepath_executable=sys.executable,
                                 default_calc_job_plugin='boroglass.analysis',
                                 description='Python of aiida-boroglass: runs analyses as jobs').store()


class AnalysisCalculation(CalcJob):
    """Run the analysis ``function`` (a calcfunction of this package) on its ``nodes`` as a job."""

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('function', valid_type=orm.Str, serializer=orm.to_aiida_type, validator=validate_function,
                   help=f'The analysis: one of {", ".join(sorted(ANALYSES))}.')
        spec.input_namespace('nodes', valid_type=orm.Data, dynamic=True,
                             help="The inputs of the analysis's calcfunction, by their names (glass, parameters, ...).")
        spec.inputs.validator = validate_inputs
        spec.inputs['metadata']['options']['parser_name'].default = 'boroglass.analysis'
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False
        spec.outputs.dynamic = True
        spec.outputs.valid_type = orm.Data
        for label, (status, meaning) in CALCFUNCTION_EXIT_CODES.items():
            spec.exit_code(status, label, message=meaning)  # the job returns the calcfunction's own message
        spec.exit_code(330, 'ERROR_RESULTS_MISSING',
                       message='the analysis job wrote no readable results (see _scheduler-stderr.txt): {reason}')

    def prepare_for_submission(self, folder):
        """Write the plain inputs and the job's thread count; run ``python -m aiida_boroglass.analysis.job``."""
        resource = self.node.computer.get_scheduler().create_job_resource(**self.inputs.metadata.options.resources)
        write_bundle(Path(folder.abspath), INPUTS, plain_inputs(**self.inputs.nodes),
                     {'function': self.inputs.function.value, 'threads': job_threads(resource)})
        codeinfo = CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = ['-m', 'aiida_boroglass.analysis.job']
        codeinfo.withmpi = False
        calcinfo = CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.retrieve_list = [LOG_FILENAME]
        # the results become the output nodes; the glass is already stored: keep neither twice
        calcinfo.retrieve_temporary_list = [f'{RESULTS}.json', f'{RESULTS}.npz']
        calcinfo.provenance_exclude_list = [f'{INPUTS}.npz']
        return calcinfo
