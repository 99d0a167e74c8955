//! Adam (Kingma & Ba 2015) with bias correction, over one flat `f32` parameter buffer.
//!
//! With gradient `g` at step `k = 1, 2, ...`:
//! `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
//! `m_hat = m / (1 - beta1^k)`, `v_hat = v / (1 - beta2^k)`,
//! `theta -= lr m_hat / (sqrt(v_hat) + eps)` (elementwise).

/// Adam hyper-parameters; `Default` is the usual `(1e-3, 0.9, 0.999, 1e-8)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamParams {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment average.
    pub beta1: f32,
    /// Decay of the second-moment average.
    pub beta2: f32,
    /// Added to `sqrt(v_hat)` to avoid division by zero.
    pub eps: f32,
}

impl Default for AdamParams {
    fn default() -> Self {
        AdamParams {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam state for `n` parameters.
#[derive(Clone, Debug)]
pub(crate) struct Adam {
    /// Hyper-parameters (the learning rate may be changed between steps).
    pub params: AdamParams,
    m: Vec<f32>,
    v: Vec<f32>,
    /// Steps taken so far.
    k: u32,
    /// `beta1^k` and `beta2^k`, kept in f64.
    beta1_k: f64,
    beta2_k: f64,
}

impl Adam {
    /// Zeroed moments for `n` parameters.
    pub fn new(n: usize, params: AdamParams) -> Self {
        Adam {
            params,
            m: vec![0.0; n],
            v: vec![0.0; n],
            k: 0,
            beta1_k: 1.0,
            beta2_k: 1.0,
        }
    }

    /// One update of `params` with gradient `grads` (both of length `n`).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        assert_eq!(params.len(), self.m.len(), "adam: parameter count");
        assert_eq!(grads.len(), self.m.len(), "adam: gradient count");
        let AdamParams {
            lr,
            beta1,
            beta2,
            eps,
        } = self.params;
        self.k += 1;
        self.beta1_k *= beta1 as f64;
        self.beta2_k *= beta2 as f64;
        // theta -= (lr / (1 - beta1^k)) m / (sqrt(v / (1 - beta2^k)) + eps)
        let step_size = (lr as f64 / (1.0 - self.beta1_k)) as f32;
        let inv_bias2 = (1.0 / (1.0 - self.beta2_k)) as f32;
        let (c1, c2) = (1.0 - beta1, 1.0 - beta2);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m = beta1 * *m + c1 * g;
            *v = beta2 * *v + c2 * g * g;
            *p -= step_size * *m / ((*v * inv_bias2).sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_two_steps_match_hand_computation() {
        let hp = AdamParams {
            lr: 0.1,
            ..AdamParams::default()
        };
        let mut adam = Adam::new(2, hp);
        let mut theta = [1.0f32, -2.0];
        // Step 1, g = (0.5, -1): m = 0.1 g = (0.05, -0.1), v = 0.001 g^2 = (0.00025, 0.001),
        // m_hat = m / 0.1 = g, v_hat = v / 0.001 = g^2, so the update is lr g / (|g| + 1e-8)
        // = 0.1 sign(g) (to 2e-9): theta = (1 - 0.1, -2 + 0.1) = (0.9, -1.9).
        adam.step(&mut theta, &[0.5, -1.0]);
        assert!((theta[0] - 0.9).abs() < 1e-6 && (theta[1] + 1.9).abs() < 1e-6);
        // Step 2, g = (0.1, 2):
        // m = 0.9 (0.05, -0.1) + 0.1 (0.1, 2) = (0.055, 0.11)
        // v = 0.999 (0.00025, 0.001) + 0.001 (0.01, 4) = (0.00025975, 0.004999)
        // m_hat = m / (1 - 0.81) = m / 0.19 = (0.28947368, 0.57894737)
        // v_hat = v / (1 - 0.998001) = v / 0.001999 = (0.12993997, 2.50075038)
        // sqrt(v_hat) = (0.36047187, 1.58137610)
        // update = 0.1 m_hat / sqrt(v_hat) = (0.08030410, 0.03661035)
        // theta = (0.9 - 0.08030410, -1.9 - 0.03661035) = (0.81969590, -1.93661035)
        adam.step(&mut theta, &[0.1, 2.0]);
        assert!(
            (theta[0] as f64 - 0.819_695_90).abs() < 2e-6,
            "{}",
            theta[0]
        );
        assert!(
            (theta[1] as f64 + 1.936_610_35).abs() < 2e-6,
            "{}",
            theta[1]
        );
        assert_eq!(adam.k, 2);
    }

    #[test]
    fn default_params_are_the_usual_ones() {
        let p = AdamParams::default();
        assert_eq!((p.lr, p.beta1, p.beta2, p.eps), (1e-3, 0.9, 0.999, 1e-8));
    }
}
