//! Running a child process so that an interrupt can end it: its PID is
//! registered while it runs, and it dies with nix-repart
//! (`PR_SET_PDEATHSIG`), also when nix-repart is killed by SIGKILL.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

use crate::registry::registry;

/// Runs `cmd` to completion and collects its output, like
/// [`Command::output`], with standard input closed. Fails with
/// [`io::ErrorKind::Interrupted`] once [`crate::abort`] has run.
pub fn run(cmd: &mut Command) -> io::Result<Output> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: the closure only calls prctl(2), which is async-signal-safe,
    // between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = {
        let mut r = registry();
        if r.aborting {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "nix-repart is being interrupted"));
        }
        let child = cmd.spawn()?;
        r.children.push(child.id());
        child
    };
    let pid = child.id();
    let output = child.wait_with_output();
    registry().children.retain(|p| *p != pid);
    output
}
