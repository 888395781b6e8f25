"""Parser of :class:`~aiida_boroglass.calculations.analysis.AnalysisCalculation`."""
from __future__ import annotations

from pathlib import Path

from aiida.engine import ExitCode
from aiida.parsers.parser import Parser

from aiida_boroglass.analysis.job import RESULTS, read_bundle
from aiida_boroglass.functions.plain import output_nodes


class AnalysisParser(Parser):
    """Store the results of an analysis job as the nodes its calcfunction returns, or its exit code."""

    def parse(self, **kwargs):
        """Read ``results.json`` / ``results.npz`` from the temporary retrieved folder.

        Returns the calcfunction's exit status and message when the analysis refused the data,
        ``ERROR_RESULTS_MISSING`` when the job left no readable results.
        """
        temporary = kwargs.get('retrieved_temporary_folder')
        if temporary is None:
            return self.exit_codes.ERROR_RESULTS_MISSING.format(reason='nothing was retrieved')
        try:
            values, record = read_bundle(Path(temporary), RESULTS)
        except (OSError, ValueError, KeyError) as exc:
            return self.exit_codes.ERROR_RESULTS_MISSING.format(reason=f'{type(exc).__name__}: {exc}')
        if record['status']:
            return ExitCode(record['status'], record['message'])
        for label, node in output_nodes(values).items():
            self.out(label, node)
        return None
