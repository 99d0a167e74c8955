//! Score and field (issue 10, item 6): `grad log p_t = (alpha_t u - alpha_dot_t x) /
//! (beta_t^2 alpha_dot_t - beta_dot_t beta_t alpha_t)` turns the exact marginal field into the
//! closed-form marginal score `(alpha_t zbar - x) / beta_t^2`, and the conditional field into
//! the conditional score, for every schedule from `t = 0` to the clamp (the page applies the
//! same conversion to the network). The closed-form divergence agrees with finite differences.

use fmp::data::{sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule};
use fmp::rng::{index, normal_pair, seeded};
use fmp::Point;

/// Times from 0 to the clamp (and past it).
fn times(s: Schedule) -> Vec<f64> {
    let mut ts: Vec<f64> = (0..=20).map(|k| s.t_max() * k as f64 / 20.0).collect();
    ts.extend([0.99 * s.t_max(), 0.5 * (1.0 + s.t_max()) - 1e-9, 1.0]);
    ts
}

fn close(a: Point, b: Point, tol: f64) -> bool {
    (0..2).all(|k| (a[k] - b[k]).abs() <= tol * (1.0 + b[k].abs()))
}

#[test]
fn the_conversion_turns_fields_into_scores() {
    let data = sample_preset(Preset::TwoMoons, 300, &mut seeded(2));
    let mut rng = seeded(5);
    for s in Schedule::ALL {
        let path = GaussianPath::new(s);
        let m = EmpiricalMarginal::new(data.clone(), path);
        for t in times(s) {
            let tc = s.clamp_t(t);
            // Points where the mass is (x ~ p_t) and a few anywhere.
            let mut xs = m.sample(t, 40, &mut rng);
            xs.extend([[0.0, 0.0], [2.5, -1.0], [-3.0, 3.0]]);
            for x in xs {
                let e = m.eval(x, t);
                let got = path.score_from_velocity(e.u, x, t);
                assert!(
                    close(got, e.score, 1e-9),
                    "{s:?} t={t}: {got:?} vs {:?}",
                    e.score
                );
                // The conditional field of a data point gives the conditional score.
                let z = data[index(&mut rng, data.len())];
                let u = path.u_cond(x, z, t);
                let (al, be) = (s.alpha(tc), s.beta(tc));
                let want = [
                    -(x[0] - al * z[0]) / (be * be),
                    -(x[1] - al * z[1]) / (be * be),
                ];
                let got = path.score_from_velocity(u, x, t);
                assert!(close(got, want, 1e-9), "{s:?} t={t}: {got:?} vs {want:?}");
            }
        }
        // t = 0: the score of N(0, I) is -x, whatever the field.
        let x = normal_pair(&mut rng);
        let got = path.score_from_velocity([1.0, 2.0], x, 0.0);
        assert!(close(got, [-x[0], -x[1]], 1e-15), "{s:?}");
    }
}

#[test]
fn the_closed_form_divergence_matches_finite_differences() {
    let data = sample_preset(Preset::TwoMoons, 300, &mut seeded(2));
    let mut rng = seeded(6);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        for t in [0.0, 0.3, 0.7, 0.95, 0.99, s.t_max()] {
            for x in m.sample(t, 30, &mut rng) {
                let h = 1e-5 * s.beta(t);
                let (ux1, ux0) = (m.u_marg([x[0] + h, x[1]], t), m.u_marg([x[0] - h, x[1]], t));
                let (uy1, uy0) = (m.u_marg([x[0], x[1] + h], t), m.u_marg([x[0], x[1] - h], t));
                let fd = (ux1[0] - ux0[0] + uy1[1] - uy0[1]) / (2.0 * h);
                let div = m.eval(x, t).divergence;
                assert!(
                    (fd - div).abs() < 1e-4 * (1.0 + div.abs()),
                    "{s:?} t={t}: closed {div} vs FD {fd}"
                );
            }
        }
    }
}
