//! `cargo run -p protogen` regenerates `src/proto/` in place;
//! `cargo run -p protogen -- --check` only reports differences (exit code 1 if any).

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("protogen: unknown argument {other:?}; usage: protogen [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("protogen: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(check: bool) -> std::io::Result<ExitCode> {
    let fresh = protogen::generate(&protogen::proto_dir())?;
    let dir = protogen::generated_dir();
    if check {
        let diffs = protogen::differences(&fresh, &dir)?;
        if diffs.is_empty() {
            println!("protogen: src/proto is up to date ({} files)", fresh.len());
            return Ok(ExitCode::SUCCESS);
        }
        for d in &diffs {
            eprintln!("protogen: {d}");
        }
        eprintln!("protogen: src/proto is out of date; run `cargo run -p protogen`");
        return Ok(ExitCode::FAILURE);
    }
    protogen::write(&fresh, &dir)?;
    println!("protogen: wrote {} files to src/proto", fresh.len());
    Ok(ExitCode::SUCCESS)
}
