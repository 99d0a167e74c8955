//! Training in the workers: [`TrainerHandle`] (a trainer, and the leader's side of
//! data-parallel steps), [`GradShard`] (a helper worker's network copy) and the choice of the
//! matrix kernel.

use super::convert::{
    check_shape, checked_run, interleave, js_error, labels_of, points_of, read_from, write_to,
};
use crate::gemm;
use crate::mlp::MlpConfig;
use crate::parallel::Shard;
use crate::straight;
use crate::trainer::{Coupling, TrainConfig, Trainer};
use wasm_bindgen::prelude::*;

/// A trainer (lives in the training worker): CFM steps on the current cloud.
#[wasm_bindgen]
pub struct TrainerHandle {
    trainer: Trainer,
    /// A share's gradient copied in from JavaScript ([`TrainerHandle::add_gradient`]).
    share: Vec<f32>,
}

impl From<Trainer> for TrainerHandle {
    fn from(trainer: Trainer) -> Self {
        TrainerHandle {
            trainer,
            share: Vec::new(),
        }
    }
}

#[wasm_bindgen]
impl TrainerHandle {
    /// A fresh network and optimiser for `points` (interleaved), seeded.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        points: &[f32],
        width: usize,
        depth: usize,
        time_features: usize,
        batch: usize,
        lr: f32,
        schedule: &str,
        coupling: &str,
        seed: u32,
    ) -> Result<TrainerHandle, JsError> {
        let coupling = Coupling::parse(coupling)
            .ok_or_else(|| JsError::new(&format!("unknown coupling {coupling:?}")))?;
        let (data, config) = checked_run(
            points,
            (width, depth, time_features),
            batch,
            lr,
            schedule,
            seed,
        )?;
        Ok(Trainer::new(TrainConfig { coupling, ..config }, data).into())
    }

    /// A class-conditional network (the guidance lesson) for `points` with `labels` (one each,
    /// in `1..=4`): the labels go into a one-hot input (`data::MAX_CLASSES` of them), each
    /// dropped to the null label with probability `trainer::P_UNCOND` per sample, so the one
    /// network learns `u_t(x|y)` and `u_t(x)`. Independent coupling; otherwise as [`TrainerHandle::new`].
    #[allow(clippy::too_many_arguments)]
    pub fn labelled(
        points: &[f32],
        labels: &[u8],
        width: usize,
        depth: usize,
        time_features: usize,
        batch: usize,
        lr: f32,
        schedule: &str,
        seed: u32,
    ) -> Result<TrainerHandle, JsError> {
        let (data, config) = checked_run(
            points,
            (width, depth, time_features),
            batch,
            lr,
            schedule,
            seed,
        )?;
        let labels = labels_of(labels, data.len())?;
        Ok(Trainer::new_labelled(config.labelled(), data, labels).into())
    }

    /// Continues a labelled run on a new labelled cloud (as [`TrainerHandle::set_points`]).
    pub fn set_labelled_points(&mut self, points: &[f32], labels: &[u8]) -> Result<(), JsError> {
        let data = points_of(points)?;
        if data.is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let labels = labels_of(labels, data.len())?;
        self.trainer.set_labelled_data(data, labels);
        Ok(())
    }

    /// Reflow (Liu et al. 2023), first part: the partners `x1 = ODE_theta(x0)` of noise points
    /// `x0` (interleaved) under this network's accurate ODE solve (`straight::reflow_partners`;
    /// the page calls it on a few hundred points at a time, so its worker stays responsive).
    /// Errors when this network has not trained or sends a sample to infinity (diverged).
    pub fn reflow_partners(&self, x0: &[f32]) -> Result<Vec<f32>, JsError> {
        if self.trainer.steps_done() == 0 {
            return Err(JsError::new(
                "the network has not trained yet: train it first, then reflow",
            ));
        }
        let x1 = straight::reflow_partners(
            self.trainer.model(),
            self.trainer.config().schedule,
            &points_of(x0)?,
        )
        .ok_or_else(|| {
            JsError::new(
                "the network sends its samples to infinity (it diverged): lower the learning rate and retrain before a reflow",
            )
        })?;
        Ok(interleave(&x1))
    }

    /// Reflow, second part: a fresh network and optimiser of this trainer's configuration,
    /// trained on the straight paths between the pairs `(x0_i, x1_i)` (interleaved, as many
    /// of each; `Trainer::with_pairs`). The pairs are the coupling now: no re-pairing within
    /// batches.
    pub fn fresh_on_pairs(&self, x0: &[f32], x1: &[f32]) -> Result<TrainerHandle, JsError> {
        let (x0, x1) = (points_of(x0)?, points_of(x1)?);
        if x0.is_empty() || x0.len() != x1.len() {
            return Err(JsError::new(&format!(
                "reflow pairs: {} noise points and {} partners",
                x0.len(),
                x1.len()
            )));
        }
        let config = TrainConfig {
            coupling: Coupling::Independent,
            ..self.trainer.config()
        };
        Ok(Trainer::with_pairs(config, x0, x1).into())
    }

    /// The pairs a reflow round draws (`straight::REFLOW_PAIRS`).
    pub fn reflow_pairs() -> usize {
        straight::REFLOW_PAIRS
    }

    /// Runs `steps` CFM steps; with `report`, the last one also measures the exact FM loss
    /// and the gradient cosine on its batch (costly: batch x data points). Returns
    /// `[steps_done, cfm_loss, fm_loss, grad_cosine, mean_cfm_loss]`: the mean is over all
    /// `steps`, the others are of the last step's batch (NaN without `report`). The FM loss
    /// and the cosine are NaN too when the run is not on independent pairs (the OT coupling,
    /// reflow pairs): its target is then the marginal field of that coupling, which has no
    /// closed form, not the drawing's exact field.
    pub fn train(&mut self, steps: u32, report: bool) -> Vec<f64> {
        let steps = steps.max(1);
        let plain = if report { steps - 1 } else { steps };
        let mut sum = 0.0;
        for _ in 0..plain {
            sum += self.trainer.step();
        }
        let independent =
            self.trainer.config().coupling == Coupling::Independent && !self.trainer.on_pairs();
        let (cfm, fm, cos) = if report && !independent {
            let cfm = self.trainer.step();
            sum += cfm;
            (cfm, f64::NAN, f64::NAN)
        } else if report {
            let r = self.trainer.step_reporting();
            sum += r.cfm_loss;
            (r.cfm_loss, r.fm_loss, r.grad_cosine)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        vec![
            self.trainer.steps_done() as f64,
            cfm,
            fm,
            cos,
            sum / f64::from(steps),
        ]
    }

    /// Continues training on a new cloud (interleaved points; must not be empty).
    pub fn set_points(&mut self, points: &[f32]) -> Result<(), JsError> {
        let data = points_of(points)?;
        if data.is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        self.trainer.set_data(data);
        Ok(())
    }

    /// Changes the learning rate without resetting the optimiser.
    pub fn set_lr(&mut self, lr: f32) {
        self.trainer.set_lr(lr);
    }

    /// All weights as one flat buffer (see `Mlp::params`), copied once, straight out of wasm
    /// memory into a new `Float32Array` (no intermediate `Vec`).
    pub fn weights(&self) -> js_sys::Float32Array {
        js_sys::Float32Array::from(self.trainer.model().params())
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> f64 {
        self.trainer.steps_done() as f64
    }
}

impl TrainerHandle {
    /// Errors unless `lo..hi` is a range of samples of the drawn minibatch.
    fn check_share(&self, lo: usize, hi: usize) -> Result<(), JsError> {
        if lo > hi || hi > self.trainer.batch_size() {
            return Err(JsError::new(&format!("no share {lo}..{hi} in this batch")));
        }
        Ok(())
    }
}

/// Data-parallel steps, the leader's side (see `crate::parallel` for the protocol): the
/// training worker draws each batch, computes share 0, adds the other shares' gradients in
/// order, and takes the Adam step.
#[wasm_bindgen]
impl TrainerHandle {
    /// Part 1: draws the next minibatch; false (nothing drawn) for an empty cloud.
    pub fn begin_step(&mut self) -> bool {
        self.trainer.begin_step()
    }

    /// The minibatch size.
    pub fn batch_size(&self) -> usize {
        self.trainer.batch_size()
    }

    /// The network's shape for a `GradShard`: `[width, depth, time_features, classes]`.
    pub fn shape(&self) -> Vec<u32> {
        let c = self.trainer.model().config();
        [c.width, c.depth, c.time_features, c.classes]
            .map(|v| v as u32)
            .to_vec()
    }

    /// The number of weights (of a weight or gradient buffer).
    pub fn num_params(&self) -> usize {
        self.trainer.trained_params().len()
    }

    /// The network's input dimension: a share of `n` samples is `(input_dim + 2) n` floats
    /// (inputs, then targets).
    pub fn input_dim(&self) -> usize {
        self.trainer.model().config().input_dim()
    }

    /// The factor `2 / B` every share's gradient is scaled with.
    pub fn loss_scale(&self) -> f32 {
        self.trainer.loss_scale()
    }

    /// Whether a reporting step measures the exact FM loss (independent coupling on drawn
    /// pairs, as in `train`).
    pub fn reports_fm(&self) -> bool {
        self.trainer.config().coupling == Coupling::Independent && !self.trainer.on_pairs()
    }

    /// Writes samples `lo..hi` of the drawn minibatch to `out`: their network inputs
    /// (`input_dim x n`), then their targets (`2 x n`). Errors when `out` is too short or the
    /// range is outside the batch.
    pub fn write_share(
        &self,
        lo: usize,
        hi: usize,
        out: &js_sys::Float32Array,
    ) -> Result<(), JsError> {
        self.check_share(lo, hi)?;
        let (inputs, targets) = self.trainer.batch_share(lo, hi);
        write_to(out, inputs)?;
        write_to(&out.subarray(inputs.len() as u32, out.length()), targets)
    }

    /// Part 2: the gradient of samples `lo..hi` into the step's gradient (overwritten);
    /// returns their sum of squared residuals.
    pub fn share_gradient(&mut self, lo: usize, hi: usize) -> Result<f64, JsError> {
        self.check_share(lo, hi)?;
        Ok(self.trainer.share_gradient(lo, hi))
    }

    /// Part 3: adds a share's gradient (the first `num_params` floats of `share`).
    pub fn add_gradient(&mut self, share: &js_sys::Float32Array) -> Result<(), JsError> {
        read_from(share, self.num_params(), &mut self.share)?;
        self.trainer.add_gradient(&self.share);
        Ok(())
    }

    /// Optional, before part 4: `[L_FM, cosine(CFM gradient, FM gradient)]` of the drawn
    /// minibatch (a full-batch forward and backward).
    pub fn report_fm(&mut self) -> Vec<f64> {
        let (fm, cos) = self.trainer.report_fm();
        vec![fm, cos]
    }

    /// Part 4: the Adam step with the summed gradient.
    pub fn finish_step(&mut self) {
        self.trainer.finish_step();
    }

    /// Writes the trained weights (what the shards compute with) to `out`.
    pub fn write_trained(&self, out: &js_sys::Float32Array) -> Result<(), JsError> {
        write_to(out, self.trainer.trained_params())
    }
}

/// A helper training worker's network copy (see `crate::parallel`): the CFM gradient of its
/// share of every batch, with the weights the leader broadcast.
#[wasm_bindgen]
pub struct GradShard {
    shard: Shard,
    /// Scratch: weights and a share copied in from JavaScript.
    params: Vec<f32>,
    input: Vec<f32>,
}

#[wasm_bindgen]
impl GradShard {
    /// A shard for networks of the shape `TrainerHandle::shape` gives.
    #[wasm_bindgen(constructor)]
    pub fn new(shape: &[u32]) -> Result<GradShard, JsError> {
        let [width, depth, time_features, classes] = <[u32; 4]>::try_from(shape)
            .map_err(|_| JsError::new("a shape is [width, depth, time features, classes]"))?
            .map(|v| v as usize);
        check_shape(width, depth, time_features)?;
        let config = MlpConfig {
            width,
            depth,
            time_features,
            classes,
        };
        Ok(GradShard {
            shard: Shard::new(config).map_err(js_error)?,
            params: Vec::new(),
            input: Vec::new(),
        })
    }

    /// The number of weights.
    pub fn num_params(&self) -> usize {
        self.shard.num_params()
    }

    /// Loads the leader's trained weights (the first `num_params` floats of `params`).
    pub fn set_params(&mut self, params: &js_sys::Float32Array) -> Result<(), JsError> {
        read_from(params, self.shard.num_params(), &mut self.params)?;
        self.shard.set_params(&self.params).map_err(js_error)
    }

    /// The CFM gradient of a share of `n` samples, `share` holding their inputs then their
    /// targets (as `TrainerHandle::write_share` wrote them), scaled by the batch's `scale`;
    /// returns the share's sum of squared residuals (the gradient stays in the shard).
    pub fn gradient(
        &mut self,
        share: &js_sys::Float32Array,
        n: usize,
        scale: f32,
    ) -> Result<f64, JsError> {
        let dim = self.shard.input_dim();
        let len = dim
            .checked_add(2)
            .and_then(|d| d.checked_mul(n))
            .ok_or_else(|| JsError::new("a share of that size does not fit in memory"))?;
        read_from(share, len, &mut self.input)?;
        let (inputs, targets) = self.input.split_at(dim * n);
        self.shard
            .gradient(inputs, targets, scale)
            .map_err(js_error)
    }

    /// Writes the last share's gradient to `out`.
    pub fn write_grads(&self, out: &js_sys::Float32Array) -> Result<(), JsError> {
        write_to(out, self.shard.grads())
    }
}

/// The largest block of a batch the OT coupling assigns exactly (`trainer::OT_BLOCK`).
#[wasm_bindgen]
pub fn ot_block() -> usize {
    crate::trainer::OT_BLOCK
}

/// Selects the matrix kernel of this wasm instance: `"matrixmultiply"` or `"packed"` (the
/// default: the SIMD kernel of `crate::gemm`). Returns the kernel's name (`matrixmultiply`,
/// `simd128` or `relaxed-simd`).
#[wasm_bindgen]
pub fn set_kernel(name: &str) -> Result<String, JsError> {
    let kernel = match name {
        "matrixmultiply" => gemm::Kernel::Matrixmultiply,
        "packed" => gemm::Kernel::Packed,
        other => return Err(JsError::new(&format!("unknown kernel {other:?}"))),
    };
    gemm::set_kernel(kernel);
    Ok(kernel.name().into())
}

/// The name of the matrix kernel this instance uses now.
#[wasm_bindgen]
pub fn kernel_name() -> String {
    gemm::kernel().name().into()
}
