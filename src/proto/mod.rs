//! Generated protobuf types (being written).
