//! Cross-module checks of the exact math: the marginalization trick by Monte Carlo, and the
//! exact marginal flow carrying noise onto a preset, judged by the metrics.

use fmp::data::{sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::metrics::{energy_distance, w2_exact};
use fmp::ode::{Integrator, MarginalField, Solver};
use fmp::path::{GaussianPath, Schedule};
use fmp::rng::{index, normal_pair, seeded, uniform};
use fmp::Point;

/// Mean and standard error of `g(sample)` over `(t, z, x ~ p_t(.|z))` draws.
fn monte_carlo(
    m: &EmpiricalMarginal,
    seed: u64,
    draws: usize,
    g: impl Fn(Point, Point, f64) -> f64,
) -> (f64, f64) {
    let mut rng = seeded(seed);
    let pts = m.points();
    let (mut s, mut s2) = (0.0, 0.0);
    for _ in 0..draws {
        let t = 0.9 * uniform(&mut rng);
        let z = pts[index(&mut rng, pts.len())];
        let x = m.path().sample(z, t, normal_pair(&mut rng));
        let v = g(x, z, t);
        s += v;
        s2 += v * v;
    }
    let n = draws as f64;
    let mean = s / n;
    (mean, ((s2 / n - mean * mean) / n).sqrt())
}

/// E[u_t(x|z) | x] = u_t(x): for any test field v, E[v(x) . (u_marg(x) - u_cond(x|z))] = 0, which
/// is why the CFM and FM losses have the same gradients. The uniform-weight field fails it.
#[test]
fn conditional_field_averages_to_the_marginal_field() {
    let pts = sample_preset(Preset::EightGaussians, 64, &mut seeded(1));
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        let v = |x: Point| [x[1] + 1.0, x[0] * x[0]];
        let path = m.path();
        let (mean, se) = monte_carlo(&m, 2, 100_000, |x, z, t| {
            let (um, uc, vv) = (m.u_marg(x, t), path.u_cond(x, z, t), v(x));
            vv[0] * (um[0] - uc[0]) + vv[1] * (um[1] - uc[1])
        });
        assert!(mean.abs() < 4.0 * se, "{s:?}: {mean} +- {se}");
        let (wrong, wse) = monte_carlo(&m, 2, 100_000, |x, z, t| {
            let (um, uc, vv) = (m.u_uniform(x, t), path.u_cond(x, z, t), v(x));
            vv[0] * (um[0] - uc[0]) + vv[1] * (um[1] - uc[1])
        });
        assert!(
            wrong.abs() > 10.0 * wse,
            "{s:?}: uniform weights {wrong} +- {wse}"
        );
    }
}

#[test]
fn exact_marginal_flow_carries_noise_onto_the_data() {
    let data = sample_preset(Preset::TwoMoons, 200, &mut seeded(3));
    let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(Schedule::Linear));
    let mut rng = seeded(4);
    let noise: Vec<Point> = (0..200).map(|_| normal_pair(&mut rng)).collect();
    let mut xs = noise.clone();
    Integrator::new().integrate(
        &mut MarginalField { marginal: &m },
        Solver::Euler,
        &mut xs,
        0.0,
        1.0,
        1000,
    );
    // memorization: every particle sits on a data point (Euler's last step from t = 1 - h sets
    // x to the posterior mean at that time, so h must make the posterior one-hot)
    for x in &xs {
        let d = data
            .iter()
            .map(|z| (x[0] - z[0]).hypot(x[1] - z[1]))
            .fold(f64::INFINITY, f64::min);
        assert!(d < 1e-3, "{x:?} is {d} away");
    }
    let (e0, e1) = (energy_distance(&noise, &data), energy_distance(&xs, &data));
    let (w0, w1) = (
        w2_exact(&noise, &data).expect("ok"),
        w2_exact(&xs, &data).expect("ok"),
    );
    eprintln!("energy {e0} -> {e1}, W2 {w0} -> {w1}");
    assert!(e1 < 0.1 * e0, "energy {e0} -> {e1}");
    assert!(w1 < 0.5 * w0, "W2 {w0} -> {w1}");
}
