//! OTLP protobuf encoding (being written).
