//! Tests of [`super`] (the module's own file holds the code; these check it against
//! closed forms, finite differences and hand-computed steps).

use super::*;

#[test]
fn straight_paths_have_no_straightness_and_crossings_are_counted() {
    // Two straight paths at constant speed that cross, one that does not.
    let times = [0.0, 0.3, 0.7, 1.0]; // the crossing, at t = 0.5, inside a segment
    let path = |a: Point, b: Point| -> Vec<Point> {
        times
            .iter()
            .map(|&t| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
            .collect()
    };
    let p = [
        path([0.0, 0.0], [1.0, 1.0]),
        path([0.0, 1.0], [1.0, 0.0]),
        path([5.0, 5.0], [6.0, 5.0]),
    ];
    let frames: Vec<Vec<Point>> = (0..times.len())
        .map(|k| p.iter().map(|q| q[k]).collect())
        .collect();
    assert!(straightness(&frames, &times).abs() < 1e-24);
    assert_eq!(crossings(&frames, 10), 1);
    assert_eq!(crossings(&frames, 1), 0);
    // A bent path, by hand: from (0,0) to (1,0) over t in [0, 0.5], then to (1,1) by t = 1.
    // d = (1, 1); velocities (2, 0) and (0, 2): |v - d|^2 = 2 on each half; S = 2.
    let bent = vec![vec![[0.0, 0.0]], vec![[1.0, 0.0]], vec![[1.0, 1.0]]];
    assert!((straightness(&bent, &[0.0, 0.5, 1.0]) - 2.0).abs() < 1e-12);
}

#[test]
fn the_assignment_is_optimal_against_brute_force_and_beats_the_drawn_pairing() {
    let mut rng = crate::rng::seeded(5);
    let cost = |a: &[Point], b: &[Point], p: &[usize]| -> f64 {
        a.iter()
            .zip(p)
            .map(|(x, &j)| (x[0] - b[j][0]).powi(2) + (x[1] - b[j][1]).powi(2))
            .sum()
    };
    for n in 1..=7 {
        for _ in 0..20 {
            let a: Vec<Point> = (0..n).map(|_| crate::rng::normal_pair(&mut rng)).collect();
            let b: Vec<Point> = (0..n).map(|_| crate::rng::normal_pair(&mut rng)).collect();
            let best = permutations(n)
                .iter()
                .map(|p| cost(&a, &b, p))
                .fold(f64::INFINITY, f64::min);
            let got = cost(&a, &b, &optimal_assignment(&a, &b));
            assert!(
                (got - best).abs() < 1e-9,
                "n {n}: {got} vs brute force {best}"
            );
        }
    }
    // Random batches of 256: always below the pairing as drawn.
    for _ in 0..5 {
        let a: Vec<Point> = (0..256)
            .map(|_| crate::rng::normal_pair(&mut rng))
            .collect();
        let b: Vec<Point> = (0..256)
            .map(|_| {
                let p = crate::rng::normal_pair(&mut rng);
                [p[0] + 2.0, 0.5 * p[1]]
            })
            .collect();
        let identity: Vec<usize> = (0..256).collect();
        assert!(cost(&a, &b, &optimal_assignment(&a, &b)) < cost(&a, &b, &identity));
    }
}

/// Every permutation of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for pos in 0..n {
            let mut q = p.clone();
            q.insert(pos, n - 1);
            out.push(q);
        }
    }
    out
}
use crate::rng::{normal_pair, seeded, uniform};

fn cloud(seed: u64, n: usize) -> Vec<Point> {
    let mut rng = seeded(seed);
    (0..n).map(|_| normal_pair(&mut rng)).collect()
}

/// All permutations of 0..n (Heap's algorithm), brute-force minimum mean squared cost.
fn brute_force_w2(a: &[Point], b: &[Point]) -> f64 {
    let n = a.len();
    let mut perm: Vec<usize> = (0..n).collect();
    let cost = |p: &[usize]| -> f64 { (0..n).map(|i| dist2(a[i], b[p[i]])).sum() };
    let mut best = cost(&perm);
    let mut c = vec![0; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            best = best.min(cost(&perm));
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    (best / n as f64).sqrt()
}

#[test]
fn w2_matches_brute_force_on_small_sets() {
    for n in 1..=7 {
        for seed in 0..8 {
            let a = cloud(100 + seed, n);
            let b = cloud(200 + seed, n);
            let exact = w2_exact(&a, &b).expect("valid sizes");
            let brute = brute_force_w2(&a, &b);
            assert!(
                (exact - brute).abs() < 1e-12,
                "n={n} seed={seed}: {exact} vs {brute}"
            );
        }
    }
    // integer grid points: many ties
    let a: Vec<Point> = (0..6).map(|i| [(i % 3) as f64, (i / 3) as f64]).collect();
    let b: Vec<Point> = (0..6).map(|i| [(i % 2) as f64, (i % 3) as f64]).collect();
    assert!((w2_exact(&a, &b).expect("ok") - brute_force_w2(&a, &b)).abs() < 1e-12);
}

#[test]
fn w2_on_a_line_is_the_sorted_matching() {
    let mut rng = seeded(5);
    for n in [2, 10, 100, 300] {
        // points on the line through the origin with direction (0.6, 0.8)
        let mut sa: Vec<f64> = (0..n).map(|_| 4.0 * uniform(&mut rng) - 2.0).collect();
        let mut sb: Vec<f64> = (0..n).map(|_| normal_pair(&mut rng)[0]).collect();
        let a: Vec<Point> = sa.iter().map(|s| [0.6 * s, 0.8 * s]).collect();
        let b: Vec<Point> = sb.iter().map(|s| [0.6 * s, 0.8 * s]).collect();
        sa.sort_by(f64::total_cmp);
        sb.sort_by(f64::total_cmp);
        let closed = (sa
            .iter()
            .zip(&sb)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        let got = w2_exact(&a, &b).expect("ok");
        assert!((got - closed).abs() < 1e-10, "n={n}: {got} vs {closed}");
    }
}

#[test]
fn w2_of_a_shuffle_is_zero_and_translation_is_exact() {
    let a = cloud(7, 500);
    let mut b = a.clone();
    let mut rng = seeded(8);
    for i in (1..b.len()).rev() {
        let j = crate::rng::index(&mut rng, i + 1);
        b.swap(i, j);
    }
    assert_eq!(w2_exact(&a, &b).expect("ok"), 0.0);
    // a translated copy: the optimal plan is the translation, W2 = |shift|
    let c: Vec<Point> = b.iter().map(|p| [p[0] + 0.3, p[1] - 0.4]).collect();
    assert!((w2_exact(&a, &c).expect("ok") - 0.5).abs() < 1e-12);
}

#[test]
fn w2_non_finite_input_gives_nan_without_hanging() {
    let mut a = cloud(13, 20);
    let b = cloud(14, 20);
    a[3] = [f64::NAN, 0.0];
    assert!(w2_exact(&a, &b).expect("sizes ok").is_nan());
    a[3] = [f64::INFINITY, 0.0];
    assert!(!w2_exact(&a, &b).expect("sizes ok").is_finite());
}

#[test]
fn w2_errors() {
    let a = cloud(1, 3);
    let b = cloud(2, 4);
    assert_eq!(
        w2_exact(&a, &b),
        Err(MetricError::SizeMismatch { a: 3, b: 4 })
    );
    assert_eq!(w2_exact(&[], &[]), Err(MetricError::Empty));
    let big = vec![[0.0, 0.0]; W2_MAX_POINTS + 1];
    assert_eq!(
        w2_exact(&big, &big),
        Err(MetricError::TooLarge(W2_MAX_POINTS + 1))
    );
    assert_eq!(
        MetricError::SizeMismatch { a: 3, b: 4 }.to_string(),
        "point clouds differ in size (3 vs 4)"
    );
    assert!(MetricError::TooLarge(5000).to_string().contains("5000"));
    assert_eq!(MetricError::Empty.to_string(), "empty point cloud");
}

#[test]
fn energy_distance_by_hand() {
    // a = {0}, b = {(3, 4)}: 2 * 5 - 0 - 0
    assert!((energy_distance(&[[0.0, 0.0]], &[[3.0, 4.0]]) - 10.0).abs() < 1e-12);
    // a = {0, 2} on a line, b = {1}: cross mean 1, within-a mean (0+2+2+0)/4 = 1 -> 2 - 1 - 0
    let e = energy_distance(&[[0.0, 0.0], [2.0, 0.0]], &[[1.0, 0.0]]);
    assert!((e - 1.0).abs() < 1e-12);
    let a = cloud(3, 50);
    assert!(energy_distance(&a, &a).abs() < 1e-12);
    assert_eq!(energy_distance(&a, &[]), 0.0);
    // symmetric, positive, and grows with a shift
    let b = cloud(4, 40);
    assert!((energy_distance(&a, &b) - energy_distance(&b, &a)).abs() < 1e-12);
    let far: Vec<Point> = b.iter().map(|p| [p[0] + 3.0, p[1]]).collect();
    assert!(energy_distance(&a, &far) > energy_distance(&a, &b));
}

#[test]
fn energy_distance_matches_naive_triple_sum() {
    let a = cloud(9, 13);
    let b = cloud(10, 7);
    let mean = |x: &[Point], y: &[Point]| {
        x.iter()
            .flat_map(|p| y.iter().map(move |q| dist(*p, *q)))
            .sum::<f64>()
            / (x.len() * y.len()) as f64
    };
    let naive = 2.0 * mean(&a, &b) - mean(&a, &a) - mean(&b, &b);
    assert!((energy_distance(&a, &b) - naive).abs() < 1e-12);
}

#[test]
fn w2_assignment_is_a_permutation_beating_identity() {
    // n = 400: a permutation, no worse than the identity pairing (exactness at this size is
    // covered by the line and translation tests).
    let a = cloud(11, 400);
    let b = cloud(12, 400);
    let w = w2_exact(&a, &b).expect("ok");
    let identity = (a.iter().zip(&b).map(|(p, q)| dist2(*p, *q)).sum::<f64>() / 400.0).sqrt();
    assert!(w > 0.0 && w < identity);
    let sigma = optimal_assignment(&a, &b);
    let mut seen = vec![false; 400];
    sigma.iter().for_each(|&j| seen[j] = true);
    assert!(seen.iter().all(|s| *s), "not a permutation");
}

#[test]
fn capped_metrics_subsample_deterministically() {
    let a = cloud(21, 3000);
    let b = cloud(22, 1500);
    // At most the cap, distinct points of the cloud, the same subset every time.
    let s = subsample(&a, 1000, 7);
    assert_eq!(s.len(), 1000);
    assert_eq!(s, subsample(&a, 1000, 7));
    assert!(s.iter().all(|p| a.contains(p)));
    let mut sorted = s.clone();
    sorted.sort_by(|p, q| p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])));
    sorted.dedup();
    assert_eq!(sorted.len(), 1000);
    assert_eq!(subsample(&b[..10], 1000, 7), b[..10].to_vec());
    // Small clouds are used whole.
    let (sa, sb) = (&a[..300], &b[..200]);
    assert_eq!(energy_distance_capped(sa, sb), energy_distance(sa, sb));
    assert_eq!(
        w2_capped(&a[..200], sb).expect("ok"),
        w2_exact(&a[..200], sb).expect("ok")
    );
    // Large ones: close to the full value, and a cloud against itself stays 0.
    let full = energy_distance(&a, &b);
    let capped = energy_distance_capped(&a, &b);
    assert!((full - capped).abs() < 0.01, "{full} vs {capped}");
    assert!(energy_distance_capped(&a, &a) < 1e-12);
    assert_eq!(w2_capped(&a, &a).expect("ok"), 0.0);
    // Unequal sizes: both reduced to the smaller one.
    let w = w2_capped(&a[..400], &b[..250]).expect("ok");
    assert!(w.is_finite() && w > 0.0);
    assert_eq!(w2_capped(&a, &[]), Err(MetricError::Empty));
}

#[test]
fn median_nn_spacing_by_hand_and_against_brute_force() {
    assert_eq!(median_nn_spacing(&[]), 0.0);
    assert_eq!(median_nn_spacing(&[[1.0, 2.0]]), 0.0);
    // A row at x = 0, 1, 3, 7: nearest distances 1, 1, 2, 4 -> median (1 + 2) / 2.
    let row = [[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]];
    assert_eq!(median_nn_spacing(&row), 1.5);
    assert_eq!(median_nn_spacing(&row[..3]), 1.0);
    let a = cloud(31, 301);
    let mut brute: Vec<f64> = a
        .iter()
        .enumerate()
        .map(|(i, p)| {
            a.iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, q)| dist(*p, *q))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    brute.sort_by(f64::total_cmp);
    assert!((median_nn_spacing(&a) - brute[150]).abs() < 1e-12);
    // The page's moons (1,000 points, seed 1): 0.027, the figure behind BETA_MIN.
    let moons = crate::data::sample_preset(crate::data::Preset::TwoMoons, 1000, &mut seeded(1));
    let s = median_nn_spacing(&moons);
    assert!((s - 0.0267).abs() < 5e-4, "{s}");
}

#[test]
fn memorization_is_near_fraction_against_each_set() {
    let train = [[0.0, 0.0], [1.0, 0.0]];
    let heldout = [[0.0, 1.0]];
    let samples = [[0.0, 0.05], [1.0, 0.0], [0.0, 0.96], [5.0, 5.0]];
    assert_eq!(memorization(&samples, &train, &heldout, 0.1), (0.5, 0.25));
    assert_eq!(memorization(&samples, &[], &heldout, 0.1), (0.0, 0.25));
    assert_eq!(memorization(&[], &train, &heldout, 0.1), (0.0, 0.0));
}

#[test]
fn near_fraction_counts_samples_close_to_data() {
    let data = [[0.0, 0.0], [1.0, 0.0]];
    // Distances to the nearest data point: 0.05, 0.2, 0.0, 0.099.
    let samples = [[0.05, 0.0], [0.5, 0.2], [1.0, 0.0], [1.0, -0.099]];
    assert_eq!(near_fraction(&samples, &data, 0.1), 0.75);
    assert_eq!(near_fraction(&samples, &data, 0.01), 0.25);
    assert_eq!(near_fraction(&samples, &data, 1.0), 1.0);
    assert_eq!(near_fraction(&[], &data, 1.0), 0.0);
    assert_eq!(near_fraction(&samples, &[], 1.0), 0.0);
}
