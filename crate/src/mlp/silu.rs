//! The bias + SiLU of a hidden layer's column, `z = a + b; s = sigmoid(z); a = z s`, with the
//! sigmoid from a fast `exp` (Cody-Waite range reduction and a Taylor polynomial), in scalar
//! code and, on wasm32 with `simd128`, in explicit `f32x4` lanes that compute the same steps.

/// The range `exp_approx` clamps its argument to.
const EXP_MIN: f32 = -87.0;
const EXP_MAX: f32 = 88.0;
/// `ln 2` in two parts (Cody-Waite): `n LN2_HI` is exact for the `n` of the range.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// `1.5 * 2^23`: adding it rounds to an integer, which its low mantissa bits then hold.
const MAGIC: f32 = 12_582_912.0;
/// The Taylor coefficients of `e^r` to degree 6, highest first (Horner's order).
const EXP_TAYLOR: [f32; 7] = [
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `e^x` to about 2 ulp for `x` in `[-87, 88]` (clamped outside): range reduction
/// `x = n ln 2 + r`, a degree-6 Taylor polynomial for `e^r`, and `2^n` built from its bits.
/// Branch-free, so the SiLU loops vectorise (unlike a libm call). The SIMD lanes of
/// `simd::sigmoid4` take the same steps with the same constants.
#[inline(always)]
pub(super) fn exp_approx(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    let shifted = x * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let n_int = shifted.to_bits() as i32 - MAGIC.to_bits() as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = EXP_TAYLOR[0];
    for &c in &EXP_TAYLOR[1..] {
        p = c + r * p;
    }
    p * f32::from_bits(((n_int + 127) << 23) as u32)
}

/// `sigmoid(z) = 1 / (1 + e^-z)`.
#[inline(always)]
pub(super) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-z))
}

/// One column of a hidden layer: `z = a + b; s = sigmoid(z); a = z s` (the scalar loop; on
/// wasm32 [`simd::bias_silu`] takes the lanes and leaves the tail to it).
#[inline(always)]
pub(super) fn bias_silu_scalar(a_col: &mut [f32], s_col: &mut [f32], bias: &[f32]) {
    for ((a, s), &b) in a_col.iter_mut().zip(s_col.iter_mut()).zip(bias) {
        let z = *a + b;
        *s = sigmoid(z);
        *a = z * *s;
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(super) use bias_silu_scalar as bias_silu;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) use simd::bias_silu;

/// The bias + SiLU column in explicit `f32x4` arithmetic (wasm32): the sigmoid costs about a
/// tenth of an L step, and LLVM does not fuse its polynomial's multiply-adds. With `simd128`
/// alone every operation is the scalar one in the same order (the same bits as the scalar
/// loop); with `relaxed-simd` the multiply-adds are fused (`f32x4_relaxed_madd`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// `acc + a b` (fused with relaxed SIMD, else a product then a sum, as the scalar code).
    #[inline(always)]
    fn madd(a: v128, b: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, acc)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(a, b), acc)
        }
    }

    /// `sigmoid(z)` lane by lane, the steps of `super::exp_approx` and `super::sigmoid`.
    #[inline(always)]
    fn sigmoid4(z: v128) -> v128 {
        use super::{EXP_MAX, EXP_MIN, EXP_TAYLOR, LN2_HI, LN2_LO, MAGIC};
        let c = f32x4_splat;
        // x = clamp(-z, EXP_MIN, EXP_MAX) (pmax / pmin keep a NaN, as f32::clamp does).
        let x = f32x4_pmin(f32x4_pmax(f32x4_neg(z), c(EXP_MIN)), c(EXP_MAX));
        let shifted = madd(x, c(std::f32::consts::LOG2_E), c(MAGIC));
        let n = f32x4_sub(shifted, c(MAGIC));
        let r = madd(n, c(-LN2_HI), x);
        let r = madd(n, c(-LN2_LO), r);
        let mut p = c(EXP_TAYLOR[0]);
        for &k in &EXP_TAYLOR[1..] {
            p = madd(r, p, c(k));
        }
        let scale = i32x4_shl(
            i32x4_add(
                i32x4_sub(shifted, i32x4_splat(MAGIC.to_bits() as i32)),
                i32x4_splat(127),
            ),
            23,
        );
        let e = f32x4_mul(p, scale);
        f32x4_div(c(1.0), f32x4_add(c(1.0), e))
    }

    /// Stores the 4 lanes of `v` in `out`.
    #[inline(always)]
    fn store(out: &mut [f32], v: v128) {
        out[0] = f32x4_extract_lane::<0>(v);
        out[1] = f32x4_extract_lane::<1>(v);
        out[2] = f32x4_extract_lane::<2>(v);
        out[3] = f32x4_extract_lane::<3>(v);
    }

    /// One column of a hidden layer: `z = a + b; s = sigmoid(z); a = z s`.
    #[inline(always)]
    pub(in crate::mlp) fn bias_silu(a_col: &mut [f32], s_col: &mut [f32], bias: &[f32]) {
        let n = a_col.len().min(s_col.len()).min(bias.len());
        let split = n - n % 4;
        let (a4, a_rest) = a_col[..n].split_at_mut(split);
        let (s4, s_rest) = s_col[..n].split_at_mut(split);
        let (b4, b_rest) = bias[..n].split_at(split);
        for ((a, s), b) in a4
            .chunks_exact_mut(4)
            .zip(s4.chunks_exact_mut(4))
            .zip(b4.chunks_exact(4))
        {
            let z = f32x4_add(f32x4(a[0], a[1], a[2], a[3]), f32x4(b[0], b[1], b[2], b[3]));
            let sv = sigmoid4(z);
            store(s, sv);
            store(a, f32x4_mul(z, sv));
        }
        super::bias_silu_scalar(a_rest, s_rest, b_rest);
    }
}
