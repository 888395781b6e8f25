"""Inputs of DeePMD-kit training (``dp --tf train``): settings checked, then the input JSON.

Training *settings* are the sections of the ``deepmd`` protocol (see
``workflows/protocols/deepmd.yaml``):

``descriptor``
    ``se_e2_a`` settings: ``rcut`` and ``rcut_smth`` (Å), ``sel`` (``auto`` or a list of
    neighbour counts per type), ``neuron`` (embedding widths), ``axis_neuron``.
``fitting_net``
    ``neuron`` (fitting widths).
``learning_rate``
    ``start_lr`` and ``stop_lr``: exponential decay between them over the training.
``loss``
    The energy/force/virial prefactors ``start_pref_e`` ... ``limit_pref_v``.
``training``
    ``numb_steps``, ``batch_size`` (``auto`` or an int), ``disp_freq`` (steps between rows
    of the learning curve).

The type map, data systems and seeds come from the dataset and the ensemble, never from
the settings, so that every model of an ensemble differs only in its seed.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

#: the sections of the training settings and the keys each must have
SETTINGS_KEYS = {
    'descriptor': ('type', 'rcut', 'rcut_smth', 'sel', 'neuron', 'axis_neuron'),
    'fitting_net': ('neuron',),
    'learning_rate': ('start_lr', 'stop_lr'),
    'loss': ('start_pref_e', 'limit_pref_e', 'start_pref_f', 'limit_pref_f', 'start_pref_v', 'limit_pref_v'),
    'training': ('numb_steps', 'batch_size', 'disp_freq'),
}
#: the descriptors this package trains (two-body embedding with full radial and angular information)
DESCRIPTORS = ('se_e2_a',)
#: learning-rate decays per training: DeePMD-kit lowers the rate every ``decay_steps`` steps
LEARNING_RATE_DECAYS = 100
#: file names of the training job
INPUT_FILE = 'input.json'
LCURVE_FILE = 'lcurve.out'
#: ``dp train``'s record of the parameters it trained with (``sel: auto`` resolved to counts)
PARAMETERS_FILE = 'out.json'
MODEL_FILE = 'model.pb'
DETAIL_PREFIX = 'test'
VALIDATION_LIST = 'validation_systems.txt'


def _positive_widths(value) -> bool:
    """True for a non-empty list of positive ints (network layer widths)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, int) and v > 0 for v in value)


def _section_message(settings: Mapping) -> str | None:
    """One line naming a missing or unknown section or key of the training settings, else None."""
    unknown = sorted(set(settings) - set(SETTINGS_KEYS))
    if unknown:
        return f'training settings: unknown sections {unknown}; allowed: {sorted(SETTINGS_KEYS)}'
    for section, keys in SETTINGS_KEYS.items():
        values = settings.get(section)
        if not isinstance(values, Mapping):
            return f'{section}: missing; give a mapping with {list(keys)}'
        missing, extra = sorted(set(keys) - set(values)), sorted(set(values) - set(keys))
        if missing or extra:
            return f'{section}: missing keys {missing}, unknown keys {extra}; allowed: {list(keys)}'
    return None


def _value_checks(settings: Mapping):
    """(ok, field, allowed values) of every training setting, in order; each evaluated only once the earlier pass."""
    descriptor, training = settings['descriptor'], settings['training']
    rates, loss, rcut = settings['learning_rate'], settings['loss'], descriptor['rcut']
    yield descriptor['type'] in DESCRIPTORS, 'descriptor.type', f'one of {list(DESCRIPTORS)}'
    yield isinstance(rcut, (int, float)) and rcut > 0, 'descriptor.rcut', 'a cutoff > 0, Å'
    yield (isinstance(descriptor['rcut_smth'], (int, float)) and 0 <= descriptor['rcut_smth'] < rcut,
           'descriptor.rcut_smth', f'a distance in [0, rcut = {rcut}), Å')
    yield (descriptor['sel'] == 'auto' or _positive_widths(descriptor['sel']), 'descriptor.sel',
           "'auto' or a list of neighbour counts > 0")
    yield _positive_widths(descriptor['neuron']), 'descriptor.neuron', 'a list of layer widths > 0'
    last = descriptor['neuron'][-1]
    yield (isinstance(descriptor['axis_neuron'], int) and 0 < descriptor['axis_neuron'] <= last,
           'descriptor.axis_neuron', f'an int in [1, {last}] (the last embedding width)')
    yield _positive_widths(settings['fitting_net']['neuron']), 'fitting_net.neuron', 'a list of layer widths > 0'
    yield 0 < rates['stop_lr'] <= rates['start_lr'], 'learning_rate', '0 < stop_lr <= start_lr'
    yield all(isinstance(v, (int, float)) and v >= 0 for v in loss.values()), 'loss', 'prefactors >= 0'
    steps = training['numb_steps']
    yield isinstance(steps, int) and steps > 0, 'training.numb_steps', 'an int > 0'
    yield (training['batch_size'] == 'auto' or (isinstance(training['batch_size'], int) and training['batch_size'] > 0),
           'training.batch_size', "'auto' or an int > 0")
    yield (isinstance(training['disp_freq'], int) and 0 < training['disp_freq'] <= steps,
           'training.disp_freq', f'an int in [1, numb_steps = {steps}]')


def _value_message(settings: Mapping) -> str | None:
    """One line naming the first value out of range, else None (sections already complete)."""
    for ok, field, allowed in _value_checks(settings):
        if not ok:
            return f'{field}: {allowed}'
    return None


def validate_training_settings(settings: Mapping, type_map: Sequence[str] | None = None) -> str | None:
    """One line naming the first missing, unknown or out-of-range training setting, else None.

    Parameters
    ----------
    settings : Mapping
        The sections of :data:`SETTINGS_KEYS`.
    type_map : sequence of str, optional
        Elements of the dataset; a ``descriptor.sel`` list must have one count per element.
    """
    message = _section_message(settings) or _value_message(settings)
    if message:
        return message
    sel = settings['descriptor']['sel']
    if type_map is not None and sel != 'auto' and len(sel) != len(type_map):
        return f'descriptor.sel: {len(sel)} neighbour counts for the {len(type_map)} elements {list(type_map)}'
    return None


def decay_steps(numb_steps: int) -> int:
    """Steps between learning-rate decays: :data:`LEARNING_RATE_DECAYS` decays per training, at least 1 step."""
    return max(1, numb_steps // LEARNING_RATE_DECAYS)


def train_input(settings: Mapping, type_map: Sequence[str], train_systems: Sequence[str],
                validation_systems: Sequence[str], seed: int, use_virial: bool) -> dict:
    """The ``dp train`` input of one model.

    Parameters
    ----------
    settings : Mapping
        Training settings, valid for :func:`validate_training_settings`.
    type_map : sequence of str
        Elements in the order of the data's type indices.
    train_systems, validation_systems : sequence of str
        DeePMD ``deepmd/npy`` system folders, relative to the job folder.
    seed : int
        Seed of the network initialisation, the descriptor and the batch order: the only
        difference between two models of an ensemble.
    use_virial : bool
        Whether every training system has virials; without them the virial prefactors are 0.

    Returns
    -------
    dict
        The input JSON as a dict (``model``, ``learning_rate``, ``loss``, ``training``).
    """
    training = settings['training']
    loss = dict(settings['loss'])
    if not use_virial:
        loss.update(start_pref_v=0.0, limit_pref_v=0.0)
    return {
        'model': {
            'type_map': list(type_map),
            'descriptor': {**settings['descriptor'], 'seed': seed},
            'fitting_net': {**settings['fitting_net'], 'seed': seed},
        },
        'learning_rate': {'type': 'exp', **settings['learning_rate'], 'decay_steps': decay_steps(training['numb_steps'])},
        'loss': {'type': 'ener', **loss},
        'training': {
            'training_data': {'systems': list(train_systems), 'batch_size': training['batch_size']},
            'validation_data': {'systems': list(validation_systems), 'batch_size': 'auto', 'numb_btch': 1},
            'numb_steps': training['numb_steps'],
            'seed': seed,
            'disp_file': LCURVE_FILE,
            'disp_freq': training['disp_freq'],
            'save_freq': training['numb_steps'],
        },
    }
