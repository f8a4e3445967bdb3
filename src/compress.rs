//! Request body compression (being written).
