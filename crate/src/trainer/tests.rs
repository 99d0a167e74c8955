//! Tests of [`super`] (the module's own file holds the code; these check it against
//! closed forms, finite differences and hand-computed steps).

use super::*;

fn cloud(n: usize, seed: u64) -> Vec<Point> {
    let mut rng = rng::seeded(seed);
    (0..n)
        .map(|_| {
            let [a, b] = rng::normal_pair(&mut rng);
            [0.5 * a + 1.0, 0.3 * b - 0.5]
        })
        .collect()
}

fn small_config() -> TrainConfig {
    TrainConfig {
        mlp: MlpConfig {
            width: 16,
            depth: 2,
            time_features: 0,
            classes: 0,
        },
        batch: 32,
        ..TrainConfig::default()
    }
}

#[test]
fn ot_coupling_repairs_the_drawn_batch_with_less_transport() {
    let data = cloud(300, 4);
    let config = TrainConfig {
        batch: 200,
        ..small_config()
    };
    let mut independent = Trainer::new(config, data.clone());
    let mut ot = Trainer::new(
        TrainConfig {
            coupling: Coupling::Ot,
            ..config
        },
        data,
    );
    let cost = |t: &Trainer| -> f64 {
        t.zs.iter()
            .zip(&t.eps)
            .map(|(z, e)| (z[0] - e[0]).powi(2) + (z[1] - e[1]).powi(2))
            .sum()
    };
    for _ in 0..3 {
        independent.forward_batch();
        ot.forward_batch();
        // The same draws (noise and times in place), the data points re-paired: the same
        // multiset, a lower total squared distance, in every block.
        assert_eq!(independent.eps, ot.eps);
        assert_eq!(independent.ts, ot.ts);
        let key = |p: &Point| (p[0].to_bits(), p[1].to_bits());
        let (mut a, mut b) = (independent.zs.clone(), ot.zs.clone());
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b);
        assert!(
            cost(&ot) < 0.8 * cost(&independent),
            "{} vs {}",
            cost(&ot),
            cost(&independent)
        );
    }
    assert_eq!(Coupling::parse("ot"), Some(Coupling::Ot));
    assert_eq!(
        Coupling::parse(Coupling::Independent.name()),
        Some(Coupling::Independent)
    );
}

#[test]
fn pairs_train_on_their_own_straight_paths() {
    // Fixed pairs: the batch's (z, eps) are always one of the pairs, never fresh draws.
    let x0 = cloud(20, 5);
    let x1: Vec<Point> = x0.iter().map(|p| [p[0] + 3.0, -p[1]]).collect();
    let mut t = Trainer::with_pairs(small_config(), x0.clone(), x1.clone());
    t.forward_batch();
    for (z, e) in t.zs.iter().zip(&t.eps) {
        let i = x0.iter().position(|p| p == e).expect("noise is one of x0");
        assert_eq!(*z, x1[i]);
    }
    let before = t.step();
    for _ in 0..300 {
        t.step();
    }
    let after = (0..20).map(|_| t.step()).sum::<f64>() / 20.0;
    assert!(after < 0.5 * before, "pairs loss {before} -> {after}");
}

#[test]
fn seeded_runs_reproduce_and_seeds_differ() {
    let data = cloud(50, 1);
    let mut a = Trainer::new(small_config(), data.clone());
    let mut b = Trainer::new(small_config(), data.clone());
    let mut c = Trainer::new(
        TrainConfig {
            seed: 1,
            ..small_config()
        },
        data,
    );
    for _ in 0..20 {
        assert_eq!(a.step(), b.step());
        c.step();
    }
    assert_eq!(a.model().params(), b.model().params());
    assert_ne!(a.model().params(), c.model().params());
    assert_eq!(a.steps_done(), 20);
}

#[test]
fn cfm_loss_matches_an_independent_recomputation() {
    // Replay the RNG stream by hand: same draws, loss from path::GaussianPath::u_cond
    // (the A_t z + B_t x form) and Mlp::predict instead of the trainer's stable target.
    let data = cloud(40, 2);
    for schedule in Schedule::ALL {
        let config = TrainConfig {
            schedule,
            ..small_config()
        };
        let mut trainer = Trainer::new(config, data.clone());
        let model = trainer.trained.clone();
        let mut rng = rng::seeded(config.seed);
        let _ = Mlp::new(config.mlp, &mut rng); // the init consumes the same draws
        let path = GaussianPath::new(schedule);
        let mut loss = 0.0;
        let mut scratch = ForwardCache::new();
        for _ in 0..config.batch {
            let z = data[rng::index(&mut rng, data.len())];
            let t = train_t_max(schedule) * rng::uniform(&mut rng);
            let eps = rng::normal_pair(&mut rng);
            let x = path.sample(z, t, eps);
            let u = path.u_cond(x, z, t);
            let mut y = [[0.0; 2]];
            model.predict(&[x], t, &mut y, &mut scratch);
            loss += (y[0][0] - u[0]).powi(2) + (y[0][1] - u[1]).powi(2);
        }
        loss /= config.batch as f64;
        let got = trainer.step();
        assert!(
            (got - loss).abs() < 1e-4 * loss,
            "{schedule:?}: {got} vs {loss}"
        );
    }
}

#[test]
fn fm_loss_and_cosine_are_consistent() {
    let data = cloud(30, 3);
    let mut trainer = Trainer::new(small_config(), data.clone());
    let mut twin = Trainer::new(small_config(), data);
    let r = trainer.step_reporting();
    // Same batch and the same update as a plain step.
    assert_eq!(r.cfm_loss, twin.step());
    assert_eq!(trainer.model().params(), twin.model().params());
    // L_CFM >= L_FM in expectation (their gap is the conditional variance); on a batch of
    // 32 at initialisation the FM loss is clearly below the CFM loss.
    assert!(r.fm_loss > 0.0 && r.fm_loss < r.cfm_loss, "{r:?}");
    assert!(r.grad_cosine > 0.0 && r.grad_cosine <= 1.0, "{r:?}");
    assert_eq!(r.step, 1);
    assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - 0.5f64.sqrt()).abs() < 1e-12);
    assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
}

#[test]
fn training_reduces_the_loss_and_empty_data_is_a_no_op() {
    let data = cloud(64, 4);
    let mut trainer = Trainer::new(small_config(), data);
    let early: f64 = (0..50).map(|_| trainer.step()).sum::<f64>() / 50.0;
    for _ in 0..500 {
        trainer.step();
    }
    let late: f64 = (0..50).map(|_| trainer.step()).sum::<f64>() / 50.0;
    assert!(late < 0.8 * early, "{early} -> {late}");
    let mut empty = Trainer::new(small_config(), Vec::new());
    assert_eq!(empty.step(), 0.0);
    assert_eq!(empty.step_reporting().fm_loss, 0.0);
    assert_eq!(empty.steps_done(), 0);
}

#[test]
fn small_batches_widths_and_depths_train_with_finite_losses() {
    // Batches 1..=5 (and widths up to 5) used to crash in Mlp::backward (a nalgebra bug on
    // small shapes, see the mlp module docs); cover both sides of its threshold, and thin
    // and wide networks.
    let data = cloud(40, 8);
    for batch in 1..=8 {
        for width in [4, 16, 64] {
            for depth in 1..=5 {
                let config = TrainConfig {
                    mlp: MlpConfig {
                        width,
                        depth,
                        time_features: 1,
                        classes: 0,
                    },
                    batch,
                    ..TrainConfig::default()
                };
                let mut trainer = Trainer::new(config, data.clone());
                for _ in 0..3 {
                    let r = trainer.step_reporting();
                    let loss = trainer.step();
                    let what = format!("batch {batch}, width {width}, depth {depth}: {r:?}");
                    assert!(r.cfm_loss.is_finite() && r.fm_loss.is_finite(), "{what}");
                    assert!(r.grad_cosine.abs() <= 1.0 + 1e-9, "{what}");
                    assert!(loss.is_finite(), "{what}, loss {loss}");
                }
                assert!(trainer.model().params().iter().all(|p| p.is_finite()));
                assert_eq!(trainer.steps_done(), 6);
            }
        }
    }
}

#[test]
fn lr_decays_from_the_base() {
    let mut trainer = Trainer::new(small_config(), cloud(10, 5));
    assert_eq!(trainer.current_lr(), 1e-2);
    for _ in 0..LR_DECAY_STEPS as usize {
        trainer.step();
    }
    assert!((trainer.current_lr() - 5e-3).abs() < 1e-9);
    // A new base rate keeps the decay's clock: still halved.
    trainer.set_lr(3e-2);
    assert!((trainer.current_lr() - 1.5e-2).abs() < 1e-9);
    // New data restarts the clock from the (new) base.
    trainer.set_data(cloud(10, 6));
    assert_eq!(trainer.current_lr(), 3e-2);
}

#[test]
fn set_lr_scales_the_next_adam_step() {
    // Adam's first update is lr g / (|g| + eps): lr sign(g) wherever |g| >> eps. Runs with
    // the same seed draw the same batch and get the same gradient, so after set_lr the
    // first update of every parameter scales with the learning rate.
    let data = cloud(20, 9);
    let mut fast = Trainer::new(small_config(), data.clone());
    let mut slow = Trainer::new(small_config(), data.clone());
    let mut same = Trainer::new(small_config(), data);
    slow.set_lr(2.5e-3);
    same.set_lr(small_config().adam.lr);
    assert_eq!(slow.current_lr(), 2.5e-3);
    let theta0 = fast.trained.params().to_vec();
    fast.step();
    slow.step();
    same.step();
    let mut full_steps = 0;
    for ((f, s), p0) in fast
        .trained
        .params()
        .iter()
        .zip(slow.trained.params())
        .zip(&theta0)
    {
        let (df, ds) = ((f - p0) as f64, (s - p0) as f64);
        assert!((ds - 0.25 * df).abs() < 1e-6, "{df} vs {ds}");
        if (df.abs() - 1e-2).abs() < 1e-4 {
            full_steps += 1;
        }
    }
    // Nearly every parameter moved by the full learning rate.
    assert!(
        full_steps > theta0.len() * 9 / 10,
        "{full_steps} of {}",
        theta0.len()
    );
    // Setting the rate it already has changes nothing, bit for bit.
    assert_eq!(same.trained.params(), fast.trained.params());
    assert_ne!(slow.trained.params(), fast.trained.params());
}

#[test]
fn model_is_the_moving_average_of_the_trained_weights() {
    let mut trainer = Trainer::new(small_config(), cloud(20, 7));
    let theta0 = trainer.trained.params().to_vec();
    assert_eq!(trainer.model().params(), &theta0[..]);
    trainer.step();
    // Step 1: d = min(0.99, 2 / 11) = 2/11, ema = d theta0 + (1 - d) theta1.
    let theta1 = trainer.trained.params().to_vec();
    assert_ne!(theta0, theta1);
    let d = 2.0f64 / 11.0;
    for ((e, a), b) in trainer.model().params().iter().zip(&theta0).zip(&theta1) {
        let want = d * *a as f64 + (1.0 - d) * *b as f64;
        assert!((*e as f64 - want).abs() < 1e-6, "{e} vs {want}");
    }
    // Much later the decay is EMA_DECAY: one more step moves the average by 1% of the gap.
    for _ in 0..2000 {
        trainer.step();
    }
    let ema_before = trainer.model().params().to_vec();
    trainer.step();
    let theta = trainer.trained.params();
    for ((e, a), p) in trainer.model().params().iter().zip(&ema_before).zip(theta) {
        let want = 0.99 * *a as f64 + 0.01 * *p as f64;
        assert!((*e as f64 - want).abs() < 1e-6);
    }
}

#[test]
fn plain_adam_without_decay_or_averaging() {
    let config = TrainConfig {
        lr_decay: false,
        average: false,
        ..small_config()
    };
    let mut trainer = Trainer::new(config, cloud(30, 4));
    for _ in 0..50 {
        trainer.step();
    }
    assert_eq!(trainer.current_lr(), config.adam.lr);
    assert_eq!(trainer.model().params(), trainer.trained.params());
    // With both on, the model is an average that lags the trained weights.
    let mut averaged = Trainer::new(small_config(), cloud(30, 4));
    for _ in 0..50 {
        averaged.step();
    }
    assert!(averaged.current_lr() < config.adam.lr);
    assert_ne!(averaged.model().params(), averaged.trained.params());
}

#[test]
fn label_dropout_happens_at_its_rate_and_labels_follow_their_points() {
    // 100 steps of 512 samples: the null share is p_uncond = 0.15 within 4 standard
    // errors (sqrt(0.15 0.85 / 51,200) = 0.0016); every kept label is its point's.
    let data = cloud(200, 5);
    let labels: Vec<u8> = (0..200).map(|i| 1 + (i % 3) as u8).collect();
    let config = TrainConfig {
        mlp: MlpConfig {
            classes: 3,
            ..small_config().mlp
        },
        batch: 512,
        ..small_config()
    };
    let mut trainer = Trainer::new_labelled(config, data.clone(), labels.clone());
    let (mut nulls, mut total) = (0usize, 0usize);
    for _ in 0..100 {
        trainer.step();
        for (z, &y) in trainer.zs.iter().zip(trainer.batch_labels()) {
            total += 1;
            if y == 0 {
                nulls += 1;
            } else {
                let i = data.iter().position(|p| p == z).expect("a data point");
                assert_eq!(y, labels[i]);
            }
        }
    }
    let rate = nulls as f64 / total as f64;
    assert!(
        (rate - P_UNCOND).abs() < 4.0 * 0.0016,
        "dropout rate {rate}"
    );
    // An unlabelled run has no batch labels and draws as before.
    let mut plain = Trainer::new(small_config(), data.clone());
    plain.step();
    assert!(plain.batch_labels().is_empty());
    // With the OT coupling the labels travel with their points.
    let mut ot = Trainer::new_labelled(
        TrainConfig {
            coupling: Coupling::Ot,
            p_uncond: 0.0,
            ..config
        },
        data.clone(),
        labels.clone(),
    );
    ot.step();
    for (z, &y) in ot.zs.iter().zip(ot.batch_labels()) {
        let i = data.iter().position(|p| p == z).expect("a data point");
        assert_eq!(y, labels[i]);
    }
}
