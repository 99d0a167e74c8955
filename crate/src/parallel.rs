//! Data-parallel training: one step's minibatch split over `N` workers, each with its own
//! network copy (in the browser: its own wasm instance in its own Web Worker).
//!
//! ## One step with `N` workers
//! 1. The leader (the worker that owns the [`Trainer`]) draws the minibatch
//!    ([`Trainer::begin_step`]): the same draws, in the same order, as a one-worker step.
//! 2. Worker `k` takes the fixed share `lo_k..lo_{k+1}` of the batch, `lo_k = floor(k B / N)`
//!    ([`share_bounds`]): the leader share 0 ([`Trainer::share_gradient`]), a [`Shard`] each
//!    other share, from the inputs and targets of [`Trainer::batch_share`], with the weights
//!    the leader last broadcast. Each computes the CFM gradient of its samples with the batch's
//!    scale `2 / B`, so the shares' gradients sum to the batch's.
//! 3. The leader adds the shares' gradients in the order `k = 1, 2, ..., N - 1`
//!    ([`Trainer::add_gradient`]), takes one Adam step ([`Trainer::finish_step`]) and
//!    broadcasts the trained weights ([`Trainer::trained_params`]).
//!
//! Every share's gradient is a deterministic function of the weights and the share, and the
//! sum has a fixed order, so a run with a given seed and `N` reproduces bit for bit; with
//! `N = 1` it is exactly [`Trainer::step`]. Different `N` sum in different orders and agree
//! to rounding (tested).
//!
//! [`Trainer`]: crate::trainer::Trainer
//! [`Trainer::begin_step`]: crate::trainer::Trainer::begin_step
//! [`Trainer::share_gradient`]: crate::trainer::Trainer::share_gradient
//! [`Trainer::batch_share`]: crate::trainer::Trainer::batch_share
//! [`Trainer::add_gradient`]: crate::trainer::Trainer::add_gradient
//! [`Trainer::finish_step`]: crate::trainer::Trainer::finish_step
//! [`Trainer::trained_params`]: crate::trainer::Trainer::trained_params
//! [`Trainer::step`]: crate::trainer::Trainer::step

use crate::mlp::{ForwardCache, Mlp, MlpConfig};

/// The first sample of share `k` of a batch of `batch` samples split `workers` ways
/// (`k = workers` gives `batch`): `floor(k batch / workers)`.
pub fn share_bounds(batch: usize, workers: usize, k: usize) -> usize {
    k * batch / workers.max(1)
}

/// The CFM gradient of a batch given as its network inputs (`input_dim x n`) and targets
/// (`2 x n`): forward, `dL/dY = scale (u_theta - target)` into `d_output` (resized to `2 n`),
/// backward into `grads` (overwritten). Returns the sum of squared residuals. The forward pass
/// stays in `cache`.
pub(crate) fn cfm_gradient(
    mlp: &Mlp,
    (inputs, targets): (&[f32], &[f32]),
    scale: f32,
    cache: &mut ForwardCache,
    d_output: &mut Vec<f32>,
    grads: &mut [f32],
) -> f64 {
    mlp.forward_inputs(inputs, cache);
    d_output.resize(targets.len(), 0.0);
    let mut loss = 0.0f64;
    for ((d, &y), &u) in d_output.iter_mut().zip(cache.output()).zip(targets) {
        let r = y - u;
        loss += (r as f64) * (r as f64);
        *d = scale * r;
    }
    mlp.backward(cache, d_output, grads);
    loss
}

/// A worker's copy of the network: the gradient of a share of each batch.
#[derive(Debug)]
pub struct Shard {
    mlp: Mlp,
    cache: ForwardCache,
    d_output: Vec<f32>,
    grads: Vec<f32>,
}

impl Shard {
    /// A shard for networks of shape `config` (zero weights until [`Shard::set_params`]).
    /// Errors on an empty shape (width or depth 0).
    pub fn new(config: MlpConfig) -> Result<Shard, String> {
        let mlp = Mlp::from_params(config, vec![0.0; config.num_params()])?;
        let n = mlp.num_params();
        Ok(Shard {
            mlp,
            cache: ForwardCache::new(),
            d_output: Vec::new(),
            grads: vec![0.0; n],
        })
    }

    /// The number of parameters (of a weight or gradient buffer).
    pub fn num_params(&self) -> usize {
        self.grads.len()
    }

    /// The network's input dimension (the rows of a share's inputs).
    pub fn input_dim(&self) -> usize {
        self.mlp.config().input_dim()
    }

    /// Loads the weights the leader broadcast. Errors on a length other than
    /// [`Shard::num_params`].
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), String> {
        let mine = self.mlp.params_mut();
        if params.len() != mine.len() {
            return Err(format!(
                "expected {} weights, got {}",
                mine.len(),
                params.len()
            ));
        }
        mine.copy_from_slice(params);
        Ok(())
    }

    /// The CFM gradient of a share (inputs `input_dim x n`, targets `2 x n`, the batch's
    /// `scale`) into [`Shard::grads`]; returns the share's sum of squared residuals. Errors
    /// when the lengths do not describe the same `n` samples.
    pub fn gradient(&mut self, inputs: &[f32], targets: &[f32], scale: f32) -> Result<f64, String> {
        let dim = self.input_dim();
        if targets.len() % 2 != 0 || inputs.len() != dim * (targets.len() / 2) {
            return Err(format!(
                "a share of {} targets needs {} inputs, got {}",
                targets.len() / 2,
                dim * (targets.len() / 2),
                inputs.len()
            ));
        }
        Ok(cfm_gradient(
            &self.mlp,
            (inputs, targets),
            scale,
            &mut self.cache,
            &mut self.d_output,
            &mut self.grads,
        ))
    }

    /// The gradient of the last [`Shard::gradient`] (layout of [`Mlp::params`]).
    pub fn grads(&self) -> &[f32] {
        &self.grads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{sample_preset_labelled, Preset};
    use crate::rng;
    use crate::trainer::{Coupling, TrainConfig, Trainer};

    /// A run of `steps` data-parallel steps with `workers` workers (shards in this thread),
    /// on moons; returns the averaged weights and the losses.
    fn run(
        config: TrainConfig,
        labelled: bool,
        workers: usize,
        steps: usize,
    ) -> (Vec<f32>, Vec<f64>) {
        let (data, labels) = sample_preset_labelled(Preset::TwoMoons, 300, &mut rng::seeded(3));
        let mut leader = if labelled {
            Trainer::new_labelled(config, data, labels)
        } else {
            Trainer::new(config, data)
        };
        let mut shards: Vec<Shard> = (1..workers)
            .map(|_| Shard::new(leader.model().config()).unwrap())
            .collect();
        let mut losses = Vec::new();
        for _ in 0..steps {
            for s in &mut shards {
                s.set_params(leader.trained_params()).unwrap();
            }
            assert!(leader.begin_step());
            let b = leader.batch_size();
            let mut loss = leader.share_gradient(0, share_bounds(b, workers, 1));
            for (k, s) in shards.iter_mut().enumerate().map(|(i, s)| (i + 1, s)) {
                let (lo, hi) = (share_bounds(b, workers, k), share_bounds(b, workers, k + 1));
                let (inputs, targets) = leader.batch_share(lo, hi);
                loss += s.gradient(inputs, targets, leader.loss_scale()).unwrap();
            }
            for s in &shards {
                leader.add_gradient(s.grads());
            }
            leader.finish_step();
            losses.push(loss / b as f64);
        }
        (leader.model().params().to_vec(), losses)
    }

    fn config(coupling: Coupling, classes: usize) -> TrainConfig {
        let mut c = TrainConfig {
            batch: 37,
            seed: 5,
            coupling,
            ..TrainConfig::default()
        };
        c.mlp.width = 24;
        c.mlp.classes = classes;
        c
    }

    #[test]
    fn one_worker_is_exactly_the_plain_step() {
        for (coupling, classes) in [
            (Coupling::Independent, 0),
            (Coupling::Ot, 0),
            (Coupling::Independent, 2),
        ] {
            let c = config(coupling, classes);
            let (params, losses) = run(c, classes > 0, 1, 25);
            let (data, labels) = sample_preset_labelled(Preset::TwoMoons, 300, &mut rng::seeded(3));
            let mut plain = if classes > 0 {
                Trainer::new_labelled(c, data, labels)
            } else {
                Trainer::new(c, data)
            };
            let plain_losses: Vec<f64> = (0..25).map(|_| plain.step()).collect();
            assert_eq!(params, plain.model().params(), "{coupling:?} {classes}");
            assert_eq!(losses, plain_losses);
        }
    }

    #[test]
    fn a_seed_and_n_reproduce_bit_for_bit_and_every_n_agrees_to_rounding() {
        let c = config(Coupling::Independent, 0);
        let (one, _) = run(c, false, 1, 40);
        for workers in [2, 3, 5] {
            let (a, la) = run(c, false, workers, 40);
            let (b, lb) = run(c, false, workers, 40);
            assert_eq!(a, b, "{workers} workers");
            assert_eq!(la, lb);
            let worst = a
                .iter()
                .zip(&one)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{workers} workers: {worst}");
            assert!(
                worst > 0.0 || workers == 1,
                "sums in another order differ in the last bits"
            );
        }
    }

    #[test]
    fn shares_cover_the_batch() {
        for (b, n) in [(256, 2), (37, 5), (3, 4), (1024, 3)] {
            assert_eq!(share_bounds(b, n, 0), 0);
            assert_eq!(share_bounds(b, n, n), b);
            for k in 0..n {
                assert!(share_bounds(b, n, k) <= share_bounds(b, n, k + 1));
            }
        }
        let mut s = Shard::new(MlpConfig::default()).unwrap();
        assert!(s.set_params(&[0.0; 3]).is_err());
        assert!(s.gradient(&[0.0; 6], &[0.0; 2], 1.0).is_err());
        assert!(s.gradient(&[0.0; 7], &[0.0; 3], 1.0).is_err());
        assert!(s.gradient(&[0.0; 7], &[0.0; 2], 1.0).is_ok());
        assert!(s.gradient(&[0.0; 7], &[0.0; 4], 1.0).is_err());
    }
}
