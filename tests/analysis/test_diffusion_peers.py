"""Our MSD and D against the peers: pymatgen-analysis-diffusion (float64, exact) and freud (float32).

pymatgen-analysis-diffusion is a test dependency (the ``tests`` extra), so it is imported
unconditionally. Units: pymatgen takes ``time_step`` in fs (``dt = timestep * time_step *
step_skip``) and gives D in cm^2/s from a slope in Å^2/fs (``D = slope / 60``: / 6 for three
dimensions, * 0.1 for Å^2/fs -> cm^2/s); ours takes ps and gives cm^2/s from Å^2/ps (* 1e-4).
"""
import freud
import numpy as np
import pytest
from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer, _msd_from_positions_fft
from pymatgen.core import Lattice, Species, Structure

from aiida_boroglass.analysis.diffusion import block_uncertainty, diffusion_coefficient, diffusive_window, msd

DT_PS = 0.1
TIME_STEP_FS = 100  # DT_PS in fs, step_skip = 1
N_FRAMES, N_IONS, N_FRAMEWORK = 200, 50, 10
STEP_A = 0.1  # Gaussian step per component and frame, Å: D = STEP_A^2 / (2 DT_PS) Å^2/ps
D_TRUE_CM2_S = STEP_A**2 / (2 * DT_PS) * 1e-4
BOX_A = 20.0


def random_walk(seed=7):
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=STEP_A, size=(N_FRAMES, N_IONS, 3))
    return np.cumsum(steps, axis=0) + rng.uniform(0.0, BOX_A, size=(N_IONS, 3))


def caged_hopping_with_drift(seed=11):
    """Half the ions caged (Ornstein-Uhlenbeck around fixed sites), half walking; all atoms drift."""
    rng = np.random.default_rng(seed)
    x = np.empty((N_FRAMES, N_IONS + N_FRAMEWORK, 3))
    x[0] = rng.uniform(0.0, BOX_A, size=(N_IONS + N_FRAMEWORK, 3))
    site = x[0].copy()
    caged = np.zeros(N_IONS + N_FRAMEWORK, dtype=bool)
    caged[: N_IONS // 2] = True
    for t in range(1, N_FRAMES):
        noise = rng.normal(scale=STEP_A, size=x[0].shape)
        x[t] = np.where(caged[:, None], site + 0.8 * (x[t - 1] - site) + noise, x[t - 1] + noise)
    x[:, N_IONS:] = x[0, N_IONS:]  # framework: still, apart from the drift
    drift = 0.02 * np.arange(N_FRAMES)[:, None, None] * np.array([1.0, -0.5, 0.25])
    return x + drift


def analyzer(positions):
    """DiffusionAnalyzer (windowed MSD, smoothed='max') on Li ions, then O framework atoms."""
    if positions.shape[1] == N_IONS:  # add a still framework: DiffusionAnalyzer takes its drift
        still = np.broadcast_to(positions[0, :N_FRAMEWORK], (N_FRAMES, N_FRAMEWORK, 3))
        positions = np.concatenate([positions, still], axis=1)
    n_atoms = positions.shape[1]
    species = [Species('Li', 1)] * N_IONS + [Species('O', -2)] * (n_atoms - N_IONS)
    structure = Structure(Lattice.cubic(BOX_A), species, (positions[0] / BOX_A) % 1.0)
    full = positions
    displacements = (full - full[0]).transpose(1, 0, 2)  # (site, frame, 3) in Å
    return DiffusionAnalyzer(structure, displacements, 'Li', 1000.0, TIME_STEP_FS, step_skip=1, smoothed='max')


def pymatgen_weighted_d(lags_ps, curve, frames):
    """pymatgen's D estimator (slope weighted by 1/dt) applied to our MSD, in cm^2/s."""
    t = lags_ps[frames]
    w = np.sqrt(1.0 / t)
    design = np.column_stack([t, np.ones_like(t)])
    slope = np.linalg.lstsq(design * w[:, None], curve[frames] * w, rcond=None)[0][0]
    return slope / 6.0 * 1e-4


@pytest.mark.parametrize('case', ['walk', 'caged_drift'])
def test_msd_equals_pymatgen_fft_kernel(case):
    x = random_walk() if case == 'walk' else caged_hopping_with_drift()
    lags, per = msd(x, DT_PS, per_atom=True)
    theirs = _msd_from_positions_fft(x.transpose(1, 0, 2)).sum(axis=2).T  # (lag, atom)
    np.testing.assert_allclose(lags, DT_PS * np.arange(N_FRAMES))
    # both exact in float64: only FFT round-off, ~eps |r|^2 ~ 1e-13 Å^2 for positions of
    # ~20 Å (pymatgen does not centre them), relatively large for the caged ions' small MSD
    np.testing.assert_allclose(per[1:], theirs[1:], rtol=1e-9, atol=1e-10)
    assert np.all(per[0] == 0.0)


@pytest.mark.parametrize('case', ['walk', 'caged_drift'])
def test_msd_and_d_equal_diffusion_analyzer(case):
    x = random_walk() if case == 'walk' else caged_hopping_with_drift()
    da = analyzer(x)
    # DiffusionAnalyzer removes the framework's mean displacement (the drift) from every atom
    ions = x[:, :N_IONS]
    if x.shape[1] > N_IONS:
        ions = ions - (x[:, N_IONS:].mean(axis=1, keepdims=True) - x[0, N_IONS:].mean(axis=0))
    lags, curve = msd(ions, DT_PS)
    frames = np.rint(np.asarray(da.dt) / TIME_STEP_FS).astype(int)  # its lags (fs) in frames
    np.testing.assert_allclose(da.dt, 1000.0 * lags[frames])  # ps -> fs
    np.testing.assert_allclose(da.msd, curve[frames], rtol=1e-10)
    # the same estimator on our MSD gives its D: checks the units (Å^2/fs -> cm^2/s vs Å^2/ps)
    assert pymatgen_weighted_d(lags, curve, frames) == pytest.approx(da.diffusivity, rel=1e-10)


def test_d_agrees_with_diffusion_analyzer_within_uncertainty():
    x = random_walk()
    da = analyzer(x)
    lags, curve = msd(x, DT_PS)
    window = diffusive_window(lags, curve)
    assert window is not None
    ours = diffusion_coefficient(lags, curve, window)
    stderr = block_uncertainty(x, DT_PS).d_stderr_cm2_s
    # Both fit the same MSD, over different lags (ours: the latest slope-1 window up to half
    # the run; pymatgen: 1 ps to the end, weighted 1/t), so they differ by the statistical
    # error of a D from this run. pymatgen's diffusivity_std_dev treats correlated MSD points
    # as independent (~1e-10 here, useless as an error bar), so the scale is the standard
    # error from 5 time blocks; 3 sigma with sqrt(2) for two estimates taken as independent.
    tolerance = 3.0 * np.sqrt(2.0) * stderr
    assert stderr < 0.1 * D_TRUE_CM2_S
    assert abs(ours - da.diffusivity) < tolerance
    # and both near the D of the walk (4 block standard errors)
    assert abs(ours - D_TRUE_CM2_S) < 4.0 * stderr
    assert abs(da.diffusivity - D_TRUE_CM2_S) < 4.0 * stderr


def test_msd_agrees_with_freud_window_on_shifted_coordinates():
    x = random_walk()
    _, curve = msd(x, DT_PS)
    # freud computes in float32: on x - x[0] (positions near 0) it is good to float32 round-off
    theirs = freud.msd.MSD(mode='window').compute(x - x[0]).msd
    np.testing.assert_allclose(theirs[1:], curve[1:], rtol=1e-4)
