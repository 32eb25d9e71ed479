//! The `nix-repart` command: a thin layer over the library crates. It reads
//! the environment once (`SOURCE_DATE_EPOCH`, `NIX_BUILD_CORES`), runs one
//! subcommand, prints errors one per line and maps them to exit codes:
//! 1 for bad input (usage errors included), 2 for internal failures, and
//! 128 + the signal's number after SIGINT, SIGTERM or SIGHUP, which first
//! end the build's child processes and remove everything it made.

mod cli;

use std::process::ExitCode;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The stack of the thread that runs the command: trees are walked and
/// written recursively, down to the deepest path the tree crate accepts.
const MAIN_STACK: usize = 256 << 20;

fn main() -> ExitCode {
    let args = match cli::parse_args() {
        Ok(args) => args,
        Err(code) => return code,
    };
    if let Err(e) = handle_signals() {
        eprintln!("error: cannot install the signal handlers: {e}");
        return ExitCode::from(2);
    }
    let worker = std::thread::Builder::new().name("nix-repart".into()).stack_size(MAIN_STACK).spawn(|| cli::run(args));
    let result = worker.map(std::thread::JoinHandle::join);
    if nix_repart_work::aborting() {
        // Interrupted: the signal thread removes what the build made and
        // exits with 128 + signal; what failed here failed because of it.
        loop {
            std::thread::park();
        }
    }
    let result = match result {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => {
            eprintln!("error: internal failure (a panic, reported above); please report it");
            nix_repart_work::abort();
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            for line in failure.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

/// On SIGINT, SIGTERM (what Nix sends to a build it stops) and SIGHUP:
/// end the children, remove the work directories and unfinished outputs,
/// exit 128 + signal.
fn handle_signals() -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            nix_repart_work::abort();
            eprintln!("nix-repart: interrupted by signal {signal}; removed what the build had made");
            std::process::exit(128 + signal);
        }
    })?;
    Ok(())
}
