//! Both ends of time for every schedule: `t = 0` and the clamp `t_max`, where `beta` falls to
//! `BETA_MIN` (see `fmp::path`). Fields are finite there, and at the clamp the posterior of the
//! two moons preset the page starts with is one-hot, which a fixed clamp in `t` did not give
//! for the square-root schedule.

use fmp::data::{sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule, BETA_MIN};
use fmp::rng::{index, normal_pair, seeded};
use fmp::Point;

/// The page's default cloud: `preset_points("moons", 1000, 1)`.
fn moons() -> Vec<Point> {
    sample_preset(Preset::TwoMoons, 1000, &mut seeded(1))
}

/// The median over `draws` points `x ~ p_t(.|z_i)` (random `i`) of the largest posterior weight.
fn median_largest_weight(m: &EmpiricalMarginal, t: f64, draws: usize, seed: u64) -> f64 {
    let mut rng = seeded(seed);
    let mut w = vec![0.0; m.points().len()];
    let mut largest: Vec<f64> = (0..draws)
        .map(|_| {
            let z = m.points()[index(&mut rng, m.points().len())];
            let x = m.path().sample(z, t, normal_pair(&mut rng));
            m.weights(x, t, &mut w);
            w.iter().copied().fold(0.0, f64::max)
        })
        .collect();
    largest.sort_by(f64::total_cmp);
    largest[draws / 2]
}

#[test]
fn the_clamp_is_one_noise_level_and_its_posterior_is_one_hot() {
    let data = moons();
    for s in Schedule::ALL {
        let t_max = s.t_max();
        // The value at the clamp.
        assert!((s.beta(t_max) - BETA_MIN).abs() < 1e-12, "{s:?}");
        assert!(t_max > 0.999 - 1e-12 && t_max < 1.0, "{s:?}: {t_max}");
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        let median = median_largest_weight(&m, t_max, 400, 7);
        println!(
            "{:>7}: t_max = {t_max:.8}, median largest weight {median:.6}",
            s.name()
        );
        assert!(median > 0.99, "{s:?}: median largest weight {median}");
        // t = 1 is the clamp.
        let x = [0.3, -0.2];
        assert_eq!(m.eval(x, 1.0), m.eval(x, t_max));
    }
    // The old clamp t <= 0.999 left the square-root schedule at beta = 0.032: not one-hot.
    let m = EmpiricalMarginal::new(data, GaussianPath::new(Schedule::Sqrt));
    let old = median_largest_weight(&m, 0.999, 400, 7);
    println!("   sqrt at t = 0.999 (the old clamp): median largest weight {old:.3}");
    assert!(old < 0.9, "{old}");
}

#[test]
fn fields_are_finite_at_both_ends() {
    let data = moons();
    let mut rng = seeded(3);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        let near: Vec<Point> = (0..50)
            .map(|_| {
                let z = data[index(&mut rng, data.len())];
                let e = normal_pair(&mut rng);
                [z[0] + 1e-3 * e[0], z[1] + 1e-3 * e[1]]
            })
            .collect();
        let far = [[0.0, 0.0], [3.5, -3.5], [1e3, 2.0], [-1e6, 1e6]];
        let mut w = vec![0.0; data.len()];
        for t in [0.0, s.t_max(), 1.0] {
            for &x in near.iter().chain(&far) {
                let e = m.eval(x, t);
                let finite = e.u.iter().chain(&e.score).all(|v| v.is_finite())
                    && e.divergence.is_finite()
                    && e.dlogp_dt.is_finite()
                    && e.log_density.is_finite();
                assert!(finite, "{s:?} t={t} x={x:?}: {e:?}");
                assert!(m.continuity_residual(x, t).is_finite());
                m.weights(x, t, &mut w);
                assert!(w.iter().all(|v| v.is_finite()));
                let u = m.u_marg(x, t);
                let c = m.path().u_cond(x, data[0], t);
                assert!(u.iter().chain(&c).all(|v| v.is_finite()), "{s:?} t={t}");
            }
        }
        // t = 0: p_0 = N(0, I), the score is -x, the posterior uniform.
        let e = m.eval([0.5, -1.0], 0.0);
        assert!((e.score[0] + 0.5).abs() < 1e-12 && (e.score[1] - 1.0).abs() < 1e-12);
    }
}
