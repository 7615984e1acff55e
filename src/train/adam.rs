//! Adam (Kingma & Ba 2015) over a [`Tcn`]'s parameters, in float.

use super::tcn::Tcn;

#[derive(Debug, Clone)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    step: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    pub fn new(lr: f64) -> Adam {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 0, m: Vec::new(), v: Vec::new() }
    }

    /// One update of `params` with gradients `grads` (the same shapes).
    pub fn step(&mut self, params: &mut Tcn, grads: &Tcn) {
        let mut flat = Vec::with_capacity(self.m.len());
        grads.visit(|s| flat.extend_from_slice(s));
        if self.m.is_empty() {
            self.m = vec![0.0; flat.len()];
            self.v = vec![0.0; flat.len()];
        }
        assert_eq!(flat.len(), self.m.len(), "Adam: the parameter count changed");
        self.step += 1;
        let (c1, c2) = (1.0 - self.beta1.powi(self.step), 1.0 - self.beta2.powi(self.step));
        let mut i = 0;
        let (m, v) = (&mut self.m, &mut self.v);
        let (b1, b2, lr, eps) = (self.beta1, self.beta2, self.lr, self.eps);
        params.visit_mut(|s| {
            for p in s {
                let g = flat[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                *p -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
                i += 1;
            }
        });
    }
}
