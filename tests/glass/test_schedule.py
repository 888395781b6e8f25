"""Tests for aiida_boroglass.glass.schedule (step counts computed by hand)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from aiida_boroglass.calculations.lammps_inputs import validate_parameters
from aiida_boroglass.glass.schedule import PHASES, SCHEDULE_KEYS, melt_quench_phases, quench_steps, validate_schedule

SCHEDULE = {
    'melt_temperature_k': 3000.0,
    'final_temperature_k': 300.0,
    'push_off_ps': 5.0,
    'melt_ps': 20.0,
    'cooling_rate_k_ps': 100.0,
    'relax_nvt_ps': 10.0,
    'relax_npt_ps': 30.0,
    'production_ps': 50.0,
    'dump_every_ps': 0.5,
    'pressure_gpa': 0.0,
}


def changed(**changes):
    schedule = copy.deepcopy(SCHEDULE)
    for key, value in changes.items():
        if value is KeyError:
            del schedule[key]
        else:
            schedule[key] = value
    return schedule


# ============================================================ validate_schedule
def test_validate_schedule_valid():
    assert validate_schedule(SCHEDULE) is None
    assert validate_schedule(changed(push_off_ps=0, melt_ps=0, relax_nvt_ps=0, relax_npt_ps=0)) is None
    assert validate_schedule(changed(dump_every_ps=50.0)) is None  # equal to production_ps
    assert validate_schedule(changed(pressure_gpa=-1.0)) is None


@pytest.mark.parametrize(('schedule', 'fragments'), [
    (changed(melt_ps=KeyError), ['missing', 'melt_ps']),
    (changed(cooling_rate_k_ps=KeyError, production_ps=KeyError), ['missing', 'cooling_rate_k_ps', 'production_ps']),
    (changed(quench_ps=10.0), ['unknown', 'quench_ps']),
    ({}, ['missing', 'melt_temperature_k']),
    (changed(melt_temperature_k=0.0), ['melt_temperature_k', '> 0']),
    (changed(final_temperature_k=-300.0), ['final_temperature_k']),
    (changed(cooling_rate_k_ps=0.0), ['cooling_rate_k_ps']),
    (changed(cooling_rate_k_ps=-10.0), ['cooling_rate_k_ps']),
    (changed(dump_every_ps=0.0), ['dump_every_ps']),
    (changed(production_ps=0.0), ['production_ps']),
    (changed(push_off_ps=-1.0), ['push_off_ps', '>= 0']),
    (changed(melt_ps=-0.5), ['melt_ps']),
    (changed(relax_nvt_ps=-1.0), ['relax_nvt_ps']),
    (changed(relax_npt_ps=-1.0), ['relax_npt_ps']),
    (changed(melt_temperature_k=300.0), ['melt_temperature_k', 'final_temperature_k']),  # equal
    (changed(melt_temperature_k=250.0), ['melt_temperature_k', 'final_temperature_k']),  # below
    (changed(dump_every_ps=60.0), ['dump_every_ps', 'production_ps']),
])
def test_validate_schedule_rejects(schedule, fragments):
    message = validate_schedule(schedule)
    assert isinstance(message, str)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_validate_schedule_units_documented():
    assert SCHEDULE_KEYS['cooling_rate_k_ps'] == 'K/ps' and SCHEDULE_KEYS['pressure_gpa'] == 'GPa'
    assert set(SCHEDULE_KEYS) == set(SCHEDULE)


# ============================================================ quench_steps
@pytest.mark.parametrize(('schedule', 'timestep_fs', 'steps'), [
    (SCHEDULE, 1.0, 27000),  # 2700 K / 100 K/ps = 27 ps = 27000 fs
    (SCHEDULE, 2.0, 13500),
    (SCHEDULE, 0.5, 54000),
    (changed(cooling_rate_k_ps=1.0), 1.0, 2_700_000),
    (changed(melt_temperature_k=2000.0, final_temperature_k=500.0, cooling_rate_k_ps=10.0), 1.0, 150_000),
    (changed(cooling_rate_k_ps=1000.0), 0.7, 3857),  # 2.7 ps / 0.7 fs = 3857.14 -> 3857
])
def test_quench_steps(schedule, timestep_fs, steps):
    assert quench_steps(schedule, timestep_fs) == steps


# ============================================================ melt_quench_phases
def test_melt_quench_phases_one_fs():
    phases = melt_quench_phases(SCHEDULE, 1.0)
    assert tuple(phases) == PHASES == ('melt', 'quench', 'relax', 'production')
    melt = phases['melt']
    assert [s['type'] for s in melt] == ['minimize', 'push_off', 'nvt']
    assert melt[1]['steps'] == 5000 and melt[1]['temperature_k'] == 3000.0 and melt[1]['max_displacement_a'] > 0
    assert melt[2]['steps'] == 20000 and melt[2]['temperature_k'] == 3000.0
    assert 'temperature_end_k' not in melt[2] or melt[2]['temperature_end_k'] == 3000.0
    (quench,) = phases['quench']
    assert quench['type'] == 'npt' and quench['steps'] == 27000
    assert quench['temperature_k'] == 3000.0 and quench['temperature_end_k'] == 300.0
    assert quench['pressure_gpa'] == 0.0
    relax = phases['relax']
    assert [s['type'] for s in relax] == ['nvt', 'npt']
    assert [s['steps'] for s in relax] == [10000, 30000]
    assert [s['temperature_k'] for s in relax] == [300.0, 300.0]
    assert relax[1]['pressure_gpa'] == 0.0
    (production,) = phases['production']
    assert production['type'] == 'nvt' and production['steps'] == 50000
    assert production['temperature_k'] == 300.0 and production['dump_every'] == 500
    for name, stages in phases.items():
        if name != 'production':
            assert not any(s.get('dump_every') for s in stages)
    # every phase is a valid LAMMPS run, and so is the whole protocol in one run
    everything = [stage for name in PHASES for stage in phases[name]]
    for name in PHASES:
        assert validate_parameters({'stages': phases[name], 'timestep_fs': 1.0}) is None
    assert validate_parameters({'stages': everything}) is None


def test_melt_quench_phases_two_fs_pressure_and_no_push_off():
    schedule = changed(push_off_ps=0.0, pressure_gpa=2.5, dump_every_ps=0.1)
    phases = melt_quench_phases(schedule, 2.0)
    assert [s['type'] for s in phases['melt']] == ['minimize', 'nvt']
    assert phases['melt'][1]['steps'] == 10000  # 20 ps / 2 fs
    assert phases['quench'][0]['steps'] == 13500
    npt = [s for name in PHASES for s in phases[name] if s['type'] == 'npt']
    assert len(npt) == 2 and all(s['pressure_gpa'] == 2.5 for s in npt)
    assert [s['steps'] for s in phases['relax']] == [5000, 15000]
    assert phases['production'][0]['steps'] == 25000 and phases['production'][0]['dump_every'] == 50


def test_melt_quench_phases_dump_every_at_least_one_step():
    phases = melt_quench_phases(changed(dump_every_ps=0.0001), 1.0)  # 0.1 fs < one 1 fs step
    assert phases['production'][0]['dump_every'] == 1


def test_melt_quench_phases_does_not_mutate_schedule():
    schedule = copy.deepcopy(SCHEDULE)
    melt_quench_phases(schedule, 1.0)
    assert schedule == SCHEDULE


# --- AIMD ladder (paper 000) ------------------------------------------------------------------

from aiida_boroglass.glass.schedule import LADDER_KEYS, aimd_stages, ladder_temperatures, validate_ladder  # noqa: E402

PAPER_LADDER = {'start_temperature_k': 298.15, 'top_temperature_k': 1398.15, 'step_k': 400.0, 'step_ps': 10.0,
                'top_ps': 20.0, 'final_ps': 20.0, 'production_ps': 20.0}


def test_ladder_temperatures_stop_below_the_top():
    """298.15 + 400 n below 1398.15 K: three rungs; a top on a rung is not repeated."""
    assert ladder_temperatures(298.15, 1398.15, 400.0) == pytest.approx([298.15, 698.15, 1098.15])
    assert ladder_temperatures(300.0, 1100.0, 400.0) == pytest.approx([300.0, 700.0])
    assert ladder_temperatures(300.0, 300.0, 400.0) == []


def test_aimd_stages_paper_000():
    """Up, top, down, final, production; one step counter across stages (cumulative last_step)."""
    stages = aimd_stages(PAPER_LADDER, timestep_fs=1.0)
    assert [s['name'] for s in stages] == ['heat_0298K', 'heat_0698K', 'heat_1098K', 'top_1398K', 'cool_1098K',
                                           'cool_0698K', 'final_0298K', 'production']
    steps = [s['steps'] for s in stages]
    assert steps == [10000, 10000, 10000, 20000, 10000, 10000, 20000, 20000]
    assert [s['last_step'] for s in stages] == list(np.cumsum(steps))
    assert stages[-1]['last_step'] == 110000  # 110 ps at 1 fs


def test_aimd_stages_two_fs_halves_the_steps():
    """The same durations at 2 fs take half the steps."""
    assert [s['steps'] for s in aimd_stages(PAPER_LADDER, timestep_fs=2.0)] == [5000, 5000, 5000, 10000, 5000, 5000,
                                                                              10000, 10000]


@pytest.mark.parametrize('change,fragment', [
    ({'step_k': 0.0}, 'schedule.step_k: must be > 0'),
    ({'start_temperature_k': -10.0}, 'schedule.start_temperature_k: must be > 0'),
    ({'top_temperature_k': 200.0}, 'schedule.top_temperature_k: 200.0 K is below start_temperature_k'),
    ({'top_ps': 'long'}, 'schedule.top_ps: must be a finite number (ps)'),
    ({'cooling_rate_k_ps': 1.0}, "unknown keys ['cooling_rate_k_ps']"),
])
def test_validate_ladder_names_the_field(change, fragment):
    """A ladder that is not positive or not ordered is refused naming the key."""
    assert fragment in validate_ladder({**PAPER_LADDER, **change})
    assert validate_ladder(PAPER_LADDER) is None
    assert set(PAPER_LADDER) == set(LADDER_KEYS)
