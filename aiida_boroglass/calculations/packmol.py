"""Random periodic packing of a glass composition with packmol."""
from __future__ import annotations

from aiida import orm
from aiida.common.datastructures import CalcInfo, CodeInfo
from aiida.engine import CalcJob

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.utils import range_validator, to_float
from aiida_boroglass.glass.packing import box_length_a, packmol_input

#: Packing densities accepted, g/cm^3 (closed interval).
DENSITY_RANGE_G_CM3 = (0.5, 10.0)

#: Minimum interatomic distances accepted, Å (closed interval).
TOLERANCE_RANGE_A = (0.5, 3.0)


class PackmolCalculation(CalcJob):
    """Place the atoms of a composition at random in a cubic periodic box (packmol's ``pbc``).

    The box edge follows from the atom counts and the density; the seed and minimum
    distance are inputs, the packmol version is recorded in ``results``.
    """

    INPUT_FILENAME = 'packmol.inp'
    OUTPUT_FILENAME = 'packmol.out'
    STRUCTURE_FILENAME = 'packed.xyz'

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('composition', valid_type=CompositionData, help='Glass composition.')
        spec.input('n_atoms', valid_type=orm.Int, serializer=orm.to_aiida_type,
                   help='Requested number of atoms; whole oxide formula units are packed.')
        spec.input('density_g_cm3', valid_type=orm.Float, serializer=to_float,
                   validator=range_validator('density_g_cm3', DENSITY_RANGE_G_CM3, 'g/cm^3'),
                   help=f'Mass density that sets the box volume, g/cm^3, in {list(DENSITY_RANGE_G_CM3)}.')
        spec.input('tolerance_a', valid_type=orm.Float, serializer=to_float, default=lambda: orm.Float(1.7),
                   validator=range_validator('tolerance_a', TOLERANCE_RANGE_A, 'Å'),
                   help=f'Minimum distance between any two atoms, Å, in {list(TOLERANCE_RANGE_A)} '
                        '(periodic images included).')
        spec.input('seed', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(12345),
                   help='Random seed of packmol.')
        spec.inputs.validator = cls.validate_packing
        spec.inputs['metadata']['options']['parser_name'].default = 'boroglass.packmol'
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.output('structure', valid_type=orm.StructureData, help='Packed structure in a cubic periodic cell.')
        spec.output('results', valid_type=orm.Dict, help='Counts, box edge (Å), seed, tolerance and packmol version.')
        spec.exit_code(301, 'ERROR_OUTPUT_MISSING', message='packmol wrote no output file.')
        spec.exit_code(302, 'ERROR_PACKMOL_STOPPED', message='packmol stopped without a packing: {tail}')
        # 310 until issue 16 (retired): a packing that does not converge is recoverable (new seed,
        # smaller tolerance: the melt-quench's retry), so it lives in the 4xx range.
        spec.exit_code(410, 'ERROR_PACKING_FAILED',
                       message='packmol ended without perfect packing (best function value {best}); '
                               'another seed or a lower tolerance_a or density may succeed.')

    @classmethod
    def validate_packing(cls, value, ctx):
        """Refuse atom numbers the composition cannot be packed with (skipped where a wrapper excludes the ports).

        Density and tolerance are checked by their port validators, also inside a wrapper's namespace.
        """
        if any(key not in value for key in ('composition', 'n_atoms', 'density_g_cm3')):
            return None
        try:
            value['composition'].composition.atom_counts(value['n_atoms'].value)
        except ValueError as exception:
            return f'n_atoms: {exception}'
        return None

    def prepare_for_submission(self, folder):
        """Write one single-atom xyz file per element and the packmol input."""
        counts = self.inputs.composition.composition.atom_counts(self.inputs.n_atoms.value).counts
        length = box_length_a(counts, self.inputs.density_g_cm3.value)
        for element in counts:
            with folder.open(f'{element}.xyz', 'w') as handle:
                handle.write(f'1\n{element}\n{element} 0.0 0.0 0.0\n')
        with folder.open(self.INPUT_FILENAME, 'w') as handle:
            handle.write(packmol_input(counts, length, self.inputs.tolerance_a.value, self.inputs.seed.value,
                                       self.STRUCTURE_FILENAME))
        codeinfo = CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.stdin_name = self.INPUT_FILENAME
        codeinfo.stdout_name = self.OUTPUT_FILENAME
        calcinfo = CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.retrieve_list = [self.OUTPUT_FILENAME, self.STRUCTURE_FILENAME, f'{self.STRUCTURE_FILENAME}_FORCED']
        return calcinfo
