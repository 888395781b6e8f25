"""``aiida-boroglass label``: DFT labels (energy, forces, stress) of trajectory frames or structures, as one dataset."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np
from aiida.cmdline.params import types

from aiida_boroglass.cli.aimd import CP2K_CODE
from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
    Progress,
    check_launch_options,
    code_option,
    count_finished,
    engine_code,
    exit_unless,
    job_options,
    launch,
    launch_options,
    validated,
    with_profile,
)
from aiida_boroglass.cli.overrides import read_overrides
from aiida_boroglass.cli.plotting import text_table

#: Table columns: (title, row key, format).
LABEL_COLUMNS = (
    ('workflow', 'pk', '{:d}'),
    ('dataset', 'dataset_pk', '{:d}'),
    ('engine', 'engine', '{}'),
    ('atoms', 'n_atoms', '{:d}'),
    ('frames', 'n_frames', '{:d}'),
    ('skipped', 'n_skipped', '{:d}'),
    ('E min (eV/atom)', 'energy_min_ev_atom', '{:.4f}'),
    ('E max (eV/atom)', 'energy_max_ev_atom', '{:.4f}'),
    ('max |F| (eV/Å)', 'force_max_ev_a', '{:.3f}'),
)


def parse_indices(text: str | None) -> list[int] | None:
    """``'0,5,9'`` -> [0, 5, 9]; None stays None; refuse naming ``--frames``."""
    if text is None:
        return None
    try:
        return [int(token) for token in text.split(',') if token.strip()]
    except ValueError:
        raise click.BadParameter(f'{text!r} is not a comma-separated list of frame indices, e.g. 0,5,9',
                                 param_hint='--frames') from None


def load_structures(text: str) -> list:
    """The StructureData nodes of ``'PK,PK,...'`` (PKs or UUIDs), in that order; refuse naming ``--structures``."""
    from aiida import orm
    from aiida.common.exceptions import MultipleObjectsError, NotExistent

    nodes = []
    for token in (token.strip() for token in text.split(',')):
        try:
            node = orm.load_node(int(token) if token.isdigit() else token)
        except (NotExistent, MultipleObjectsError, ValueError) as error:
            raise Refusal(f'{token!r}: {error}', '--structures') from None
        if not isinstance(node, orm.StructureData):
            raise Refusal(f'{token} is a {node.__class__.__name__}, not a StructureData', '--structures')
        nodes.append(node)
    return nodes


def label_builder(code, source, protocol: str, overrides: dict, stride: int | None, frames: list[int] | None,
                  options: dict | None = None):
    """A validated ``boroglass.dft_label`` builder of ``source`` (a trajectory or a list of structures).

    ``options``: scheduler options of the single points, over the protocol's.
    """
    from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain

    with refusing():
        builder = DftLabelWorkChain.get_builder_from_protocol(code, source, protocol=protocol, overrides=overrides,
                                                              options=options)
        if stride is not None:
            builder.stride = stride
        if frames is not None:
            builder.frames = frames
        builder.metadata.label = f'label {len(source)} structures' if isinstance(source, list) \
            else f'label trajectory {source.pk}'
    return validated(builder)


def label_rows(nodes: Sequence) -> list[dict]:
    """Table rows of finished labelling workflows: frames, skipped frames, energy and force ranges."""
    rows = []
    for node in nodes:
        dataset = node.outputs.dataset
        energies = dataset.get_array('energies') / len(dataset.symbols)
        rows.append({
            'pk': node.pk, 'dataset_pk': dataset.pk, 'engine': dataset.base.attributes.get('engine'),
            'n_atoms': len(dataset.symbols), 'n_frames': dataset.numsteps,
            'n_skipped': len(dataset.base.attributes.get('skipped')),
            'frame_indices': dataset.get_array('frame_indices').tolist(),
            'skipped': dataset.base.attributes.get('skipped'),
            'energy_min_ev_atom': float(energies.min()), 'energy_max_ev_atom': float(energies.max()),
            'force_max_ev_a': float(np.linalg.norm(dataset.get_array('forces'), axis=-1).max()),
        })
    return rows


def show_labels(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.dft_label`` workflows, their skipped frames, and ``labels.json`` in ``output``."""
    from aiida_boroglass.cli.results import finished

    done = finished(nodes)
    rows = label_rows(done)
    click.echo(text_table(LABEL_COLUMNS, rows))
    for row in rows:
        for skipped in row['skipped']:
            click.echo(f'workflow {row["pk"]}: frame {skipped["frame"]} skipped, exit status {skipped["exit_status"]}: '
                       f'{skipped["message"]}')
    output.mkdir(parents=True, exist_ok=True)
    (output / 'labels.json').write_text(json.dumps(rows, indent=2))
    click.echo(f'table: {output / "labels.json"}')
    return len(done) == len(nodes)


@click.command('label')
@click.option('--trajectory', type=types.DataParamType(sub_classes=('aiida.data:core.array.trajectory',)),
              default=None, help='TrajectoryData (PK, UUID or label) whose frames are labelled.')
@click.option('--stride', type=click.IntRange(min=1), default=None, help='With --trajectory: every N-th frame.')
@click.option('--frames', 'frames_text', default=None, help='With --trajectory: frame indices (from 0), e.g. 0,5,9.')
@click.option('--structures', 'structures_text', default=None,
              help='StructureData to label instead, PK or UUID, comma-separated: 12,15,18 (same atoms in each).')
@click.option('--protocol', type=click.Choice(('fast', 'balanced', 'stringent')), default='balanced',
              show_default=True, help='balanced: DZVP-MOLOPT 400 Ry (training data); stringent: DZVP-MOLOPT 600 Ry; '
                                      'fast: SZV-MOLOPT 200 Ry (tests only: not training data).')
@code_option('--code', 'labeller\'s (CP2K)', CP2K_CODE)
@click.option('--max-concurrent', type=click.IntRange(min=1), default=None,
              help='Single points at the same time (default: the protocol\'s, 2).')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML file of values replacing the protocol\'s (keys of dft_label.yaml default_inputs).')
@job_options
@launch_options
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('boroglass-labels'), show_default=True, help='Folder for the table (JSON).')
@with_profile
def label(trajectory, stride, frames_text, structures_text, protocol, code, max_concurrent, overrides, options, daemon,
          wait, output):
    """DFT energies, forces and stress of trajectory frames or structures, stored as one training dataset.

    Frames whose single point fails are reported and left out of the dataset.
    """
    from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain, selected_frames

    check_launch_options(daemon, wait)
    if (trajectory is None) == (structures_text is None):
        raise Refusal('give one source: --trajectory PK or --structures PK,PK,...', '--trajectory/--structures')
    if trajectory is None and (stride is not None or frames_text is not None):
        raise Refusal('select frames of a --trajectory only; every given structure is labelled', '--stride/--frames')
    values = read_overrides(overrides, DftLabelWorkChain.get_protocol_inputs(protocol), '--overrides')
    if max_concurrent is not None:
        values['max_concurrent'] = max_concurrent
    source = trajectory if trajectory is not None else load_structures(structures_text)
    builder = label_builder(engine_code(code, CP2K_CODE), source, protocol, values, stride, parse_indices(frames_text),
                            options)
    progress = Progress(len(selected_frames(builder)), count_finished, 'single points')
    node = launch(builder, daemon, wait, progress)
    if node is not None:
        exit_unless(show_labels([node], output))
