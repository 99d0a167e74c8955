//! The matrix kernels natively (the packed kernel's portable micro-kernel here; its wasm
//! micro-kernels run the same check in `tests/web.rs`).

mod common {
    pub mod gemm_check;
}

use common::gemm_check;
use fmp::rng;

/// Every kernel and every operand form against the naive f64 product, on every shape with
/// dimensions 1 to 9 and on random larger shapes that cross the KC and MC blocks.
#[test]
fn every_kernel_matches_the_naive_product() {
    let mut shapes = gemm_check::edge_shapes();
    let mut rng = rng::seeded(7);
    for _ in 0..12 {
        let mut dim = |hi: usize| 1 + rng::index(&mut rng, hi);
        shapes.push((dim(140), dim(70), dim(600)));
    }
    shapes.push((256, 33, 257));
    gemm_check::every_kernel_matches_the_naive_product(&shapes, 8);
}
