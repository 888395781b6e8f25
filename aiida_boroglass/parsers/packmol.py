"""Parser of :class:`~aiida_boroglass.calculations.packmol.PackmolCalculation`."""
from __future__ import annotations

import re

import numpy as np
from aiida import orm
from aiida.parsers.parser import Parser

from aiida_boroglass.calculations.packmol import PackmolCalculation
from aiida_boroglass.functions.utils import structure_of
from aiida_boroglass.glass.packing import box_length_a

_VERSION = re.compile(r'Version\s+(\S+)')
#: packmol's closing banner when it gives up at the loop limit (it still writes its best point).
_NOT_PACKED = 'ENDED WITHOUT PERFECT PACKING'
_BEST_VALUE = re.compile(r'best configuration found has a function value of\s+f\s*=\s*(\S+)')


def _last_error(stdout: str) -> str:
    """packmol's last ``ERROR`` line and the one after it (or its last two lines), joined by `` | ``."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    index = max((i for i, line in enumerate(lines) if 'ERROR' in line), default=max(len(lines) - 2, 0))
    return ' | '.join(lines[index:index + 2])


class PackmolParser(Parser):
    """Read the packed xyz file into a periodic StructureData; tell a packing that did not converge apart."""

    def parse(self, **kwargs):
        """Parse packmol's standard output and the packed coordinates."""
        files = set(self.retrieved.base.repository.list_object_names())
        if PackmolCalculation.OUTPUT_FILENAME not in files:
            return self.exit_codes.ERROR_OUTPUT_MISSING
        stdout = self.retrieved.base.repository.get_object_content(PackmolCalculation.OUTPUT_FILENAME)
        if _NOT_PACKED in stdout:
            best = _BEST_VALUE.search(stdout)
            return self.exit_codes.ERROR_PACKING_FAILED.format(best=best.group(1) if best else 'unknown')
        if 'Success!' not in stdout or PackmolCalculation.STRUCTURE_FILENAME not in files:
            return self.exit_codes.ERROR_PACKMOL_STOPPED.format(tail=_last_error(stdout))
        inputs = self.node.inputs
        counts = inputs.composition.composition.atom_counts(inputs.n_atoms.value)
        length = box_length_a(counts.counts, inputs.density_g_cm3.value)
        lines = self.retrieved.base.repository.get_object_content(PackmolCalculation.STRUCTURE_FILENAME).splitlines()
        rows = [line.split() for line in lines[2:2 + int(lines[0])]]
        positions = np.mod(np.array([row[1:4] for row in rows], dtype=float), length)
        self.out('structure', structure_of(np.eye(3) * length, [row[0] for row in rows], positions))
        version = _VERSION.search(stdout)
        self.out('results', orm.Dict({
            'packmol_version': version.group(1) if version else None, 'seed': inputs.seed.value,
            'tolerance_a': inputs.tolerance_a.value, 'box_length_a': length, 'counts': counts.counts,
            'n_atoms': counts.n_atoms, 'max_fraction_deviation': counts.max_deviation,
        }))
        return None
