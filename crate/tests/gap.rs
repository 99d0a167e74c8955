//! The CFM-FM gap `C = E|u_t(x|z)|^2 - E|u_t(x)|^2` (issue 10, item 4): about 2.72 on the
//! standardized two moons with the linear schedule, and equal, within a few standard errors,
//! to what the trainer measures as `L_CFM - L_FM` batch after batch. `cargo test --release -p
//! fmp --test gap -- --nocapture` prints C per schedule beside the trainer's figure.

use fmp::data::{sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule};
use fmp::rng::seeded;
use fmp::trainer::{cfm_fm_gap, TrainConfig, Trainer};
use fmp::Point;

/// Monte Carlo draws of C.
const SAMPLES: usize = 100_000;
/// Warm-up steps, then reporting steps whose `cfm - fm` is averaged.
const WARM_UP: usize = 200;
const REPORTED: usize = 300;

/// `(C, stderr, trainer mean, stderr)` for one schedule.
fn measure(schedule: Schedule, data: &[Point]) -> (f64, f64, f64, f64) {
    let marginal = EmpiricalMarginal::new(data.to_vec(), GaussianPath::new(schedule));
    let (c, c_err) = cfm_fm_gap(&marginal, SAMPLES, 7);
    let config = TrainConfig {
        schedule,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config, data.to_vec());
    for _ in 0..WARM_UP {
        trainer.step();
    }
    let gaps: Vec<f64> = (0..REPORTED)
        .map(|_| {
            let r = trainer.step_reporting();
            r.cfm_loss - r.fm_loss
        })
        .collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (c, c_err, mean, (var / n).sqrt())
}

#[test]
fn the_gap_is_what_the_trainer_measures() {
    let data = sample_preset(Preset::TwoMoons, 1000, &mut seeded(1));
    let rows: Vec<(Schedule, (f64, f64, f64, f64))> = std::thread::scope(|scope| {
        let handles: Vec<_> = Schedule::ALL
            .iter()
            .map(|&s| {
                let data = &data;
                scope.spawn(move || (s, measure(s, data)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    println!(
        "C by Monte Carlo ({SAMPLES} draws) and the trainer's mean L_CFM - L_FM over {REPORTED} \
         batches of 512 (after {WARM_UP} steps), moons 1,000 points (seed 1):"
    );
    println!("| schedule | C | stderr | trainer L_CFM - L_FM | stderr |");
    for (schedule, (c, c_err, mean, err)) in rows {
        println!(
            "| {} | {c:.4} | {c_err:.4} | {mean:.4} | {err:.4} |",
            schedule.name()
        );
        let both = (c_err * c_err + err * err).sqrt();
        assert!(
            (c - mean).abs() < 4.0 * both,
            "{schedule:?}: C {c} +- {c_err} vs trainer {mean} +- {err}"
        );
        if schedule == Schedule::Linear {
            assert!((c - 2.72).abs() < 0.05, "linear C {c}");
        }
    }
}
