"""Melt-quench a grid of compositions, a few at a time."""
from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain, calcfunction, while_

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.utils import validate_max_concurrent
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain


@calcfunction
def summarize_screening(**properties) -> orm.Dict:
    """Collect per-composition properties into one table.

    Keyword inputs are named ``{key}__{quantity}`` with quantity ``composition``
    (CompositionData), ``density`` (Float, g/cm^3), ``boron`` and ``oxygen`` (Dict).
    Returns ``{'rows': [{key, composition, n_atoms, density_g_cm3, n4, nbo_fraction, bo_fraction}]}``.
    """
    keys = sorted({name.split('__')[0] for name in properties})
    rows = []
    for key in keys:
        boron, oxygen = properties[f'{key}__boron'], properties[f'{key}__oxygen']
        rows.append({
            'key': key, 'composition': properties[f'{key}__composition'].label_text,
            'fractions': properties[f'{key}__composition'].composition.fractions,
            'n_atoms': properties[f'{key}__n_atoms'].value,
            'density_g_cm3': properties[f'{key}__density'].value, 'n4': boron['n4'],
            'nbo_fraction': oxygen['nbo_fraction'], 'bo_fraction': oxygen['bo_fraction'],
        })
    return orm.Dict({'rows': rows})


class ScreeningWorkChain(WorkChain):
    """Run :class:`MeltQuenchWorkChain` for every composition, ``max_concurrent`` at a time."""

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input_namespace('compositions', valid_type=CompositionData, dynamic=True,
                             help='The glasses, keyed by a short identifier (letters, digits, _).')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent,
                   help='Melt-quench workflows running at the same time (match it to the free cores).')
        spec.expose_inputs(MeltQuenchWorkChain, namespace='melt_quench', exclude=('composition',))
        spec.inputs.validator = cls.validate_inputs
        spec.outline(cls.setup, while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch), cls.results)
        spec.output('summary', valid_type=orm.Dict, help='One row per composition: density, N4, NBO fraction.')
        spec.exit_code(410, 'ERROR_SUB_PROCESS_FAILED', message='Melt-quench failed for: {keys}')
        spec.exit_code(411, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Require at least one composition and atom numbers that fit every composition."""
        compositions = value.get('compositions', {})
        if not compositions:
            return 'compositions: give at least one composition'
        melt_quench = dict(value['melt_quench'])
        for key, node in compositions.items():
            message = MeltQuenchWorkChain.validate_inputs({**melt_quench, 'composition': node}, None)
            if message:
                return f'compositions.{key}: {message}'
        return None

    def setup(self):
        """Queue the compositions in key order."""
        self.ctx.pending = sorted(self.inputs.compositions)

    def has_pending(self) -> bool:
        """Whether compositions are left to launch."""
        return bool(self.ctx.pending)

    def launch_batch(self):
        """Launch the next ``max_concurrent`` melt-quench workflows."""
        inputs = self.exposed_inputs(MeltQuenchWorkChain, namespace='melt_quench')
        size = self.inputs.max_concurrent.value
        self.ctx.batch, self.ctx.pending = self.ctx.pending[:size], self.ctx.pending[size:]
        for key in self.ctx.batch:
            composition = self.inputs.compositions[key]
            node = self.submit(MeltQuenchWorkChain, **{**inputs, 'composition': composition,
                               'metadata': {'call_link_label': key, 'label': composition.label_text}})
            self.report(f'launched {composition.label_text} as {node.process_label}<{node.pk}>')
            self.to_context(**{f'glass_{key}': node})

    def inspect_batch(self):
        """Report how each workflow of the batch ended (failures are collected in ``results``)."""
        for key in self.ctx.batch:
            node = self.ctx[f'glass_{key}']
            self.report(f'{node.label}: finished with exit status {node.exit_status}')

    @checked_step
    def results(self):
        """Tabulate the finished glasses; fail if any composition failed."""
        nodes = {key: self.ctx[f'glass_{key}'] for key in self.inputs.compositions}
        failed = sorted(key for key, node in nodes.items() if not node.is_finished_ok)
        properties = {}
        for key, node in nodes.items():
            if key in failed:
                continue
            properties.update({f'{key}__composition': self.inputs.compositions[key], f'{key}__n_atoms':
                               orm.Int(len(node.outputs.structure.sites)), f'{key}__density': node.outputs.density_g_cm3,
                               f'{key}__boron': node.outputs.boron, f'{key}__oxygen': node.outputs.oxygen})
        if properties:
            self.out('summary', run_checked(summarize_screening, **properties))
        if failed:
            return self.exit_codes.ERROR_SUB_PROCESS_FAILED.format(keys=', '.join(failed))
        return None
