//! Termination signals while the hook runs.
//!
//! Claude Code cancels the async hooks still running when a `claude -p`
//! turn ends: SIGTERM to the hook's process group, 16-199 ms after the Stop
//! hook started (2.1.332, 80 runs), and SIGKILL 1.5 s later to what is
//! left. A terminal
//! that hangs up sends SIGHUP, and Ctrl+C in a terminal sends SIGINT, to
//! the whole foreground group, hooks included. By default each of the three
//! kills the process, and an event not yet spooled was lost.
//!
//! So [`Signals::catch`], the first thing `main` does, makes the three only
//! set a flag (signal-hook's `flag`, no thread, a few microseconds). The
//! hook then finishes what keeps the promise, the event in the spool, and
//! tries to send it, within its own deadline as always; it skips what can
//! wait for the next hook (the backlog, the subagent files it follows) and
//! exits 0. A second signal changes nothing. SIGKILL cannot be caught: the
//! spool-first order is what bounds the loss then. SIGQUIT keeps its core
//! dump: whoever sends it wants one.
//!
//! A person's command (`flush`, `backfill`, …) is not the hook: it calls
//! [`Signals::release`] once the command line is parsed, and a signal does
//! what it always did.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(unix)]
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};

/// The signals the hook catches, with their names (for the log).
#[cfg(unix)]
const CAUGHT: [(i32, &str); 3] = [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"), (SIGINT, "SIGINT")];

/// Whether a termination signal has come. `Default`: nothing caught, ever
/// (nothing registered).
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// The number of the last signal caught; 0: none.
    caught: Arc<AtomicUsize>,
    /// Set by [`Signals::release`]: a signal acts as it would without us.
    released: Arc<AtomicBool>,
}

impl Signals {
    /// From now on SIGTERM, SIGHUP and SIGINT only set the flag. A
    /// registration that fails (it does not, for these three) leaves that
    /// signal's default action; there is no log yet to say so.
    pub fn catch() -> Signals {
        let s = Signals::default();
        #[cfg(unix)]
        for (sig, _) in CAUGHT {
            // First the default action, armed by `release`, then the flag.
            let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&s.released));
            let _ = signal_hook::flag::register_usize(
                sig,
                Arc::clone(&s.caught),
                usize::try_from(sig).unwrap_or(0),
            );
        }
        s
    }

    /// The signal caught, if any: `"SIGTERM"`, `"SIGHUP"` or `"SIGINT"`.
    pub fn caught(&self) -> Option<&'static str> {
        let n = self.caught.load(Ordering::SeqCst);
        if n == 0 {
            return None;
        }
        #[cfg(unix)]
        if let Some((_, name)) = CAUGHT
            .iter()
            .find(|(sig, _)| usize::try_from(*sig).ok() == Some(n))
        {
            return Some(name);
        }
        Some("signal")
    }

    pub fn is_caught(&self) -> bool {
        self.caught.load(Ordering::SeqCst) != 0
    }

    /// For a person's command: the signals act as by default again, and
    /// one caught meanwhile (while the command line was parsed) acts now.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        #[cfg(unix)]
        if let Ok(sig) = i32::try_from(self.caught.load(Ordering::SeqCst))
            && sig != 0
        {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_caught_signal_only_sets_the_flag() -> std::io::Result<()> {
        let s = Signals::catch();
        assert_eq!(s.caught(), None);
        signal_hook::low_level::raise(SIGHUP)?;
        assert!(s.is_caught());
        assert_eq!(s.caught(), Some("SIGHUP"));
        Ok(())
    }

    #[test]
    fn nothing_is_caught_by_default() {
        let s = Signals::default();
        assert!(!s.is_caught());
        assert_eq!(s.caught(), None);
    }
}
