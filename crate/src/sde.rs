//! Diffusion: the SDE extension of the flow, Langevin dynamics and the Fokker-Planck equation
//! (MIT 6.S184, lecture 2), for any field of a Gaussian path (exact or learned).
//!
//! - SDE extension trick: for a diffusion coefficient `sigma_t >= 0`, `X_0 ~ p_init` and
//!   `dX_t = [u_t(X_t) + (sigma_t^2 / 2) grad log p_t(X_t)] dt + sigma_t dW_t`
//!   give `X_t ~ p_t` for every `t`: the marginals of the ODE, along rough paths.
//! - The choice here: `sigma_t = sigma beta_t` ([`Diffusion::sigma_t`]). At points typical of
//!   `p_t` (`x = alpha_t z + beta_t eps`) the score is `|eps| / beta_t` in size (`1 / beta_t^2`
//!   only at a fixed point off the data), so a constant `sigma_t` would blow the drift up at
//!   `t = 1`; with `sigma_t = sigma beta_t` the score term of the exact field is
//!   `(sigma^2 / 2)(alpha_t zbar - x)`, finite, and the noise vanishes where the particles land.
//! - The score of a field: for a Gaussian path every field of the form `A_t zbar + B_t x`
//!   determines its score, `s = (alpha_t u - alpha_dot_t x) / (beta_t^2 alpha_dot_t - beta_dot_t
//!   beta_t alpha_t)` ([`crate::path::GaussianPath::score_from_velocity`]): the exact field gives
//!   the exact score, the network's field the network's score (no second network).
//! - Euler-Maruyama on a time grid `t_0 < .. < t_K` ([`crate::ode::time_grid`]), `h = t_{k+1} -
//!   t_k`, `xi ~ N(0, I)`: `x' = x + h v_t(x) + sigma_t sqrt(h) xi`, with the drift
//!   `v = u + (sigma_t^2 / 2) s` ([`SdeDrift`]); without the score correction `v = u`, which
//!   over-spreads the particles ([`fokker_planck_residual`] says why).
//! - Langevin dynamics at a frozen `t`: `dX = (sigma_t^2 / 2) grad log p_t(X) ds + sigma_t dW_s`
//!   leaves `p_t` unchanged ([`langevin`], unadjusted: one Euler-Maruyama step per `ds`).
//!
//! The noise comes from a [`SeededRng`] passed in, one `N(0, I)` pair per particle per step in
//! particle order, so a run reproduces from its seed natively and in wasm alike.

use crate::marginal::EmpiricalMarginal;
use crate::ode::VectorField;
use crate::path::{GaussianPath, Schedule};
use crate::rng::{normal_pair, SeededRng};
use crate::Point;

/// The noise of the SDE: `sigma_t = sigma beta_t`, and whether the drift carries the score
/// correction `(sigma_t^2 / 2) grad log p_t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diffusion {
    /// The noise level `sigma >= 0` (0 is the ODE).
    pub sigma: f64,
    /// Whether the drift is `u + (sigma_t^2 / 2) s` (true: keeps the marginals) or `u` alone.
    pub score_correction: bool,
}

impl Default for Diffusion {
    /// The ODE: no noise, with the correction (which is then zero).
    fn default() -> Self {
        Diffusion {
            sigma: 0.0,
            score_correction: true,
        }
    }
}

impl Diffusion {
    /// `sigma_t = sigma beta_t` (`t` clamped to `[0, t_max]`, so it never quite reaches 0).
    pub fn sigma_t(&self, schedule: Schedule, t: f64) -> f64 {
        self.sigma * schedule.beta(schedule.clamp_t(t))
    }

    /// The coefficient of the score in the drift: `sigma_t^2 / 2` with the correction, else 0.
    pub fn score_weight(&self, schedule: Schedule, t: f64) -> f64 {
        if self.score_correction {
            let s = self.sigma_t(schedule, t);
            0.5 * s * s
        } else {
            0.0
        }
    }
}

/// The drift `v_t(x) = u_t(x) + (sigma_t^2 / 2) s_t(x)` of the SDE built on a Gaussian-path
/// field `u` (its score `s` by [`GaussianPath::score_from_velocity`]). Without the correction,
/// or with `sigma = 0`, it is `u` itself.
pub struct SdeDrift<'a> {
    /// The field `u_t` (exact or learned).
    pub field: &'a mut dyn VectorField,
    /// Its Gaussian path.
    pub path: GaussianPath,
    /// The noise and the correction.
    pub diffusion: Diffusion,
}

impl VectorField for SdeDrift<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        self.field.velocity(t, xs, out);
        let c = self.diffusion.score_weight(self.path.schedule, t);
        if c == 0.0 {
            return;
        }
        for (o, &x) in out.iter_mut().zip(xs) {
            let s = self.path.score_from_velocity(*o, x, t);
            o[0] += c * s[0];
            o[1] += c * s[1];
        }
    }

    fn path(&self) -> Option<GaussianPath> {
        Some(self.path)
    }
}

/// Euler-Maruyama steps of the SDE of `field` on the time grid `times` (one step between each
/// pair of consecutive times), in place: `x' = x + h v_t(x) + sigma_t sqrt(h) xi` with the
/// drift of [`SdeDrift`] and `sigma_t` at the step's start (Ito). `buf` is scratch space (grown
/// to `xs.len()`). With `sigma = 0` this is the Euler method of the ODE.
pub fn euler_maruyama(
    field: &mut dyn VectorField,
    path: GaussianPath,
    diffusion: Diffusion,
    xs: &mut [Point],
    times: &[f64],
    rng: &mut SeededRng,
    buf: &mut Vec<Point>,
) {
    buf.resize(xs.len(), [0.0; 2]);
    let mut drift = SdeDrift {
        field,
        path,
        diffusion,
    };
    for w in times.windows(2) {
        let (t, h) = (w[0], w[1] - w[0]);
        drift.velocity(t, xs, buf);
        let noise = diffusion.sigma_t(path.schedule, t) * h.max(0.0).sqrt();
        for (x, v) in xs.iter_mut().zip(buf.iter()) {
            x[0] += h * v[0];
            x[1] += h * v[1];
            if noise > 0.0 {
                let xi = normal_pair(rng);
                x[0] += noise * xi[0];
                x[1] += noise * xi[1];
            }
        }
    }
}

/// `steps` steps of (unadjusted) Langevin dynamics at the frozen time `t`, in place:
/// `x' = x + ds (sigma_t^2 / 2) s_t(x) + sigma_t sqrt(ds) xi`, with the score `s` of `field`
/// ([`GaussianPath::score_from_velocity`]) and `sigma_t = sigma beta_t`. Its stationary law is
/// `p_t` up to a bias of order `ds sigma^2` (small for `ds sigma^2 << 1`; the page takes
/// `ds = 0.01`, `sigma <= 3`). `buf` is scratch space.
#[allow(clippy::too_many_arguments)]
pub fn langevin(
    field: &mut dyn VectorField,
    path: GaussianPath,
    sigma: f64,
    xs: &mut [Point],
    t: f64,
    ds: f64,
    steps: usize,
    rng: &mut SeededRng,
    buf: &mut Vec<Point>,
) {
    buf.resize(xs.len(), [0.0; 2]);
    let diffusion = Diffusion {
        sigma,
        score_correction: true,
    };
    let sig = diffusion.sigma_t(path.schedule, t);
    let (c, noise) = (0.5 * sig * sig, sig * ds.max(0.0).sqrt());
    for _ in 0..steps {
        field.velocity(t, xs, buf);
        for (x, u) in xs.iter_mut().zip(buf.iter()) {
            let s = path.score_from_velocity(*u, *x, t);
            let xi = normal_pair(rng);
            x[0] += ds * c * s[0] + noise * xi[0];
            x[1] += ds * c * s[1] + noise * xi[1];
        }
    }
}

/// The Fokker-Planck residual, in log form, of the exact `p_t` of `marginal` under the SDE with
/// drift `v` and diffusion `sigma_t = sigma beta_t` of `diffusion`:
/// `d/dt log p + v . s + div v - (sigma_t^2 / 2)(Lap log p + |s|^2)` (`s = grad log p`; it is
/// `(d/dt p + div(p v) - (sigma_t^2 / 2) Lap p) / p`). With the score correction,
/// `v = u + (sigma_t^2 / 2) s` and `div v = div u + (sigma_t^2 / 2) Lap log p`: the noise
/// terms cancel and it is the continuity residual, about 0. Without it, `v = u`, and it is
/// `-(sigma_t^2 / 2)(Lap log p + |s|^2) = -(sigma_t^2 / 2) Lap p / p`, clearly not 0: the
/// noise spreads mass that no drift takes back. 0 with no points.
pub fn fokker_planck_residual(
    marginal: &EmpiricalMarginal,
    x: Point,
    t: f64,
    diffusion: Diffusion,
) -> f64 {
    if marginal.points().is_empty() {
        return 0.0;
    }
    let e = marginal.eval(x, t);
    let schedule = marginal.path().schedule;
    let half_sig2 = {
        let s = diffusion.sigma_t(schedule, t);
        0.5 * s * s
    };
    let c = diffusion.score_weight(schedule, t);
    let v = [e.u[0] + c * e.score[0], e.u[1] + c * e.score[1]];
    let div_v = e.divergence + c * e.lap_log_density;
    let s2 = e.score[0] * e.score[0] + e.score[1] * e.score[1];
    e.dlogp_dt + v[0] * e.score[0] + v[1] * e.score[1] + div_v
        - half_sig2 * (e.lap_log_density + s2)
}

/// The index of the time in `times` nearest to `tau` (the first on a tie; 0 for an empty list).
pub fn nearest_time(times: &[f64], tau: f64) -> usize {
    let mut best = 0;
    for (i, t) in times.iter().enumerate() {
        if (t - tau).abs() < (times[best] - tau).abs() {
            best = i;
        }
    }
    best
}

/// How many pairs of fresh samples the floor of [`marginal_match`] averages.
pub const FLOOR_PAIRS: u64 = 4;

/// How well `particles` match the exact `p_t`: `(energy distance to as many fresh samples of
/// p_t, the floor: the mean energy distance between two fresh samples of that size over
/// FLOOR_PAIRS = 4 pairs, so that one lucky pair does not set it)`, the samples seeded from
/// `seed` (the page's marginal-match table and `fmp flow --at-times`; `crate::metrics::energy_distance_capped`).
pub fn marginal_match(
    marginal: &EmpiricalMarginal,
    particles: &[Point],
    t: f64,
    seed: u64,
) -> (f64, f64) {
    let n = particles.len();
    let sample = |k: u64| marginal.sample(t, n, &mut crate::rng::seeded(seed.wrapping_add(k)));
    let fresh = sample(7);
    let floor = (0..FLOOR_PAIRS)
        .map(|k| crate::metrics::energy_distance_capped(&sample(8 + 2 * k), &sample(9 + 2 * k)))
        .sum::<f64>()
        / FLOOR_PAIRS as f64;
    (
        crate::metrics::energy_distance_capped(particles, &fresh),
        floor,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::energy_distance;
    use crate::ode::{time_grid, MarginalField};
    use crate::rng::seeded;

    fn small_cloud() -> Vec<Point> {
        let mut rng = seeded(5);
        (0..40)
            .map(|i| {
                let c = if i % 2 == 0 { 1.0 } else { -1.0 };
                let e = normal_pair(&mut rng);
                [c + 0.2 * e[0], 0.5 * c + 0.2 * e[1]]
            })
            .collect()
    }

    fn noise(n: usize, seed: u64) -> Vec<Point> {
        let mut rng = seeded(seed);
        (0..n).map(|_| normal_pair(&mut rng)).collect()
    }

    /// The energy distance of two independent samples of the same law, averaged over seeds:
    /// the floor below which no comparison of samples of size `n` can go.
    fn floor(m: &EmpiricalMarginal, t: f64, n: usize) -> f64 {
        (0..4)
            .map(|k| {
                let a = m.sample(t, n, &mut seeded(100 + k));
                let b = m.sample(t, n, &mut seeded(200 + k));
                energy_distance(&a, &b)
            })
            .sum::<f64>()
            / 4.0
    }

    #[test]
    fn sigma_zero_is_the_euler_ode() {
        let m = EmpiricalMarginal::new(small_cloud(), GaussianPath::new(Schedule::Cosine));
        let times = time_grid(Schedule::Cosine, 20);
        let mut a = noise(50, 1);
        let mut b = a.clone();
        let mut buf = Vec::new();
        euler_maruyama(
            &mut MarginalField { marginal: &m },
            m.path(),
            Diffusion::default(),
            &mut a,
            &times,
            &mut seeded(3),
            &mut buf,
        );
        // Hand-written Euler on the same grid.
        let mut k = vec![[0.0; 2]; b.len()];
        for w in times.windows(2) {
            m.u_marg_batch(&b, w[0], &mut k);
            for (x, v) in b.iter_mut().zip(&k) {
                x[0] += (w[1] - w[0]) * v[0];
                x[1] += (w[1] - w[0]) * v[1];
            }
        }
        assert_eq!(a, b);
    }

    #[test]
    fn the_exact_drift_is_u_plus_the_closed_form_score_term() {
        // v = u + (sigma^2 beta^2 / 2) grad log p = u + (sigma^2 / 2)(alpha zbar - x).
        for schedule in Schedule::ALL {
            let m = EmpiricalMarginal::new(small_cloud(), GaussianPath::new(schedule));
            let d = Diffusion {
                sigma: 1.3,
                score_correction: true,
            };
            let xs = noise(30, 2);
            for t in [0.0, 0.3, 0.8, schedule.t_max()] {
                let mut field = MarginalField { marginal: &m };
                let mut drift = SdeDrift {
                    field: &mut field,
                    path: m.path(),
                    diffusion: d,
                };
                let mut v = vec![[0.0; 2]; xs.len()];
                drift.velocity(t, &xs, &mut v);
                let mut zbar = vec![[0.0; 2]; xs.len()];
                m.posterior_mean_batch(&xs, t, &mut zbar);
                let al = schedule.alpha(schedule.clamp_t(t));
                for i in 0..xs.len() {
                    let u = m.u_marg(xs[i], t);
                    for k in 0..2 {
                        let want = u[k] + 0.5 * 1.69 * (al * zbar[i][k] - xs[i][k]);
                        assert!(
                            (v[i][k] - want).abs() < 1e-8 * (1.0 + want.abs()),
                            "{schedule:?} t {t}: {} vs {want}",
                            v[i][k]
                        );
                    }
                }
            }
        }
    }

    /// Euler-Maruyama with the exact drift keeps the marginals (to the sampling floor), for two
    /// noise levels and every schedule; without the score correction it does not.
    #[test]
    fn euler_maruyama_keeps_the_marginals_only_with_the_score_correction() {
        let n = 600;
        for schedule in Schedule::ALL {
            let m = EmpiricalMarginal::new(small_cloud(), GaussianPath::new(schedule));
            let times = time_grid(schedule, 100);
            for (sigma, correction) in [(0.7, true), (1.5, true), (1.5, false)] {
                let mut xs = noise(n, 11);
                let mut buf = Vec::new();
                let mut rng = seeded(12);
                // Check at the grid time nearest 0.5 and at the end.
                let k = nearest_time(&times, 0.5);
                let d = Diffusion {
                    sigma,
                    score_correction: correction,
                };
                let mut field = MarginalField { marginal: &m };
                euler_maruyama(
                    &mut field,
                    m.path(),
                    d,
                    &mut xs,
                    &times[..=k],
                    &mut rng,
                    &mut buf,
                );
                let fresh = m.sample(times[k], n, &mut seeded(13));
                let ed_mid = energy_distance(&xs, &fresh);
                let floor_mid = floor(&m, times[k], n);
                euler_maruyama(
                    &mut field,
                    m.path(),
                    d,
                    &mut xs,
                    &times[k..],
                    &mut rng,
                    &mut buf,
                );
                let end = *times.last().expect("grid");
                let ed_end = energy_distance(&xs, &m.sample(end, n, &mut seeded(14)));
                let floor_end = floor(&m, end, n);
                if correction {
                    assert!(
                        ed_mid < 4.0 * floor_mid && ed_end < 4.0 * floor_end,
                        "{schedule:?} sigma {sigma}: {ed_mid} (floor {floor_mid}), {ed_end} (floor {floor_end})"
                    );
                } else {
                    assert!(
                        ed_mid > 10.0 * floor_mid,
                        "{schedule:?} no correction: {ed_mid} (floor {floor_mid})"
                    );
                }
            }
        }
    }

    #[test]
    fn langevin_at_a_frozen_time_keeps_p_t() {
        let n = 600;
        for schedule in Schedule::ALL {
            let m = EmpiricalMarginal::new(small_cloud(), GaussianPath::new(schedule));
            for (t, sigma) in [(0.5, 1.0), (0.8, 2.0)] {
                let mut xs = m.sample(t, n, &mut seeded(21));
                let mut buf = Vec::new();
                langevin(
                    &mut MarginalField { marginal: &m },
                    m.path(),
                    sigma,
                    &mut xs,
                    t,
                    0.01,
                    1000,
                    &mut seeded(22),
                    &mut buf,
                );
                let ed = energy_distance(&xs, &m.sample(t, n, &mut seeded(23)));
                let fl = floor(&m, t, n);
                assert!(ed < 4.0 * fl, "{schedule:?} t {t}: {ed} (floor {fl})");
                // And they moved: Langevin is not standing still.
                let start = m.sample(t, n, &mut seeded(21));
                let moved = start
                    .iter()
                    .zip(&xs)
                    .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
                    .sum::<f64>()
                    / n as f64;
                assert!(moved > 0.1, "{schedule:?} t {t}: moved {moved}");
            }
        }
    }

    #[test]
    fn nearest_time_picks_the_closest() {
        let times = [0.0, 0.2, 0.26, 0.5, 1.0];
        assert_eq!(nearest_time(&times, 0.25), 2);
        assert_eq!(nearest_time(&times, 0.9), 4);
        assert_eq!(nearest_time(&[], 0.3), 0);
    }
}
