//! Dense `f32` matrix products of the MLP: `C = op(A) op(B)`, every matrix column-major.
//!
//! ## The three products of a training step
//! With `W` the `width x width` weights of a hidden layer, `A` and `dZ` its `width x batch`
//! input activations and output gradient (columns are samples, see [`crate::mlp`]):
//! - forward `Z = W A` ([`Op::N`], [`Op::N`]);
//! - weight gradient `dW = dZ A^T` ([`Op::N`], [`Op::T`]), the inner dimension is the batch;
//! - input gradient `dA = W^T dZ` ([`Op::T`], [`Op::N`]).
//!
//! An operand read with [`Op::T`] is stored as its transpose, column-major: `A` of `op(A)`
//! (`m x k`) is stored `k x m`, `B` of `op(B)` (`k x n`) is stored `n x k`.
//!
//! ## Two kernels ([`Kernel`])
//! - [`Kernel::Matrixmultiply`]: nalgebra's `gemm`, which calls the matrixmultiply crate (it
//!   picks AVX2/FMA at run time natively, so the native build keeps it). A left operand read
//!   transposed is copied out first: nalgebra 0.35's small-shape path writes out of bounds with a
//!   row-strided left operand (dimforge/nalgebra#1616, open and unfixed in 0.35.0: any dimension
//!   `<= 5` goes through `axcpy`, whose loop count is a strided column's span instead of its
//!   length). Smallest reproduction, safe code only: `let m = [1.0f32; 4];
//!   let a = DMatrixView::from_slice_with_strides(&m, 2, 2, 2, 1);
//!   DMatrix::<f32>::zeros(2, 1).gemm(1.0, &a, &DMatrix::from_element(2, 1, 1.0), 0.0)`.
//! - [`Kernel::Packed`]: a GotoBLAS-style kernel written here. The inner dimension is cut into
//!   blocks of [`KC`]; per block, `op(B)` is packed into panels of [`NR`] columns and, per
//!   [`MC`] rows, `op(A)` into panels of [`MR`] rows (zero-padded at the edges, so the transposes
//!   cost nothing extra); a register-blocked micro-kernel multiplies an `MR x kc` panel by a
//!   `kc x NR` panel into an `MR x NR` tile held in 8 accumulators of 4 lanes. On wasm32 with
//!   `simd128` the micro-kernel uses `f32x4` arithmetic (built from slice elements, so no
//!   unsafe load), with `relaxed-simd` the fused `f32x4_relaxed_madd`; elsewhere it is the same
//!   loop on arrays ("portable", for the native tests). [`packed_name`] says which.
//!
//! Measured (`cargo xtask bench`, the same run): see the `gemm` rows of its table. The kernel is
//! a process-wide setting ([`set_kernel`]): wasm32 defaults to [`Kernel::Packed`], natively to
//! [`Kernel::Matrixmultiply`]. Within one kernel a product is deterministic: the same inputs give
//! the same bits.

use std::sync::atomic::{AtomicU8, Ordering};

use nalgebra::{DMatrixView, DMatrixViewMut};

/// How an operand is read: as stored ([`Op::N`]) or transposed ([`Op::T`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// As stored.
    N,
    /// Transposed (the operand is stored as its transpose).
    T,
}

/// Which implementation multiplies (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// nalgebra's `gemm` (matrixmultiply).
    Matrixmultiply,
    /// The packed, register-blocked kernel of this module.
    Packed,
}

impl Kernel {
    /// Name in benchmark output: `matrixmultiply`, or the packed kernel's [`packed_name`].
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Matrixmultiply => "matrixmultiply",
            Kernel::Packed => packed_name(),
        }
    }
}

/// Rows of a micro-kernel tile (two 4-lane vectors).
pub const MR: usize = 8;
/// Columns of a micro-kernel tile (the micro-kernels are written for 4).
pub const NR: usize = 4;
/// Block of the inner dimension packed at once.
pub const KC: usize = 512;
/// Rows of `op(A)` packed at once (a multiple of [`MR`]).
pub const MC: usize = 64;

const DEFAULT_KERNEL: u8 = if cfg!(target_arch = "wasm32") { 1 } else { 0 };
static KERNEL: AtomicU8 = AtomicU8::new(DEFAULT_KERNEL);

/// Sets the kernel every later product of this process (one wasm instance) uses.
pub fn set_kernel(kernel: Kernel) {
    KERNEL.store(kernel as u8, Ordering::Relaxed);
}

/// The kernel products use now.
pub fn kernel() -> Kernel {
    match KERNEL.load(Ordering::Relaxed) {
        0 => Kernel::Matrixmultiply,
        _ => Kernel::Packed,
    }
}

/// The packed kernel's micro-kernel in this build: `relaxed-simd`, `simd128` or `portable`.
pub fn packed_name() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "relaxed-simd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "portable"
    }
}

/// Packing buffers, reused across products (they only grow).
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// `c = op(a) op(b)` with `op(a)` of shape `m x k` and `op(b)` of shape `k x n`, all
/// column-major (see the module docs for how a transposed operand is stored); `c` (`m x n`) is
/// overwritten. Panics when a slice is shorter than its shape.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    kernel: Kernel,
    (m, n, k): (usize, usize, usize),
    (a, a_op): (&[f32], Op),
    (b, b_op): (&[f32], Op),
    c: &mut [f32],
    scratch: &mut Scratch,
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm: shapes"
    );
    let c = &mut c[..m * n];
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(0.0);
        return;
    }
    match kernel {
        Kernel::Matrixmultiply => by_matrixmultiply((m, n, k), (a, a_op), (b, b_op), c, scratch),
        Kernel::Packed => packed((m, n, k), (a, a_op), (b, b_op), c, scratch),
    }
}

/// The [`Kernel::Matrixmultiply`] product: every left operand contiguous column-major.
fn by_matrixmultiply(
    (m, n, k): (usize, usize, usize),
    (a, a_op): (&[f32], Op),
    (b, b_op): (&[f32], Op),
    c: &mut [f32],
    scratch: &mut Scratch,
) {
    let left: &[f32] = match a_op {
        Op::N => &a[..m * k],
        Op::T => {
            // a is stored k x m: copy op(a) out, m x k column-major (op(a) (i, p) = a[i k + p]).
            scratch.a.resize(m * k, 0.0);
            for (p, col) in scratch.a.chunks_exact_mut(m).enumerate() {
                for (i, o) in col.iter_mut().enumerate() {
                    *o = a[i * k + p];
                }
            }
            &scratch.a[..m * k]
        }
    };
    let left = DMatrixView::from_slice(left, m, k);
    let mut out = DMatrixViewMut::from_slice(c, m, n);
    match b_op {
        Op::N => out.gemm(1.0, &left, &DMatrixView::from_slice(&b[..k * n], k, n), 0.0),
        // b stored n x k: op(b) (p, j) at p n + j, a strided view of a right operand.
        Op::T => out.gemm(
            1.0,
            &left,
            &DMatrixView::from_slice_with_strides(&b[..k * n], k, n, n, 1),
            0.0,
        ),
    }
}

/// Packs rows `r0..r0 + rows` (at most `W`) and inner indices `p0..p0 + kc` of a matrix into
/// one panel: entry `(r0 + rr, p0 + p)` at `dst[p W + rr]`, rows past `rows` zero. The matrix
/// entry `(r, p)` is `src[p ld + r]` when `rows_contiguous` (an `A` read as stored, a `B` read
/// transposed), else `src[r ld + p]`. Each source run is contiguous, so the copy streams. Where
/// a run is one panel row (`rows_contiguous`) and the panel is full (`rows == W`), it moves as an
/// array of a size known when compiling, so no copy is a call (`memory.copy` in wasm).
fn pack_panel<const W: usize>(
    src: &[f32],
    ld: usize,
    rows_contiguous: bool,
    (r0, rows): (usize, usize),
    (p0, kc): (usize, usize),
    dst: &mut [f32],
) {
    let dst = &mut dst[..kc * W];
    if rows_contiguous {
        for (p, out) in dst.chunks_exact_mut(W).enumerate() {
            let at = (p0 + p) * ld + r0;
            if let (Ok(out), Ok(run)) = (
                <&mut [f32; W]>::try_from(&mut *out),
                <&[f32; W]>::try_from(&src[at..at + rows]),
            ) {
                *out = *run;
            } else {
                out[..rows].copy_from_slice(&src[at..at + rows]);
                out[rows..].fill(0.0);
            }
        }
    } else {
        // The source runs of the panel's rows, each kc long; a row past `rows` gets a
        // placeholder that is never read (its panel entries are written as zeros below).
        let zeros = [0.0f32; 1];
        let runs: [&[f32]; W] = std::array::from_fn(|rr| {
            let at = (r0 + rr) * ld + p0;
            if rr < rows {
                &src[at..at + kc]
            } else {
                &zeros[..]
            }
        });
        if rows == W {
            for (p, out) in dst.chunks_exact_mut(W).enumerate() {
                for (o, run) in out.iter_mut().zip(&runs) {
                    *o = run[p];
                }
            }
        } else {
            for (p, out) in dst.chunks_exact_mut(W).enumerate() {
                for (rr, o) in out.iter_mut().enumerate() {
                    *o = if rr < rows { runs[rr][p] } else { 0.0 };
                }
            }
        }
    }
}

/// Writes (`first`) or adds an `MR x NR` tile into `c` (leading dimension `m`) at `(i0, j0)`,
/// its first `rows` rows and `cols` columns; a full column moves as a fixed-size array.
#[allow(clippy::too_many_arguments)]
fn write_tile(
    tile: &[f32; MR * NR],
    c: &mut [f32],
    m: usize,
    (i0, rows): (usize, usize),
    (j0, cols): (usize, usize),
    first: bool,
) {
    for (jj, t_col) in tile.chunks_exact(MR).take(cols).enumerate() {
        let at = (j0 + jj) * m + i0;
        let c_col = &mut c[at..at + rows];
        match (<&mut [f32; MR]>::try_from(&mut *c_col), first) {
            (Ok(full), true) => {
                for (o, &t) in full.iter_mut().zip(t_col) {
                    *o = t;
                }
            }
            (Ok(full), false) => {
                for (o, &t) in full.iter_mut().zip(t_col) {
                    *o += t;
                }
            }
            (Err(_), true) => c_col.copy_from_slice(&t_col[..rows]),
            (Err(_), false) => {
                for (o, &t) in c_col.iter_mut().zip(t_col) {
                    *o += t;
                }
            }
        }
    }
}

/// The [`Kernel::Packed`] product (see the module docs).
fn packed(
    (m, n, k): (usize, usize, usize),
    (a, a_op): (&[f32], Op),
    (b, b_op): (&[f32], Op),
    c: &mut [f32],
    scratch: &mut Scratch,
) {
    // op(a) (i, p) is a[p m + i] as stored, a[i k + p] transposed; op(b) (p, j) is b[j k + p]
    // as stored, b[p n + j] transposed.
    let (a_ld, a_rows) = if a_op == Op::N { (m, true) } else { (k, false) };
    let (b_ld, b_rows) = if b_op == Op::T { (n, true) } else { (k, false) };
    let n_panels = n.div_ceil(NR);
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        // op(b) rows pc..pc+kc as panels of NR columns: panel q holds (p, q NR + c) at p NR + c.
        scratch.b.resize(n_panels * kc * NR, 0.0);
        for (q, panel) in scratch.b.chunks_exact_mut(kc * NR).enumerate() {
            let cols = NR.min(n - q * NR);
            pack_panel::<NR>(b, b_ld, b_rows, (q * NR, cols), (pc, kc), panel);
        }
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            let m_panels = mc.div_ceil(MR);
            // op(a) rows ic..ic+mc as panels of MR rows: panel r holds (r MR + i, p) at p MR + i.
            scratch.a.resize(m_panels * kc * MR, 0.0);
            for (r, panel) in scratch.a.chunks_exact_mut(kc * MR).enumerate() {
                let i0 = ic + r * MR;
                pack_panel::<MR>(a, a_ld, a_rows, (i0, MR.min(m - i0)), (pc, kc), panel);
            }
            for (q, b_panel) in scratch.b.chunks_exact(kc * NR).enumerate() {
                let j0 = q * NR;
                let cols = NR.min(n - j0);
                for (r, a_panel) in scratch.a.chunks_exact(kc * MR).enumerate() {
                    let i0 = ic + r * MR;
                    let tile = micro::tile(a_panel, b_panel);
                    write_tile(&tile, c, m, (i0, MR.min(m - i0)), (j0, cols), pc == 0);
                }
            }
        }
    }
}

/// The `simd128` micro-kernel (wasm32).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod micro {
    use super::{MR, NR};
    use core::arch::wasm32::{f32x4, f32x4_extract_lane, f32x4_splat, v128};

    /// `acc + a b`, fused where the build has relaxed SIMD.
    #[inline(always)]
    fn madd(a: v128, b: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            core::arch::wasm32::f32x4_relaxed_madd(a, b, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            core::arch::wasm32::f32x4_add(acc, core::arch::wasm32::f32x4_mul(a, b))
        }
    }

    /// Vectors of 4 lanes per tile column.
    const V: usize = MR / 4;

    /// `acc += a_p b_p^T` for one step `p` of the inner dimension (`ap`: `MR` entries of the
    /// `A` panel, `bp`: the `NR` entries of `op(B)`'s row `p`).
    #[inline(always)]
    fn step(acc: &mut [v128; V * NR], ap: &[f32], bp: [f32; NR]) {
        let mut av = [f32x4_splat(0.0); V];
        for (v, q) in av.iter_mut().zip(ap.chunks_exact(4)) {
            *v = f32x4(q[0], q[1], q[2], q[3]);
        }
        for (col, bj) in acc.chunks_exact_mut(V).zip(bp) {
            let s = f32x4_splat(bj);
            for (c, &v) in col.iter_mut().zip(&av) {
                *c = madd(v, s, *c);
            }
        }
    }

    /// The accumulators as a column-major `MR x NR` tile.
    #[inline(always)]
    fn lanes(acc: [v128; V * NR]) -> [f32; MR * NR] {
        let mut out = [0.0f32; MR * NR];
        for (o, v) in out.chunks_exact_mut(4).zip(acc) {
            o[0] = f32x4_extract_lane::<0>(v);
            o[1] = f32x4_extract_lane::<1>(v);
            o[2] = f32x4_extract_lane::<2>(v);
            o[3] = f32x4_extract_lane::<3>(v);
        }
        out
    }

    /// The `MR x NR` tile (column-major) of an `MR x kc` panel times a packed `kc x NR` panel.
    #[inline(always)]
    pub fn tile(a: &[f32], b: &[f32]) -> [f32; MR * NR] {
        let mut acc = [f32x4_splat(0.0); V * NR];
        for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
            step(&mut acc, ap, [bp[0], bp[1], bp[2], bp[3]]);
        }
        lanes(acc)
    }
}

/// The portable micro-kernel: the same loop on arrays.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod micro {
    use super::{MR, NR};

    /// `acc += a_p b_p^T` for one step `p` of the inner dimension.
    #[inline(always)]
    fn step(acc: &mut [f32; MR * NR], ap: &[f32], bp: [f32; NR]) {
        for (col, bj) in acc.chunks_exact_mut(MR).zip(bp) {
            for (o, &ai) in col.iter_mut().zip(ap) {
                *o += ai * bj;
            }
        }
    }

    /// The `MR x NR` tile (column-major) of an `MR x kc` panel times a packed `kc x NR` panel.
    #[inline(always)]
    pub fn tile(a: &[f32], b: &[f32]) -> [f32; MR * NR] {
        let mut acc = [0.0f32; MR * NR];
        for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
            step(&mut acc, ap, [bp[0], bp[1], bp[2], bp[3]]);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every kernel against a naive product: tests/gemm.rs (and tests/web.rs in the browser).

    /// A zero inner dimension gives the zero matrix; an empty output is left alone.
    #[test]
    fn degenerate_shapes() {
        let mut scratch = Scratch::default();
        for kernel in [Kernel::Matrixmultiply, Kernel::Packed] {
            let mut c = vec![f32::NAN; 6];
            gemm(
                kernel,
                (2, 3, 0),
                (&[], Op::N),
                (&[], Op::N),
                &mut c,
                &mut scratch,
            );
            assert_eq!(c, vec![0.0; 6]);
            gemm(
                kernel,
                (0, 3, 2),
                (&[], Op::N),
                (&[1.0; 6], Op::N),
                &mut [],
                &mut scratch,
            );
        }
    }
}
