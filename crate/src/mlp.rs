//! The learned vector field `u_theta(x, t)`: a multilayer perceptron with SiLU activations.
//!
//! ## Architecture
//! `input (x, y, time features) -> depth x [Linear(width) -> SiLU] -> Linear(2)`, where
//! `SiLU(z) = z sigmoid(z)`. The time features of a sample at time `t` are the raw `t`, followed
//! by `time_features` sinusoidal pairs `(sin(2 pi k t), cos(2 pi k t))` for `k = 1..=time_features`,
//! so the input dimension is `3 + 2 time_features`: `[x, y, t, sin 2pi t, cos 2pi t, sin 4pi t, ...]`.
//! A class-conditional network (`classes > 0`, the guidance lesson) appends a one-hot label of
//! `classes` entries: label `y` in `1..=classes` sets entry `y - 1`, and the null label `0`
//! (the unconditional field of classifier-free guidance) leaves them all 0. One-hot rather than
//! a learned embedding: with at most 4 classes it costs 4 inputs, has no parameters of its own,
//! and the null label is the zero vector, so it needs no slot either.
//!
//! ## Batch orientation (fixed everywhere)
//! Columns are samples: every activation is a `features x batch` matrix stored column-major, so
//! one sample's features are contiguous. A hidden layer computes `A_l = SiLU(W_l A_{l-1} + b_l 1^T)`
//! with `W_l` of shape `width x in_l`; the output is `Y = W_out A_depth + b_out 1^T` (`2 x batch`,
//! i.e. interleaved `[u_x0, u_y0, u_x1, u_y1, ...]`).
//!
//! ## Parameters: one flat `f32` buffer
//! Layer by layer, for hidden layer `l = 0..depth`: `W_l` (`width x in_l`, column-major), then
//! `b_l` (`width`); then the output layer stored as its transpose `V = W_out^T` (`width x 2`,
//! column-major, so each output unit's weights are contiguous), then `b_out` (`2`). Gradients use
//! exactly the same layout. Initialisation (seeded) follows PyTorch's `nn.Linear` default: weights
//! and biases uniform in `[-1/sqrt(in), 1/sqrt(in)]`.
//!
//! ## Forward and backward
//! `Mlp::forward` keeps what `Mlp::backward` needs in a [`ForwardCache`] (the input matrix and,
//! per hidden layer, `sigmoid(z_l)` and `a_l = SiLU(z_l)`); the cache is reused across steps and
//! only grows. `backward` takes `dL/dY` (`2 x batch`) and leaves the cached forward intact, so two
//! losses can be backpropagated through the same forward pass (CFM and FM gradients).
//! With `s = sigmoid(z)` and `a = z s`: `SiLU'(z) = s + a (1 - s)`, and for a hidden layer
//! `dZ = dA * SiLU'(Z)`, `dW = dZ A_prev^T`, `db = dZ 1`, `dA_prev = W^T dZ`.
//! The big products (`W A`, `dZ A^T`, `W^T dZ`) go through [`crate::gemm`], with the kernel
//! of the process ([`crate::gemm::kernel`]: matrixmultiply natively, the packed SIMD kernel on
//! wasm32); the thin first and last layers and the elementwise SiLU/bias work are fused loops.
//! (Why a transposed left operand is copied out before nalgebra's `gemm`, and the bug it
//! avoids, is in the docs of [`crate::gemm`]: before that, training with a batch of 1 to 5 or
//! a width of at most 5 and two or more hidden layers crashed, dimforge/nalgebra#1616.)

use crate::gemm::{self, Op};
use crate::ode::VectorField;
use crate::path::GaussianPath;
use crate::rng::{self, SeededRng};
use crate::Point;

/// Shape of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MlpConfig {
    /// Units per hidden layer.
    pub width: usize,
    /// Number of hidden layers (at least 1).
    pub depth: usize,
    /// Number of sinusoidal time-frequency pairs added to the raw `t` (0 = raw `t` only).
    pub time_features: usize,
    /// Classes of a class-conditional network (one-hot label inputs), 0 for an unconditional one.
    pub classes: usize,
}

impl Default for MlpConfig {
    /// The app default: 3 hidden layers of 64 units, raw `t` plus 2 sinusoidal pairs.
    fn default() -> Self {
        MlpConfig {
            width: 64,
            depth: 3,
            time_features: 2,
            classes: 0,
        }
    }
}

impl MlpConfig {
    /// Input dimension `3 + 2 time_features + classes` (x, y, t, the sinusoidal pairs, the
    /// one-hot label).
    pub(crate) fn input_dim(&self) -> usize {
        3 + 2 * self.time_features + self.classes
    }

    /// Total number of parameters (weights and biases).
    pub(crate) fn num_params(&self) -> usize {
        let (w, d) = (self.width, self.depth.max(1));
        (self.input_dim() * w + w) + (d - 1) * (w * w + w) + (w * 2 + 2)
    }
}

/// Offsets of one layer inside the flat parameter buffer.
#[derive(Clone, Copy, Debug)]
struct Span {
    /// Offset of the weight matrix.
    w: usize,
    /// Offset of the bias.
    b: usize,
    /// Fan-in.
    n_in: usize,
    /// Fan-out (the bias length).
    n_out: usize,
}

impl Span {
    /// One past the layer's last parameter.
    fn end(&self) -> usize {
        self.b + self.n_out
    }
}

/// The layers of `config` in buffer order: hidden layers, then the output layer (`V = W_out^T`,
/// `width x 2`, then `b_out`); the last one ends at `config.num_params()`.
fn layout(config: &MlpConfig) -> Vec<Span> {
    let mut spans = Vec::with_capacity(config.depth + 1);
    let mut offset = 0;
    for l in 0..=config.depth {
        let n_in = if l == 0 {
            config.input_dim()
        } else {
            config.width
        };
        let n_out = if l == config.depth { 2 } else { config.width };
        let span = Span {
            w: offset,
            b: offset + n_in * n_out,
            n_in,
            n_out,
        };
        offset = span.end();
        spans.push(span);
    }
    spans
}

/// The multilayer perceptron `u_theta`, parameters in one flat buffer (see the module docs).
#[derive(Clone, Debug)]
pub struct Mlp {
    config: MlpConfig,
    params: Vec<f32>,
    /// Hidden layers, then the output layer (`V = W_out^T`, `b_out`).
    spans: Vec<Span>,
}

/// Activations kept between the forward and the backward pass, plus backward scratch.
/// Create once with [`ForwardCache::new`] and reuse: buffers only grow.
#[derive(Clone, Debug, Default)]
pub struct ForwardCache {
    batch: usize,
    /// `input_dim x batch`.
    input: Vec<f32>,
    /// Per hidden layer, `sigmoid(z_l)`, `width x batch`.
    sig: Vec<Vec<f32>>,
    /// Per hidden layer, `a_l = SiLU(z_l)`, `width x batch`.
    act: Vec<Vec<f32>>,
    /// Network output `2 x batch`.
    output: Vec<f32>,
    /// Backward scratch (`width x batch` each), ping-pong.
    d_a: Vec<f32>,
    d_b: Vec<f32>,
    /// Packing buffers of the matrix products ([`crate::gemm`]).
    pack: gemm::Scratch,
}

impl ForwardCache {
    /// An empty cache; it sizes itself on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Output of the last forward pass, `2 x batch` column-major (`[u_x0, u_y0, u_x1, ...]`).
    pub(crate) fn output(&self) -> &[f32] {
        &self.output[..2 * self.batch]
    }

    fn ensure(&mut self, config: &MlpConfig, batch: usize) {
        let hidden = config.width * batch;
        let depth = config.depth.max(1);
        self.batch = batch;
        self.input.resize(config.input_dim() * batch, 0.0);
        self.sig.resize_with(depth, Vec::new);
        self.act.resize_with(depth, Vec::new);
        for v in self.sig.iter_mut().chain(self.act.iter_mut()) {
            v.resize(hidden, 0.0);
        }
        self.output.resize(2 * batch, 0.0);
        self.d_a.resize(hidden, 0.0);
        self.d_b.resize(hidden, 0.0);
    }
}

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
fn exp_approx(x: f32) -> f32 {
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
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-z))
}

/// One column of a hidden layer: `z = a + b; s = sigmoid(z); a = z s` (the scalar loop; on
/// wasm32 [`simd::bias_silu`] takes the lanes and leaves the tail to it).
#[inline(always)]
fn bias_silu_scalar(a_col: &mut [f32], s_col: &mut [f32], bias: &[f32]) {
    for ((a, s), &b) in a_col.iter_mut().zip(s_col.iter_mut()).zip(bias) {
        let z = *a + b;
        *s = sigmoid(z);
        *a = z * *s;
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use bias_silu_scalar as bias_silu;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::bias_silu;

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
    pub(super) fn bias_silu(a_col: &mut [f32], s_col: &mut [f32], bias: &[f32]) {
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

/// `out += alpha x` (vectorises).
#[inline(always)]
fn axpy(out: &mut [f32], alpha: f32, x: &[f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o += alpha * v;
    }
}

/// Dot product with 8 independent accumulators, so it vectorises without reassociation.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// One input column: `[x, y, t, sin 2pi t, cos 2pi t, ..., one-hot]` (`label` 0 is the null
/// label; labels beyond `classes` are taken as null too).
fn write_column(config: &MlpConfig, col: &mut [f32], x: Point, t: f64, label: u8) {
    col[0] = x[0] as f32;
    col[1] = x[1] as f32;
    col[2] = t as f32;
    for k in 0..config.time_features {
        let (s, c) = (std::f64::consts::TAU * (k + 1) as f64 * t).sin_cos();
        col[3 + 2 * k] = s as f32;
        col[4 + 2 * k] = c as f32;
    }
    let onehot = &mut col[3 + 2 * config.time_features..];
    onehot.fill(0.0);
    if let Some(v) = (label as usize)
        .checked_sub(1)
        .and_then(|k| onehot.get_mut(k))
    {
        *v = 1.0;
    }
}

impl Mlp {
    /// A freshly initialised network (seeded, see the module docs).
    pub(crate) fn new(config: MlpConfig, rng: &mut SeededRng) -> Self {
        let config = MlpConfig {
            depth: config.depth.max(1),
            width: config.width.max(1),
            ..config
        };
        let spans = layout(&config);
        let mut params = vec![0.0f32; config.num_params()];
        debug_assert_eq!(spans.last().map(Span::end), Some(params.len()));
        for span in &spans {
            let bound = 1.0 / (span.n_in as f64).sqrt();
            for p in &mut params[span.w..span.end()] {
                *p = ((2.0 * rng::uniform(rng) - 1.0) * bound) as f32;
            }
        }
        Mlp {
            config,
            params,
            spans,
        }
    }

    /// The network of shape `config` with the parameters `params` (the layout of
    /// [`Mlp::params`], e.g. a snapshot of another network). Errors name the expected and the
    /// given length, or the empty shape (width and depth must be at least 1). A `Vec` is taken
    /// over without a copy (a weight snapshot arriving from the training worker); a slice is
    /// copied.
    pub fn from_params(config: MlpConfig, params: impl Into<Vec<f32>>) -> Result<Mlp, String> {
        let params: Vec<f32> = params.into();
        if config.width == 0 || config.depth == 0 {
            return Err(format!(
                "width and depth must be at least 1 (got width {}, depth {})",
                config.width, config.depth
            ));
        }
        let expected = config.num_params();
        if params.len() != expected {
            return Err(format!(
                "expected {expected} parameters for width {}, depth {}, time features {}, classes {}, got {}",
                config.width,
                config.depth,
                config.time_features,
                config.classes,
                params.len()
            ));
        }
        Ok(Mlp {
            config,
            params,
            spans: layout(&config),
        })
    }

    /// Number of parameters, the length of [`Mlp::params`] and of a gradient buffer.
    pub(crate) fn num_params(&self) -> usize {
        self.params.len()
    }

    /// All parameters as one flat buffer (layout in the module docs).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// The shape of the network.
    pub fn config(&self) -> MlpConfig {
        self.config
    }

    /// The inverse of [`Mlp::named_tensors`]: a network of shape `config` from its tensors
    /// (names, shapes and lengths checked, in the order `named_tensors` gives).
    pub fn from_named_tensors(
        config: MlpConfig,
        tensors: &[(String, Vec<usize>, Vec<f32>)],
    ) -> Result<Mlp, String> {
        let mut mlp = Mlp::from_params(config, vec![0.0; config.num_params()])?;
        let expected = mlp.named_tensors();
        if tensors.len() != expected.len() {
            return Err(format!(
                "expected {} tensors, got {}",
                expected.len(),
                tensors.len()
            ));
        }
        for (sp, (l, pair)) in mlp
            .spans
            .clone()
            .iter()
            .zip(expected.chunks(2).zip(tensors.chunks(2)).enumerate())
        {
            let ((wn, ws, _), (bn, bs, _)) = (&pair.0[0], &pair.0[1]);
            let ((gwn, gws, w), (gbn, gbs, b)) = (&pair.1[0], &pair.1[1]);
            if (wn, ws, bn, bs) != (gwn, gws, gbn, gbs)
                || w.len() != sp.n_in * sp.n_out
                || b.len() != sp.n_out
            {
                return Err(format!("layer {l}: expected {wn} {ws:?} and {bn} {bs:?}, got {gwn} {gws:?} and {gbn} {gbs:?}"));
            }
            let last = l == config.depth;
            for i in 0..sp.n_out {
                for j in 0..sp.n_in {
                    let at = if last {
                        sp.w + i * sp.n_in + j
                    } else {
                        sp.w + j * sp.n_out + i
                    };
                    mlp.params[at] = w[i * sp.n_in + j];
                }
            }
            mlp.params[sp.b..sp.end()].copy_from_slice(b);
        }
        Ok(mlp)
    }

    /// The parameters as named row-major tensors, in the convention of PyTorch's `nn.Linear`
    /// (`weight` is `out x in`, `y = x W^T + b`): `hidden.{l}.weight` (`width x in_l`),
    /// `hidden.{l}.bias` (`width`) for `l = 0..depth`, then `out.weight` (`2 x width`) and
    /// `out.bias` (`2`). Each entry is `(name, shape, values)`.
    pub fn named_tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let p = &self.params;
        let mut out = Vec::with_capacity(2 * self.spans.len());
        for (l, sp) in self.spans.iter().enumerate() {
            let last = l == self.config.depth;
            let name = if last {
                "out".to_string()
            } else {
                format!("hidden.{l}")
            };
            // Hidden W_l is column-major (n_out x n_in): (i, j) at j n_out + i. The output layer
            // is stored as V = W_out^T (n_in x 2, column-major): W_out (o, i) at o n_in + i, i.e.
            // already row-major out x in.
            let w: Vec<f32> = if last {
                p[sp.w..sp.b].to_vec()
            } else {
                (0..sp.n_out)
                    .flat_map(|i| (0..sp.n_in).map(move |j| (i, j)))
                    .map(|(i, j)| p[sp.w + j * sp.n_out + i])
                    .collect()
            };
            out.push((format!("{name}.weight"), vec![sp.n_out, sp.n_in], w));
            out.push((
                format!("{name}.bias"),
                vec![sp.n_out],
                p[sp.b..sp.end()].to_vec(),
            ));
        }
        out
    }

    /// Mutable access to the flat parameters (for the optimiser).
    pub(crate) fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Write the input column of sample `j`: `[x, y, t, sin 2pi t, cos 2pi t, ..., one-hot]`
    /// (`label` 0 is the null label; labels beyond `classes` are taken as null too).
    fn write_input(&self, cache: &mut ForwardCache, j: usize, x: Point, t: f64, label: u8) {
        let dim = self.config.input_dim();
        write_column(
            &self.config,
            &mut cache.input[j * dim..(j + 1) * dim],
            x,
            t,
            label,
        );
    }

    /// Forward pass on a batch, sample `j` at point `xs[j]` and time `ts[j]`; the output
    /// (`2 x batch`) is in [`ForwardCache::output`]. Panics if the lengths differ.
    pub(crate) fn forward(&self, xs: &[Point], ts: &[f64], cache: &mut ForwardCache) {
        self.forward_labelled(xs, ts, None, cache);
    }

    /// [`Mlp::forward`] with a label per sample (`None`: every label null).
    pub(crate) fn forward_labelled(
        &self,
        xs: &[Point],
        ts: &[f64],
        labels: Option<&[u8]>,
        cache: &mut ForwardCache,
    ) {
        assert_eq!(xs.len(), ts.len(), "forward: one time per point");
        cache.ensure(&self.config, xs.len());
        for (j, (&x, &t)) in xs.iter().zip(ts).enumerate() {
            let label = labels.map_or(0, |l| l[j]);
            self.write_input(cache, j, x, t, label);
        }
        self.forward_cached_input(cache);
    }

    /// The network inputs of a batch (`input_dim x batch`, column `j` for sample `j` at
    /// `xs[j]`, `ts[j]`, label `labels[j]` or null) written to `out`, which is resized.
    pub(crate) fn write_inputs(
        &self,
        xs: &[Point],
        ts: &[f64],
        labels: Option<&[u8]>,
        out: &mut Vec<f32>,
    ) {
        assert_eq!(xs.len(), ts.len(), "write_inputs: one time per point");
        let dim = self.config.input_dim();
        out.resize(dim * xs.len(), 0.0);
        for (j, ((&x, &t), col)) in xs.iter().zip(ts).zip(out.chunks_exact_mut(dim)).enumerate() {
            write_column(&self.config, col, x, t, labels.map_or(0, |l| l[j]));
        }
    }

    /// Forward pass on a batch given as its input matrix (`input_dim x batch`, from
    /// [`Mlp::write_inputs`]); the output is in [`ForwardCache::output`].
    pub(crate) fn forward_inputs(&self, inputs: &[f32], cache: &mut ForwardCache) {
        let dim = self.config.input_dim();
        assert_eq!(inputs.len() % dim, 0, "forward_inputs: whole columns");
        cache.ensure(&self.config, inputs.len() / dim);
        cache.input[..inputs.len()].copy_from_slice(inputs);
        self.forward_cached_input(cache);
    }

    /// `u_theta` at points `xs` and one time `t`, written to `out` (for particles and arrow grids).
    pub fn predict(&self, xs: &[Point], t: f64, out: &mut [Point], scratch: &mut ForwardCache) {
        self.predict_labelled(xs, t, 0, out, scratch);
    }

    /// [`Mlp::predict`] with one label for all points (0: the null label, the unconditional
    /// field of a class-conditional network).
    pub fn predict_labelled(
        &self,
        xs: &[Point],
        t: f64,
        label: u8,
        out: &mut [Point],
        scratch: &mut ForwardCache,
    ) {
        scratch.ensure(&self.config, xs.len());
        for (j, &x) in xs.iter().enumerate() {
            self.write_input(scratch, j, x, t, label);
        }
        self.forward_cached_input(scratch);
        for (o, y) in out.iter_mut().zip(scratch.output.chunks_exact(2)) {
            *o = [y[0] as f64, y[1] as f64];
        }
    }

    /// The forward pass proper, from `cache.input`.
    fn forward_cached_input(&self, cache: &mut ForwardCache) {
        let (width, batch) = (self.config.width, cache.batch);
        let depth = self.config.depth;
        let p = &self.params;
        for l in 0..depth {
            let span = self.spans[l];
            let (before, rest) = cache.act.split_at_mut(l);
            let act = &mut rest[0];
            let sig = &mut cache.sig[l];
            let bias = &p[span.b..span.b + width];
            if l == 0 {
                // Thin first layer: z_j = W x_j (accumulated column by column of W), then
                // bias + SiLU while the column is in cache.
                let w0 = &p[span.w..span.w + width * span.n_in];
                for ((j, z), s_col) in act
                    .chunks_exact_mut(width)
                    .enumerate()
                    .zip(sig.chunks_exact_mut(width))
                {
                    z.fill(0.0);
                    let x = &cache.input[j * span.n_in..(j + 1) * span.n_in];
                    for (k, &xk) in x.iter().enumerate() {
                        axpy(z, xk, &w0[k * width..(k + 1) * width]);
                    }
                    bias_silu(z, s_col, bias);
                }
            } else {
                // Z = W A_prev, then bias + SiLU: z += b; s = sigmoid(z); a = z s.
                gemm::gemm(
                    gemm::kernel(),
                    (width, batch, width),
                    (&p[span.w..span.w + width * width], Op::N),
                    (&before[l - 1], Op::N),
                    &mut act[..width * batch],
                    &mut cache.pack,
                );
                for (a_col, s_col) in act.chunks_exact_mut(width).zip(sig.chunks_exact_mut(width)) {
                    bias_silu(a_col, s_col, bias);
                }
            }
        }
        // Thin output layer: y_oj = V[:, o] . a_j + b_o.
        let out = self.spans[depth];
        let v0 = &p[out.w..out.w + width];
        let v1 = &p[out.w + width..out.w + 2 * width];
        let (b0, b1) = (p[out.b], p[out.b + 1]);
        let last = &cache.act[depth - 1];
        for (y, a) in cache
            .output
            .chunks_exact_mut(2)
            .zip(last.chunks_exact(width))
        {
            y[0] = dot(v0, a) + b0;
            y[1] = dot(v1, a) + b1;
        }
    }

    /// Backpropagate `d_output = dL/dY` (`2 x batch`, same layout as the output) through the
    /// last forward pass held in `cache`, overwriting `grads` (length [`Mlp::num_params`], same
    /// layout as the parameters) with `dL/dtheta`. The cached forward values are left intact.
    pub(crate) fn backward(&self, cache: &mut ForwardCache, d_output: &[f32], grads: &mut [f32]) {
        let (width, batch, depth) = (self.config.width, cache.batch, self.config.depth);
        assert_eq!(d_output.len(), 2 * batch, "backward: d_output is 2 x batch");
        assert_eq!(grads.len(), self.params.len(), "backward: gradient length");
        let p = &self.params;
        let ForwardCache {
            input,
            sig,
            act,
            d_a,
            d_b,
            pack,
            ..
        } = cache;
        let (mut d_a, mut d_b) = (&mut d_a[..width * batch], &mut d_b[..width * batch]);

        // Output layer: dV[:, o] = sum_j a_j dY_oj, db_o = sum_j dY_oj, dA_j = V dY_j.
        let out = self.spans[depth];
        let (v0, v1) = (
            &p[out.w..out.w + width],
            &p[out.w + width..out.w + 2 * width],
        );
        let last = depth - 1;
        {
            // Column by column, while it is in cache: the output layer's gradients, then the
            // last hidden layer's dZ and db (and dW_0 when it is the first layer).
            let (hidden, out_grads) = grads.split_at_mut(out.w);
            let (gv, gb) = out_grads.split_at_mut(2 * width);
            let (gv0, gv1) = gv.split_at_mut(width);
            gv0.fill(0.0);
            gv1.fill(0.0);
            let mut silu = SiluGrad::new(
                hidden,
                (self.spans[last], width),
                (&sig[last], &act[last]),
                (last == 0).then_some(&input[..]),
            );
            let (mut db0, mut db1) = (0.0f32, 0.0f32);
            for (j, ((dy, a), da)) in d_output
                .chunks_exact(2)
                .zip(act[last].chunks_exact(width))
                .zip(d_a.chunks_exact_mut(width))
                .enumerate()
            {
                axpy(gv0, dy[0], a);
                axpy(gv1, dy[1], a);
                db0 += dy[0];
                db1 += dy[1];
                for ((d, &w0), &w1) in da.iter_mut().zip(v0).zip(v1) {
                    *d = w0 * dy[0] + w1 * dy[1];
                }
                silu.column(j, da);
            }
            gb[0] = db0;
            gb[1] = db1;
        }

        // Hidden layers, last to first: dW_l = dZ_l A_{l-1}^T and dA_{l-1} = W_l^T dZ_l, then
        // column by column dZ_{l-1} and db_{l-1} (and dW_0 below layer 1).
        for l in (1..depth).rev() {
            let span = self.spans[l];
            gemm::gemm(
                gemm::kernel(),
                (width, width, batch),
                (d_a, Op::N),
                (&act[l - 1], Op::T),
                &mut grads[span.w..span.w + width * width],
                pack,
            );
            gemm::gemm(
                gemm::kernel(),
                (width, batch, width),
                (&p[span.w..span.w + width * width], Op::T),
                (d_a, Op::N),
                d_b,
                pack,
            );
            std::mem::swap(&mut d_a, &mut d_b);
            let mut silu = SiluGrad::new(
                grads,
                (self.spans[l - 1], width),
                (&sig[l - 1], &act[l - 1]),
                (l == 1).then_some(&input[..]),
            );
            for (j, col) in d_a.chunks_exact_mut(width).enumerate() {
                silu.column(j, col);
            }
        }
    }
}

/// Turns `dA_l` into `dZ_l` column by column for hidden layer `l`: `dZ = dA * SiLU'(z)` with
/// `SiLU'(z) = s + a (1 - s)`, `db_l += dZ` (sample by sample, in order), and for the first
/// layer `dW_0 += dZ x^T` (column `k` of `dW_0` accumulates `x_kj dZ_j`).
struct SiluGrad<'a> {
    /// `db_l`.
    gb: &'a mut [f32],
    /// `dW_0` and the input matrix, for the first layer.
    first: Option<(&'a mut [f32], &'a [f32])>,
    n_in: usize,
    width: usize,
    sig: &'a [f32],
    act: &'a [f32],
}

impl<'a> SiluGrad<'a> {
    /// For hidden layer `span` (`sig` and `act` its cache; `input` the network's input matrix
    /// when it is the first layer), writing into `grads` (every parameter's gradient, or a
    /// prefix holding the layer), whose `db_l` (and `dW_0`) it zeroes.
    fn new(
        grads: &'a mut [f32],
        (span, width): (Span, usize),
        (sig, act): (&'a [f32], &'a [f32]),
        input: Option<&'a [f32]>,
    ) -> Self {
        let (before, from_b) = grads.split_at_mut(span.b);
        let gb = &mut from_b[..width];
        gb.fill(0.0);
        let first = input.map(|x| {
            let gw0 = &mut before[span.w..span.b];
            gw0.fill(0.0);
            (gw0, x)
        });
        SiluGrad {
            gb,
            first,
            n_in: span.n_in,
            width,
            sig,
            act,
        }
    }

    /// Column `j` of `dA_l` in, of `dZ_l` out.
    #[inline(always)]
    fn column(&mut self, j: usize, dz: &mut [f32]) {
        let at = j * self.width;
        let (s, a) = (
            &self.sig[at..at + self.width],
            &self.act[at..at + self.width],
        );
        for (((d, &s), &a), g) in dz.iter_mut().zip(s).zip(a).zip(self.gb.iter_mut()) {
            *d *= s + a * (1.0 - s);
            *g += *d;
        }
        if let Some((gw0, input)) = &mut self.first {
            let x = &input[j * self.n_in..(j + 1) * self.n_in];
            for (k, &xk) in x.iter().enumerate() {
                axpy(&mut gw0[k * self.width..(k + 1) * self.width], xk, dz);
            }
        }
    }
}

/// The learned field as an ODE right-hand side (owns its forward scratch).
#[derive(Debug)]
pub struct MlpField<'a> {
    mlp: &'a Mlp,
    cache: ForwardCache,
    path: Option<GaussianPath>,
    /// The label the field is evaluated with (0: null).
    label: u8,
}

impl<'a> MlpField<'a> {
    /// Wrap a network (no path: [`crate::ode::Solver::PosteriorStep`] takes Euler steps).
    pub fn new(mlp: &'a Mlp) -> Self {
        MlpField {
            mlp,
            cache: ForwardCache::new(),
            path: None,
            label: 0,
        }
    }

    /// The same field for class `label` (a class-conditional network; 0: the null label).
    pub fn with_label(self, label: u8) -> Self {
        MlpField { label, ..self }
    }

    /// Wrap a network trained on `path`: its posterior mean is read off the output,
    /// `zbar = (u_theta - B_t x) / A_t`, so [`crate::ode::Solver::PosteriorStep`] takes the
    /// closed-form (DDIM) step.
    pub fn with_path(mlp: &'a Mlp, path: GaussianPath) -> Self {
        MlpField {
            path: Some(path),
            ..MlpField::new(mlp)
        }
    }
}

impl VectorField for MlpField<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        self.mlp
            .predict_labelled(xs, t, self.label, out, &mut self.cache);
    }

    fn path(&self) -> Option<GaussianPath> {
        self.path
    }
}

#[cfg(test)]
mod tests {
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
}
