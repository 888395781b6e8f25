"""Record the real DeePMD-kit outputs kept in ``tests/parsers/fixtures/deepmd_<case>/``.

Run from the repository root with the project's virtual environment on PATH::

    OMP_NUM_THREADS=1 python tests/parsers/make_deepmd_fixtures.py

Data: 40 copies of the 21-atom K borate glass (``tests/fixtures/k_borate_21.extxyz``) with
Gaussian displacements of 0.03-0.12 Å, labelled by the Deng-Du force field in one LAMMPS
``rerun`` (``tests/conftest.py``: the same oracle as the ``deepmd_models`` fixture), 32 frames
for training and 8 for validation, written by dpdata. The training input is the one
``boroglass.deepmd_train`` writes with the ``fast`` protocol, seed 1.

``deepmd_train``
    ``dp --tf train`` -> ``dp --tf freeze`` -> ``dp --tf test -d test`` to the end; kept:
    ``input.json``, ``lcurve.out``, ``test.e_peratom.out``, ``test.f.out`` and ``test.log``
    (TensorFlow's start-up lines and DeePMD-kit's CUDA probe removed).
``deepmd_killed``
    ``dp --tf train`` killed (SIGKILL) 12 s after its start, before the first learning-curve
    row; kept: its ``train.log``, cleaned the same way.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ase.io
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests'))
from conftest import DEEPMD_TYPE_MAP, jittered_classical_system  # noqa: E402

from aiida_boroglass.calculations import deepmd_inputs as di  # noqa: E402
from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain  # noqa: E402

FIXTURES = Path(__file__).parent / 'fixtures'
#: lines of the logs that say nothing about the run (TensorFlow start-up, the CUDA probe)
NOISE = ('implib-gen', 'libcudart', 'oneDNN', 'cpu_feature_guard', 'rebuild TensorFlow', 'absl::InitializeLog',
         'To enable the following', 'DeePMD-kit: Cannot find', 'DeePMD-kit: Error message')


def clean(text: str) -> str:
    """``text`` without the lines of :data:`NOISE`."""
    return ''.join(line for line in text.splitlines(keepends=True) if not any(word in line for word in NOISE))


def write_data(folder: Path) -> None:
    """The labelled frames as ``train/`` (32 frames) and ``validation/`` (8) DeePMD systems."""
    atoms = ase.io.read(ROOT / 'tests' / 'fixtures' / 'k_borate_21.extxyz')
    system = jittered_classical_system(atoms.get_chemical_symbols(), np.array(atoms.cell), atoms.get_positions(), folder)
    system.sub_system(range(0, 32)).to('deepmd/npy', str(folder / 'train'))
    system.sub_system(range(32, 40)).to('deepmd/npy', str(folder / 'validation'))


def dp(folder: Path, *arguments: str, timeout: float | None = None) -> str:
    """Run ``dp --tf ARGUMENTS`` in ``folder``; its cleaned output (killed after ``timeout`` s if given)."""
    environment = {**os.environ, 'OMP_NUM_THREADS': '1', 'DP_INTRA_OP_PARALLELISM_THREADS': '1',
                   'DP_INTER_OP_PARALLELISM_THREADS': '1'}
    command = ['dp', '--tf', *arguments]
    if timeout is not None:
        command = ['timeout', '-s', 'KILL', str(timeout), *command]
    result = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, check=False)
    return clean(result.stdout + result.stderr)


def main() -> None:
    inputs = DeepmdEnsembleWorkChain.get_protocol_inputs('fast')
    settings = {section: inputs[section] for section in di.SETTINGS_KEYS}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_data(folder)
        content = di.train_input(settings, DEEPMD_TYPE_MAP, ['train'], ['validation'], seed=1, use_virial=False)
        (folder / di.INPUT_FILE).write_text(json.dumps(content, indent=1))

        killed = FIXTURES / 'deepmd_killed'
        killed.mkdir(exist_ok=True)
        (killed / 'train.log').write_text(dp(folder, 'train', di.INPUT_FILE, timeout=12))
        assert not (folder / di.LCURVE_FILE).exists() or len((folder / di.LCURVE_FILE).read_text().splitlines()) < 3

        dp(folder, 'train', di.INPUT_FILE)
        dp(folder, 'freeze', '-o', di.MODEL_FILE)
        test_log = dp(folder, 'test', '-m', di.MODEL_FILE, '-s', 'validation', '-d', di.DETAIL_PREFIX)
        done = FIXTURES / 'deepmd_train'
        done.mkdir(exist_ok=True)
        (done / 'test.log').write_text(test_log)
        for name in (di.INPUT_FILE, di.LCURVE_FILE, f'{di.DETAIL_PREFIX}.e_peratom.out', f'{di.DETAIL_PREFIX}.f.out'):
            (done / name).write_text((folder / name).read_text())


if __name__ == '__main__':
    main()
