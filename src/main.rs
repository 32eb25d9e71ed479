//! The `nix-repart` command: a thin layer over the library crates. It reads
//! the environment once (`SOURCE_DATE_EPOCH`, `NIX_BUILD_CORES`), runs one
//! subcommand, prints errors one per line and maps them to exit codes:
//! 1 for bad input, 2 for internal failures.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(e) = ctrlc::set_handler(|| {
        nix_repart_image::output::remove_pending();
        std::process::exit(130);
    }) {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
    }
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            for line in failure.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(failure.exit_code())
        }
    }
}
