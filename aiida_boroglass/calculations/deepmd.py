"""DeePMD-kit CalcJobs: train one model (``dp train`` -> ``dp freeze`` -> ``dp test``) and the model deviation of a trajectory.

Both run DeePMD-kit's TensorFlow backend (``dp --tf``), the backend the package pins: it
trains, freezes to a ``.pb`` graph and runs in LAMMPS ``pair_style deepmd`` on CPU.
A frozen model is a ``SinglefileData`` with the attributes ``type_map`` (elements in the
order of the model's types) and ``backend``; every model this package trains carries them.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import dpdata
import numpy as np
from aiida import orm
from aiida.common.datastructures import CalcInfo, CodeInfo, CodeRunMode
from aiida.common.folders import Folder
from aiida.engine import CalcJob

from aiida_boroglass.calculations import deepmd_inputs as di
from aiida_boroglass.data.dataset import LabelledDatasetData

BACKEND = 'tensorflow'
#: the training job's logs: one per ``dp`` command
TRAIN_LOG, FREEZE_LOG, TEST_LOG = 'train.log', 'freeze.log', 'test.log'
#: ``dp test -d test`` detail files: energies per atom (eV/atom) and forces (eV/Å) of the validation frames
DETAIL_FILES = {'energy': f'{di.DETAIL_PREFIX}.e_peratom.out', 'force': f'{di.DETAIL_PREFIX}.f.out'}
#: the frozen model a warm-started training begins from, in the job's folder
INIT_MODEL_FILE = 'init_model.pb'
#: the sections of the training settings that fix a model's network: a warm start keeps them
ARCHITECTURE_KEYS = ('descriptor', 'fitting_net')
#: the model deviation job's files
DEVIATION_FILE, DEVIATION_LOG, FRAMES_FOLDER = 'model_devi.out', 'model_devi.log', 'frames'


def trajectory_system(trajectory: orm.TrajectoryData, type_map: Sequence[str]) -> dpdata.System:
    """The frames of ``trajectory`` as a dpdata ``System`` whose types follow ``type_map``.

    Parameters
    ----------
    trajectory : TrajectoryData
        ``positions`` (n_frames, n_atoms, 3) Å and ``cells`` (n_frames, 3, 3) Å.
    type_map : sequence of str
        Elements of the model's types, covering the trajectory's.

    Returns
    -------
    dpdata.System
        The frames in the trajectory's atom order, ``atom_names`` = ``type_map``.
    """
    symbols = list(trajectory.symbols)
    types = np.array([list(type_map).index(symbol) for symbol in symbols])
    return dpdata.System(data={
        'atom_names': list(type_map), 'atom_numbs': [int(np.sum(types == i)) for i in range(len(type_map))],
        'atom_types': types, 'orig': np.zeros(3), 'nopbc': False,
        'coords': trajectory.get_positions(), 'cells': trajectory.get_cells(),
    })


def _dp(code: orm.AbstractCode, arguments: list[str], stdout: str) -> CodeInfo:
    """One serial ``dp --tf ...`` command of the job, its output in ``stdout``."""
    codeinfo = CodeInfo()
    codeinfo.code_uuid = code.uuid
    codeinfo.cmdline_params = ['--tf', *arguments]
    codeinfo.stdout_name = stdout
    codeinfo.join_files = True
    return codeinfo


def model_type_maps(models) -> dict[str, list[str] | None]:
    """The ``type_map`` attribute of each model (None where it is missing), by key."""
    return {key: model.base.attributes.get('type_map', None) for key, model in models.items()}


def validate_models(models, symbols, minimum: int) -> str | None:
    """One line naming what is wrong with an ensemble of frozen models, else None.

    Parameters
    ----------
    models : Mapping of str to SinglefileData
        The frozen models.
    symbols : iterable of str
        Elements the models must know (the structure's).
    minimum : int
        Fewest models allowed (2 for a model deviation: the spread of one model is zero).
    """
    if len(models) < minimum:
        return f'models: {len(models)} given; a model deviation needs at least {minimum} models of one ensemble'
    maps = model_type_maps(models)
    unknown = sorted(key for key, type_map in maps.items() if not type_map)
    if unknown:
        return f'models: {unknown} have no type_map attribute; train them with boroglass.deepmd_train or set it'
    if len({tuple(type_map) for type_map in maps.values()}) > 1:
        return f'models: their type maps differ ({maps}); an ensemble shares one'
    type_map = next(iter(maps.values()))
    missing = sorted(set(symbols) - set(type_map))
    if missing:
        return f'models: elements {missing} are missing from the type map {type_map}'
    return None


def validate_training(dataset: LabelledDatasetData, settings: dict) -> str | None:
    """One line naming a training setting out of range, or a dataset without validation frames; else None."""
    message = di.validate_training_settings(settings, dataset.type_map)
    if message:
        return message
    if not any(system['validation'] for system in dataset.systems):
        return 'dataset: has no validation frames; build it with 2 or more frames per system'
    return None


def validate_init_model(init_model: orm.SinglefileData, type_map: Sequence[str], settings: dict) -> str | None:
    """One line naming why ``init_model`` cannot start a training of ``settings`` on ``type_map``, else None.

    A warm start (``dp train --init-frz-model``) keeps the network of the frozen model: its
    ``type_map`` attribute must equal the dataset's; its ``sel`` attribute (neighbour counts as
    trained) must equal a ``descriptor.sel`` list, and stands for ``sel: auto``; for a model
    trained by this package (its creator holds the settings) the other ``descriptor`` and the
    ``fitting_net`` settings must match.
    """
    model_map = init_model.base.attributes.get('type_map', None)
    if list(model_map or []) != list(type_map):
        return (f'init_model: its type_map {model_map} differs from the dataset\'s {list(type_map)}; '
                'a warm start keeps the model\'s types')
    model_sel, sel = init_model.base.attributes.get('sel', None), settings['descriptor']['sel']
    if model_sel is None and sel == 'auto':
        return 'init_model: has no sel attribute (its neighbour counts); give descriptor.sel as a list of counts'
    if model_sel is not None and sel not in ('auto', model_sel):
        return f'init_model: was trained with sel {model_sel}, not {sel}; a warm start keeps the network'
    creator = init_model.creator
    if creator is None or 'settings' not in creator.inputs:
        return None
    trained = creator.inputs.settings.get_dict()
    changed = [key for key in ARCHITECTURE_KEYS if network(trained[key]) != network(settings[key])]
    if changed:
        return (f'init_model: its {", ".join(changed)} settings differ from these ({trained[changed[0]]} against '
                f'{settings[changed[0]]}); a warm start keeps the network')
    return None


def network(section: dict) -> dict:
    """A ``descriptor`` or ``fitting_net`` section without ``sel`` (checked against the model's own counts)."""
    return {key: value for key, value in section.items() if key != 'sel'}


def warm_settings(settings: dict, init_model: orm.SinglefileData) -> dict:
    """``settings`` with ``descriptor.sel: auto`` replaced by the neighbour counts ``init_model`` was trained with."""
    if settings['descriptor']['sel'] != 'auto':
        return settings
    return {**settings, 'descriptor': {**settings['descriptor'], 'sel': init_model.base.attributes.get('sel')}}


def serial_dp_job(spec, parser_name: str) -> None:
    """Defaults of a DeePMD-kit job: its parser, one process on one machine, no MPI."""
    options = spec.inputs['metadata']['options']
    options['parser_name'].default = parser_name
    options['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
    options['withmpi'].default = False
    spec.exit_code(350, 'ERROR_UNEXPECTED_PARSER_EXCEPTION', message='The parser raised: {exception}')


class DeepmdTrainCalculation(CalcJob):
    """Train one DeePMD model on a labelled dataset, freeze it and test it on the dataset's validation frames.

    The three ``dp --tf`` commands run one after another in one job: ``train input.json``,
    ``freeze -o model.pb``, ``test -m model.pb -s validation -d test``. The model differs
    from the other models of its ensemble only by ``seed``. With ``init_model`` the training
    is warm-started from that frozen model (``dp train --init-frz-model``): its weights, not
    random ones, are the start.
    """

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('dataset', valid_type=LabelledDatasetData,
                   help='Labelled frames with their train/validation split (boroglass.dataset).')
        spec.input('settings', valid_type=orm.Dict,
                   help='Training settings: the sections of calculations.deepmd_inputs.SETTINGS_KEYS.')
        spec.input('seed', valid_type=orm.Int, serializer=orm.to_aiida_type,
                   help='Seed of the weights, the descriptor and the batch order.')
        spec.input('init_model', valid_type=orm.SinglefileData, required=False,
                   help='A frozen model (.pb, attribute type_map) to warm-start from: same types and network.')
        spec.inputs.validator = cls.validate_inputs
        serial_dp_job(spec, 'boroglass.deepmd_train')

        spec.output('model', valid_type=orm.SinglefileData,
                    help='The frozen model (TensorFlow graph, .pb); attributes type_map, backend, seed, rcut_a.')
        spec.output('learning_curve', valid_type=orm.ArrayData,
                    help='lcurve.out: step, rmse_e_val/trn (eV/atom), rmse_f_val/trn (eV/Å), lr, ... per row.')
        spec.output('validation', valid_type=orm.Dict,
                    help='RMSE on the validation frames: energy_rmse_ev_per_atom, force_rmse_ev_a, frames, atoms.')
        spec.output('parity', valid_type=orm.ArrayData,
                    help='Reference and model values on the validation frames: energy_dft/energy_model '
                         '(n_frames,) eV/atom, force_dft/force_model (n_atoms_total, 3) eV/Å.')

        spec.exit_code(300, 'ERROR_TRAINING_FAILED', message='dp train wrote no learning curve: {tail}')
        spec.exit_code(301, 'ERROR_FREEZE_FAILED', message='dp freeze wrote no model: {tail}')
        spec.exit_code(302, 'ERROR_TEST_FAILED', message='dp test wrote no detail files: {tail}')

    @classmethod
    def validate_inputs(cls, value, ctx):
        """Settings complete and in range; a dataset with validation frames; a warm start's model that fits."""
        if any(key not in value for key in ('dataset', 'settings')):
            return None  # a wrapping workflow sets them
        settings = value['settings'].get_dict()
        message = validate_training(value['dataset'], settings)
        if message is None and 'init_model' in value:
            message = validate_init_model(value['init_model'], value['dataset'].type_map, settings)
        return message

    def prepare_for_submission(self, folder: Folder) -> CalcInfo:
        """Write the dataset as DeePMD systems and the input JSON; run train, freeze, test."""
        dataset = self.inputs.dataset
        systems = dataset.write_deepmd(folder.get_subfolder('.', create=True).abspath)
        use_virial = all(system['has_virials'] for system in dataset.systems)
        settings = self.inputs.settings.get_dict()
        if 'init_model' in self.inputs:
            settings = warm_settings(settings, self.inputs.init_model)
        content = di.train_input(settings, dataset.type_map, systems['train'],
                                 systems['validation'], self.inputs.seed.value, use_virial)
        with folder.open(di.INPUT_FILE, 'w') as handle:
            json.dump(content, handle, indent=1)

        code = self.inputs.code
        calcinfo = CalcInfo()
        warm = ['--init-frz-model', INIT_MODEL_FILE] if 'init_model' in self.inputs else []
        calcinfo.codes_info = [
            _dp(code, ['train', di.INPUT_FILE, *warm], TRAIN_LOG),
            _dp(code, ['freeze', '-o', di.MODEL_FILE], FREEZE_LOG),
            _dp(code, ['test', '-m', di.MODEL_FILE, '-s', 'validation', '-d', di.DETAIL_PREFIX], TEST_LOG),
        ]
        calcinfo.codes_run_mode = CodeRunMode.SERIAL
        if warm:
            model = self.inputs.init_model
            calcinfo.local_copy_list = [(model.uuid, model.filename, INIT_MODEL_FILE)]
        calcinfo.provenance_exclude_list = ['train', 'validation']
        calcinfo.retrieve_list = [TRAIN_LOG, FREEZE_LOG, TEST_LOG, di.LCURVE_FILE, di.PARAMETERS_FILE,
                                  *DETAIL_FILES.values()]
        calcinfo.retrieve_temporary_list = [di.MODEL_FILE]
        return calcinfo


class DeepmdModelDeviationCalculation(CalcJob):
    """Model deviation of the frames of a stored trajectory under an ensemble (``dp model-devi``)."""

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input_namespace('models', valid_type=orm.SinglefileData, dynamic=True,
                             help='Frozen models of one ensemble (2 or more), each with a type_map attribute.')
        spec.input('trajectory', valid_type=orm.TrajectoryData,
                   help='Frames (positions and cells, Å) whose model deviation is computed.')
        spec.inputs.validator = cls.validate_deviation
        serial_dp_job(spec, 'boroglass.deepmd_model_deviation')
        spec.output('model_deviation', valid_type=orm.ArrayData,
                    help='Per frame: frame (index in the trajectory), max/min/avg_devi_f (eV/Å), '
                         'max/min/avg_devi_v (eV, per atom).')
        spec.exit_code(300, 'ERROR_OUTPUT_MISSING', message='dp model-devi wrote no model deviation: {tail}')

    @classmethod
    def validate_deviation(cls, value, ctx):
        """Two or more models of one type map that covers the trajectory's elements; a trajectory with cells."""
        if any(key not in value for key in ('models', 'trajectory')):
            return None
        trajectory = value['trajectory']
        if 'cells' not in trajectory.get_arraynames():
            return 'trajectory: has no cells; the model deviation of a periodic glass needs them'
        return validate_models(value['models'], trajectory.symbols, minimum=2)

    def prepare_for_submission(self, folder: Folder) -> CalcInfo:
        """Write the frames as a DeePMD system and the models; run ``dp model-devi``."""
        models = self.inputs.models
        type_map = next(iter(model_type_maps(models).values()))
        trajectory_system(self.inputs.trajectory, type_map).to('deepmd/npy', folder.get_subfolder(
            FRAMES_FOLDER, create=True).abspath)
        names = []
        for key in sorted(models):
            names.append(f'{key}.pb')
            with folder.open(names[-1], 'wb') as handle:
                handle.write(models[key].get_content(mode='rb'))
        calcinfo = CalcInfo()
        calcinfo.codes_info = [_dp(self.inputs.code, ['model-devi', '-m', *names, '-s', FRAMES_FOLDER,
                                                      '-o', DEVIATION_FILE, '-f', '1'], DEVIATION_LOG)]
        calcinfo.provenance_exclude_list = names
        calcinfo.retrieve_list = [DEVIATION_FILE, DEVIATION_LOG]
        return calcinfo
