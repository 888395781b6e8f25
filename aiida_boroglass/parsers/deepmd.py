"""Parsers of the DeePMD-kit CalcJobs (entry points ``boroglass.deepmd_train``, ``boroglass.deepmd_model_deviation``)."""
from __future__ import annotations

import json

from pathlib import Path

from aiida import orm
from aiida.parsers.parser import Parser

from aiida_boroglass.calculations import deepmd_inputs as di
from aiida_boroglass.calculations.deepmd import (
    BACKEND,
    DETAIL_FILES,
    DEVIATION_FILE,
    DEVIATION_LOG,
    FREEZE_LOG,
    TEST_LOG,
    TRAIN_LOG,
    model_type_maps,
)
from aiida_boroglass.parsers.parse_raw.deepmd import parse_lcurve, parse_test_detail, rmse
from aiida_boroglass.parsers.parse_raw.lammps import parse_model_deviation

#: units of the learning-curve columns
LCURVE_UNITS = {'rmse_e': 'eV/atom', 'rmse_f': 'eV/A', 'rmse_v': 'eV/atom', 'lr': '1', 'rmse': 'loss (1)'}
#: lines of a log quoted in an exit message
TAIL_LINES = 3


def log_tail(text: str | None) -> str:
    """The last :data:`TAIL_LINES` non-empty lines of a log joined by `` | ``, or ``no log``."""
    if not text:
        return 'no log'
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return ' | '.join(lines[-TAIL_LINES:])


class _DeepmdParser(Parser):
    """Shared file access: retrieved text and the temporary folder; any parser bug becomes exit code 350."""

    def parse(self, **kwargs):
        """Parse; an exception becomes ``ERROR_UNEXPECTED_PARSER_EXCEPTION``."""
        temporary = kwargs.get('retrieved_temporary_folder')
        self._temporary = None if temporary is None else Path(temporary)
        try:
            return self._parse()
        except Exception as exception:  # noqa: BLE001 - a parser bug ends as an exit code, never Excepted
            return self.exit_codes.ERROR_UNEXPECTED_PARSER_EXCEPTION.format(
                exception=f'{type(exception).__name__}: {exception}')

    def _text(self, name: str) -> str | None:
        """Content of a retrieved file, None when it was not retrieved."""
        if name not in self.retrieved.base.repository.list_object_names():
            return None
        return self.retrieved.base.repository.get_object_content(name)

    def _parse(self):
        raise NotImplementedError


class DeepmdTrainParser(_DeepmdParser):
    """Learning curve, frozen model, and RMSE and parity data on the validation frames."""

    def _parse(self):
        lcurve = self._text(di.LCURVE_FILE)
        if not lcurve or len(lcurve.splitlines()) < 3:
            return self.exit_codes.ERROR_TRAINING_FAILED.format(tail=log_tail(self._text(TRAIN_LOG)))
        curve = parse_lcurve(lcurve)
        learning_curve = orm.ArrayData()
        for name, values in curve.items():
            learning_curve.set_array(name, values)
        learning_curve.base.attributes.set('units', LCURVE_UNITS)
        self.out('learning_curve', learning_curve)

        model_path = None if self._temporary is None else self._temporary / di.MODEL_FILE
        if model_path is None or not model_path.is_file():
            return self.exit_codes.ERROR_FREEZE_FAILED.format(tail=log_tail(self._text(FREEZE_LOG)))
        self.out('model', self._model(model_path))

        texts = {key: self._text(name) for key, name in DETAIL_FILES.items()}
        if not all(texts.values()):
            return self.exit_codes.ERROR_TEST_FAILED.format(tail=log_tail(self._text(TEST_LOG)))
        energy_dft, energy_model = parse_test_detail(texts['energy'], 1)
        force_dft, force_model = parse_test_detail(texts['force'], 3)
        parity = orm.ArrayData()
        parity.set_array('energy_dft', energy_dft[:, 0])
        parity.set_array('energy_model', energy_model[:, 0])
        parity.set_array('force_dft', force_dft)
        parity.set_array('force_model', force_model)
        parity.base.attributes.set('units', {'energy': 'eV/atom', 'force': 'eV/A'})
        self.out('parity', parity)
        self.out('validation', orm.Dict({
            'energy_rmse_ev_per_atom': rmse(energy_dft, energy_model),
            'force_rmse_ev_a': rmse(force_dft, force_model),
            'frames': len(energy_dft), 'atoms': len(force_dft),
            'final_lr': float(curve['lr'][-1]), 'steps': int(curve['step'][-1]),
        }))
        return None

    def _model(self, path: Path) -> orm.SinglefileData:
        """The frozen model with the attributes a potential needs: type map, backend, seed, cutoff (Å).

        ``sel`` (neighbour counts per type, as trained: ``sel: auto`` resolved) is set when
        ``dp train`` wrote its parameters file; a warm start from the model keeps it.
        """
        inputs = self.node.inputs
        with path.open('rb') as handle:
            model = orm.SinglefileData(handle, filename=di.MODEL_FILE)
        model.base.attributes.set_many({
            'type_map': list(inputs.dataset.type_map), 'backend': BACKEND, 'seed': inputs.seed.value,
            'rcut_a': float(inputs.settings['descriptor']['rcut']),
        })
        parameters = self._text(di.PARAMETERS_FILE)
        if parameters:
            model.base.attributes.set('sel', [int(count) for count in json.loads(parameters)['model']['descriptor']['sel']])
        return model


class DeepmdModelDeviationParser(_DeepmdParser):
    """Model deviation per frame of the trajectory (``dp model-devi -f 1``: its step is the frame index)."""

    def _parse(self):
        text = self._text(DEVIATION_FILE)
        if not text:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(tail=log_tail(self._text(DEVIATION_LOG)))
        deviation = parse_model_deviation(text)
        node = orm.ArrayData()
        node.set_array('frame', deviation.pop('step'))
        for name, values in deviation.items():
            node.set_array(name, values)
        node.base.attributes.set_many({
            'units': {'devi_f': 'eV/A', 'devi_v': 'eV (per atom)'},
            'type_map': next(iter(model_type_maps(self.node.inputs.models).values())),
        })
        self.out('model_deviation', node)
        return None
