"""CP2K CalcJob of the ab initio workflows: ``aiida-cp2k``'s ``Cp2kCalculation`` that stores each trajectory once.

``Cp2kCalculation`` keeps CP2K's trajectory dumps in the ``retrieved`` folder, and the
parser stores their content again as ``output_trajectory``. Here the dumps and the MD
energy file are retrieved temporarily: the parser ``boroglass.cp2k`` reads them and the
engine deletes them. The standard output and the restart file stay in ``retrieved``
(the restart handlers and ``output_structure`` read them).
"""
from __future__ import annotations

from aiida.common.datastructures import CalcInfo
from aiida.common.folders import Folder
from aiida_cp2k.calculations import Cp2kCalculation

from aiida_boroglass.calculations.cp2k_inputs import ENERGY_FILE

PARSER_NAME = 'boroglass.cp2k'
#: files retrieved only for the parser: positions (XYZ, DCD), forces, cells and MD energies
TEMPORARY_FILES = (
    Cp2kCalculation._DEFAULT_TRAJECT_XYZ_FILE_NAME,
    Cp2kCalculation._DEFAULT_TRAJECT_FORCES_FILE_NAME,
    Cp2kCalculation._DEFAULT_TRAJECT_CELL_FILE_NAME,
    Cp2kCalculation._DEFAULT_TRAJECT_FILE_NAME,
    ENERGY_FILE,
)


class BoroglassCp2kCalculation(Cp2kCalculation):
    """``Cp2kCalculation`` whose trajectory and energy files are retrieved temporarily; parser ``boroglass.cp2k``.

    A name of :data:`TEMPORARY_FILES` in ``settings['additional_retrieve_list']`` is
    retrieved temporarily too.
    """

    @classmethod
    def define(cls, spec):
        """Define the process specification: the default parser is ``boroglass.cp2k``."""
        super().define(spec)
        spec.inputs['metadata']['options']['parser_name'].default = PARSER_NAME

    def prepare_for_submission(self, folder: Folder) -> CalcInfo:
        """Prepare the job as ``Cp2kCalculation`` does, with the files of :data:`TEMPORARY_FILES` retrieved temporarily.

        Parameters
        ----------
        folder : Folder
            The sandbox folder of the job's input files.

        Returns
        -------
        CalcInfo
            ``Cp2kCalculation``'s, with :data:`TEMPORARY_FILES` moved from ``retrieve_list``
            to ``retrieve_temporary_list``.
        """
        calcinfo = super().prepare_for_submission(folder)
        calcinfo.retrieve_list = [name for name in calcinfo.retrieve_list if name not in TEMPORARY_FILES]
        temporary = list(calcinfo.retrieve_temporary_list or [])
        calcinfo.retrieve_temporary_list = temporary + [name for name in TEMPORARY_FILES if name not in temporary]
        return calcinfo
