"""The potential of a LAMMPS run as LAMMPS commands: a classical force field or a DeePMD model ensemble.

``boroglass.lammps`` takes exactly one of

``forcefield``
    a resolved classical force field (:func:`aiida_boroglass.glass.forcefields.build_forcefield`),
    rendered by :func:`aiida_boroglass.glass.forcefields.lammps_potential` (pair table, PPPM);
``models`` + ``deepmd``
    frozen DeePMD models (``.pb``, TensorFlow backend) written as ``m0.pb``, ``m1.pb``, ... and
    the settings :data:`DEEPMD_KEYS`: ``type_map`` (the models' element names, in their type
    order) and ``model_deviation_every`` (steps between rows of the model deviation; needs two
    models or more). ``pair_coeff * *`` names the element of every LAMMPS type, so LAMMPS maps
    the types to the models' type map by name; the data file carries zero charges.

With a model deviation every MD stage re-creates the pair style with its own output file
``model_devi.s{k}.out`` (stage ``k``; each stage restarts its step counter, so one file per
stage keeps the steps of a stage unique); a minimisation runs on the first model alone, which
is the model that drives the dynamics of the ensemble too.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida_boroglass.calculations.lammps_executable import PLUGINS_VARIABLE

DEEPMD_KEYS = ('type_map', 'model_deviation_every')
MODEL_DEVIATION_PATTERN = 'model_devi.s{stage}.out'
MODEL_DEVIATION_GLOB = 'model_devi.s*.out'


def model_filename(index: int) -> str:
    """Name of the ``index``-th model in the working directory (``m0.pb``, ``m1.pb``, ...)."""
    return f'm{index}.pb'


def deepmd_job_exports(cores: int) -> str:
    """Job-script lines of a LAMMPS run with DeePMD models: load the plugin, cap TensorFlow's threads.

    TensorFlow otherwise starts a thread pool per core of the node in every MPI process.

    Parameters
    ----------
    cores : int
        Cores of each MPI process (``resources.num_cores_per_mpiproc``); a value the user
        exported already is kept.
    """
    return '\n'.join([f'export {PLUGINS_VARIABLE}=1',
                      f'export DP_INTRA_OP_PARALLELISM_THREADS=${{DP_INTRA_OP_PARALLELISM_THREADS:-{cores}}}',
                      'export DP_INTER_OP_PARALLELISM_THREADS=${DP_INTER_OP_PARALLELISM_THREADS:-1}'])


def validate_deepmd(settings: Mapping, n_models: int, symbols: Sequence[str]) -> str | None:
    """One line naming the field of a DeePMD ensemble that cannot run this structure; else None.

    Parameters
    ----------
    settings : Mapping
        The ``deepmd`` input: ``type_map`` (list of element symbols, the models' type order) and
        optionally ``model_deviation_every`` (steps, > 0).
    n_models : int
        Number of models in the ``models`` namespace.
    symbols : sequence of str
        Element of every atom of the structure.
    """
    unknown = sorted(set(settings) - set(DEEPMD_KEYS))
    if unknown:
        return f'deepmd: unknown keys {unknown}; allowed: {list(DEEPMD_KEYS)}'
    type_map = settings.get('type_map')
    if not (isinstance(type_map, Sequence) and not isinstance(type_map, str) and type_map
            and all(isinstance(element, str) for element in type_map) and len(set(type_map)) == len(type_map)):
        return f'deepmd.type_map: must be a non-empty list of distinct element symbols, got {type_map!r}'
    missing = sorted(set(symbols) - set(type_map))
    if missing:
        return f'deepmd.type_map: the models know {list(type_map)}, not the elements {missing} of the structure'
    every = settings.get('model_deviation_every')
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        return f'deepmd.model_deviation_every: must be a positive integer number of steps, got {every!r}'
    if every is not None and n_models < 2:
        return f'models: a model deviation needs at least 2 models, got {n_models}'
    if every is None and n_models > 1:
        return (f'deepmd.model_deviation_every: {n_models} models given but no model deviation asked; '
                'set it (steps) or give one model')
    return None


def deepmd_commands(n_models: int, species_order: Sequence[str], deviation_every: int = 0,
                    deviation_filename: str | None = None) -> list[str]:
    """``pair_style deepmd`` and ``pair_coeff`` lines of an ensemble.

    Parameters
    ----------
    n_models : int
        Models ``m0.pb`` .. ``m{n_models - 1}.pb`` to load.
    species_order : sequence of str
        ``species_order[k]`` is the element of LAMMPS atom type ``k + 1``.
    deviation_every : int
        Steps between model-deviation rows; 0 for none (then one model is expected).
    deviation_filename : str, optional
        File of the model deviation rows, when ``deviation_every`` > 0.

    Returns
    -------
    list of str
        The two command lines.
    """
    style = ' '.join(['pair_style deepmd', *(model_filename(index) for index in range(n_models))])
    if deviation_every:
        style += f' out_file {deviation_filename} out_freq {deviation_every}'
    return [style, f'pair_coeff * * {" ".join(species_order)}']


def deepmd_stage_commands(stages: Sequence[Mapping], n_models: int, species_order: Sequence[str],
                          deviation_every: int) -> list[list[str]]:
    """Commands that re-create the ensemble at the start of every stage, one deviation file per MD stage.

    ``pair_style none`` first: re-issuing the same pair style only changes its settings in
    LAMMPS, and would neither reload the models nor open the stage's file.

    Parameters
    ----------
    stages : sequence of Mapping
        The run's stages (``type`` decides: a ``minimize`` stage runs on ``m0.pb`` alone).
    n_models : int
        Models in the ensemble (>= 2).
    species_order : sequence of str
        ``species_order[k]`` is the element of LAMMPS atom type ``k + 1``.
    deviation_every : int
        Steps between model-deviation rows (> 0).

    Returns
    -------
    list of list of str
        Commands of each stage, in stage order.
    """
    commands = []
    for index, stage in enumerate(stages):
        if stage['type'] == 'minimize':
            commands.append(['pair_style none', *deepmd_commands(1, species_order)])
        else:
            filename = MODEL_DEVIATION_PATTERN.format(stage=index)
            commands.append(['pair_style none', *deepmd_commands(n_models, species_order, deviation_every, filename)])
    return commands
