"""Where a workflow's analyses run: a calcfunction in the daemon worker, or a job on the chosen computer.

An analysis whose cost grows with the trajectory runs as a
:class:`~aiida_boroglass.calculations.analysis.AnalysisCalculation` when the glass has more
than ``job_threshold_atom_frames`` atoms x analysed frames, and as its calcfunction
otherwise; a workflow whose analyses grow with something else (the hopping model's lattice)
names its own :class:`JobThreshold`. Both routes store the same output nodes under the same labels, linked to the same
input nodes; a workflow launches with :func:`launch_analysis` in one step and reads with
:func:`analysis_outputs` in a later one, whichever route ran.
"""
from __future__ import annotations

from typing import NamedTuple

from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import WorkChain

from aiida_boroglass.analysis.job import analysis_functions
from aiida_boroglass.calculations.analysis import AnalysisCalculation
from aiida_boroglass.functions.exit_codes import CalcfunctionFailed
from aiida_boroglass.functions.utils import glass_symbols
from aiida_boroglass.workflows.launch import submit_once



class JobThreshold(NamedTuple):
    """The input that sets where a workflow's analyses become jobs: its name, default and what it counts."""

    port: str
    default: int
    measure: str


#: Default ``job_threshold_atom_frames``: atoms x analysed frames above which analyses are jobs
#: (docs/structure_panel.md, "Analyses as jobs", gives the timings it comes from).
JOB_THRESHOLD_ATOM_FRAMES = 200_000
#: The threshold of the analyses of a glass or trajectory.
ATOM_FRAMES = JobThreshold('job_threshold_atom_frames', JOB_THRESHOLD_ATOM_FRAMES, 'atoms x analysed frames')

#: Outputs every CalcJob has that are not results of the analysis.
JOB_OUTPUTS = tuple(AnalysisCalculation.spec().outputs)


def validate_analysis_options(value: orm.Dict, _) -> str | None:
    """Port validator of ``analysis_options``: options of the ``boroglass.analysis`` CalcJob (its default resources if none)."""
    if value is None:
        return None
    options = AnalysisCalculation.spec().inputs['metadata']['options']
    error = options.validate({'resources': options['resources'].default, **value.get_dict()})
    return None if error is None else f'analysis_options: {error.message}'


def define_job_inputs(spec, threshold: JobThreshold = ATOM_FRAMES, counted: str = '') -> None:
    """Add the inputs that choose and configure the job route to a WorkChain's ``spec``.

    Parameters
    ----------
    spec : ProcessSpec
        The workflow's specification.
    threshold : JobThreshold
        The size input (default ``job_threshold_atom_frames``).
    counted : str
        What the size is of, for the help (e.g. ``' of one production run'``).
    """
    spec.input(threshold.port, valid_type=orm.Int, serializer=orm.to_aiida_type,
               default=lambda: orm.Int(threshold.default),
               help=f'Above this many {threshold.measure}{counted} the heavy analyses run as `boroglass.analysis` '
                    'jobs on the computer of `analysis_code`; at or below it, as calcfunctions.')
    spec.input('analysis_code', valid_type=orm.AbstractCode, required=False,
               help='Python of an environment holding aiida-boroglass, on the computer the analysis jobs run on '
                    '(`aiida_boroglass.calculations.analysis.ensure_python_code` registers the local one).')
    spec.input('analysis_options', valid_type=orm.Dict, required=False, validator=validate_analysis_options,
               help='`metadata.options` of the analysis jobs (resources, max_wallclock_seconds, queue_name, ...); '
                    'the job runs as many threads as its resources give cores.')


def analysed_atom_frames(glass: orm.Data, max_frames: int) -> int:
    """Atoms x frames an analysis of ``glass`` reads: every atom of at most ``max_frames`` frames.

    Parameters
    ----------
    glass : StructureData or TrajectoryData
        The glass (its positions are not loaded).
    max_frames : int
        The analysis' ``max_frames`` setting.
    """
    n_frames = glass.numsteps if isinstance(glass, orm.TrajectoryData) else 1
    return len(glass_symbols(glass)) * min(n_frames, max_frames)


def above_threshold(inputs, size: int, threshold: JobThreshold = ATOM_FRAMES) -> bool:
    """Whether analyses of ``size`` (counted as ``threshold.measure``) run as jobs under the workflow's ``inputs``."""
    return size > inputs[threshold.port].value


def size_problem(inputs, size: int, what: str, threshold: JobThreshold = ATOM_FRAMES) -> str | None:
    """Why the job route cannot run (for an inputs validator), or None: analyses above the threshold need a code.

    Parameters
    ----------
    inputs : Mapping
        The workflow's inputs.
    size : int
        The size of its analyses, counted as ``threshold.measure``.
    what : str
        What has that size, for the message (``'the glass'``).
    threshold : JobThreshold
    """
    if threshold.port not in inputs or 'analysis_code' in inputs or not above_threshold(inputs, size, threshold):
        return None
    return (f'analysis_code: {what} has {size} {threshold.measure}, above {threshold.port} = '
            f'{inputs[threshold.port].value}: give the Python code its analyses run with, or raise the threshold')


def runs_as_jobs(inputs, max_frames: int) -> bool:
    """Whether the glass of ``inputs`` is above its ``job_threshold_atom_frames``."""
    return above_threshold(inputs, analysed_atom_frames(inputs['glass'], max_frames))


def job_route_problem(inputs, max_frames: int) -> str | None:
    """Why the job route cannot run (for an inputs validator), or None: a glass above the threshold needs a code."""
    if 'glass' not in inputs:
        return None
    return size_problem(inputs, analysed_atom_frames(inputs['glass'], max_frames), 'the glass')


def launch_analysis(workchain: WorkChain, label: str, name: str, **nodes: orm.Data) -> None:
    """Run the analysis ``name`` on ``nodes``, or submit it as a job; its process waits in ``ctx[label]``.

    Parameters
    ----------
    workchain : WorkChain
        The running workflow (``self``); ``ctx.analysis_jobs`` (set once, from
        :func:`runs_as_jobs`) chooses the route.
    label : str
        Call-link label and context key, unique within the workflow.
    name : str
        A calcfunction of :data:`aiida_boroglass.analysis.job.ANALYSES`.
    **nodes
        Its inputs.
    """
    metadata = {'call_link_label': label}
    if workchain.ctx.analysis_jobs:
        if 'analysis_options' in workchain.inputs:
            metadata['options'] = workchain.inputs.analysis_options.get_dict()
        node = submit_once(workchain, AnalysisCalculation, function=orm.Str(name), nodes=nodes,
                           code=workchain.inputs.analysis_code, metadata=metadata)
        workchain.to_context(**{label: node})
    else:
        _, workchain.ctx[label] = analysis_functions(name)[0].run_get_node(**nodes, metadata=metadata)


def analysis_outputs(workchain: WorkChain, label: str) -> dict[str, orm.Data]:
    """The result nodes of the analysis launched as ``label``, by output label, whichever route ran.

    Raises
    ------
    CalcfunctionFailed
        It did not finish ok; a step decorated with
        :func:`~aiida_boroglass.functions.exit_codes.checked_step` returns the workflow's
        ``ERROR_CALCFUNCTION_FAILED`` naming its exit status and message.
    """
    node = workchain.ctx[label]
    if not node.is_finished_ok:
        raise CalcfunctionFailed(node)
    links = node.base.links.get_outgoing(link_type=LinkType.CREATE).all()
    return {link.link_label: link.node for link in links if link.link_label not in JOB_OUTPUTS}
