//! Tests of [`super`] (the module's own file holds the code; these check it against
//! closed forms, finite differences and hand-computed steps).

use super::*;

/// Loss used for gradient checks: `L = sum_j c . y_j` with fixed random `c_j`, computed in
/// f64 from the network output; `dL/dY = c`.
fn linear_loss(mlp: &Mlp, xs: &[Point], ts: &[f64], labels: &[u8], c: &[f32]) -> f64 {
    let mut cache = ForwardCache::new();
    mlp.forward_labelled(xs, ts, Some(labels), &mut cache);
    cache
        .output()
        .iter()
        .zip(c)
        .map(|(&y, &c)| y as f64 * c as f64)
        .sum()
}

fn batch(rng: &mut SeededRng, n: usize) -> (Vec<Point>, Vec<f64>) {
    let xs = (0..n).map(|_| rng::normal_pair(rng)).collect();
    let ts = (0..n).map(|_| rng::uniform(rng)).collect();
    (xs, ts)
}

/// Every parameter tensor's analytic gradient vs central finite differences, on a batch of
/// `n` samples.
fn check_gradients(config: MlpConfig, n: usize) {
    let mut rng = rng::seeded(11);
    let mlp = Mlp::new(config, &mut rng);
    let (xs, ts) = batch(&mut rng, n);
    // Every label in turn, the null one (0) included.
    let labels: Vec<u8> = (0..n).map(|j| (j % (config.classes + 1)) as u8).collect();
    let c: Vec<f32> = (0..2 * n)
        .map(|_| rng::normal_pair(&mut rng)[0] as f32)
        .collect();
    let mut cache = ForwardCache::new();
    mlp.forward_labelled(&xs, &ts, Some(&labels), &mut cache);
    // NaN first: backward must overwrite every entry (callers reuse their buffers).
    let mut grads = vec![f32::NAN; mlp.num_params()];
    mlp.backward(&mut cache, &c, &mut grads);
    // Check every parameter of small networks (each tensor is covered), and report the
    // worst one. NaN must count as the worst (`f64::max` would skip it).
    let h = 1e-2f32;
    let mut worst: Option<(usize, f64, f32, f64)> = None;
    for (i, &g) in grads.iter().enumerate() {
        let mut plus = mlp.clone();
        plus.params[i] += h;
        let mut minus = mlp.clone();
        minus.params[i] -= h;
        let step = (plus.params[i] - minus.params[i]) as f64;
        let fd = (linear_loss(&plus, &xs, &ts, &labels, &c)
            - linear_loss(&minus, &xs, &ts, &labels, &c))
            / step;
        let err = (fd - g as f64).abs() / (1e-2 + fd.abs().max(g.abs() as f64));
        let replace = match worst {
            None => true,
            Some((.., w)) => !w.is_nan() && (err.is_nan() || err > w),
        };
        if replace {
            worst = Some((i, fd, g, err));
        }
    }
    let (i, fd, g, err) = worst.expect("a network has parameters");
    assert!(
        err < 2e-2,
        "{config:?}, batch {n}: param {i}: fd {fd} vs backward {g} (relative error {err})"
    );
}

#[test]
fn gradients_match_finite_differences_depth1_raw_t() {
    check_gradients(
        MlpConfig {
            width: 9,
            depth: 1,
            time_features: 0,
            classes: 0,
        },
        7,
    );
}

#[test]
fn gradients_match_finite_differences_depth3_time_features() {
    check_gradients(
        MlpConfig {
            width: 10,
            depth: 3,
            time_features: 2,
            classes: 0,
        },
        7,
    );
}

#[test]
fn gradients_match_finite_differences_with_one_hot_labels() {
    check_gradients(
        MlpConfig {
            width: 10,
            depth: 2,
            time_features: 1,
            classes: 4,
        },
        10,
    );
}

#[test]
fn a_label_adds_its_first_layer_column_and_the_null_label_adds_none() {
    // The one-hot input of label y contributes exactly column 3 + 2 tf + y - 1 of W_0 to the
    // first layer: zeroing that column makes label y compute the null label's output.
    let config = MlpConfig {
        width: 6,
        depth: 2,
        time_features: 1,
        classes: 3,
    };
    let mut mlp = Mlp::new(config, &mut rng::seeded(4));
    let xs = [[0.3, -0.2], [1.0, 0.5]];
    let mut cache = ForwardCache::new();
    let at = |mlp: &Mlp, label: u8, cache: &mut ForwardCache| {
        let mut out = [[0.0; 2]; 2];
        mlp.predict_labelled(&xs, 0.4, label, &mut out, cache);
        out
    };
    let null = at(&mlp, 0, &mut cache);
    assert_ne!(at(&mlp, 2, &mut cache), null);
    // W_0 is column-major (width x in): column k starts at k width.
    let k = 3 + 2 * config.time_features + 1;
    let w = config.width;
    mlp.params[k * w..(k + 1) * w].fill(0.0);
    assert_eq!(at(&mlp, 2, &mut cache), null);
    assert_ne!(at(&mlp, 1, &mut cache), null);
    // A label beyond the classes is the null label.
    assert_eq!(at(&mlp, 9, &mut cache), null);
}

#[test]
fn gradients_match_finite_differences_depth3_raw_t_gemm_sizes() {
    // Width and batch above nalgebra's gemm threshold, so the matrixmultiply path is used.
    check_gradients(
        MlpConfig {
            width: 12,
            depth: 3,
            time_features: 0,
            classes: 0,
        },
        7,
    );
}

#[test]
fn gradients_match_finite_differences_for_every_small_shape() {
    // Batches and widths on both sides of nalgebra's small-matrix threshold (5), where its
    // gemm takes its own loops instead of matrixmultiply (see the module docs): a strided
    // left operand there wrote out of bounds (a crash, or garbage gradients).
    for width in 1..=8 {
        for n in 1..=8 {
            check_gradients(
                MlpConfig {
                    width,
                    depth: 3,
                    time_features: 0,
                    classes: 0,
                },
                n,
            );
        }
    }
}

#[test]
fn forward_matches_naive_f64_reference() {
    // Independent re-implementation with libm exp, in f64, from the documented layout.
    let config = MlpConfig {
        width: 16,
        depth: 2,
        time_features: 1,
        classes: 0,
    };
    let mut rng = rng::seeded(5);
    let mlp = Mlp::new(config, &mut rng);
    let (xs, ts) = batch(&mut rng, 9);
    let mut cache = ForwardCache::new();
    mlp.forward(&xs, &ts, &mut cache);
    let p: Vec<f64> = mlp.params().iter().map(|&v| v as f64).collect();
    let w = config.width;
    for (j, (x, t)) in xs.iter().zip(&ts).enumerate() {
        let tau = std::f64::consts::TAU;
        let mut a = vec![x[0], x[1], *t, (tau * t).sin(), (tau * t).cos()];
        let mut off = 0;
        for _ in 0..config.depth {
            let n_in = a.len();
            let mut z = vec![0.0; w];
            for (i, zi) in z.iter_mut().enumerate() {
                *zi = p[off + w * n_in + i]
                    + (0..n_in).map(|k| p[off + k * w + i] * a[k]).sum::<f64>();
            }
            off += w * n_in + w;
            a = z.iter().map(|&z| z / (1.0 + (-z).exp())).collect();
        }
        for o in 0..2 {
            let y = p[off + 2 * w + o] + (0..w).map(|k| p[off + o * w + k] * a[k]).sum::<f64>();
            let got = cache.output()[2 * j + o] as f64;
            assert!((y - got).abs() < 1e-5 * (1.0 + y.abs()), "{y} vs {got}");
        }
    }
}

#[test]
fn exp_approx_is_accurate() {
    let mut x = -87.0f32;
    while x < 88.0 {
        let (a, e) = (exp_approx(x) as f64, (x as f64).exp());
        assert!(((a - e) / e).abs() < 5e-7, "exp({x}) = {a} vs {e}");
        x += 0.013;
    }
    assert!(sigmoid(-200.0) >= 0.0 && sigmoid(-200.0) < 1e-30);
    assert_eq!(sigmoid(200.0), 1.0);
}

#[test]
fn predict_equals_forward() {
    let mut rng = rng::seeded(2);
    let mlp = Mlp::new(MlpConfig::default(), &mut rng);
    let (xs, _) = batch(&mut rng, 33);
    let ts = vec![0.37; xs.len()];
    let mut cache = ForwardCache::new();
    mlp.forward(&xs, &ts, &mut cache);
    let mut out = vec![[0.0; 2]; xs.len()];
    mlp.predict(&xs, 0.37, &mut out, &mut ForwardCache::new());
    for (o, y) in out.iter().zip(cache.output().chunks_exact(2)) {
        assert_eq!(*o, [y[0] as f64, y[1] as f64]);
    }
    // A smaller batch in a reused cache gives the same values for the same points (up to
    // rounding: below 6 columns nalgebra multiplies without matrixmultiply).
    let mut small = vec![[0.0; 2]; 5];
    mlp.predict(&xs[..5], 0.37, &mut small, &mut cache);
    for (a, b) in small.iter().zip(&out) {
        assert!((a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6);
    }
}

#[test]
fn from_params_reproduces_predictions_and_checks_the_length() {
    let config = MlpConfig {
        width: 12,
        depth: 3,
        time_features: 1,
        classes: 0,
    };
    let mlp = Mlp::new(config, &mut rng::seeded(3));
    let copy = Mlp::from_params(config, mlp.params()).expect("same layout");
    assert_eq!(copy.params(), mlp.params());
    let (xs, _) = batch(&mut rng::seeded(4), 20);
    let (mut a, mut b) = (vec![[0.0; 2]; 20], vec![[0.0; 2]; 20]);
    mlp.predict(&xs, 0.3, &mut a, &mut ForwardCache::new());
    copy.predict(&xs, 0.3, &mut b, &mut ForwardCache::new());
    assert_eq!(a, b);
    // Gradients too (the layout, not only the forward pass, is the same).
    let ts = vec![0.6; xs.len()];
    let d_output: Vec<f32> = (0..2 * xs.len()).map(|k| (k as f32).sin()).collect();
    let grads = |m: &Mlp| {
        let mut cache = ForwardCache::new();
        m.forward(&xs, &ts, &mut cache);
        let mut g = vec![0.0; m.num_params()];
        m.backward(&mut cache, &d_output, &mut g);
        g
    };
    assert_eq!(grads(&mlp), grads(&copy));

    let n = mlp.num_params();
    assert_eq!(
        Mlp::from_params(config, &mlp.params()[1..]).expect_err("one short"),
        format!(
            "expected {n} parameters for width 12, depth 3, time features 1, classes 0, got {}",
            n - 1
        )
    );
    let wider = MlpConfig {
        width: 13,
        ..config
    };
    assert!(Mlp::from_params(wider, mlp.params()).is_err());
    let empty = MlpConfig { depth: 0, ..config };
    assert!(Mlp::from_params(empty, Vec::new())
        .expect_err("no hidden layer")
        .contains("at least 1"));
    // num_params matches a hand count: (7*64+64) + 2*(64*64+64) + (64*2+2).
    let default = Mlp::new(MlpConfig::default(), &mut rng::seeded(3));
    assert_eq!(default.num_params(), 512 + 2 * 4160 + 130);
}

#[test]
fn seeded_init_reproduces() {
    let config = MlpConfig::default();
    let a = Mlp::new(config, &mut rng::seeded(9));
    let b = Mlp::new(config, &mut rng::seeded(9));
    let c = Mlp::new(config, &mut rng::seeded(10));
    assert_eq!(a.params(), b.params());
    assert_ne!(a.params(), c.params());
    // Bounds follow 1/sqrt(fan_in): first layer fan-in 7.
    let bound = 1.0 / 7f32.sqrt();
    assert!(a.params()[..7 * 64].iter().all(|w| w.abs() <= bound));
}
