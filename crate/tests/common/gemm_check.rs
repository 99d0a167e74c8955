//! The kernel check shared by the native test (`tests/gemm.rs`) and the in-browser one
//! (`tests/web.rs`): every kernel and every operand form against a naive f64 product.

use fmp::gemm::{self, Kernel, Op};
use fmp::rng;

/// Every shape with dimensions 1 to 9 in `m`, `n` and `k` (all edge cases of the 8 x 4 tile).
pub fn edge_shapes() -> Vec<(usize, usize, usize)> {
    let mut shapes = Vec::new();
    for m in 1..=9 {
        for n in 1..=9 {
            for k in 1..=9 {
                shapes.push((m, n, k));
            }
        }
    }
    shapes
}

/// `op(a) op(b)` in f64, the naive triple loop (column-major, operands stored as in
/// [`fmp::gemm`]).
fn naive(
    (m, n, k): (usize, usize, usize),
    (a, a_op): (&[f32], Op),
    (b, b_op): (&[f32], Op),
) -> Vec<f64> {
    let at_a = |i: usize, p: usize| match a_op {
        Op::N => a[p * m + i],
        Op::T => a[i * k + p],
    };
    let at_b = |p: usize, j: usize| match b_op {
        Op::N => b[j * k + p],
        Op::T => b[p * n + j],
    };
    let mut c = vec![0.0f64; m * n];
    for j in 0..n {
        for i in 0..m {
            c[j * m + i] = (0..k).map(|p| at_a(i, p) as f64 * at_b(p, j) as f64).sum();
        }
    }
    c
}

/// Multiplies entries uniform in [-1, 1) (drawn from `seed`) in every shape of `shapes`, with
/// every kernel and every operand form, and asserts each entry within `1e-6 k + 1e-7` of the
/// naive f64 product (`|c| <= k`, so the f32 error is a few ulp of `k`, with margin).
pub fn every_kernel_matches_the_naive_product(shapes: &[(usize, usize, usize)], seed: u64) {
    let mut rng = rng::seeded(seed);
    let mut scratch = gemm::Scratch::default();
    for &(m, n, k) in shapes {
        let mut draw = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|_| (2.0 * rng::uniform(&mut rng) - 1.0) as f32)
                .collect()
        };
        let (a, b) = (draw(m * k), draw(k * n));
        for a_op in [Op::N, Op::T] {
            for b_op in [Op::N, Op::T] {
                let want = naive((m, n, k), (&a, a_op), (&b, b_op));
                for kernel in [Kernel::Matrixmultiply, Kernel::Packed] {
                    let mut c = vec![f32::NAN; m * n];
                    gemm::gemm(
                        kernel,
                        (m, n, k),
                        (&a, a_op),
                        (&b, b_op),
                        &mut c,
                        &mut scratch,
                    );
                    for (idx, (&got, &w)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            (got as f64 - w).abs() <= 1e-6 * k as f64 + 1e-7,
                            "{kernel:?} ({}) {a_op:?}{b_op:?} {m}x{n}x{k} at {idx}: {got} vs {w}",
                            gemm::packed_name()
                        );
                    }
                }
            }
        }
    }
}
