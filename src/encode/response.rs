//! Decoding of export responses (being written).
