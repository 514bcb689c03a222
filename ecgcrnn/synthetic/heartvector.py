"""A heart-vector ECG model: McSharry et al. (2003)'s Gaussian waves in three dipole components, on 12 leads.

McSharry's dynamical model moves a point round a limit cycle whose phase θ advances at ω = 2π / RR, and
adds for each wave i (P, Q, R, S, T) a Gaussian event a_i exp(-Δθ_i² / (2 b_i²)) at angle θ_i. Within one
beat θ is linear in time, θ(t) = 2π (t - t_R) / RR, so every event is a Gaussian in time centred on
t_R + θ_i RR / 2π with standard deviation b_i RR / 2π. This module evaluates those Gaussians in closed form,
beat by beat, instead of integrating the differential equations. As Sameni et al. (2007) do, every wave
has a 3-vector amplitude: the cardiac dipole in the Frank directions X (towards the patient's left), Y
(towards the feet) and Z (towards the back). The dipole is projected on the 12 standard leads with Dower's
coefficients for V1-V6, I and II; III, aVR, aVL and aVF follow from Einthoven's and Goldberger's laws.
Noise is drawn per electrode (RA, LA, LL, V1-V6) and mapped to the leads the way the potentials are, so
that those laws hold in noisy recordings too.

Departures from the papers
--------------------------
Waves are specified by their delay from the beat's main ventricular wave and their width in seconds (the
θ_i and b_i of each beat follow from its RR interval). QRS and P widths do not change with the heart rate;
the T wave ends at QT = QTc √RR after the QRS onset (Bazett; plus any QRS widening beyond 90 ms) and its
width scales as RR^(1/3), in the spirit of ECGSYN's heart-rate scaling of the wave angles and widths.
The T wave is two Gaussians with one direction (a slow upstroke, a faster downstroke), a common extension
of the model. Wave amplitudes are set for realistic millivolt levels, not as McSharry's a_i, which are
amplitudes of the derivative. Wave boundaries (the true fiducials) are :data:`BOUNDARY_WIDTHS` widths
from a Gaussian's centre.

References
----------
P. E. McSharry, G. D. Clifford, L. Tarassenko, L. A. Smith, "A dynamical model for generating synthetic
electrocardiogram signals", IEEE Trans. Biomed. Eng. 50(3):289-294, 2003.
R. Sameni, G. D. Clifford, C. Jutten, M. B. Shamsollahi, "Multichannel ECG and noise modeling: application
to maternal and fetal ECG signals", EURASIP J. Adv. Signal Process. 2007:043407, 2007.
G. E. Dower, H. B. Machado, J. A. Osborne, "On deriving the electrocardiogram from vectorcardiographic
leads", Clin. Cardiol. 3(2):87-95, 1980.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ecgcrnn.domain import FIDUCIALS

BOUNDARY_WIDTHS = 2.5
"""A Gaussian wave begins and ends this many widths from its centre (where it falls to 4.4 % of its peak)."""

_CUTOFF_WIDTHS = 5.0  # Gaussians are evaluated within this many widths of their centre
_T_SHAPE = (-1.0, 1.5, 0.6)  # first T Gaussian: delay and width in units of the second's width, weight

# Dower et al. (1980): V1..V6, I, II from Frank X, Y, Z (rows), the coefficients as published.
_DOWER = np.array(
    [
        [-0.515, 0.157, -0.917],
        [0.044, 0.164, -1.387],
        [0.882, 0.098, -1.277],
        [1.213, 0.127, -0.601],
        [1.125, 0.127, -0.086],
        [0.831, 0.076, 0.230],
        [0.632, -0.235, 0.059],
        [0.235, 1.066, -0.132],
    ]
)
_I, _II = _DOWER[6], _DOWER[7]
LEAD_MATRIX = np.vstack([_I, _II, _II - _I, -(_I + _II) / 2, _I - _II / 2, _II - _I / 2, _DOWER[:6]])
"""Projection of the dipole (X, Y, Z) on the leads of :data:`ecgcrnn.domain.STANDARD_LEADS`, shape (12, 3)."""
# Leads from the potentials of RA, LA, LL, V1..V6: Einthoven, Goldberger, and Wilson's central terminal.
_RA, _LA, _LL = np.eye(9)[:3]
_ELECTRODES_TO_LEADS = np.vstack(
    [_LA - _RA, _LL - _RA, _LL - _LA, _RA - (_LA + _LL) / 2, _LA - (_RA + _LL) / 2, _LL - (_RA + _LA) / 2]
    + [np.eye(9)[3 + i] - (_RA + _LA + _LL) / 3 for i in range(6)]
)

# QRS Gaussians per conduction: (delay from the main wave in s, width in s, X, Y, Z amplitude in mV, 1 when
# the wave turns with the frontal axis; RBBB's late right-ventricular wave keeps its direction, and the
# axis of RBBB is that of the initial forces, as clinicians read it).
_QRS = {
    "normal": (
        (-0.024, 0.007, -0.10, 0.02, -0.12, 1),  # septal: rightward, anterior (q in I and V6, r in V1)
        (0.000, 0.011, 1.00, 0.60, 0.55, 1),  # left ventricular free wall
        (0.025, 0.009, -0.22, -0.12, 0.25, 1),  # basal: rightward, superior, posterior (s)
    ),
    "rbbb": (
        (-0.025, 0.008, -0.10, 0.02, -0.15, 1),  # septal r in V1
        (0.000, 0.012, 0.95, 0.55, 0.50, 1),  # left ventricle: S in V1
        (0.055, 0.018, -0.55, -0.05, -0.60, 0),  # late right ventricle: R' in V1, wide S in I and V6
    ),
    "lbbb": (
        (-0.060, 0.018, 0.55, 0.15, 0.55, 1),  # septum from the right: no q in I, V6; QS in V1
        (0.000, 0.020, 0.80, 0.05, 0.85, 1),  # late left ventricle: notched broad R in I, aVL, V5, V6
    ),
}
# T-wave directions (unit vectors follow): concordant when conduction is normal, discordant in BBB.
T_DIRECTIONS = {
    "normal": (0.65, 0.55, -0.35),
    "rbbb": (0.71, 0.42, 0.56),
    "lbbb": (-0.65, -0.10, -0.75),
    "inverted_anterior": (0.50, 0.40, 0.75),  # negative in V1-V3
    "inverted_lateral": (-0.60, 0.50, -0.30),  # negative in I, aVL, V5, V6
    "inverted_inferior": (0.50, -0.60, -0.40),  # negative in II, III, aVF
}
# Premature ventricular foci: main QRS direction (RBBB-like from the left ventricle, LBBB-like from the
# right, inferior axis from the right ventricular outflow tract).
_PVC_FOCI = ((-0.60, 0.30, -0.75), (0.65, 0.45, 0.60), (0.10, 0.80, 0.60))


@dataclass(frozen=True, eq=False)
class Waves:
    """Gaussian waves of the dipole: G waves, each centred at ``center_s`` with width (SD) ``width_s``.

    Attributes
    ----------
    center_s : np.ndarray, shape (G,)
        Centres in s from the start of the record (or from the main wave in a template).
    width_s : np.ndarray, shape (G,)
        Standard deviations in s.
    amplitude_mv : np.ndarray, shape (G, 3)
        Peak dipole (X, Y, Z) of each wave in mV.
    """

    center_s: np.ndarray
    width_s: np.ndarray
    amplitude_mv: np.ndarray

    @property
    def onset_s(self) -> float:
        """Start of the earliest wave (its centre minus :data:`BOUNDARY_WIDTHS` widths)."""
        return float(np.min(self.center_s - BOUNDARY_WIDTHS * self.width_s))

    @property
    def offset_s(self) -> float:
        """End of the latest wave."""
        return float(np.max(self.center_s + BOUNDARY_WIDTHS * self.width_s))


def concatenate(parts) -> Waves:
    """One :class:`Waves` holding the waves of all ``parts`` in order."""
    parts = list(parts)
    return Waves(
        np.concatenate([p.center_s for p in parts]),
        np.concatenate([p.width_s for p in parts]),
        np.concatenate([p.amplitude_mv.reshape(-1, 3) for p in parts]),
    )


def evaluate(waves: Waves, n_samples: int, fs_hz: float) -> np.ndarray:
    """The dipole of a sum of Gaussian waves sampled at ``fs_hz`` from t = 0, shape (3, n_samples), mV.

    All waves at once, each on a window of ±5 widths of the widest wave around its centre.
    """
    out = np.zeros((3, n_samples))
    if waves.center_s.size == 0:
        return out
    reach = int(np.ceil(_CUTOFF_WIDTHS * waves.width_s.max() * fs_hz))
    index = np.rint(waves.center_s * fs_hz).astype(np.int64)[:, None] + np.arange(-reach, reach + 1)
    z = (index / fs_hz - waves.center_s[:, None]) / waves.width_s[:, None]
    shape = np.exp(-0.5 * z * z)
    inside = (index >= 0) & (index < n_samples)
    shape, index = shape * inside, np.clip(index, 0, n_samples - 1).ravel()
    for axis in range(3):
        weights = (shape * waves.amplitude_mv[:, axis, None]).ravel()
        out[axis] = np.bincount(index, weights=weights, minlength=n_samples)
    return out


def project(dipole: np.ndarray) -> np.ndarray:
    """The 12 standard leads of a dipole (X, Y, Z) of shape (3, n_samples): shape (12, n_samples), mV."""
    return LEAD_MATRIX @ dipole


def qrs_template(conduction: str) -> tuple[Waves, np.ndarray]:
    """The QRS Gaussians of ``conduction`` ('normal', 'rbbb' or 'lbbb'), centres relative to the main wave.

    Also returns which waves turn with (and define) the frontal axis, boolean of shape (G,).
    """
    table = np.array(_QRS[conduction])
    return Waves(table[:, 0], table[:, 1], table[:, 2:5]), table[:, 5] > 0


def pvc_template(rng: np.random.Generator, magnitude_mv: float) -> tuple[Waves, np.ndarray]:
    """A premature ventricular complex from a random focus: (QRS waves, unit T direction of shape (3,)).

    Two broad Gaussians 60 ms apart (QRS of 170-190 ms), the second weaker and turned; the T wave is
    discordant (opposite to the main QRS direction).
    """
    focus = np.array(_PVC_FOCI[rng.integers(len(_PVC_FOCI))]) + rng.normal(0, 0.15, 3)
    focus /= np.linalg.norm(focus)
    late = focus + rng.normal(0, 0.4, 3)
    late *= 0.45 / np.linalg.norm(late)
    widths = rng.uniform(0.022, 0.026) * np.ones(2)
    waves = Waves(np.array([0.0, 0.06]), widths, magnitude_mv * np.vstack([focus, late]))
    return waves, -focus


def unit(vector) -> np.ndarray:
    """``vector`` scaled to length 1, shape (3,)."""
    vector = np.asarray(vector, dtype=float)
    return vector / np.linalg.norm(vector)


def frontal_axis_deg(dipole: np.ndarray) -> np.ndarray:
    """The frontal-plane axis read from leads I and II as a clinician does: atan2((2 II - I) / √3, I).

    ``dipole`` has shape (..., 3) (e.g. a QRS area); returns degrees in (-180, 180], shape (...).
    """
    lead_i, lead_ii = dipole @ _I, dipole @ _II
    return np.degrees(np.arctan2(2 * lead_ii - lead_i, np.sqrt(3) * lead_i))


def rotate_frontal(vectors: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotate dipoles of shape (..., 3) in the frontal (X, Y) plane, from +X towards +Y (the feet)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    rotation = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return vectors @ rotation.T


def rotation_to_axis(area: np.ndarray, target_deg: float) -> float:
    """The frontal rotation (rad, smallest of a 1° grid) that brings a QRS area of shape (3,) to an axis.

    The axis is read from the projected leads I and II (:func:`frontal_axis_deg`), so the result accounts
    for the Z component and the non-orthogonality of the lead coefficients.
    """
    angles = np.radians(np.arange(-180, 180))
    c, s = np.cos(angles), np.sin(angles)
    rotated = np.stack([c * area[0] - s * area[1], s * area[0] + c * area[1], np.full_like(c, area[2])], -1)
    miss = np.abs((frontal_axis_deg(rotated) - target_deg + 180) % 360 - 180)
    return float(angles[np.argmin(miss + 1e-3 * np.abs(angles))])


def limb_qrs_range_mv(qrs: Waves) -> float:
    """The largest peak-to-peak QRS amplitude over the six limb leads, mV (1 ms grid)."""
    t = np.arange(qrs.onset_s, qrs.offset_s, 0.001)
    z = (t[:, None] - qrs.center_s) / qrs.width_s
    dipole = np.exp(-0.5 * z * z) @ qrs.amplitude_mv
    limb = dipole @ LEAD_MATRIX[:6].T
    return float(np.max(limb.max(axis=0) - limb.min(axis=0)))


def t_waves(end_s: np.ndarray, room_s: np.ndarray, rr_s: np.ndarray, vectors: np.ndarray, width_s=0.032):
    """The T waves of B beats, each ending at ``end_s`` (its T offset).

    Parameters
    ----------
    end_s, room_s, rr_s : np.ndarray, shape (B,)
        T offsets (s), the time available between QRS offset and T offset (s), preceding RR intervals (s).
    vectors : np.ndarray, shape (B, 3)
        Peak dipole of each T wave, mV.
    width_s : float, default 0.032
        Width of the downstroke Gaussian at RR = 1 s; it scales as RR^(1/3) and shrinks so that the wave
        fits in ``room_s``.

    Returns
    -------
    (Waves, np.ndarray, np.ndarray)
        2B Gaussians, and the T onsets and peaks in s, shape (B,).
    """
    delay, ratio, weight = _T_SHAPE
    peak_at, peak_value = _t_peak()
    span = BOUNDARY_WIDTHS * (1 + ratio) - delay
    s = np.minimum(width_s * np.cbrt(rr_s), np.maximum(room_s, 0.06) / span)
    late = end_s - BOUNDARY_WIDTHS * s
    centers = np.stack([late + delay * s, late], -1).ravel()
    widths = np.stack([ratio * s, s], -1).ravel()
    amplitudes = (np.stack([weight * vectors, vectors], 1) / peak_value).reshape(-1, 3)
    onset = late + (delay - BOUNDARY_WIDTHS * ratio) * s
    return Waves(centers, widths, amplitudes), onset, late + peak_at * s


@dataclass(frozen=True, eq=False)
class Heart:
    """One patient's waves: conducted and ectopic QRS (centres relative to R), T and P dipoles, intervals.

    Attributes
    ----------
    qrs, pvc : Waves
        QRS Gaussians of conducted and of premature ventricular beats, centres in s from R.
    t_vector, pvc_t_vector, p_vector, pac_p_vector : np.ndarray, shape (3,)
        Peak dipoles in mV of the T waves of conducted and ventricular beats, of sinus and ectopic P waves.
    p_width_s, pr_s, qtc_s : float
        P-wave width (SD), PR interval (P onset to QRS onset) and Bazett-corrected QT, in s.
    """

    qrs: Waves
    t_vector: np.ndarray
    pvc: Waves
    pvc_t_vector: np.ndarray
    p_vector: np.ndarray
    pac_p_vector: np.ndarray
    p_width_s: float
    pr_s: float
    qtc_s: float


def beat_waves(heart: Heart, r_s: np.ndarray, types: np.ndarray, gain: np.ndarray, pr_extra_s, with_p: bool):
    """All Gaussian waves of B beats and their true fiducial times.

    Parameters
    ----------
    heart : Heart
        The patient's waves.
    r_s, gain, pr_extra_s : np.ndarray, shape (B,)
        R times in s (sorted), amplitude factors, and PR lengthening in s (ectopic atrial beats).
    types : np.ndarray of str, shape (B,)
        ``N``, ``A`` (P wave of ``pac_p_vector``) or ``V`` (``pvc`` QRS, no P wave).
    with_p : bool
        Whether the rhythm has P waves (False in atrial fibrillation and flutter).

    Returns
    -------
    (Waves, dict of str to np.ndarray)
        The waves, and the times in s of :data:`ecgcrnn.domain.FIDUCIALS`, shape (B,), NaN if absent.
    """
    rr = np.clip(np.diff(r_s, prepend=2 * r_s[0] - r_s[1]), 0.3, 2.0)
    ventricular = types == "V"
    times = {key: np.full(r_s.size, np.nan) for key in FIDUCIALS}
    times["R"] = r_s.copy()
    parts = []
    for mask, template in ((~ventricular, heart.qrs), (ventricular, heart.pvc)):
        parts.append(_place(template, r_s[mask], gain[mask]))
        times["QRS_on"][mask] = r_s[mask] + template.onset_s
        times["QRS_off"][mask] = r_s[mask] + template.offset_s
    wide = np.maximum(times["QRS_off"] - times["QRS_on"] - 0.09, 0.0) + 0.04 * ventricular
    times["T_off"] = times["QRS_on"] + heart.qtc_s * np.sqrt(rr) + wide
    vectors = np.where(ventricular[:, None], heart.pvc_t_vector, heart.t_vector) * gain[:, None]
    room = times["T_off"] - times["QRS_off"] - 0.02
    waves, times["T_on"], times["T_peak"] = t_waves(times["T_off"], room, rr, vectors)
    parts.append(waves)
    atrial = ~ventricular & with_p
    times["P_on"][atrial] = (times["QRS_on"] - heart.pr_s - pr_extra_s)[atrial]
    times["P_peak"] = times["P_on"] + BOUNDARY_WIDTHS * heart.p_width_s
    times["P_off"] = times["P_peak"] + BOUNDARY_WIDTHS * heart.p_width_s
    p_vectors = np.where((types == "A")[:, None], heart.pac_p_vector, heart.p_vector) * gain[:, None]
    parts.append(Waves(times["P_peak"][atrial], np.full(atrial.sum(), heart.p_width_s), p_vectors[atrial]))
    return concatenate(parts), times


def electrode_noise(rng: np.random.Generator, t: np.ndarray, resp_hz: float) -> np.ndarray:
    """Noise of the 12 leads, shape (12, n), mV: drawn per electrode (RA, LA, LL, V1-V6), then mapped.

    White noise of 3-20 µV SD, baseline wander at the breathing rate (up to 0.12 mV per electrode) and a
    slow drift at 0.03-0.1 Hz (up to 0.15 mV), and 50 or 60 Hz mains interference of 2-30 µV.
    """
    shape = (9, 1)
    phases = rng.uniform(0, 2 * np.pi, (3, *shape))
    white = rng.normal(0, 1, (9, t.size)) * _log_uniform(rng, 0.003, 0.02) * rng.uniform(0.6, 1.4, shape)
    wander = rng.uniform(0.02, 0.12, shape) * np.sin(2 * np.pi * resp_hz * t + phases[0])
    drift = rng.uniform(0.0, 0.15, shape) * np.sin(2 * np.pi * rng.uniform(0.03, 0.1) * t + phases[1])
    mains_hz = 50.0 if rng.random() < 0.5 else 60.0
    mains = _log_uniform(rng, 0.002, 0.03) * rng.uniform(0.5, 1.5, shape)
    electrodes = white / np.sqrt(2) + wander + drift + mains * np.sin(2 * np.pi * mains_hz * t + phases[2])
    return _ELECTRODES_TO_LEADS @ electrodes


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _place(template: Waves, r_s: np.ndarray, gain: np.ndarray) -> Waves:
    """``template``'s waves (centres relative to R) at every R time, scaled by each beat's gain."""
    return Waves(
        (r_s[:, None] + template.center_s).ravel(),
        np.tile(template.width_s, r_s.size),
        (gain[:, None, None] * template.amplitude_mv).reshape(-1, 3),
    )


@functools.lru_cache(maxsize=1)
def _t_peak() -> tuple[float, float]:
    """Peak position (in downstroke widths from the downstroke centre) and height of the T shape."""
    delay, ratio, weight = _T_SHAPE
    x = np.linspace(delay, 0.0, 10001)
    shape = weight * np.exp(-0.5 * ((x - delay) / ratio) ** 2) + np.exp(-0.5 * x**2)
    return float(x[np.argmax(shape)]), float(shape.max())
