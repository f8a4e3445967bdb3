//! OTLP/JSON encoding (being written).
