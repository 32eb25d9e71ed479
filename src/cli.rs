//! Command-line arguments and the subcommands behind them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use nix_repart_image::{inspect, BuildOptions, ImageError, Sizing};
use nix_repart_mkfs::MkfsError;
use nix_repart_plan::PlanError;
use nix_repart_progress::{Mode, Progress};
use nix_repart_spec::{Spec, SpecError};

/// The stack of each worker thread: directories are walked recursively, in
/// parallel, down to the deepest path the tree crate accepts.
const WORKER_STACK: usize = 64 << 20;

/// The earliest time FAT can store, and what nixpkgs' stdenv exports.
const DEFAULT_SOURCE_DATE_EPOCH: u64 = 315_532_800;

#[derive(Parser, Debug)]
#[command(
    name = "nix-repart",
    version,
    about = "Build reproducible GPT disk images from a JSON partition spec (systemd-repart compatible, for NixOS image.repart)",
    after_help = "Environment:\n  SOURCE_DATE_EPOCH  the build's time, and the latest mtime a file keeps (newer ones are clamped)\n                     (default 315532800, 1980-01-01, as nixpkgs' stdenv exports it)\n  NIX_BUILD_CORES    default for --jobs when set (0 means all cores)\n\nExit codes: 0 success, 1 bad input (spec, sources, sizes, usage), 2 internal failure,\n  128+N after signal N (SIGINT, SIGTERM, SIGHUP), which leaves nothing behind."
)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the image and repart-output.json into OUTDIR.
    Build {
        /// The spec (JSON, version 1; see docs/spec.md).
        spec: PathBuf,
        /// Output directory (created if missing).
        #[arg(short, long, value_name = "OUTDIR")]
        output: PathBuf,
        /// Worker threads; the image is the same for every value.
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// No progress and no summary table: warnings, notes and errors only.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Build inside a Nix derivation: spec, closures and output directory
    /// come from the structured attributes (see docs/nixos.md).
    Derivation {
        /// The attributes file; default $NIX_ATTRS_JSON_FILE, else
        /// $NIX_BUILD_TOP/.attrs.json.
        #[arg(long, value_name = "FILE")]
        attrs: Option<PathBuf>,
        /// Worker threads; the image is the same for every value.
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// No progress and no summary table: warnings, notes and errors only.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Print the planned layout as JSON; nothing is written. squashfs and
    /// erofs sizes are estimated (marked `contentEstimate`) unless --exact.
    Plan {
        spec: PathBuf,
        /// Compress squashfs and make erofs to know their sizes exactly
        /// (as long as a build).
        #[arg(long)]
        exact: bool,
        /// Worker threads.
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Show the partition table of an image.
    Inspect {
        image: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line. `--help` and `--version` print and exit 0;
/// a usage error (unknown subcommand or option, missing or malformed
/// argument) is bad input like any other: one line, exit 1.
pub fn parse_args() -> Result<Args, std::process::ExitCode> {
    use clap::error::ErrorKind;
    match Args::try_parse() {
        Ok(args) => Ok(args),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            Err(std::process::ExitCode::SUCCESS)
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            Err(std::process::ExitCode::from(1))
        }
        Err(e) => {
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(|l| l.trim().trim_start_matches("error: "))
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("error: {} (see nix-repart --help)", message.join(" "));
            Err(std::process::ExitCode::from(1))
        }
    }
}

/// A failed command: its message lines and exit code.
pub struct Failure(anyhow::Error);

impl Failure {
    pub fn exit_code(&self) -> u8 {
        let input = self.0.chain().any(|cause| {
            cause.is::<SpecError>()
                || cause.is::<PlanError>()
                || cause.is::<InputError>()
                || cause.downcast_ref::<ImageError>().is_some_and(ImageError::is_input_error)
        });
        if input {
            1
        } else {
            2
        }
    }

    /// One line per spec problem, otherwise the context chain on one
    /// line; a failed tool run follows whole: its command line (to run
    /// again), and its stderr line by line.
    pub fn lines(&self) -> Vec<String> {
        if let Some(SpecError::Invalid(problems)) = self.0.downcast_ref::<SpecError>() {
            return problems.0.iter().map(ToString::to_string).collect();
        }
        let mut lines = vec![format!("{:#}", self.0)];
        let failure = self.0.chain().find_map(|c| c.downcast_ref::<MkfsError>().and_then(MkfsError::tool_failure));
        if let Some((tool, failure)) = failure {
            lines.push(format!("  command: {}", failure.command));
            lines.extend(failure.stderr.iter().map(|line| format!("  {tool}: {line}")));
        }
        lines
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.into())
    }
}

/// Bad input found by the binary itself (environment, arguments).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct InputError(String);

pub fn run(args: Args) -> Result<(), Failure> {
    match args.command {
        Command::Build { spec, output, jobs, quiet } => build(&spec, &output, jobs, quiet),
        Command::Derivation { attrs, jobs, quiet } => derivation(attrs, jobs, quiet),
        Command::Plan { spec, exact, jobs } => {
            let options = build_options(jobs)?;
            let spec = nix_repart_spec::load_spec(&spec)?;
            let sizing = if exact { Sizing::Exact } else { Sizing::Estimate };
            let plan = nix_repart_image::plan_image(&spec, &options, sizing, &Progress::quiet())?;
            for p in plan.partitions.iter().filter(|p| p.content_estimate.is_some()) {
                eprintln!(
                    "note: partition {}: its content size is an estimate (contentEstimate has the bound); plan --exact measures it",
                    p.id
                );
            }
            println!("{}", serde_json::to_string_pretty(&plan)?);
            Ok(())
        }
        Command::Inspect { image, json } => {
            let disk = inspect::inspect(&image)?;
            for warning in &disk.warnings {
                eprintln!("warning: {warning}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&disk)?);
            } else {
                print!("{}", inspect::render_table(&disk));
            }
            Ok(())
        }
    }
}

/// Reads the environment once and starts the worker threads.
fn build_options(jobs: Option<usize>) -> Result<BuildOptions, Failure> {
    let options = BuildOptions { source_date_epoch: source_date_epoch()?, jobs: worker_count(jobs)? };
    rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .stack_size(WORKER_STACK)
        .build_global()
        .context("starting worker threads")?;
    Ok(options)
}

fn build(spec_path: &Path, output: &Path, jobs: Option<usize>, quiet: bool) -> Result<(), Failure> {
    let options = build_options(jobs)?;
    let spec = nix_repart_spec::load_spec(spec_path)?;
    build_and_report(&spec, output, &options, quiet)
}

fn derivation(attrs: Option<PathBuf>, jobs: Option<usize>, quiet: bool) -> Result<(), Failure> {
    let options = build_options(jobs)?;
    let attrs = match attrs {
        Some(path) => path,
        None => attrs_file()?,
    };
    let (spec, out) = nix_repart_spec::nix_attrs::load_from_attrs(&attrs)?;
    build_and_report(&spec, &out, &options, quiet)
}

/// The progress reporter: a bar on a terminal, lines in a log;
/// `NIX_REPART_PROGRESS_INTERVAL` (seconds) sets how often a running step
/// reports (5 by default).
fn progress(quiet: bool) -> Progress {
    let interval = std::env::var("NIX_REPART_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(nix_repart_progress::DEFAULT_INTERVAL, std::time::Duration::from_secs_f64);
    Progress::start(Mode::for_stderr(quiet), interval)
}

fn build_and_report(spec: &Spec, output: &Path, options: &BuildOptions, quiet: bool) -> Result<(), Failure> {
    let progress = progress(quiet);
    let result = nix_repart_image::build_image(spec, output, options, &progress);
    drop(progress);
    let (plan, written) = result?;
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    for note in &written.notes {
        eprintln!("note: {note}");
    }
    if !quiet {
        eprint!("{}", written.summary);
    }
    eprintln!("wrote {} ({})", written.image.display(), plan.image.size);
    Ok(())
}

/// Where Nix put the structured attributes: `$NIX_ATTRS_JSON_FILE` (Nix
/// >= 2.17 and nixpkgs' stdenv), else `$NIX_BUILD_TOP/.attrs.json`.
fn attrs_file() -> Result<PathBuf, InputError> {
    if let Some(file) = std::env::var_os("NIX_ATTRS_JSON_FILE") {
        return Ok(PathBuf::from(file));
    }
    match std::env::var_os("NIX_BUILD_TOP") {
        Some(top) => Ok(Path::new(&top).join(".attrs.json")),
        None => Err(InputError(
            "neither NIX_ATTRS_JSON_FILE nor NIX_BUILD_TOP is set: `derivation` runs as the builder of a Nix derivation with __structuredAttrs = true (or give --attrs FILE)"
                .to_string(),
        )),
    }
}

/// `SOURCE_DATE_EPOCH`, read once here and passed to every writer.
fn source_date_epoch() -> Result<u64, InputError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(DEFAULT_SOURCE_DATE_EPOCH),
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| InputError(format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds since 1970"))),
    }
}

/// `--jobs`, else `NIX_BUILD_CORES` (0 = all), else every core.
fn worker_count(jobs: Option<usize>) -> Result<usize, InputError> {
    let all = || std::thread::available_parallelism().map_or(1, usize::from);
    match jobs {
        Some(0) => Err(InputError("--jobs must be at least 1".to_string())),
        Some(n) => Ok(n),
        None => match std::env::var("NIX_BUILD_CORES").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
            Some(0) | None => Ok(all()),
            Some(n) => Ok(n),
        },
    }
}
