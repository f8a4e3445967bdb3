//! Encoding benchmarks (being written).
fn main() {}
