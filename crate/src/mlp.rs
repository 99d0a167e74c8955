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

mod silu;

use silu::bias_silu;
#[cfg(test)]
use silu::{exp_approx, sigmoid};

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
mod tests;
