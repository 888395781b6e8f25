"""``boroglass.deepmd_ensemble``: N DeePMD models trained on one dataset, differing only in their seeds.

Paper 001 measures the uncertainty of its potential as the spread of five models trained on
the same data from different initial parameters. Here each model is one
``boroglass.deepmd_train`` job (train, freeze, test on the dataset's validation frames),
``max_concurrent`` at a time; the ensemble returns the frozen models (the ``models`` input
of ``boroglass.lammps`` and ``boroglass.deepmd_model_deviation``), their learning curves,
parity data and a table of validation RMSEs with mean and spread over the models.
"""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.engine import WorkChain, while_

from aiida_boroglass.calculations import deepmd_inputs as di
from aiida_boroglass.calculations.deepmd import DeepmdTrainCalculation, validate_init_model, validate_training
from aiida_boroglass.data.dataset import LabelledDatasetData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.learning import ensemble_validation
from aiida_boroglass.functions.utils import validate_max_concurrent
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: fewest models of an ensemble: the model deviation of one model is zero
MIN_MODELS = 2


def model_key(index: int) -> str:
    """Key of model ``index`` of an ensemble: ``model_0``, ``model_1``, ..."""
    return f'model_{index}'


def ensemble_potential(node: orm.WorkflowNode, model_deviation_every: int) -> dict:
    """The DeePMD potential of a finished ensemble, as ``boroglass.lammps`` and the MD workflows take it.

    Parameters
    ----------
    node : WorkflowNode
        A finished ``boroglass.deepmd_ensemble`` (its ``models`` output, its dataset's type map).
    model_deviation_every : int
        Steps between rows of the model deviation written along the MD.

    Returns
    -------
    dict
        ``models`` (key -> SinglefileData) and ``deepmd`` (Dict: ``type_map``, ``model_deviation_every``).
    """
    return {'models': dict(node.outputs.models),
            'deepmd': orm.Dict({'type_map': list(node.inputs.dataset.type_map), 'model_deviation_every': model_deviation_every})}


def thread_environment(options: Mapping) -> dict[str, str]:
    """Environment of a training job: TensorFlow and OpenMP threads capped to its cores, TensorFlow's log quiet.

    Parameters
    ----------
    options : Mapping
        Scheduler options; ``resources.num_cores_per_mpiproc`` (default 1) cores per job.
    """
    cores = str(options.get('resources', {}).get('num_cores_per_mpiproc', 1))
    return {'OMP_NUM_THREADS': cores, 'DP_INTRA_OP_PARALLELISM_THREADS': cores,
            'DP_INTER_OP_PARALLELISM_THREADS': '1', 'TF_CPP_MIN_LOG_LEVEL': '2'}


class DeepmdEnsembleWorkChain(ProtocolMixin, WorkChain):
    """Dataset -> N trained, frozen and tested DeePMD models (seeds seed, seed + 1, ...)."""

    _protocol_file = 'deepmd.yaml'
    _protocol_open_sections = ('options',)

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('dataset', valid_type=LabelledDatasetData,
                   help='Labelled frames with their train/validation split (boroglass.dataset).')
        spec.input('code', valid_type=orm.AbstractCode, help='DeePMD-kit `dp` of the environment.')
        spec.input('models', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(4),
                   help=f'Models of the ensemble, {MIN_MODELS} or more (paper 001: 5).')
        spec.input('seed', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(1),
                   help='Seed of the first model; model i is trained with seed + i.')
        spec.input('settings', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Training settings: descriptor, fitting_net, learning_rate, loss, training.')
        spec.input('options', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Scheduler options of every training job: resources, max_wallclock_seconds (s), withmpi.')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent, help='Models training at the same time.')
        spec.input_namespace('init_models', valid_type=orm.SinglefileData, dynamic=True, required=False,
                             help='Frozen models by key model_i to warm-start model_i from (same types and network).')
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.has_pending)(cls.train_batch),
            cls.results,
        )
        spec.output_namespace('models', valid_type=orm.SinglefileData, dynamic=True,
                              help='Frozen models by key model_i (attributes type_map, backend, seed, rcut_a).')
        spec.output_namespace('learning_curves', valid_type=orm.ArrayData, dynamic=True,
                              help='lcurve.out of each model (step, rmse_e/f/v_val/trn, lr).')
        spec.output_namespace('parity', valid_type=orm.ArrayData, dynamic=True,
                              help='DFT and model energies (eV/atom) and forces (eV/Å) on the validation frames.')
        spec.output('validation', valid_type=orm.Dict,
                    help='Validation RMSEs per model (eV/atom, eV/Å) with mean and standard deviation.')
        spec.exit_code(401, 'ERROR_TRAINING_FAILED',
                       message='{count} of the models failed to train: {failures}')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, ctx):
        """Enough models; training settings complete and in range for the dataset's elements.

        Exposed without its dataset (``boroglass.active_learning`` trains on a new one every
        iteration), the wrapping workflow calls it with its dataset.
        """
        if ctx is not None and 'dataset' not in ctx:
            return None
        if value['models'].value < MIN_MODELS:
            return (f'models: {value["models"].value}; an ensemble needs at least {MIN_MODELS} models '
                    'for its model deviation (paper 001: 5)')
        settings = value['settings'].get_dict()
        message = validate_training(value['dataset'], settings)
        init_models = value.get('init_models', {})
        unknown = sorted(set(init_models) - {model_key(index) for index in range(value['models'].value)})
        if message is None and unknown:
            message = f'init_models: {unknown} are not models of this ensemble (model_0 .. model_{value["models"].value - 1})'
        for key in sorted(init_models):
            message = message or validate_init_model(init_models[key], value['dataset'].type_map, settings)
        return message

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode, dataset: LabelledDatasetData,
                                  protocol: str | None = None, overrides: Mapping | None = None,
                                  options: Mapping | None = None):
        """Return a builder filled from a protocol of ``deepmd.yaml``.

        Parameters
        ----------
        code : AbstractCode
            DeePMD-kit's ``dp``.
        dataset : LabelledDatasetData
            The training data.
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Nested values replacing the protocol's (keys of the YAML ``default_inputs``).
        options : Mapping, optional
            Scheduler options of the training jobs, merged over the protocol's.
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.code = code
        builder.dataset = dataset
        builder.models = inputs['models']
        builder.seed = inputs['seed']
        builder.max_concurrent = inputs['max_concurrent']
        builder.settings = {section: inputs[section] for section in di.SETTINGS_KEYS}
        builder.options = {**inputs['options'], **(options or {})}
        return builder

    def setup(self):
        """List the models to train."""
        self.ctx.pending = list(range(self.inputs.models.value))
        self.report(f'{len(self.ctx.pending)} models on {self.inputs.dataset.n_frames} frames, '
                    f'{self.inputs.max_concurrent.value} at a time')

    def has_pending(self) -> bool:
        """Whether models are left to train."""
        return bool(self.ctx.pending)

    def train_batch(self):
        """Submit the training jobs of the next ``max_concurrent`` models."""
        size = self.inputs.max_concurrent.value
        batch, self.ctx.pending = self.ctx.pending[:size], self.ctx.pending[size:]
        options = self.inputs.options.get_dict()
        options['environment_variables'] = {**thread_environment(options), **options.get('environment_variables', {})}
        for index in batch:
            key = model_key(index)
            warm = {'init_model': self.inputs.init_models[key]} if key in self.inputs.get('init_models', {}) else {}
            node = submit_once(self, DeepmdTrainCalculation, code=self.inputs.code, dataset=self.inputs.dataset,
                               settings=self.inputs.settings, seed=orm.Int(self.inputs.seed.value + index), **warm,
                               metadata={'options': options, 'call_link_label': key, 'label': key})
            start = f' warm-started from the model <{warm["init_model"].pk}>' if warm else ''
            self.report(f'training {key} (seed {self.inputs.seed.value + index}){start} as '
                        f'{node.process_label}<{node.pk}>')
            self.to_context(**{key: node})

    @checked_step
    def results(self):
        """Attach every trained model; fail naming the models that did not train."""
        keys = [model_key(index) for index in range(self.inputs.models.value)]
        failures = [f'{key}: {self.ctx[key].process_label}<{self.ctx[key].pk}> exit status '
                    f'{self.ctx[key].exit_status}: {self.ctx[key].exit_message}'
                    for key in keys if not self.ctx[key].is_finished_ok]
        trained = [key for key in keys if self.ctx[key].is_finished_ok]
        self.out('models', {key: self.ctx[key].outputs.model for key in trained})
        self.out('learning_curves', {key: self.ctx[key].outputs.learning_curve for key in trained})
        self.out('parity', {key: self.ctx[key].outputs.parity for key in trained})
        if failures:
            self.report('; '.join(failures))
            return self.exit_codes.ERROR_TRAINING_FAILED.format(count=len(failures), failures='; '.join(failures))
        validation = run_checked(ensemble_validation, **{key: self.ctx[key].outputs.validation for key in trained})
        self.out('validation', validation)
        table = validation.get_dict()
        self.report(f'force RMSE {table["force_rmse_ev_a_mean"]:.4f} ± {table["force_rmse_ev_a_std"]:.4f} eV/Å, '
                    f'energy RMSE {1e3 * table["energy_rmse_ev_per_atom_mean"]:.2f} ± '
                    f'{1e3 * table["energy_rmse_ev_per_atom_std"]:.2f} meV/atom over {len(trained)} models')
        return None
