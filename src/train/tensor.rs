//! The two tensor shapes of a 1-D conv net, as flat `f64` vectors: sequences (batch x channels x time)
//! and conv kernels (out x in x taps).

/// A batch of multi-channel sequences, `data[(b * channels + c) * len + t]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Seq<T = f64> {
    pub batch: usize,
    pub channels: usize,
    pub len: usize,
    pub data: Vec<T>,
}

impl<T: Copy + Default> Seq<T> {
    pub fn zeros(batch: usize, channels: usize, len: usize) -> Seq<T> {
        Seq { batch, channels, len, data: vec![T::default(); batch * channels * len] }
    }

    /// The same shape holding `data`.
    pub fn with_data<U>(&self, data: Vec<U>) -> Seq<U> {
        assert_eq!(data.len(), self.data.len(), "with_data: the shape holds {} values", self.data.len());
        Seq { batch: self.batch, channels: self.channels, len: self.len, data }
    }

    /// The row of sample `b`, channel `c`.
    pub fn row(&self, b: usize, c: usize) -> &[T] {
        let start = (b * self.channels + c) * self.len;
        &self.data[start..start + self.len]
    }

    pub fn row_mut(&mut self, b: usize, c: usize) -> &mut [T] {
        let start = (b * self.channels + c) * self.len;
        &mut self.data[start..start + self.len]
    }

    pub fn at(&self, b: usize, c: usize, t: usize) -> T {
        self.data[(b * self.channels + c) * self.len + t]
    }

    pub fn same_shape<U>(&self, other: &Seq<U>) -> bool {
        (self.batch, self.channels, self.len) == (other.batch, other.channels, other.len)
    }
}

/// A conv kernel, `data[(o * inputs + i) * taps + k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel<T = f64> {
    pub outputs: usize,
    pub inputs: usize,
    pub taps: usize,
    pub data: Vec<T>,
}

impl<T: Copy + Default> Kernel<T> {
    pub fn zeros(outputs: usize, inputs: usize, taps: usize) -> Kernel<T> {
        Kernel { outputs, inputs, taps, data: vec![T::default(); outputs * inputs * taps] }
    }

    /// The same shape holding `data`.
    pub fn with_data<U>(&self, data: Vec<U>) -> Kernel<U> {
        assert_eq!(data.len(), self.data.len(), "with_data: the shape holds {} values", self.data.len());
        Kernel { outputs: self.outputs, inputs: self.inputs, taps: self.taps, data }
    }

    /// The taps from input channel `i` to output channel `o`.
    pub fn taps_of(&self, o: usize, i: usize) -> &[T] {
        let start = (o * self.inputs + i) * self.taps;
        &self.data[start..start + self.taps]
    }

    pub fn taps_of_mut(&mut self, o: usize, i: usize) -> &mut [T] {
        let start = (o * self.inputs + i) * self.taps;
        &mut self.data[start..start + self.taps]
    }
}
