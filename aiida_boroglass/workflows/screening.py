"""Melt-quench a grid of compositions, each in one or more independent replicas, a few at a time, no slot idle."""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import WorkChain, calcfunction, while_

from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.utils import validate_max_concurrent
from aiida_boroglass.glass.replicas import (
    REPLICA_RANGE,
    REPLICA_SEED_STRIDE,
    composition_of_key,
    replica_key,
    replica_seed,
    replica_statistics,
)
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
from aiida_boroglass.workflows.slots import BusySlotsMixin


def screening_glasses(node: orm.WorkflowNode) -> dict[str, orm.WorkflowNode]:
    """The melt-quench workflows a screening called, by link label (``x0300`` or ``x0300_r1``), in label order.

    Under one label the latest launch wins: a launch abandoned by a restart (:mod:`.launch`) is older.
    """
    links = node.base.links.get_outgoing(link_type=LinkType.CALL_WORK).all()
    return dict(sorted(((link.link_label, link.node) for link in links), key=lambda item: (item[0], item[1].pk)))


#: Groups of screenings are labelled ``boroglass/<name>``.
GROUP_PREFIX = 'boroglass/'


def validate_group_name(value: orm.Str, _) -> str | None:
    """Port validator of ``group``: letters, digits and ``-_.``, at most 100 characters."""
    name = value.value
    if not name or len(name) > 100 or not all(char.isalnum() or char in '-_.' for char in name):
        return f'group: use 1-100 letters, digits, "-", "_" or ".", got {name!r}'
    return None


def screening_group(name: str) -> orm.Group:
    """The group ``boroglass/<name>`` that holds a screening, its glasses and its summary; made if missing."""
    group, _ = orm.Group.collection.get_or_create(label=f'{GROUP_PREFIX}{name}')
    return group


def validate_replicas(value: orm.Int, _) -> str | None:
    """Port validator of ``replicas``."""
    low, high = REPLICA_RANGE
    return None if low <= value.value <= high else f'replicas: must be in [{low}, {high}], got {value.value}'


def replica_inputs(inputs: Mapping, replica: int) -> dict:
    """Melt-quench inputs of replica ``replica``: packing and velocity seeds shifted by :func:`replica_seed`.

    ``inputs`` are the exposed ``melt_quench`` inputs (``packing.seed`` is always there: it has a default).
    """
    if replica == 0:
        return dict(inputs)
    md = inputs['md_parameters'].get_dict() if 'md_parameters' in inputs else {}
    md['seed'] = replica_seed(md.get('seed', DEFAULT_PARAMETERS['seed']), replica)
    packing = {**inputs['packing'], 'seed': orm.Int(replica_seed(inputs['packing']['seed'].value, replica))}
    return {**inputs, 'packing': packing, 'md_parameters': orm.Dict(md)}


@calcfunction
def summarize_screening(**properties) -> orm.Dict:
    """Collect per-glass properties into one table, and their mean and spread per composition.

    Keyword inputs are named ``{label}__{quantity}`` with ``label`` a glass's link label
    (``x0300`` or ``x0300_r1``) and quantity ``composition`` (CompositionData), ``n_atoms`` (Int),
    ``density`` (Float, g/cm^3), ``boron`` and ``oxygen`` (Dict).
    Returns ``{'rows': [{key, replica, composition, fractions, n_atoms, density_g_cm3, n4, nbo_fraction,
    bo_fraction}], 'compositions': {key: {'replicas': n, quantity: {'mean', 'std'}}}}``.
    """
    labels = sorted({name.split('__')[0] for name in properties})
    rows = []
    for label in labels:
        boron, oxygen = properties[f'{label}__boron'], properties[f'{label}__oxygen']
        key, replica = composition_of_key(label)
        rows.append({
            'key': key, 'replica': replica, 'composition': properties[f'{label}__composition'].label_text,
            'fractions': properties[f'{label}__composition'].composition.fractions,
            'n_atoms': properties[f'{label}__n_atoms'].value,
            'density_g_cm3': properties[f'{label}__density'].value, 'n4': boron['n4'],
            'nbo_fraction': oxygen['nbo_fraction'], 'bo_fraction': oxygen['bo_fraction'],
        })
    compositions = {}
    for key in sorted({row['key'] for row in rows}):
        group = [row for row in rows if row['key'] == key]
        compositions[key] = {'replicas': len(group), **replica_statistics(group)}
    return orm.Dict({'rows': rows, 'compositions': compositions})


class ScreeningWorkChain(BusySlotsMixin, WorkChain):
    """Run :class:`MeltQuenchWorkChain` for every composition and replica, ``max_concurrent`` at a time.

    A queued glass starts as soon as any running one ends (:class:`~.slots.BusySlotsMixin`).
    """

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input_namespace('compositions', valid_type=CompositionData, dynamic=True,
                             help='The glasses, keyed by a short identifier (letters, digits, _).')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent,
                   help='Melt-quench workflows running at the same time (match it to the free cores).')
        spec.input('replicas', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(1),
                   validator=validate_replicas,
                   help=f'Independent glasses per composition (packing and velocity seeds shifted by '
                        f'{REPLICA_SEED_STRIDE} per replica), in {list(REPLICA_RANGE)}.')
        spec.input('group', valid_type=orm.Str, serializer=orm.to_aiida_type, required=False,
                   validator=validate_group_name,
                   help=f'Name of the group {GROUP_PREFIX}<name> that will hold the screening, every glass '
                        'workflow it launches and its summary (made if missing; export it with '
                        '`aiida-boroglass export NAME`).')
        spec.expose_inputs(MeltQuenchWorkChain, namespace='melt_quench', exclude=('composition',))
        spec.inputs.validator = cls.validate_inputs
        spec.outline(cls.setup, while_(cls.slots_busy)(cls.fill_slots), cls.results)
        spec.output('summary', valid_type=orm.Dict,
                    help='One row per glass (density, N4, NBO fraction) and their mean and spread per composition.')
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
        """Queue the glasses: every replica of every composition, in key order."""
        replicas = self.inputs.replicas.value
        self.ctx.glasses = {replica_key(key, replica, replicas): (key, replica)
                            for key in sorted(self.inputs.compositions) for replica in range(replicas)}
        self.setup_slots(self.ctx.glasses)
        self.add_to_group(self.node)

    def add_to_group(self, node: orm.Node) -> None:
        """Put ``node`` in the screening's group, when the ``group`` input is given."""
        if 'group' in self.inputs:
            screening_group(self.inputs.group.value).add_nodes(node)

    def launch_child(self, label: str) -> orm.ProcessNode:
        """Launch the melt-quench of glass ``label`` with its replica's seeds."""
        key, replica = self.ctx.glasses[label]
        composition = self.inputs.compositions[key]
        name = composition.label_text if self.inputs.replicas.value == 1 else f'{composition.label_text} r{replica}'
        inputs = replica_inputs(self.exposed_inputs(MeltQuenchWorkChain, namespace='melt_quench'), replica)
        node = submit_once(self, MeltQuenchWorkChain, **{**inputs, 'composition': composition,
                           'metadata': {'call_link_label': label, 'label': name}})
        self.report(f'launched {name} as {node.process_label}<{node.pk}>')
        self.add_to_group(node)
        return node

    def child_ended(self, label: str, node: orm.ProcessNode) -> None:
        """Report how a glass's workflow ended (failures are collected in ``results``)."""
        self.report(f'{node.label}: finished with exit status {node.exit_status}')

    @checked_step
    def results(self):
        """Tabulate the finished glasses; fail if any glass failed."""
        nodes = {label: orm.load_node(pk) for label, pk in self.ctx.slot_children.items()}
        failed = sorted(label for label, node in nodes.items() if not node.is_finished_ok)
        properties = {}
        for label, node in nodes.items():
            if label in failed:
                continue
            properties.update({f'{label}__composition': node.inputs.composition, f'{label}__n_atoms':
                               orm.Int(len(node.outputs.structure.sites)), f'{label}__density': node.outputs.density_g_cm3,
                               f'{label}__boron': node.outputs.boron, f'{label}__oxygen': node.outputs.oxygen})
        if properties:
            summary = run_checked(summarize_screening, **properties)
            self.out('summary', summary)
            self.add_to_group(summary)
        if failed:
            return self.exit_codes.ERROR_SUB_PROCESS_FAILED.format(keys=', '.join(failed))
        return None
