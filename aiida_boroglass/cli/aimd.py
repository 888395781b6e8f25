"""``aiida-boroglass aimd``: ab initio melt-quench with CP2K, its table and its temperature-ladder plot."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
from aiida.cmdline.params import types

from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
    Progress,
    check_launch_options,
    code_option,
    count_finished,
    engine_code,
    exit_unless,
    field_vector,
    job_options,
    launch,
    launch_options,
    md_code_options,
    md_codes,
    validated,
    with_profile,
)
from aiida_boroglass.cli.overrides import read_overrides
from aiida_boroglass.cli.plotting import text_table
from aiida_boroglass.workflows.protocols.utils import recursive_merge

#: The CP2K code that ``aiida-boroglass setup`` registers (Debian's cp2k.psmp).
CP2K_CODE = 'cp2k@localhost'

#: Table columns: (title, row key, format).
AIMD_COLUMNS = (
    ('composition', 'composition', '{}'),
    ('atoms', 'n_atoms', '{:d}'),
    ('DFT', 'forcefield', '{}'),
    ('density (g/cm3)', 'density_g_cm3', '{:.3f}'),
    ('N4', 'n4', '{:.3f}'),
    ('NBO fraction', 'nbo_fraction', '{:.3f}'),
    ('B-O cutoff (Å)', 'cutoff_bo_a', '{:.2f}'),
    ('frames', 'production_frames', '{:d}'),
    ('wall time (s)', 'wall_time_s', '{:.0f}'),
)


def aimd_overrides(path: Path | None, protocol: str, atoms: int | None, field: list[float] | None,
                   fix_network: bool, field_ps: float | None) -> dict:
    """Checked overrides of the ``--overrides`` file, updated by ``--atoms`` and the field options."""
    from aiida_boroglass.workflows.ab_initio.aimd import AimdWorkChain

    reference = AimdWorkChain.get_protocol_inputs(protocol)
    values = read_overrides(path, reference, '--overrides')
    if atoms is not None:
        values['n_atoms'] = atoms
    if field is not None:
        duration = field_ps if field_ps is not None else reference['schedule']['production_ps']
        values = recursive_merge(values, {'field': {'field_au': field, 'fix_network': fix_network,
                                                    'duration_ps': duration}})
    elif field_ps is not None or fix_network:
        raise Refusal('only with --field (the field run after production)', '--field-ps/--fix-network')
    return values


def aimd_builders(glasses: dict, structure, protocol: str, overrides: dict, codes: tuple = (None, None, None),
                  options: dict | None = None) -> dict:
    """Validated builders of one AIMD workflow per glass (key -> builder); nothing is stored.

    ``codes`` are the ``--cp2k-code``, ``--lammps-code`` and ``--packmol-code`` values (None: the
    codes that setup registers; LAMMPS and packmol only without ``structure``); ``options`` the
    scheduler options of every job.
    """
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.ab_initio.aimd import AimdWorkChain

    code = engine_code(codes[0], CP2K_CODE)
    lammps, packmol = (None, None) if structure is not None else md_codes(*codes[1:])
    builders = {}
    for key, glass in glasses.items():
        with refusing():
            builder = AimdWorkChain.get_builder_from_protocol(
                code, CompositionData(glass), structure=structure, protocol=protocol, overrides=overrides,
                options=options, lammps_code=lammps, packmol_code=packmol)
            builder.metadata.label = f'aimd {glass.label}'
        builders[key] = validated(builder)
    return builders


def _aimd_progress(builder) -> Progress:
    """Progress of one AIMD workflow: the workflows it calls (classical glass, geometry optimisation, stages)."""
    from aiida_boroglass.workflows.ab_initio.aimd import plan_stages

    field = builder.field.get_dict() if 'field' in builder else None
    stages = plan_stages(builder.schedule.get_dict(), builder.md.get_dict(), field, [])
    classical = 0 if 'structure' in builder else 1
    return Progress(classical + 1 + len(stages), count_finished, 'runs (classical glass, CP2K geometry, MD stages)')


@click.command('aimd')
@click.argument('spec')
@click.option('--x', 'x_text', default=None, help='x values: 0.1,0.4 or start:stop:step (when SPEC has x).')
@click.option('--protocol', type=click.Choice(('fast', 'balanced', 'stringent')), default='fast', show_default=True)
@click.option('--atoms', type=click.IntRange(min=1), default=None, help='Atoms per glass (default: the protocol\'s).')
@click.option('--structure', type=types.DataParamType(sub_classes=('aiida.data:core.structure',)), default=None,
              help='Start from this StructureData (PK) instead of a classical melt-quench.')
@click.option('--field', 'field_text', default=None,
              help='Field run after production: E_x,E_y,E_z in atomic units (paper 000: 0,0,0.02).')
@click.option('--fix-network', is_flag=True, help='With --field: hold B, P, Si and O fixed (paper 000).')
@click.option('--field-ps', type=click.FloatRange(min=0, min_open=True), default=None,
              help='With --field: its duration, ps (default: the production time).')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML file of values replacing the protocol\'s (keys of aimd.yaml default_inputs).')
@code_option('--cp2k-code', 'CP2K', CP2K_CODE, 'boroglass.cp2k')
@md_code_options
@job_options
@launch_options
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('boroglass-aimd'), show_default=True, help='Folder for the table (JSON) and the plots.')
@with_profile
def aimd(spec, x_text, protocol, atoms, structure, field_text, fix_network, field_ps, overrides, cp2k_code, lammps_code,
         packmol_code, options, daemon, wait, output):
    """Ab initio melt-quench of SPEC with CP2K (paper 000): classical glass, DFT relaxation, NVT ladder, production."""
    from aiida_boroglass.cli.launcher import parse_glass, parse_glasses, parse_x_values
    from aiida_boroglass.cli.results import show_results

    check_launch_options(daemon, wait)
    glasses = parse_glasses(spec, parse_x_values(x_text)) if x_text else parse_glass(spec)
    if structure is not None and len(glasses) > 1:
        raise Refusal('one structure is one glass: give a single composition (one --x) with it', '--structure')
    field = field_vector(field_text, 'atomic units', '0,0,0.02')
    values = aimd_overrides(overrides, protocol, atoms, field, fix_network, field_ps)
    builders = aimd_builders(glasses, structure, protocol, values, (cp2k_code, lammps_code, packmol_code), options)
    nodes = [launch(builder, daemon, wait, _aimd_progress(builder)) for builder in builders.values()]
    if all(node is not None for node in nodes):
        exit_unless(show_results(nodes, output))


def aimd_rows(nodes: Sequence) -> list[dict]:
    """Table rows of finished AIMD workflows: the melt-quench summary values."""
    from aiida_boroglass.cli.screening import melt_quench_summary

    return [{'pk': node.pk, **melt_quench_summary(node)} for node in nodes]


def plot_ladder(nodes: Sequence, path: Path) -> Path:
    """Temperature (K) and conserved energy drift (eV/atom) against time (ps) of every stage; one PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6, 6), dpi=120)
    for node in nodes:
        label = node.inputs.composition.label_text if 'composition' in node.inputs else f'AIMD<{node.pk}>'
        n_atoms = len(node.outputs.structure.sites)
        for index, (name, thermo) in enumerate(sorted(node.outputs.thermo.items(),
                                                      key=lambda item: item[1].get_array('time_ps')[0])):
            time = thermo.get_array('time_ps')
            conserved = thermo.get_array('conserved_ev')
            line, = top.plot(time, thermo.get_array('temperature_k'), lw=0.8, label=label if index == 0 else None)
            bottom.plot(time, (conserved - conserved[0]) / n_atoms, lw=0.8, color=line.get_color())
    top.set_ylabel('temperature (K)')
    bottom.set_ylabel('conserved energy drift\nper stage (eV/atom)')
    bottom.set_xlabel('time (ps)')
    top.legend(fontsize=8)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def show_aimd(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.aimd`` workflows; ``aimd.json`` and ``aimd_ladder.png`` (temperature ladder)."""
    from aiida_boroglass.cli.results import finished

    done = finished(nodes)
    rows = aimd_rows(done)
    click.echo(text_table(AIMD_COLUMNS, rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'aimd.json').write_text(json.dumps(rows, indent=2))
    plot = plot_ladder(done, output / 'aimd_ladder.png')
    click.echo(f'table: {output / "aimd.json"}\nplot: {plot}')
    return len(done) == len(nodes)
