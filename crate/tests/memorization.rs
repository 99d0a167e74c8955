//! Memorization measured properly (issue 10, item 3): hold out a fifth of the page's cloud,
//! build the exact field over the rest and train the network on the rest; then count the
//! samples near training points and near held-out points. The exact flow puts its samples on
//! the training points; the network's samples are as close to the held-out points as to
//! training points of the same number. `cargo test --release -p fmp --test memorization --
//! --nocapture` prints the numbers.

use fmp::data::{holdout_split, sample_preset, Preset};
use fmp::marginal::EmpiricalMarginal;
use fmp::metrics::{median_nn_spacing, memorization};
use fmp::mlp::MlpField;
use fmp::ode::{time_grid, Integrator, MarginalField, Solver};
use fmp::path::{GaussianPath, Schedule};
use fmp::rng::{normal_pair, seeded};
use fmp::trainer::{TrainConfig, Trainer};
use fmp::Point;

/// Training steps of the network (app defaults otherwise).
const TRAIN_STEPS: usize = 3000;

#[test]
fn exact_samples_sit_on_training_points_learned_ones_do_not() {
    let data = sample_preset(Preset::TwoMoons, 1000, &mut seeded(1));
    let (train_idx, heldout_idx) = holdout_split(data.len(), 0.2, 1);
    let train: Vec<Point> = train_idx.iter().map(|&i| data[i]).collect();
    let heldout: Vec<Point> = heldout_idx.iter().map(|&i| data[i]).collect();
    // Training points as many as the held-out ones, for a like-for-like comparison.
    let train_same_size = &train[..heldout.len()];
    assert_eq!((train.len(), heldout.len()), (800, 200));
    let spacing = median_nn_spacing(&data);

    let schedule = Schedule::Linear;
    let times = time_grid(schedule, 50);
    let mut rng = seeded(1);
    let noise: Vec<Point> = (0..2000).map(|_| normal_pair(&mut rng)).collect();

    // The exact flow over the training points (the page's closed-form step).
    let marginal = EmpiricalMarginal::new(train.clone(), GaussianPath::new(schedule));
    let mut exact = noise.clone();
    Integrator::new().integrate_on(
        &mut MarginalField {
            marginal: &marginal,
        },
        Solver::PosteriorStep,
        &mut exact,
        &times,
    );

    // The network, app defaults, trained on the training points only.
    let mut trainer = Trainer::new(
        TrainConfig {
            schedule,
            ..TrainConfig::default()
        },
        train.clone(),
    );
    for _ in 0..TRAIN_STEPS {
        trainer.step();
    }
    let mut learned = noise;
    let mut field = MlpField::with_path(trainer.model(), GaussianPath::new(schedule));
    Integrator::new().integrate_on(&mut field, Solver::Rk4, &mut learned, &times);

    println!(
        "moons, 1,000 points (seed 1), 200 held out; median NN spacing {spacing:.4}; \
         2,000 samples, 50 steps; network: app defaults, {TRAIN_STEPS} steps"
    );
    println!("| samples | radius | near train (800) | near train (200) | near held-out (200) |");
    let mut figures = Vec::new();
    for (name, samples) in [("exact", &exact), ("learned", &learned)] {
        for radius in [0.01, 0.5 * spacing] {
            let (near_train, near_heldout) = memorization(samples, &train, &heldout, radius);
            let (near_same, _) = memorization(samples, train_same_size, &heldout, radius);
            println!(
                "| {name} | {radius:.4} | {:.1} % | {:.1} % | {:.1} % |",
                100.0 * near_train,
                100.0 * near_same,
                100.0 * near_heldout
            );
            figures.push((name, radius, near_train, near_same, near_heldout));
        }
    }
    for (name, radius, near_train, near_same, near_heldout) in figures {
        if name == "exact" {
            // On the training points, and near held-out ones only where a training point is.
            assert!(near_train > 0.99, "{radius}: {near_train}");
            assert!(near_heldout < 0.25 * near_train, "{radius}: {near_heldout}");
            assert!(near_same > 2.0 * near_heldout, "{radius}: {near_same}");
        } else {
            // Between the points: far from memorizing, and as close to held-out points as to
            // as many training points.
            assert!(near_train < 0.8, "{radius}: {near_train}");
            assert!(
                (near_same - near_heldout).abs() < 0.35 * near_same.max(near_heldout),
                "{radius}: {near_same} vs {near_heldout}"
            );
        }
    }
}
