"""``boroglass.active_learning``: concurrent learning of a DeePMD glass potential (DP-GEN's loop) under AiiDA.

Every iteration

1. trains an ensemble (``boroglass.deepmd_ensemble``) on the current dataset;
2. explores with it: one DeePMD ``boroglass.lammps_base`` run per condition of the exploration
   protocol (glass, melt, quench, compressed glass), from the starting structure, frames
   dumped and the model deviation written every ``deviation_every`` steps;
3. classifies every explored frame by its largest force deviation between the models
   (accurate < ``trust_lo`` <= candidate < ``trust_hi_ev_a`` <= failed; ``trust_lo`` is
   ``trust_lo_ev_a``, or with ``trust_mode: adaptive`` set from the iteration's deviations,
   :func:`aiida_boroglass.analysis.selection.adaptive_trust_lo`) and selects at
   most ``max_labels`` candidates spread over the candidates (farthest-point sampling of
   pair-distance fingerprints, :func:`aiida_boroglass.functions.learning.select_frames`);
4. labels them (``boroglass.dft_label``: CP2K, VASP, or the classical force field as an exact
   oracle) and appends them to the training frames
   (:func:`aiida_boroglass.functions.datasets.extend_dataset`); the validation frames of the
   initial dataset stay the fixed held-out set, so the validation RMSEs of the iterations
   compare.

The loop has converged when the accurate fraction reaches ``accurate_target`` in
``converged_iterations`` consecutive iterations and, with adaptive trust levels, ``trust_lo``
moved by less than ``adaptive.tolerance_ev_a`` between each two of the last
``adaptive.checked_iterations`` iterations (:func:`learning_converged`); it stops with ``ERROR_NOT_CONVERGED`` after
``max_iterations`` (the last ensemble and its report are still returned). Every step is a
child process with its own outputs, so a restarted daemon resumes the loop where it stood:
a launched labelling job is waited for, never launched again, and no frame is labelled twice
(each iteration labels frames of its own new trajectories).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.engine import WorkChain, if_, while_

from aiida_boroglass.analysis.selection import ADAPTIVE_KEYS, SELECTION_METHODS, TRUST_MODES, check_adaptive
from aiida_boroglass.calculations.lammps_inputs import validate_parameters
from aiida_boroglass.data.dataset import LabelledDatasetData
from aiida_boroglass.functions.datasets import dataset_structure, extend_dataset
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.learning import learning_report, select_frames
from aiida_boroglass.functions.utils import is_count, is_real, site_symbols
from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain
from aiida_boroglass.workflows.ab_initio.labellers import get_labeller
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain, set_lammps_code
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain, ensemble_potential
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: keys of the ``learning`` settings
LEARNING_KEYS = ('trust_lo_ev_a', 'trust_hi_ev_a', 'trust_mode', 'adaptive', 'max_labels', 'selection',
                 'accurate_target', 'converged_iterations', 'max_iterations', 'warm_start')
#: keys of the ``learning.adaptive`` settings: those of the adapted level, then of its convergence
ADAPTIVE_SETTINGS = (*ADAPTIVE_KEYS, 'tolerance_ev_a', 'checked_iterations')
#: keys of the ``exploration`` settings and of one exploration condition
EXPLORATION_KEYS = ('deviation_every', 'timestep_fs', 'seed', 'conditions')
CONDITION_KEYS = {'name', 'type', 'temperature_k', 'temperature_end_k', 'pressure_gpa', 'steps'}
CONDITION_TYPES = ('nvt', 'npt')
#: the labelling inputs an iteration sets itself
LABELLING_EXCLUDED = ('structures', 'trajectory', 'stride', 'frames')
_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')


def iteration_key(iteration: int) -> str:
    """Key of iteration ``iteration`` (from 0) in link labels and reports: ``iteration_00``."""
    return f'iteration_{iteration:02d}'


def exploration_symbols(inputs: Mapping) -> list[str]:
    """Element of every atom the explorations start from: the ``structure`` input's, else the dataset's first system's.
    """
    if inputs.get('structure') is not None:
        return site_symbols(inputs['structure'])
    dataset = inputs['dataset']
    return [dataset.type_map[index] for index in dataset.get_array('system_0_atom_types')]


def key_message(section: str, settings: Mapping, keys: Sequence[str]) -> str | None:
    """One line naming the keys of ``settings`` missing from or unknown to ``keys``; None when they match."""
    missing, unknown = sorted(set(keys) - set(settings)), sorted(set(settings) - set(keys))
    if missing or unknown:
        return f'{section}: missing keys {missing}, unknown keys {unknown}; allowed: {list(keys)}'
    return None


def validate_learning(settings: Mapping) -> str | None:
    """One line naming the first learning setting that is missing, unknown or out of range; else None.

    Parameters
    ----------
    settings : Mapping
        :data:`LEARNING_KEYS`: trust levels in eV/Å, ``trust_mode`` (one of ``TRUST_MODES``;
        ``trust_lo_ev_a`` is used with ``fixed`` only), ``adaptive`` (:func:`adaptive_message`,
        checked in either mode), ``max_labels`` per iteration (>= 1), ``selection`` (one of
        ``SELECTION_METHODS``), ``accurate_target`` in (0, 1], ``converged_iterations`` and
        ``max_iterations`` (>= 1), ``warm_start`` (bool: each model of iteration i > 0 starts
        from the same model of iteration i - 1).
    """
    message = key_message('learning', settings, LEARNING_KEYS)
    if message:
        return message
    if settings['trust_mode'] not in TRUST_MODES:
        return f'learning.trust_mode: one of {list(TRUST_MODES)}, got {settings["trust_mode"]!r}'
    low, high = settings['trust_lo_ev_a'], settings['trust_hi_ev_a']
    checks = (
        (is_real(low) and low >= 0, 'learning.trust_lo_ev_a', 'a force deviation >= 0, eV/Å'),
        (is_real(high) and high > low, 'learning.trust_hi_ev_a', f'a force deviation > trust_lo_ev_a = {low}, eV/Å'),
        (is_count(settings['max_labels'], 1), 'learning.max_labels', 'an integer >= 1'),
        (settings['selection'] in SELECTION_METHODS, 'learning.selection', f'one of {list(SELECTION_METHODS)}'),
        (is_real(settings['accurate_target']) and 0 < settings['accurate_target'] <= 1, 'learning.accurate_target',
         'a fraction in (0, 1]'),
        (is_count(settings['converged_iterations'], 1), 'learning.converged_iterations', 'an integer >= 1'),
        (is_count(settings['max_iterations'], 1), 'learning.max_iterations', 'an integer >= 1'),
        (isinstance(settings['warm_start'], bool), 'learning.warm_start', 'true or false'),
    )
    return next((f'{field}: {allowed}, got {settings[field.split(".")[1]]!r}'
                 for ok, field, allowed in checks if not ok), None) or adaptive_message(settings)


def adaptive_message(settings: Mapping) -> str | None:
    """One line naming the first bad ``learning.adaptive`` setting; else None.

    Parameters
    ----------
    settings : Mapping
        The learning settings, ``trust_hi_ev_a`` valid; ``adaptive`` holds :data:`ADAPTIVE_SETTINGS`:
        ``candidates`` (>= 0), ``candidate_rate`` (fraction of the explored frames), the bounds
        ``trust_lo_min_ev_a`` <= ``trust_lo_max_ev_a`` < ``trust_hi_ev_a`` (eV/Å), as
        :func:`~aiida_boroglass.analysis.selection.check_adaptive` allows, ``tolerance_ev_a``
        (> 0, eV/Å) and ``checked_iterations`` (>= 2).
    """
    adaptive = settings['adaptive']
    if not isinstance(adaptive, Mapping):
        return f'learning.adaptive: a mapping of {list(ADAPTIVE_SETTINGS)}, got {adaptive!r}'
    message = key_message('learning.adaptive', adaptive, ADAPTIVE_SETTINGS)
    if message:
        return message
    try:
        check_adaptive(settings['trust_hi_ev_a'], *(adaptive[key] for key in ADAPTIVE_KEYS))
    except ValueError as error:
        return f'learning.adaptive.{error}'
    if not (is_real(adaptive['tolerance_ev_a']) and adaptive['tolerance_ev_a'] > 0):
        return f'learning.adaptive.tolerance_ev_a: a change of trust_lo > 0 eV/Å, got {adaptive["tolerance_ev_a"]!r}'
    if not is_count(adaptive['checked_iterations'], 2):
        return (f'learning.adaptive.checked_iterations: an integer >= 2 (the last iterations whose trust_lo '
                f'must agree), got {adaptive["checked_iterations"]!r}')
    return None


def condition_parameters(exploration: Mapping, condition: Mapping, seed: int) -> dict:
    """The ``boroglass.lammps`` parameters of one exploration run: one MD stage whose frames are dumped.

    Parameters
    ----------
    exploration : Mapping
        ``deviation_every`` (steps between dumped frames), ``timestep_fs`` (fs).
    condition : Mapping
        ``name``, ``type`` (``nvt`` or ``npt``), ``temperature_k`` (K), optional
        ``temperature_end_k`` (K, a ramp) and ``pressure_gpa`` (GPa, ``npt``), ``steps``.
    seed : int
        Velocity seed of the run.
    """
    stage = {key: value for key, value in condition.items() if key in CONDITION_KEYS}
    return {'stages': [{**stage, 'dump_every': exploration['deviation_every']}],
            'timestep_fs': exploration['timestep_fs'], 'seed': seed,
            'thermo_every': exploration['deviation_every']}


def run_seed(exploration: Mapping, iteration: int, index: int) -> int:
    """Velocity seed of run ``index`` of iteration ``iteration``: ``seed + 100 iteration + index``."""
    return exploration['seed'] + 100 * iteration + index


def validate_exploration(exploration: Mapping) -> str | None:
    """One line naming the first exploration setting that is missing, unknown or out of range; else None.

    Parameters
    ----------
    exploration : Mapping
        :data:`EXPLORATION_KEYS`: ``deviation_every`` (steps, >= 1), ``timestep_fs`` (fs),
        ``seed`` (>= 1) and ``conditions``, a non-empty list of conditions with unique names
        (see :func:`condition_parameters`), each with at least ``deviation_every`` steps.
    """
    message = key_message('exploration', exploration, EXPLORATION_KEYS)
    if message:
        return message
    every, conditions = exploration['deviation_every'], exploration['conditions']
    if not is_count(every, 1):
        return f'exploration.deviation_every: an integer number of steps >= 1, got {every!r}'
    if not isinstance(conditions, Sequence) or not conditions or not all(isinstance(c, Mapping) for c in conditions):
        return 'exploration.conditions: a non-empty list of conditions (name, type, temperature_k, steps, ...)'
    names = [condition.get('name') for condition in conditions]
    if len(set(names)) != len(names):
        return f'exploration.conditions: names must be unique, got {names}'
    for index, condition in enumerate(conditions):
        message = _condition_message(exploration, condition, index)
        if message:
            return f'exploration.conditions[{index}]: {message}'
    return None


def _condition_message(exploration: Mapping, condition: Mapping, index: int) -> str | None:
    """What is wrong with one exploration condition (see :func:`validate_exploration`), or None."""
    unknown = sorted(set(condition) - CONDITION_KEYS)
    if unknown:
        return f'unknown keys {unknown}; allowed: {sorted(CONDITION_KEYS)}'
    if not isinstance(condition.get('name'), str) or not _NAME.match(condition['name']):
        return f'name: a letter, then letters, digits or _, got {condition.get("name")!r}'
    if condition.get('type') not in CONDITION_TYPES:
        return f'type: one of {list(CONDITION_TYPES)}, got {condition.get("type")!r}'
    steps = condition.get('steps')
    if not is_count(steps, exploration['deviation_every']):
        return f'steps: an integer >= deviation_every = {exploration["deviation_every"]}, got {steps!r}'
    message = validate_parameters(condition_parameters(exploration, condition, run_seed(exploration, 0, index)))
    if message is None or not message.startswith('parameters.stages[0]'):
        return message
    return message.split(': ', 1)[1]  # the stage's own message names the key


def converged(accurate_fractions: Sequence[float], target: float, needed: int) -> bool:
    """Whether the last ``needed`` accurate fractions (one per iteration, in order) all reach ``target``."""
    return len(accurate_fractions) >= needed and all(f >= target for f in accurate_fractions[-needed:])


def levels_stable(levels: Sequence[float], tolerance: float, needed: int) -> bool:
    """Whether the last ``needed`` trust levels (eV/Å, one per iteration) change by less than ``tolerance`` (eV/Å).

    DPGEN2's convergence of an ``adaptive-lower`` trust level: every two successive levels of
    the last ``needed`` (>= 2) iterations differ by less than ``tolerance``; False with fewer
    iterations.
    """
    last = list(levels)[-needed:]
    return len(last) == needed and all(abs(b - a) < tolerance for a, b in zip(last, last[1:]))


def learning_converged(settings: Mapping, accurate_fractions: Sequence[float], trust_lo: Sequence[float]) -> bool:
    """The loop's convergence rule: accurate fractions (:func:`converged`) and, in adaptive mode, :func:`levels_stable`.

    Parameters
    ----------
    settings : Mapping
        Valid learning settings (:func:`validate_learning`).
    accurate_fractions, trust_lo : Sequence of float
        Accurate fraction and ``trust_lo`` (eV/Å) of every iteration so far, in order.
    """
    confident = converged(accurate_fractions, settings['accurate_target'], settings['converged_iterations'])
    if settings['trust_mode'] == 'fixed':
        return confident
    adaptive = settings['adaptive']
    return confident and levels_stable(trust_lo, adaptive['tolerance_ev_a'], adaptive['checked_iterations'])


def trust_window(settings: Mapping) -> str:
    """The trust levels of the learning ``settings`` in words: ``0.05-0.15``, or the adaptive bounds and target."""
    if settings['trust_mode'] == 'fixed':
        return f'{settings["trust_lo_ev_a"]}-{settings["trust_hi_ev_a"]}'
    adaptive = settings['adaptive']
    return (f'adaptive lower in [{adaptive["trust_lo_min_ev_a"]}, {adaptive["trust_lo_max_ev_a"]}] for '
            f'max({adaptive["candidates"]}, {adaptive["candidate_rate"]:.0%} of the frames) candidates, upper '
            f'{settings["trust_hi_ev_a"]}')


def process_seconds(nodes: Sequence[orm.ProcessNode]) -> float:
    """Wall time, s, from the creation of the first of ``nodes`` to the last modification of any of them."""
    if not nodes:
        return 0.0
    return (max(node.mtime for node in nodes) - min(node.ctime for node in nodes)).total_seconds()


class ActiveLearningWorkChain(ProtocolMixin, WorkChain):
    """Initial dataset -> (train, explore, select, label) until the ensemble is confident."""

    _protocol_file = 'active_learning.yaml'
    _protocol_open_sections = ('training', 'labelling', 'lammps_options')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('dataset', valid_type=LabelledDatasetData,
                   help='Initial labelled frames (e.g. AIMD frames); its validation frames are the fixed held-out set.')
        spec.input('structure', valid_type=orm.StructureData, required=False,
                   help='Starting structure of every exploration run, Å (default: the last frame of the dataset\'s '
                        'first system).')
        spec.input('learning', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Trust levels (eV/Å), trust_mode (fixed or adaptive) and the adaptive settings, '
                        'max_labels, selection, accurate_target, converged_iterations, max_iterations, warm_start.')
        spec.input('exploration', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='deviation_every (steps), timestep_fs (fs), seed and the conditions of the exploration runs.')
        spec.input('lammps_code', valid_type=orm.AbstractCode, help='LAMMPS with DeePMD-kit (boroglass-lmp).')
        spec.input('lammps_options', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Scheduler options of every exploration run.')
        spec.expose_inputs(DeepmdEnsembleWorkChain, namespace='training', exclude=('dataset',))
        spec.expose_inputs(DftLabelWorkChain, namespace='labelling', exclude=LABELLING_EXCLUDED)
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.should_iterate)(
                cls.train,
                cls.inspect_training,
                cls.explore,
                cls.inspect_exploration,
                if_(cls.should_label)(
                    cls.label,
                    cls.inspect_labelling,
                ),
                cls.close_iteration,
            ),
            cls.results,
        )
        spec.output_namespace('models', valid_type=orm.SinglefileData, dynamic=True,
                              help='Frozen models of the last ensemble (the one judged by the last exploration).')
        spec.output('dataset', valid_type=LabelledDatasetData, help='The dataset the last ensemble was trained on.')
        spec.output('validation', valid_type=orm.Dict, required=False,
                    help='Validation RMSEs of the last ensemble on the fixed held-out frames (eV/atom, eV/Å).')
        spec.output('report', valid_type=orm.Dict,
                    help='Per iteration: frames explored, trust levels used (eV/Å), accurate/candidate/failed '
                         'fractions, labels added, validation RMSEs and the wall time of each step (s).')
        spec.exit_code(401, 'ERROR_NOT_CONVERGED',
                       message='Not converged after {iterations} iterations: accurate fractions {fractions}, '
                               'target {target} in {needed} consecutive iterations{levels}.')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)
        spec.exit_code(403, 'ERROR_TRAINING_FAILED',
                       message='Iteration {iteration}: the ensemble {node} failed: {message}')
        spec.exit_code(404, 'ERROR_EXPLORATION_FAILED', message='Iteration {iteration}: every exploration run failed: '
                                                                 '{failures}')
        spec.exit_code(405, 'ERROR_LABELLING_FAILED', message='Iteration {iteration}: the labelling {node} failed: '
                                                               '{message}')
        spec.exit_code(406, 'ERROR_NO_CANDIDATES',
                       message='Iteration {iteration}: no candidate frame to label ({accurate:.0%} accurate, '
                               '{failed:.0%} failed): raise learning.trust_hi_ev_a or explore milder conditions.')

    @classmethod
    def validate_inputs(cls, value, _):
        """Settings in range; the labeller can label the structure; the ensemble can train on the dataset."""
        if any(key not in value for key in ('dataset', 'learning', 'exploration', 'labelling', 'training')):
            return None
        symbols = exploration_symbols(value)
        missing = sorted(set(symbols) - set(value['dataset'].type_map))
        if missing:
            return f'structure: elements {missing} are not in the dataset\'s type map {value["dataset"].type_map}'
        labelling = value['labelling']
        try:
            labeller = get_labeller(labelling['engine'].value)
        except ValueError as exception:
            return f'labelling.{exception}'
        message = (validate_learning(value['learning'].get_dict())
                   or validate_exploration(value['exploration'].get_dict())
                   or labeller.validate(labelling['dft'].get_dict(), symbols, 'structure'))
        if message:
            return message
        training = value['training']
        return DeepmdEnsembleWorkChain.validate_inputs({**training, 'dataset': value['dataset']}, None)

    @classmethod
    def get_builder_from_protocol(cls, lammps_code: orm.AbstractCode, dp_code: orm.AbstractCode,
                                  label_code: orm.AbstractCode, dataset: LabelledDatasetData,
                                  structure: orm.StructureData | None = None, protocol: str | None = None,
                                  overrides: Mapping | None = None, options: Mapping | None = None):
        """Return a builder filled from a protocol of ``active_learning.yaml`` (and its training and labelling ones).

        Parameters
        ----------
        lammps_code, dp_code, label_code : AbstractCode
            LAMMPS (with DeePMD-kit), DeePMD-kit's ``dp``, and the labeller's code (CP2K, VASP, or
            LAMMPS for the classical labeller).
        dataset : LabelledDatasetData
            The initial dataset.
        structure : StructureData, optional
            Starting structure of the explorations; default: the last frame of the dataset's
            first system, cut out by the workflow (:func:`~aiida_boroglass.functions.datasets.dataset_structure`).
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent`` for the loop, the training and the labels.
        overrides : Mapping, optional
            Keys of ``default_inputs``; ``training`` and ``labelling`` hold overrides of
            ``deepmd.yaml`` and ``dft_label.yaml``.
        options : Mapping, optional
            Scheduler options of every job (explorations, training, labels), merged over the protocols'.
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.dataset = dataset
        if structure is not None:
            builder.structure = structure
        builder.learning = inputs['learning']
        builder.exploration = inputs['exploration']
        builder.lammps_code = lammps_code
        builder.lammps_options = {**inputs['lammps_options'], **(options or {})}
        training = DeepmdEnsembleWorkChain.get_builder_from_protocol(dp_code, dataset, protocol, inputs['training'],
                                                                     options)
        builder.training = {key: training[key] for key in training if key not in ('dataset', 'metadata')}
        labelling = DftLabelWorkChain.get_builder_from_protocol(label_code, {}, protocol, inputs['labelling'], options)
        builder.labelling = {key: labelling[key] for key in labelling
                             if key not in (*LABELLING_EXCLUDED, 'metadata')}
        return builder

    @checked_step
    def setup(self):
        """Start from the initial dataset (and its last frame, when no structure is given); no iteration done."""
        self.ctx.structure = self.inputs.get('structure') or run_checked(dataset_structure, self.inputs.dataset,
                                                                          orm.Int(0))
        self.ctx.iteration = 0
        self.ctx.dataset = self.inputs.dataset
        self.ctx.accurate = []
        self.ctx.trust_lo = []
        self.ctx.stop = None
        self.ctx.records = {}  # iteration key -> {'selection', 'validation', 'labels'} nodes of the report
        self.ctx.timing = {}
        settings = self.inputs.learning.get_dict()
        self.report(f'concurrent learning from {self.inputs.dataset.n_frames} frames: trust levels '
                    f'{trust_window(settings)} eV/Å, up to {settings["max_labels"]} labels per iteration, '
                    f'{settings["max_iterations"]} iterations at most')

    def should_iterate(self) -> bool:
        """Whether another iteration runs: not converged, not stopped, iterations left."""
        return (self.ctx.stop is None and self.ctx.iteration < self.inputs.learning['max_iterations']
                and not self._converged_now())

    @property
    def _key(self) -> str:
        return iteration_key(self.ctx.iteration)

    def train(self):
        """Train the ensemble of this iteration on the current dataset (seeds advance with the iteration).

        With ``learning.warm_start`` every model after the first iteration starts from the same
        model of the previous iteration (``dp train --init-frz-model``).
        """
        inputs = self.exposed_inputs(DeepmdEnsembleWorkChain, 'training')
        inputs['seed'] = orm.Int(inputs['seed'].value + self.ctx.iteration * inputs['models'].value)
        if self.ctx.iteration > 0 and self.inputs.learning['warm_start']:
            inputs['init_models'] = dict(self.ctx.training.outputs.models)
        inputs['dataset'] = self.ctx.dataset
        inputs['metadata'] = {'call_link_label': f'{self._key}_training', 'label': f'{self._key} training'}
        node = submit_once(self, DeepmdEnsembleWorkChain, **inputs)
        self.ctx.records[self._key] = {}
        self.report(f'{self._key}: training {inputs["models"].value} models on {self.ctx.dataset.n_frames} frames '
                    f'as {node.process_label}<{node.pk}>')
        self.to_context(training=node)

    def inspect_training(self):
        """Stop when the ensemble failed."""
        node = self.ctx.training
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_TRAINING_FAILED.format(iteration=self.ctx.iteration, node=f'<{node.pk}>',
                                                                message=node.exit_message)
        self.ctx.records[self._key]['validation'] = node.outputs.validation
        return None

    def explore(self):
        """One DeePMD LAMMPS run per condition, frames and model deviation every ``deviation_every`` steps."""
        exploration = self.inputs.exploration.get_dict()
        potential = ensemble_potential(self.ctx.training, exploration['deviation_every'])
        self.ctx.explorations = []
        for index, condition in enumerate(exploration['conditions']):
            builder = LammpsBaseWorkChain.get_builder()
            set_lammps_code(builder, self.inputs.lammps_code, [], self.inputs.lammps_options.get_dict(), potential)
            builder.lammps.structure = self.ctx.structure
            builder.lammps.parameters = orm.Dict(condition_parameters(
                exploration, condition, run_seed(exploration, self.ctx.iteration, index)))
            label = f'{self._key}_explore_{condition["name"]}'
            builder.metadata = {'call_link_label': label, 'label': label.replace('_explore_', ' explore ')}
            node = submit_once(self, builder)
            self.ctx.explorations.append(condition['name'])
            self.to_context(**{f'explore_{condition["name"]}': node})
        self.report(f'{self._key}: exploring {self.ctx.explorations}')

    @checked_step
    def inspect_exploration(self):
        """Classify the frames of the finished runs and select the candidates to label."""
        self.ctx.structures = {}
        nodes = {name: self.ctx[f'explore_{name}'] for name in self.ctx.explorations}
        done = {name: node for name, node in nodes.items() if node.is_finished_ok and 'model_deviation' in node.outputs}
        failures = {name: f'<{node.pk}> {node.exit_status}: {node.exit_message}' for name, node in nodes.items()
                    if name not in done}
        if failures:
            self.report(f'{self._key}: exploration runs failed, their frames left out: {failures}')
        if not done:
            self.ctx.stop = {'label': 'ERROR_EXPLORATION_FAILED',
                             'values': {'iteration': self.ctx.iteration, 'failures': failures}}
            return None
        selected = run_checked(
            select_frames, self.inputs.learning,
            trajectories={name: node.outputs.trajectory for name, node in done.items()},
            deviations={name: node.outputs.model_deviation for name, node in done.items()})
        self.ctx.structures = dict(selected.get('structures', {}))
        self.ctx.records[self._key]['selection'] = selected['selection']
        summary = selected['selection'].get_dict()
        fractions = summary['fractions']
        self.ctx.accurate.append(fractions['accurate'])
        self.ctx.trust_lo.append(summary['trust_lo_ev_a'])
        self.report(f'{self._key}: {summary["n_frames"]} frames explored, trust levels {summary["trust_lo_ev_a"]:.4g}-'
                    f'{summary["trust_hi_ev_a"]:.4g} eV/Å ({summary["trust_reason"]}): {fractions["accurate"]:.1%} '
                    f'accurate, {fractions["candidate"]:.1%} candidates, {fractions["failed"]:.1%} failed; '
                    f'{len(self.ctx.structures)} selected')
        if not self.ctx.structures and fractions['accurate'] < self.inputs.learning['accurate_target']:
            self.ctx.stop = {'label': 'ERROR_NO_CANDIDATES', 'values': {
                'iteration': self.ctx.iteration, 'accurate': fractions['accurate'], 'failed': fractions['failed']}}
        return None

    def _converged_now(self) -> bool:
        """Whether the accurate fractions (and adaptive trust levels) so far meet the convergence criterion."""
        return learning_converged(self.inputs.learning.get_dict(), self.ctx.accurate, self.ctx.trust_lo)

    def should_label(self) -> bool:
        """Label when not converged, frames were selected and another iteration will train on them."""
        last = self.ctx.iteration + 1 >= self.inputs.learning['max_iterations']
        return bool(self.ctx.structures) and self.ctx.stop is None and not self._converged_now() and not last

    def label(self):
        """Label the selected frames with the labeller of the ``labelling`` inputs."""
        inputs = self.exposed_inputs(DftLabelWorkChain, 'labelling')
        inputs['structures'] = self.ctx.structures
        inputs['metadata'] = {'call_link_label': f'{self._key}_labelling', 'label': f'{self._key} labelling'}
        node = submit_once(self, DftLabelWorkChain, **inputs)
        self.report(f'{self._key}: labelling {len(self.ctx.structures)} frames with {inputs["engine"].value} '
                    f'as {node.process_label}<{node.pk}>')
        self.to_context(labelling=node)

    @checked_step
    def inspect_labelling(self):
        """Append the labelled frames to the training frames of the dataset."""
        node = self.ctx.labelling
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_LABELLING_FAILED.format(iteration=self.ctx.iteration, node=f'<{node.pk}>',
                                                                 message=node.exit_message)
        labels = node.outputs.dataset
        self.ctx.records[self._key]['labels'] = labels
        self.ctx.dataset = run_checked(extend_dataset, self.ctx.dataset, labels)
        self.report(f'{self._key}: {len(labels.get_array("energies"))} frames labelled; the dataset now holds '
                    f'{self.ctx.dataset.n_frames} frames')
        return None

    def close_iteration(self):
        """Record the wall time of each step of the iteration and move on."""
        if 'selection' not in self.ctx.records[self._key]:
            self.ctx.iteration += 1
            return
        steps = {'train_s': [self.ctx.training],
                 'explore_s': [self.ctx[f'explore_{name}'] for name in self.ctx.explorations],
                 'label_s': [self.ctx.labelling] if 'labels' in self.ctx.records[self._key] else []}
        timing = {name: process_seconds(nodes) for name, nodes in steps.items()}
        timing['select_s'] = process_seconds([self.ctx.records[self._key]['selection'].creator])
        timing['iteration_s'] = process_seconds([self.ctx.training, *steps['explore_s'], *steps['label_s']])
        timing['dataset_frames'] = self.ctx.training.inputs.dataset.n_frames
        self.ctx.timing[self._key] = timing
        self.ctx.iteration += 1

    @checked_step
    def results(self):
        """Attach the last ensemble, its dataset and the report; fail when the loop stopped or did not converge."""
        training = self.ctx.training
        self.out('models', dict(training.outputs.models))
        self.out('dataset', training.inputs.dataset)
        self.out('validation', training.outputs.validation)
        records = self.ctx.records
        report = run_checked(
            learning_report, orm.Dict({'timing': self.ctx.timing, 'learning': self.inputs.learning.get_dict()}),
            selection={key: record['selection'] for key, record in records.items() if 'selection' in record},
            validation={key: record['validation'] for key, record in records.items() if 'validation' in record},
            labels={key: record['labels'] for key, record in records.items() if 'labels' in record})
        self.out('report', report)
        if self.ctx.stop is not None:
            return getattr(self.exit_codes, self.ctx.stop['label']).format(**self.ctx.stop['values'])
        settings = self.inputs.learning.get_dict()
        levels = '' if settings['trust_mode'] == 'fixed' else (
            f'; adaptive trust_lo {[round(level, 4) for level in self.ctx.trust_lo]} eV/Å, to agree within '
            f'{settings["adaptive"]["tolerance_ev_a"]} eV/Å over {settings["adaptive"]["checked_iterations"]} '
            'iterations')
        if not self._converged_now():
            return self.exit_codes.ERROR_NOT_CONVERGED.format(
                iterations=self.ctx.iteration, fractions=[round(f, 3) for f in self.ctx.accurate],
                target=settings['accurate_target'], needed=settings['converged_iterations'], levels=levels)
        self.report(f'converged after {self.ctx.iteration} iterations: accurate fractions '
                    f'{[round(f, 3) for f in self.ctx.accurate]}{levels}')
        return None
