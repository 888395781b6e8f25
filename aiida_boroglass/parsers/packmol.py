"""Parser of :class:`~aiida_boroglass.calculations.packmol.PackmolCalculation`."""
from __future__ import annotations

import re

import numpy as np
from aiida import orm
from aiida.parsers.parser import Parser

from aiida_boroglass.calculations.packmol import PackmolCalculation
from aiida_boroglass.glass.packing import box_length_a

_VERSION = re.compile(r'Version\s+(\S+)')


class PackmolParser(Parser):
    """Read the packed xyz file into a periodic StructureData."""

    def parse(self, **kwargs):
        """Parse packmol's standard output and the packed coordinates."""
        files = set(self.retrieved.base.repository.list_object_names())
        if PackmolCalculation.OUTPUT_FILENAME not in files:
            return self.exit_codes.ERROR_OUTPUT_MISSING
        stdout = self.retrieved.base.repository.get_object_content(PackmolCalculation.OUTPUT_FILENAME)
        if 'Success!' not in stdout or PackmolCalculation.STRUCTURE_FILENAME not in files:
            return self.exit_codes.ERROR_PACKING_FAILED
        inputs = self.node.inputs
        counts = inputs.composition.composition.atom_counts(inputs.n_atoms.value)
        length = box_length_a(counts.counts, inputs.density_g_cm3.value)
        lines = self.retrieved.base.repository.get_object_content(PackmolCalculation.STRUCTURE_FILENAME).splitlines()
        rows = [line.split() for line in lines[2:2 + int(lines[0])]]
        positions = np.mod(np.array([row[1:4] for row in rows], dtype=float), length)
        structure = orm.StructureData(cell=(np.eye(3) * length).tolist())
        for row, position in zip(rows, positions):
            structure.append_atom(position=position.tolist(), symbols=row[0])
        self.out('structure', structure)
        version = _VERSION.search(stdout)
        self.out('results', orm.Dict({
            'packmol_version': version.group(1) if version else None, 'seed': inputs.seed.value,
            'tolerance_a': inputs.tolerance_a.value, 'box_length_a': length, 'counts': counts.counts,
            'n_atoms': counts.n_atoms, 'max_fraction_deviation': counts.max_deviation,
        }))
        return None
