//! Tests of [`super`] (the module's own file holds the code; these check it against
//! closed forms, finite differences and hand-computed steps).

use super::*;
use crate::path::{Schedule, BETA_MIN};
use crate::rng::{normal_pair, seeded, uniform};

fn cloud(seed: u64, n: usize) -> Vec<Point> {
    let mut rng = seeded(seed);
    (0..n)
        .map(|_| {
            let p = normal_pair(&mut rng);
            [1.5 * p[0] + 0.3, 0.8 * p[1] - 0.2]
        })
        .collect()
}

/// Naive f64 density, independent of the log-sum-exp code.
fn naive_density(m: &EmpiricalMarginal, x: Point, t: f64) -> f64 {
    let s = m.path().schedule;
    let (al, be) = (s.alpha(t), s.beta(t));
    let n = m.points().len() as f64;
    m.points()
        .iter()
        .map(|z| {
            let d2 = (x[0] - al * z[0]).powi(2) + (x[1] - al * z[1]).powi(2);
            (-d2 / (2.0 * be * be)).exp() / (2.0 * std::f64::consts::PI * be * be)
        })
        .sum::<f64>()
        / n
}

#[test]
fn u_marg_matches_brute_force_posterior_average() {
    let pts = cloud(1, 40);
    let mut rng = seeded(2);
    for s in Schedule::ALL {
        let path = GaussianPath::new(s);
        let m = EmpiricalMarginal::new(pts.clone(), path);
        for t in [0.0, 0.2, 0.5, 0.8] {
            for _ in 0..5 {
                let x = normal_pair(&mut rng);
                let (al, be) = (s.alpha(t), s.beta(t));
                let ws: Vec<f64> = pts
                    .iter()
                    .map(|z| {
                        let d2 = (x[0] - al * z[0]).powi(2) + (x[1] - al * z[1]).powi(2);
                        (-d2 / (2.0 * be * be)).exp()
                    })
                    .collect();
                let tot: f64 = ws.iter().sum();
                let mut u = [0.0; 2];
                for (w, z) in ws.iter().zip(&pts) {
                    let uc = path.u_cond(x, *z, t);
                    u[0] += w / tot * uc[0];
                    u[1] += w / tot * uc[1];
                }
                let got = m.u_marg(x, t);
                let ev = m.eval(x, t);
                for k in 0..2 {
                    assert!(
                        (got[k] - u[k]).abs() < 1e-10 * (1.0 + u[k].abs()),
                        "{s:?} t={t}"
                    );
                    assert!((ev.u[k] - got[k]).abs() < 1e-12 * (1.0 + u[k].abs()));
                }
                let mut w = vec![0.0; pts.len()];
                m.weights(x, t, &mut w);
                for (a, b) in w.iter().zip(&ws) {
                    assert!((a - b / tot).abs() < 1e-12);
                }
                let p = naive_density(&m, x, t);
                assert!((ev.log_density - p.ln()).abs() < 1e-10, "{s:?} t={t}");
            }
        }
    }
}

#[test]
fn weights_sum_to_one_and_never_nan() {
    let pts = cloud(3, 25);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        let mut w = vec![0.0; pts.len()];
        for t in [0.0, 0.5, s.t_max(), 1.0, 2.0, -1.0, f64::NAN] {
            for x in [[0.1, 0.2], [1e6, -1e6], [-30.0, 4.0]] {
                m.weights(x, t, &mut w);
                let sum: f64 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-12, "{s:?} t={t} x={x:?}");
                assert!(w.iter().all(|v| v.is_finite() && *v >= 0.0));
                let e = m.eval(x, t);
                let u = m.u_marg(x, t);
                assert!(u.iter().all(|v| !v.is_nan()), "{s:?} t={t} x={x:?}");
                assert!(!e.log_density.is_nan() && !e.divergence.is_nan());
                assert!(!e.dlogp_dt.is_nan() && e.score.iter().all(|v| !v.is_nan()));
            }
            // absurdly far (squared distance overflows): still a valid one-hot answer
            m.weights([1e200, 1e200], t, &mut w);
            assert_eq!(w.iter().sum::<f64>(), 1.0);
            assert!(m.u_marg([1e200, -1e200], t).iter().all(|v| !v.is_nan()));
        }
    }
}

#[test]
fn empty_cloud_is_harmless() {
    let m = EmpiricalMarginal::new(Vec::new(), GaussianPath::default());
    assert_eq!(m.u_marg([1.0, 2.0], 0.5), [0.0, 0.0]);
    let e = m.eval([1.0, 2.0], 0.5);
    assert_eq!(e.log_density, f64::NEG_INFINITY);
    assert_eq!(
        (e.u, e.score, e.divergence, e.dlogp_dt),
        ([0.0; 2], [0.0; 2], 0.0, 0.0)
    );
    assert_eq!(m.continuity_residual([1.0, 2.0], 0.5), 0.0);
    assert_eq!(m.uniform_continuity_residual([1.0, 2.0], 0.5), 0.0);
    assert_eq!(m.u_uniform([1.0, 2.0], 0.5), [0.0, 0.0]);
    let mut out = [[9.0; 2]; 3];
    m.u_marg_batch(&[[1.0, 1.0]; 3], 0.3, &mut out);
    assert_eq!(out, [[0.0; 2]; 3]);
    m.weights([0.0, 0.0], 0.3, &mut []);
}

#[test]
fn batch_matches_single() {
    let pts = cloud(4, 30);
    let m = EmpiricalMarginal::new(pts, GaussianPath::new(Schedule::Cosine));
    let xs = cloud(5, 17);
    let mut out = vec![[0.0; 2]; xs.len()];
    m.u_marg_batch(&xs, 0.7, &mut out);
    for (x, o) in xs.iter().zip(&out) {
        assert_eq!(*o, m.u_marg(*x, 0.7));
    }
}

#[test]
fn derivatives_match_finite_differences() {
    let pts = cloud(6, 12);
    let mut rng = seeded(7);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        for _ in 0..20 {
            let t = 0.05 + 0.9 * uniform(&mut rng);
            let x = normal_pair(&mut rng);
            let e = m.eval(x, t);
            let h = 1e-5;
            // score = grad_x log p
            let mut div = 0.0;
            for k in 0..2 {
                let (mut xp, mut xm) = (x, x);
                xp[k] += h;
                xm[k] -= h;
                let fd = (m.eval(xp, t).log_density - m.eval(xm, t).log_density) / (2.0 * h);
                assert!(
                    (e.score[k] - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{s:?} t={t}"
                );
                div += (m.u_marg(xp, t)[k] - m.u_marg(xm, t)[k]) / (2.0 * h);
            }
            assert!(
                (e.divergence - div).abs() < 1e-5 * (1.0 + div.abs()),
                "{s:?} t={t}: {} vs {div}",
                e.divergence
            );
            let ht = 1e-6;
            let fd_t = (m.eval(x, t + ht).log_density - m.eval(x, t - ht).log_density) / (2.0 * ht);
            assert!(
                (e.dlogp_dt - fd_t).abs() < 1e-5 * (1.0 + fd_t.abs()),
                "{s:?} t={t}: {} vs {fd_t}",
                e.dlogp_dt
            );
        }
    }
}

#[test]
fn continuity_equation_holds_for_exact_field_not_for_uniform_weights() {
    let pts = cloud(8, 50);
    let mut rng = seeded(9);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        let mut wrong = 0.0;
        let mut count = 0.0;
        for _ in 0..200 {
            let t = s.t_max() * uniform(&mut rng);
            let x0 = normal_pair(&mut rng);
            let x = [2.0 * x0[0], 2.0 * x0[1]];
            let e = m.eval(x, t);
            let scale = e.dlogp_dt.abs()
                + (e.u[0] * e.score[0] + e.u[1] * e.score[1]).abs()
                + e.divergence.abs()
                + 1.0;
            let r = m.continuity_residual(x, t);
            assert!(
                r.abs() < 1e-10 * scale,
                "{s:?} t={t} x={x:?} r={r} scale={scale}"
            );
            wrong += m.uniform_continuity_residual(x, t).abs();
            count += 1.0;
        }
        assert!(
            wrong / count > 0.5,
            "{s:?}: uniform residual {}",
            wrong / count
        );
    }
}

#[test]
fn residual_tight_near_t_max() {
    let pts = cloud(10, 20);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        let t_max = s.t_max();
        let al = s.alpha(t_max);
        for (i, z) in pts.iter().enumerate() {
            let x = [al * z[0] + 1e-3 * (i as f64).sin(), al * z[1] + 2e-3];
            let e = m.eval(x, t_max);
            let scale = e.dlogp_dt.abs() + e.divergence.abs() + 1.0;
            assert!(
                m.continuity_residual(x, t_max).abs() < 1e-9 * scale,
                "{s:?}"
            );
        }
    }
}

#[test]
fn t_zero_gives_uniform_weights() {
    let pts = cloud(11, 9);
    let mean = [
        pts.iter().map(|p| p[0]).sum::<f64>() / 9.0,
        pts.iter().map(|p| p[1]).sum::<f64>() / 9.0,
    ];
    for s in Schedule::ALL {
        let path = GaussianPath::new(s);
        let m = EmpiricalMarginal::new(pts.clone(), path);
        let x = [0.7, -2.0];
        let mut w = [0.0; 9];
        m.weights(x, 0.0, &mut w);
        assert!(w.iter().all(|v| (v - 1.0 / 9.0).abs() < 1e-15));
        let (a, b) = path.coefficients(0.0);
        let u = m.u_marg(x, 0.0);
        assert!((u[0] - (a * mean[0] + b * x[0])).abs() < 1e-12);
        assert!((u[1] - (a * mean[1] + b * x[1])).abs() < 1e-12);
        assert_eq!(
            m.u_uniform(x, 0.0),
            [a * mean[0] + b * x[0], a * mean[1] + b * x[1]]
        );
        // p_0 = N(0, I)
        let e = m.eval(x, 0.0);
        let lp = -(2.0 * std::f64::consts::PI).ln() - 0.5 * (x[0] * x[0] + x[1] * x[1]);
        assert!((e.log_density - lp).abs() < 1e-12);
        assert!((e.score[0] + x[0]).abs() < 1e-12 && (e.score[1] + x[1]).abs() < 1e-12);
    }
}

#[test]
fn near_t_max_weights_are_one_hot_on_nearest() {
    // a well-separated cloud (spacing 1); beta at the clamp is BETA_MIN for every schedule
    let pts: Vec<Point> = (0..15)
        .map(|i| [(i % 5) as f64 - 2.0, (i / 5) as f64 - 1.0])
        .collect();
    for s in Schedule::ALL {
        let path = GaussianPath::new(s);
        let m = EmpiricalMarginal::new(pts.clone(), path);
        let al = s.alpha(s.t_max());
        assert!((s.beta(s.t_max()) - BETA_MIN).abs() < 1e-12);
        let mut w = vec![0.0; pts.len()];
        for (i, z) in pts.iter().enumerate() {
            // a little off alpha z_i, and at t beyond the clamp
            let x = [al * z[0] + 0.01, al * z[1] - 0.01];
            for t in [s.t_max(), 1.0] {
                m.weights(x, t, &mut w);
                assert!((w[i] - 1.0).abs() < 1e-12, "{s:?} i={i} w={}", w[i]);
                let u = m.u_marg(x, t);
                let uc = path.u_cond(x, *z, t);
                assert!((u[0] - uc[0]).abs() < 1e-8 * (1.0 + uc[0].abs()));
                assert!((u[1] - uc[1]).abs() < 1e-8 * (1.0 + uc[1].abs()));
            }
        }
    }
}

#[test]
fn samples_of_p_t_have_its_mean_and_spread() {
    // p_t = mixture of N(alpha z_i, beta^2 I): mean alpha mean(z), variance per axis
    // alpha^2 var(z) + beta^2.
    let pts = cloud(12, 30);
    let n = pts.len() as f64;
    let mean: Point = [
        pts.iter().map(|p| p[0]).sum::<f64>() / n,
        pts.iter().map(|p| p[1]).sum::<f64>() / n,
    ];
    let var_x = pts.iter().map(|p| (p[0] - mean[0]).powi(2)).sum::<f64>() / n;
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(pts.clone(), GaussianPath::new(s));
        for t in [0.0, 0.5, 1.0] {
            let xs = m.sample(t, 40_000, &mut seeded(4));
            let tc = s.clamp_t(t);
            let (al, be) = (s.alpha(tc), s.beta(tc));
            let mx = xs.iter().map(|x| x[0]).sum::<f64>() / xs.len() as f64;
            let vx = xs.iter().map(|x| (x[0] - mx).powi(2)).sum::<f64>() / xs.len() as f64;
            let want = al * al * var_x + be * be;
            assert!((mx - al * mean[0]).abs() < 0.03, "{s:?} t={t}: {mx}");
            assert!(
                (vx - want).abs() < 0.05 * want,
                "{s:?} t={t}: {vx} vs {want}"
            );
        }
        assert!(EmpiricalMarginal::new(vec![], GaussianPath::new(s))
            .sample(0.5, 3, &mut seeded(1))
            .is_empty());
    }
}

#[test]
fn setters_and_accessors() {
    let mut m = EmpiricalMarginal::new(vec![[1.0, 1.0]], GaussianPath::default());
    m.set_points(vec![[2.0, 0.0], [0.0, 2.0]]);
    m.set_path(GaussianPath::new(Schedule::Sqrt));
    assert_eq!(m.points().len(), 2);
    assert_eq!(m.path().schedule, Schedule::Sqrt);
    // symmetric point between the two: zbar is the midpoint
    let u = m.u_marg([0.0, 0.0], 0.5);
    let (a, _) = m.path().coefficients(0.5);
    assert!((u[0] - a).abs() < 1e-12 && (u[1] - a).abs() < 1e-12);
}
