//! Diffusion (issue 12): the closed-form Laplacian of `log p_t` against finite differences of
//! the score, and the Fokker-Planck residual of the exact `p_t` under the SDE of `fmp::sde`:
//! about zero with the score correction in the drift, clearly not without it. Every schedule,
//! from `t = 0` to the clamp, at samples of `p_t` (where the mass is).

use fmp::data::{sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule};
use fmp::rng::seeded;
use fmp::sde::{fokker_planck_residual, Diffusion};

#[test]
fn the_closed_form_laplacian_of_log_p_matches_finite_differences() {
    let data = sample_preset(Preset::TwoMoons, 300, &mut seeded(2));
    let mut rng = seeded(7);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        for t in [0.0, 0.3, 0.7, 0.95, 0.99, s.t_max()] {
            for x in m.sample(t, 30, &mut rng) {
                let h = 1e-5 * s.beta(s.clamp_t(t));
                let sc = |p: [f64; 2]| m.eval(p, t).score;
                let fd = (sc([x[0] + h, x[1]])[0] - sc([x[0] - h, x[1]])[0]
                    + sc([x[0], x[1] + h])[1]
                    - sc([x[0], x[1] - h])[1])
                    / (2.0 * h);
                let lap = m.eval(x, t).lap_log_density;
                assert!(
                    (fd - lap).abs() < 1e-4 * (1.0 + lap.abs()),
                    "{s:?} t={t}: closed {lap} vs FD {fd}"
                );
            }
        }
    }
}

#[test]
fn the_fokker_planck_residual_vanishes_only_with_the_score_correction() {
    let data = sample_preset(Preset::TwoMoons, 300, &mut seeded(3));
    let mut rng = seeded(8);
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        for t in [0.0, 0.25, 0.5, 0.75, 0.95, s.t_max()] {
            for sigma in [0.5, 2.0] {
                let with = Diffusion {
                    sigma,
                    score_correction: true,
                };
                let without = Diffusion {
                    sigma,
                    score_correction: false,
                };
                let xs = m.sample(t, 200, &mut rng);
                let mean = |d: Diffusion| {
                    xs.iter()
                        .map(|&x| fokker_planck_residual(&m, x, t, d).abs())
                        .sum::<f64>()
                        / xs.len() as f64
                };
                // The scale of the terms that cancel: |s|^2 sigma_t^2 / 2.
                let scale = xs
                    .iter()
                    .map(|&x| {
                        let e = m.eval(x, t);
                        with.score_weight(s, t) * (e.score[0].powi(2) + e.score[1].powi(2))
                            + e.divergence.abs()
                    })
                    .sum::<f64>()
                    / xs.len() as f64;
                let (r_with, r_without) = (mean(with), mean(without));
                assert!(
                    r_with < 1e-9 * (1.0 + scale),
                    "{s:?} t={t} sigma={sigma}: {r_with} (scale {scale})"
                );
                assert!(
                    r_without > 0.05 && r_without > 1e3 * r_with,
                    "{s:?} t={t} sigma={sigma}: without {r_without}, with {r_with}"
                );
            }
        }
    }
}

#[test]
fn the_first_coordinate_density_integrates_to_one_and_matches_samples() {
    let data = sample_preset(Preset::TwoMoons, 200, &mut seeded(4));
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        for t in [0.0, 0.5, 0.9] {
            // Riemann sum over a wide box.
            let h = 1e-3;
            let total: f64 = (0..12_000)
                .map(|k| m.density_first_coordinate(-6.0 + k as f64 * h, t) * h)
                .sum();
            assert!((total - 1.0).abs() < 1e-6, "{s:?} t={t}: {total}");
            // The share of samples with x1 < 0 against the integral up to 0.
            let xs = m.sample(t, 20_000, &mut seeded(9));
            let below = xs.iter().filter(|x| x[0] < 0.0).count() as f64 / xs.len() as f64;
            let cdf: f64 = (0..6_000)
                .map(|k| m.density_first_coordinate(-6.0 + (k as f64 + 0.5) * h, t) * h)
                .sum();
            assert!((below - cdf).abs() < 0.015, "{s:?} t={t}: {below} vs {cdf}");
        }
    }
}

/// The bins of the Langevin histogram's reference: each bin's probability from the normal
/// distribution function, checked against a Riemann sum of the density (mid times) and against
/// the histogram of exact samples at the clamp, where p_t is far narrower than a bin.
#[test]
fn bin_masses_match_the_density_and_the_samples_at_every_time() {
    let data = sample_preset(Preset::TwoMoons, 200, &mut seeded(4));
    for s in Schedule::ALL {
        let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
        let h = 1e-3;
        let cdf: f64 = (0..6_000)
            .map(|k| m.density_first_coordinate(-6.0 + (k as f64 + 0.5) * h, 0.5) * h)
            .sum();
        let mass = m.mass_first_coordinate(-20.0, 0.0, 0.5);
        assert!((mass - cdf).abs() < 1e-6, "{s:?}: {mass} vs {cdf}");
        let t = s.t_max();
        let xs = m.sample(t, 20_000, &mut seeded(10));
        let (lo, w) = (-3.5, 7.0 / 48.0);
        let mut total = 0.0;
        for i in 0..48 {
            let a = lo + i as f64 * w;
            let mass = m.mass_first_coordinate(a, a + w, t);
            total += mass;
            let share =
                xs.iter().filter(|x| x[0] >= a && x[0] < a + w).count() as f64 / xs.len() as f64;
            assert!(
                (share - mass).abs() < 0.01,
                "{s:?} bin {i}: {share} vs {mass}"
            );
        }
        assert!((total - 1.0).abs() < 1e-3, "{s:?}: total {total}");
    }
    // Phi against known values.
    for (z, p) in [
        (0.0, 0.5),
        (1.0, 0.841_344_746),
        (-1.96, 0.024_997_895),
        (3.0, 0.998_650_102),
    ] {
        assert!((fmp::marginal::normal_cdf(z) - p).abs() < 2e-7, "Phi({z})");
    }
}
