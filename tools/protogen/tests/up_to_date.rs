//! Fails when `src/proto/*.rs` differ from a fresh regeneration from `proto/`.
//!
//! Locally the fresh files are written in place first (so a re-run passes); with the
//! `CI` environment variable set nothing is written and the test only fails.

#[test]
fn generated_code_is_up_to_date() {
    let fresh = protogen::generate(&protogen::proto_dir()).expect("proto/ compiles");
    let dir = protogen::generated_dir();
    let diffs = protogen::differences(&fresh, &dir).expect("src/proto is readable");
    if diffs.is_empty() {
        return;
    }
    let list = diffs.join("\n  ");
    if std::env::var_os("CI").is_some() {
        panic!(
            "src/proto is out of date with proto/:\n  {list}\nrun `cargo run -p protogen` and commit the result"
        );
    }
    protogen::write(&fresh, &dir).expect("src/proto is writable");
    panic!(
        "src/proto was out of date with proto/ and has been regenerated:\n  {list}\nreview and commit the result (or run `cargo run -p protogen`)"
    );
}

#[test]
fn generation_is_deterministic() {
    let a = protogen::generate(&protogen::proto_dir()).expect("proto/ compiles");
    let b = protogen::generate(&protogen::proto_dir()).expect("proto/ compiles");
    assert_eq!(a, b);
    let names: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "google.protobuf.rs",
            "google.rpc.rs",
            "opentelemetry.proto.collector.logs.v1.rs",
            "opentelemetry.proto.collector.metrics.v1.rs",
            "opentelemetry.proto.collector.trace.v1.rs",
            "opentelemetry.proto.common.v1.rs",
            "opentelemetry.proto.logs.v1.rs",
            "opentelemetry.proto.metrics.v1.rs",
            "opentelemetry.proto.resource.v1.rs",
            "opentelemetry.proto.trace.v1.rs",
        ]
    );
    for body in a.values() {
        assert!(body.starts_with(protogen::HEADER));
    }
}
