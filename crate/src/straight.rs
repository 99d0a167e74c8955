//! Straight paths (rectified flow, Liu et al. 2023; minibatch OT, Tong et al. 2023): the
//! figures of the straight-paths lesson and the pairs of a reflow round, shared by the page
//! (through `wasm`) and `fmp train`.
//!
//! Conventions: particles are `Point`s, trajectories are frames `frames[k]` at `times[k]` on
//! the core's time grid ([`ode::time_grid`], from 0 to the schedule's clamp). A network's
//! few-step quality is the W2 ([`metrics::w2_capped`]) to a reference cloud of the samples
//! that [`NFE`] Euler steps carry from noise.

use crate::metrics;
use crate::mlp::{Mlp, MlpField};
use crate::ode::{self, Integrator, Solver};
use crate::path::{GaussianPath, Schedule};
use crate::Point;

/// Euler step counts of the few-step figures (the NFE chart, `fmp train`'s `w2_at_steps`).
pub const NFE: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];

/// Paths among which crossings are counted ([`metrics::crossings`]).
pub const CROSSING_PATHS: usize = 100;

/// Frames of a trajectory at most used to count crossings (a longer one is thinned: the
/// count costs the square of the frames).
pub const CROSSING_FRAMES: usize = 51;

/// RK4 steps that carry reflow noise to its partner `x1` (an accurate solve of the ODE).
pub const REFLOW_ODE_STEPS: usize = 100;

/// Pairs a reflow round draws from the network's ODE.
pub const REFLOW_PAIRS: usize = 2048;

/// The samples that `steps` Euler steps of `model`'s ODE (on the time grid of `schedule`)
/// carry `noise` to.
pub fn euler_samples(model: &Mlp, schedule: Schedule, noise: &[Point], steps: usize) -> Vec<Point> {
    carry(model, schedule, noise, Solver::Euler, steps)
}

/// `xs` carried along `model`'s ODE by `steps` steps of `solver` on the time grid of `schedule`.
fn carry(
    model: &Mlp,
    schedule: Schedule,
    xs: &[Point],
    solver: Solver,
    steps: usize,
) -> Vec<Point> {
    let mut xs = xs.to_vec();
    let mut field = MlpField::with_path(model, GaussianPath::new(schedule));
    Integrator::new().integrate_on(
        &mut field,
        solver,
        &mut xs,
        &ode::time_grid(schedule, steps),
    );
    xs
}

/// W2 to `reference` of [`euler_samples`]; NaN when a sample is not finite (a diverged
/// network) or a set is empty.
pub fn w2_after_euler(
    model: &Mlp,
    schedule: Schedule,
    noise: &[Point],
    steps: usize,
    reference: &[Point],
) -> f64 {
    let xs = euler_samples(model, schedule, noise, steps);
    if xs.iter().flatten().all(|v| v.is_finite()) {
        metrics::w2_capped(&xs, reference).unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// Crossing pairs among the first [`CROSSING_PATHS`] paths of `frames`, thinned to at most
/// [`CROSSING_FRAMES`] frames (first and last kept).
pub fn crossings_thinned(frames: &[Vec<Point>]) -> usize {
    metrics::crossings(&thin(frames, CROSSING_FRAMES), CROSSING_PATHS)
}

/// At most `max` of `frames`, evenly spread, the first and the last kept.
fn thin(frames: &[Vec<Point>], max: usize) -> Vec<Vec<Point>> {
    let k = frames.len();
    if k <= max || max < 2 {
        return frames.to_vec();
    }
    (0..max)
        .map(|j| frames[(j * (k - 1) + (max - 1) / 2) / (max - 1)].clone())
        .collect()
}

/// The partners `x1 = ODE_theta(x0)` of a reflow round: `x0` carried by [`REFLOW_ODE_STEPS`]
/// RK4 steps of `model`'s ODE; `None` when a partner is not finite (a diverged network).
pub fn reflow_partners(model: &Mlp, schedule: Schedule, x0: &[Point]) -> Option<Vec<Point>> {
    let x1 = carry(model, schedule, x0, Solver::Rk4, REFLOW_ODE_STEPS);
    x1.iter().flatten().all(|v| v.is_finite()).then_some(x1)
}

/// The straight reference of the lesson: for each noise point its partner in `data` under
/// the optimal coupling of the two sets. The data is first resampled to as many points as
/// there is noise (point `floor((i + 1/2) n / m)` for `i < m`: every point equally often, up
/// to one, when `m` and `n` differ), then matched by the exact assignment
/// ([`metrics::optimal_assignment`], squared Euclidean cost). Empty when `data` is.
pub fn ot_partners(noise: &[Point], data: &[Point]) -> Vec<Point> {
    let (m, n) = (noise.len(), data.len());
    if n == 0 {
        return Vec::new();
    }
    let targets: Vec<Point> = (0..m).map(|i| data[(2 * i + 1) * n / (2 * m)]).collect();
    metrics::optimal_assignment(noise, &targets)
        .into_iter()
        .map(|j| targets[j])
        .collect()
}

/// The conditional path of each pair, `x_t = alpha_t x1_i + beta_t x0_i`, at `times`, as
/// frames (straight lines at constant speed for the linear schedule).
pub fn pair_paths(
    schedule: Schedule,
    x0: &[Point],
    x1: &[Point],
    times: &[f64],
) -> Vec<Vec<Point>> {
    times
        .iter()
        .map(|&t| {
            let (a, b) = (schedule.alpha(t), schedule.beta(t));
            x0.iter()
                .zip(x1)
                .map(|(p, q)| [a * q[0] + b * p[0], a * q[1] + b * p[1]])
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlp::MlpConfig;
    use crate::rng;

    #[test]
    fn thinning_keeps_the_ends_and_the_count() {
        let frames: Vec<Vec<Point>> = (0..201).map(|k| vec![[k as f64, 0.0]]).collect();
        let t = thin(&frames, 51);
        assert_eq!(t.len(), 51);
        assert_eq!(t[0][0][0], 0.0);
        assert_eq!(t[50][0][0], 200.0);
        // Evenly spread: frame j is 4 j.
        assert_eq!(t[10][0][0], 40.0);
        assert_eq!(thin(&frames[..30], 51).len(), 30);
    }

    #[test]
    fn ot_partners_of_a_shifted_copy_are_the_copy() {
        // Noise and the same points shifted by a small vector: the optimal partner of each is
        // its own shifted copy (any other pairing costs more), whatever the order of the data.
        let mut r = rng::seeded(3);
        let noise: Vec<Point> = (0..40).map(|_| rng::normal_pair(&mut r)).collect();
        let mut data: Vec<Point> = noise.iter().map(|p| [p[0] + 0.01, p[1] - 0.02]).collect();
        data.reverse();
        let partners = ot_partners(&noise, &data);
        for (p, q) in noise.iter().zip(&partners) {
            assert!((q[0] - p[0] - 0.01).abs() < 1e-12 && (q[1] - p[1] + 0.02).abs() < 1e-12);
        }
        assert!(ot_partners(&noise, &[]).is_empty());
    }

    #[test]
    fn ot_pairs_never_meet_at_one_time() {
        // For any two pairs of an optimal plan, swapping partners cannot lower the cost, which
        // for squared distances is <a, b> >= 0 with a = x0_i - x0_j, b = x1_i - x1_j. Then
        // |x_t^i - x_t^j|^2 = (1-t)^2 |a|^2 + t^2 |b|^2 + 2 t (1-t) <a, b> > 0 for every t: the
        // lines may cross in the plane, but the particles are never at one place at once
        // (what the 'ot' view's caption says). The drawn pairing breaks it for many pairs.
        let mut r = rng::seeded(9);
        let noise: Vec<Point> = (0..300).map(|_| rng::normal_pair(&mut r)).collect();
        let data: Vec<Point> = (0..300)
            .map(|_| {
                let p = rng::normal_pair(&mut r);
                [2.0 + 0.3 * p[0], -1.0 + 0.3 * p[1]]
            })
            .collect();
        let dot = |x0: &[Point], x1: &[Point], i: usize, j: usize| {
            let a = [x0[i][0] - x0[j][0], x0[i][1] - x0[j][1]];
            let b = [x1[i][0] - x1[j][0], x1[i][1] - x1[j][1]];
            a[0] * b[0] + a[1] * b[1]
        };
        let partners = ot_partners(&noise, &data);
        let mut drawn_bad = 0;
        for i in 0..300 {
            for j in i + 1..300 {
                assert!(dot(&noise, &partners, i, j) >= -1e-9, "pair ({i}, {j})");
                if dot(&noise, &data, i, j) < 0.0 {
                    drawn_bad += 1;
                }
            }
        }
        assert!(drawn_bad > 1000, "{drawn_bad}");
    }

    #[test]
    fn ot_partners_resample_the_data_evenly() {
        // 6 noise points, 3 data points: each data point is a partner exactly twice.
        let noise: Vec<Point> = (0..6).map(|i| [i as f64, 0.0]).collect();
        let data: Vec<Point> = vec![[0.0, 5.0], [1.0, 5.0], [2.0, 5.0]];
        let partners = ot_partners(&noise, &data);
        for d in &data {
            assert_eq!(partners.iter().filter(|q| *q == d).count(), 2);
        }
    }

    #[test]
    fn linear_pair_paths_are_straight_and_cosine_ones_bend() {
        let x0 = vec![[0.0, 0.0]];
        let x1 = vec![[1.0, 2.0]];
        let times = ode::time_grid(Schedule::Linear, 20);
        let lin = pair_paths(Schedule::Linear, &x0, &x1, &times);
        assert!(metrics::straightness(&lin, &times) < 1e-20);
        let cos_times = ode::time_grid(Schedule::Cosine, 20);
        let cos = pair_paths(Schedule::Cosine, &x0, &x1, &cos_times);
        assert!(metrics::straightness(&cos, &cos_times) > 0.1);
    }

    #[test]
    fn euler_with_one_step_is_the_hand_computed_step() {
        // One Euler step from t = 0 to the clamp: x + t_max u_theta(x, 0).
        let model = Mlp::new(
            MlpConfig {
                width: 8,
                depth: 2,
                time_features: 0,
                classes: 0,
            },
            &mut rng::seeded(1),
        );
        let noise = vec![[0.3, -0.7], [1.1, 0.2]];
        let got = euler_samples(&model, Schedule::Linear, &noise, 1);
        let times = ode::time_grid(Schedule::Linear, 1);
        assert_eq!(times.len(), 2);
        let h = times[1] - times[0];
        let mut u = vec![[0.0; 2]; noise.len()];
        model.predict(
            &noise,
            times[0],
            &mut u,
            &mut crate::mlp::ForwardCache::new(),
        );
        for ((x, y), u) in noise.iter().zip(&got).zip(&u) {
            assert!((y[0] - (x[0] + h * u[0])).abs() < 1e-6);
            assert!((y[1] - (x[1] + h * u[1])).abs() < 1e-6);
        }
    }
}
