//! The `end-of-turn` check: Claude Code waits on no hookline hook when a
//! `claude -p` turn ends (issue 16). 2.1.332 cancels the async hooks still
//! running once the turn is over and waits for them to exit (SIGTERM, then
//! SIGKILL 1.5 s later), and both versions wait for the SessionEnd hooks at
//! teardown; either shows as time between the turn's last reply and the
//! process's exit.
//!
//! The end of turn of a run is measured from Claude Code's `--debug` log
//! to its exit: from the last `Stream started - received first chunk` (the
//! final reply starts streaming; both versions log it, with or without
//! hooks) to the moment the harness saw the process exit. The run with
//! hookline (and the test's synchronous recorder beside it) is compared
//! with the same step run without any hook.
//!
//! What made Claude Code wait is read from `hook.log`: each invocation's
//! line says when it ended and how long it ran (`ms`), and a hook alive at
//! a `Hook … cancelled` line of the debug log costs the 1.5 s. The check
//! holds every hookline hook to it (issue 16): Stop and SessionEnd run
//! synchronously and only spool (the detached sender does the rest), and
//! no other hook waits for the drain lock or sends for more than 150 ms,
//! so none is still running at the cancel, even while the server hangs or
//! is down. A step slower than the bound with no async hookline hook
//! running in it is not hookline's (Claude Code on a CPU-starved machine;
//! the synchronous hooks' time is `no-wait`'s): it is printed, not failed.
//! The hooks alive at a cancel are named in the table.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::harness::Run;

/// The most a step's end of turn with hookline may exceed the same step's
/// without any hook, once the test's recorder's own time on Stop and
/// SessionEnd is set aside: hookline's synchronous Stop and SessionEnd
/// hooks (13-93 ms each in a debug build), and the noise of a loaded 2-core
/// VM; a hookline hook still running at the cancel costs 1.5 s on 2.1.332.
pub const BOUND: Duration = Duration::from_millis(600);

/// The line that starts the measured span: the final reply's first byte.
const ANCHOR: &str = "Stream started - received first chunk";

/// The final reply's first byte (the last [`ANCHOR`] of the debug log).
fn anchor(run: &Run) -> Option<DateTime<Utc>> {
    run.debug
        .lines()
        .filter(|l| l.contains(ANCHOR))
        .filter_map(|l| time(l.split_whitespace().next()?))
        .max()
}

/// The end of turn of a run: from the last reply's first byte (debug log)
/// to the process's exit. `None` if the run streamed no reply.
pub fn measure(run: &Run) -> Option<Duration> {
    (run.ended_at - anchor(run)?).to_std().ok()
}

/// A debug-log or hook-log timestamp.
fn time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Each hook invocation of `hook_log` (not the detached senders, which
/// Claude Code does not wait for): its event, start and end, from its
/// closing line's `timestamp` and `ms`.
fn hook_runs(hook_log: &str) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    hook_log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let (Some(end), Some(ms), None) = (
                v["timestamp"].as_str().and_then(time),
                v["ms"].as_i64(),
                v.get("process"),
            ) else {
                return None;
            };
            let event = v["event_type"].as_str().unwrap_or("?").to_owned();
            Some((event, end - chrono::Duration::milliseconds(ms), end))
        })
        .collect()
}

/// The hookline hooks (event names) still running when Claude Code
/// cancelled the async hooks of `run` (`Hook … cancelled`).
pub fn alive_at_cancel(run: &Run, hook_log: &str) -> Vec<String> {
    let cancels: Vec<DateTime<Utc>> = run
        .debug
        .lines()
        .filter(|l| l.contains("[DEBUG] Hook ") && l.contains(") cancelled"))
        .filter_map(|l| time(l.split_whitespace().next()?))
        .collect();
    hook_runs(hook_log)
        .into_iter()
        .filter(|(_, start, end)| cancels.iter().any(|c| start < c && c < end))
        .map(|(e, _, _)| e)
        .collect()
}

/// Claude Code waited on no hookline hook at the end of any step: no
/// hookline hook was alive at a cancel (2.1.332 then waits 1.5 s for it),
/// and no step's end of turn with hookline exceeds the same step's without
/// any hook by more than [`BOUND`] plus what Claude Code waited for the
/// test's own recorder in it (`recorder`: each run's start and time, per
/// step; it is synchronous, and MessageDisplay, Stop and SessionEnd fire
/// in the span) while a hookline hook of an async event ran past the
/// span's first [`BOUND`] (2.1.197 logs no cancel; it waits up to 1 s for
/// such a hook). A step slower than that with only the synchronous hooks
/// (`synchronous`, bounded by `no-wait`) running late is Claude Code's own
/// time on a loaded machine: printed, not failed. [`summary`] names the
/// hooks alive at a cancel.
pub fn check(
    pairs: &[(&Run, &Run)],
    recorder: &[Vec<(DateTime<Utc>, Duration)>],
    synchronous: &[String],
    hook_log: &str,
) -> Vec<String> {
    let mut bad = Vec::new();
    let mut measured = 0;
    let runs = hook_runs(hook_log);
    for (i, (hooked, bare)) in pairs.iter().enumerate() {
        // A step without a streamed reply (a slash command) has no anchor.
        let (Some(from), Some(h), Some(b)) = (anchor(hooked), measure(hooked), measure(bare))
        else {
            continue;
        };
        measured += 1;
        let alive = alive_at_cancel(hooked, hook_log);
        let running: Vec<&str> = runs
            .iter()
            .filter(|(e, start, end)| {
                !synchronous.contains(e)
                    && *start < hooked.ended_at
                    && *end > from + chrono::Duration::from_std(BOUND).unwrap_or_default()
            })
            .map(|(e, _, _)| e.as_str())
            .collect();
        let rec: Duration = recorder
            .get(i)
            .into_iter()
            .flatten()
            .filter(|(start, _)| *start >= from)
            .map(|(_, took)| *took)
            .sum();
        eprintln!(
            "real-client: end of turn, run {}: {} ms with hookline, {} ms without, recorder {} ms; hookline hooks alive at the cancel: {alive:?}; async hookline hooks running then: {running:?}",
            i + 1,
            h.as_millis(),
            b.as_millis(),
            rec.as_millis()
        );
        if !alive.is_empty() {
            bad.push(format!(
                "run {}: Claude Code cancelled hookline hooks still running when the turn ended ({alive:?}): {} ms with hookline, {} ms without",
                i + 1,
                h.as_millis(),
                b.as_millis()
            ));
        } else if h > b + BOUND + rec && !running.is_empty() {
            bad.push(format!(
                "run {}: the turn ended {} ms after its last reply began with hookline, {} ms without (more than {} ms apart, the recorder's {} ms aside) while hookline hooks ran: {running:?}",
                i + 1,
                h.as_millis(),
                b.as_millis(),
                BOUND.as_millis(),
                rec.as_millis()
            ));
        }
    }
    // Every scenario streams replies: none measured means the debug log
    // changed (no anchor line), not that Claude Code waited on nothing.
    if measured == 0 && !pairs.is_empty() {
        bad.push(format!(
            "no step could be measured: no `{ANCHOR}` line in the --debug logs"
        ));
    }
    bad
}

/// For the results table: the step whose end of turn hookline lengthened
/// most, and the hookline hooks alive at a cancel, `end of
/// turn 140 ms with hookline, 60 ms without; waited on PostToolUse`.
pub fn summary(pairs: &[(&Run, &Run)], hook_log: &str) -> String {
    let worst = pairs
        .iter()
        .filter_map(|(h, b)| Some((measure(h)?, measure(b)?)))
        .max_by_key(|(h, b)| h.as_millis() as i128 - b.as_millis() as i128)
        .map_or("end of turn -".to_owned(), |(h, b)| {
            format!(
                "end of turn {} ms with hookline, {} ms without",
                h.as_millis(),
                b.as_millis()
            )
        });
    let mut alive: Vec<String> = pairs
        .iter()
        .flat_map(|(h, _)| alive_at_cancel(h, hook_log))
        .collect();
    alive.sort();
    alive.dedup();
    if alive.is_empty() {
        worst
    } else {
        format!("{worst}; alive at the cancel: {}", alive.join(","))
    }
}
