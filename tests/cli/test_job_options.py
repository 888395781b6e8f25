"""The engine codes and scheduler options of the launching commands: parsed, refused, and on every CalcJob's inputs.

Nothing runs here: ``run_here`` records the builder a command would launch and stops it.
"""
import click
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.launcher import main
from aiida_boroglass.cli.launching import WallTime, calcjob_options

#: The scheduler options every test command line gives, and the CalcJob options they must become.
JOB_ARGUMENTS = ['--walltime', '1:30:00', '--queue', 'short', '--account', 'glass']
JOB_OPTIONS = {'max_wallclock_seconds': 5400, 'queue_name': 'short', 'account': 'glass'}


@pytest.mark.parametrize(('text', 'seconds'), [('3600', 3600), ('1:00:00', 3600), ('0:01:30', 90), ('7', 7),
                                               ('100:00:00', 360000), (' 2:05:09 ', 7509)])
def test_walltime_is_seconds_or_hours_minutes_seconds(text, seconds):
    assert WallTime().convert(text, None, None) == seconds


@pytest.mark.parametrize('text', ['-5', '0', '0:00:00', '1:60:00', '1:00:61', '1.5', '1:30', 'abc', ''])
def test_a_wall_time_that_is_not_positive_seconds_or_clock_time_is_refused(text):
    with pytest.raises(click.BadParameter, match='not a wall time > 0'):
        WallTime().convert(text, None, None)


def test_calcjob_options_hold_only_what_was_given():
    assert calcjob_options() == {}
    assert calcjob_options(queue='short') == {'queue_name': 'short'}
    assert calcjob_options(60, 4, 'short', 'glass') == {
        'max_wallclock_seconds': 60, 'queue_name': 'short', 'account': 'glass', 'withmpi': True,
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 4}}


@pytest.fixture(scope='module')
def other_lammps(local_codes):
    """A second LAMMPS code on the local computer: what ``--lammps-code`` picks instead of ``lmp@localhost``."""
    code = orm.load_code('lmp@localhost')
    return orm.InstalledCode(label='lmp-other', computer=local_codes, filepath_executable=str(code.filepath_executable),
                             default_calc_job_plugin='boroglass.lammps').store()


@pytest.fixture
def launched(monkeypatch):
    """The builders that commands would launch, in order (each command stops at its first launch)."""
    builders = []

    def record(builder):
        builders.append(builder)
        raise AssertionError('recorded')

    monkeypatch.setattr('aiida_boroglass.cli.foreground.run_here', record)
    return builders


def filled(options) -> dict:
    """The CalcJob options of a builder namespace without its empty sub-namespaces (``stash``, ``unstash``)."""
    return {key: value for key, value in dict(options).items() if value != {}}


def invoke(arguments: list[str], builders: list):
    """Run the command line up to its first launch; return the builder it would launch."""
    result = CliRunner().invoke(main, arguments)
    assert isinstance(result.exception, AssertionError) and str(result.exception) == 'recorded', result.output
    return builders[-1]


def test_without_options_the_screening_jobs_keep_the_local_defaults(local_codes, launched):
    builder = invoke(['screen', 'Li2O-B2O3', '--x', '0.3'], launched)
    md = builder.melt_quench.md.lammps
    assert md.code.full_label == 'lmp@localhost' and builder.melt_quench.packing.code.full_label == 'packmol@localhost'
    assert filled(md.metadata.options) == {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
                                         'environment_variables': {'OMP_NUM_THREADS': '1'}}
    assert filled(builder.melt_quench.packing.metadata.options) == {}  # PackmolCalculation's defaults


def test_screen_puts_the_codes_and_options_on_its_lammps_and_packmol_jobs(other_lammps, launched):
    builder = invoke(['screen', 'Li2O-B2O3', '--x', '0.3', '--lammps-code', 'lmp-other@localhost', '--mpi-procs', '2',
                      *JOB_ARGUMENTS], launched)
    md, packing = builder.melt_quench.md.lammps, builder.melt_quench.packing
    assert md.code.pk == other_lammps.pk
    assert filled(md.metadata.options) == {**JOB_OPTIONS, 'withmpi': True, 'environment_variables': {'OMP_NUM_THREADS': '1'},
                                         'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}
    assert filled(packing.metadata.options) == {**JOB_OPTIONS, 'withmpi': False,  # packmol: one process
                                              'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}


def test_diffusion_puts_the_codes_and_options_on_its_glasses_and_transport_runs(other_lammps, launched):
    """The screening that makes the glasses (launched first) and the transport runs checked before it."""
    from aiida_boroglass.cli.launcher import _stand_in_glass, _transport_overrides, diffusion_builder

    screening = invoke(['diffusion', 'Li2O-B2O3', '--x', '0.3', '--lammps-code', other_lammps.full_label,
                        *JOB_ARGUMENTS], launched)
    assert screening.melt_quench.md.lammps.code.pk == other_lammps.pk
    assert JOB_OPTIONS.items() <= filled(screening.melt_quench.md.lammps.metadata.options).items()
    assert JOB_OPTIONS.items() <= filled(screening.melt_quench.packing.metadata.options).items()
    composition = next(iter(screening.compositions.values())).composition
    structure, forcefield = _stand_in_glass(composition, screening.melt_quench)
    transport = _transport_overrides(None, 'fast', 2, None, None, None, False)
    builder = diffusion_builder(other_lammps, 'glass', [structure], (forcefield, None), 'fast', transport,
                                calcjob_options(60, 2, 'short'))
    assert filled(builder.md.lammps.metadata.options) == {
        'max_wallclock_seconds': 60, 'queue_name': 'short', 'withmpi': True,
        'environment_variables': {'OMP_NUM_THREADS': '1'}, 'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}


def test_aimd_puts_the_options_on_its_cp2k_and_classical_jobs(local_codes, launched):
    builder = invoke(['aimd', '40K2O-60B2O3', '--protocol', 'fast', *JOB_ARGUMENTS], launched)
    assert JOB_OPTIONS.items() <= dict(builder.cp2k.cp2k.metadata.options).items()
    assert JOB_OPTIONS.items() <= dict(builder.melt_quench.md.lammps.metadata.options).items()
    assert JOB_OPTIONS.items() <= dict(builder.melt_quench.packing.metadata.options).items()


def test_label_and_train_put_the_options_on_their_jobs(local_codes, launched, crystals):
    import dpdata

    from aiida_boroglass.data.dataset import LabelledDatasetData

    positions, cell, species = crystals.honeycomb_b2o3()
    structure = orm.StructureData(cell=np.asarray(cell).tolist())
    for position, symbol in zip(positions, species):
        structure.append_atom(position=np.asarray(position).tolist(), symbols=str(symbol))
    builder = invoke(['label', '--structures', str(structure.store().pk), '--protocol', 'fast', *JOB_ARGUMENTS],
                     launched)
    assert JOB_OPTIONS.items() <= builder.options.get_dict().items()

    rng = np.random.default_rng(0)
    system = dpdata.LabeledSystem(data={
        'atom_names': ['B', 'O'], 'atom_numbs': [1, 1], 'atom_types': np.array([0, 1]), 'orig': np.zeros(3),
        'nopbc': False, 'cells': np.tile(5.0 * np.eye(3), (4, 1, 1)), 'coords': rng.random((4, 2, 3)),
        'energies': rng.random(4), 'forces': rng.random((4, 2, 3))})
    dataset = LabelledDatasetData.from_dpdata([system], [[('test', i) for i in range(4)]], 0.5, 0).store()
    dp = orm.InstalledCode(label='dp-test', computer=local_codes, filepath_executable='/bin/true').store()
    builder = invoke(['train', '--dataset', str(dataset.pk), '--protocol', 'fast', '--code', dp.full_label,
                      *JOB_ARGUMENTS], launched)
    assert builder.code.pk == dp.pk and JOB_OPTIONS.items() <= builder.options.get_dict().items()


@pytest.mark.parametrize(('arguments', 'option'), [
    (['screen', 'Li2O-B2O3', '--x', '0.3', '--walltime', '-5'], '--walltime'),
    (['screen', 'Li2O-B2O3', '--x', '0.3', '--walltime', '1:75:00'], '--walltime'),
    (['screen', 'Li2O-B2O3', '--x', '0.3', '--mpi-procs', '0'], '--mpi-procs'),
    (['screen', 'Li2O-B2O3', '--x', '0.3', '--lammps-code', 'nowhere@localhost'], '--lammps-code'),
    (['screen', 'Li2O-B2O3', '--x', '0.3', '--lammps-code', 'packmol@localhost'], '--lammps-code'),  # wrong plugin
    (['diffusion', 'Li2O-B2O3', '--x', '0.3', '--packmol-code', 'nowhere@localhost'], '--packmol-code'),
    (['aimd', 'Li2O-B2O3', '--x', '0.3', '--cp2k-code', 'lmp@localhost'], '--cp2k-code'),
    (['train', '--dataset', '1', '--mpi-procs', '2'], '--mpi-procs'),  # DeePMD-kit trains without MPI
])
def test_a_bad_code_or_scheduler_option_is_one_line_naming_it(local_codes, launched, arguments, option):
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, arguments)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith('Error: '), result.output
    assert option in lines[0]
    assert not launched and orm.QueryBuilder().append(orm.Node).count() == before
