//! The real-client conformance suite (docs/real-client.md): the real Claude
//! Code CLI, installed from npm (tests/claude-code/package-lock.json), run
//! offline against a scripted fake Messages API, with hookline's hooks
//! installed by `hookline-hook install` against `hookline serve`, and a
//! recording hook of the test's own registered for every event as the
//! truth of what Claude Code fired. Each scenario runs on each pinned
//! version; each run is repeated in a HOME without hookline to compare
//! exit code and output.

mod checks;
mod cost;
mod end_of_turn;
mod harness;
mod mcp;
mod truth;

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::sqlite::SqlitePoolOptions;

use harness::{Home, Hooked, Mode, Run, claude, claude_binary};
use hookline_test_support::cli::Hookline;

/// The `hookline` binary of this build.
fn hookline() -> Hookline {
    Hookline::new(env!("CARGO_BIN_EXE_hookline"))
}

/// The latest 2.1.x (npm `latest`) and an older 2.1.x line still in use.
pub(crate) const LATEST: &str = "2.1.332";
const OLDER: &str = "2.1.197";

struct Step {
    prompt: &'static str,
    args: &'static [&'static str],
    script: Value,
}

/// Where the hook's server is while a step runs (the outage scenario).
#[derive(Clone, Copy)]
enum Outage {
    None,
    /// Step 1 with the server hung, step 2 with it stopped, then back and
    /// `hookline-hook flush`.
    HungThenStopped,
}

fn text(t: &str, input: u64, output: u64) -> Value {
    json!({"blocks": [{"type": "text", "text": t}], "usage": {"input_tokens": input, "output_tokens": output}})
}

fn tool(say: &str, name: &str, input: Value, usage: Value) -> Value {
    json!({"blocks": [{"type": "text", "text": say}, {"type": "tool_use", "name": name, "input": input}], "usage": usage})
}

fn usage(input: u64, output: u64, cache_create: u64, cache_read: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output,
           "cache_creation_input_tokens": cache_create, "cache_read_input_tokens": cache_read})
}

fn multi_block() -> Vec<Step> {
    vec![Step {
        prompt: "Say hello with a shell command.",
        args: &["--session-id", "{session}"],
        script: json!({"replies": [
            {"blocks": [
                {"type": "thinking", "thinking": "The user wants a greeting; echo is enough."},
                {"type": "text", "text": "I will run echo."},
                {"type": "tool_use", "name": "Bash", "input": {"command": "echo hello-from-bash", "description": "Print a greeting"}}],
             "usage": usage(1200, 87, 300, 4000)},
            {"blocks": [
                {"type": "thinking", "thinking": "It printed the greeting."},
                {"type": "text", "text": "The command printed hello-from-bash."},
                {"type": "text", "text": "Anything else?"}],
             "usage": usage(1350, 23, 0, 5200)},
        ]}),
    }]
}

fn file_tools() -> Vec<Step> {
    vec![Step {
        prompt: "Create notes.txt, read it, fix it, and show it.",
        args: &["--session-id", "{session}"],
        script: json!({"replies": [
            tool("Writing the file.", "Write", json!({"file_path": "{work}/notes.txt", "content": "colour: blue\nsize: 3\n"}), usage(900, 40, 0, 0)),
            tool("Reading it back.", "Read", json!({"file_path": "{work}/notes.txt"}), usage(950, 30, 0, 900)),
            tool("Fixing the spelling.", "Edit", json!({"file_path": "{work}/notes.txt", "old_string": "colour", "new_string": "color"}), usage(1000, 55, 0, 950)),
            tool("Showing it.", "Bash", json!({"command": "cat notes.txt", "description": "Show the file"}), usage(1050, 25, 0, 1000)),
            text("notes.txt now says color: blue, size: 3.", 1100, 15),
        ]}),
    }]
}

fn failing_tool() -> Vec<Step> {
    vec![Step {
        prompt: "Run the failing check and read the missing file.",
        args: &["--session-id", "{session}"],
        script: json!({"replies": [
            tool("Running the check.", "Bash", json!({"command": "echo broken >&2; exit 3", "description": "A check that fails"}), usage(700, 20, 0, 0)),
            tool("Reading the file.", "Read", json!({"file_path": "{work}/does-not-exist.txt"}), usage(760, 18, 0, 700)),
            text("Both failed: exit 3, and the file does not exist.", 800, 14),
        ]}),
    }]
}

fn subagent() -> Vec<Step> {
    vec![Step {
        prompt: "Ask a subagent to look around.",
        args: &["--session-id", "{session}"],
        script: json!({
            "replies": [
                tool("Delegating to a subagent.", "Task|Agent",
                     json!({"description": "Look around", "prompt": "SUBTASK-LOOK: run one command and report.",
                            "subagent_type": "general-purpose", "run_in_background": false}),
                     usage(1500, 60, 200, 0)),
                text("The subagent found sub-bash.", 1700, 12),
            ],
            "agents": {"SUBTASK-LOOK": [
                tool("Looking.", "Bash", json!({"command": "echo sub-bash", "description": "Look"}), usage(400, 22, 0, 0)),
                text("Report: sub-bash.", 450, 9),
            ]},
        }),
    }]
}

fn resume_fork() -> Vec<Step> {
    vec![
        Step {
            prompt: "Remember the number 7.",
            args: &["--session-id", "{session}"],
            script: json!({"replies": [text("I will remember 7.", 500, 8)]}),
        },
        Step {
            prompt: "What was the number?",
            args: &["--continue"],
            script: json!({"replies": [text("It was 7.", 520, 5)]}),
        },
        Step {
            prompt: "Add 1 to it.",
            args: &["--resume", "{session}"],
            script: json!({"replies": [text("That makes 8.", 540, 5)]}),
        },
        Step {
            prompt: "In a branch: double it.",
            args: &["--resume", "{session}", "--fork-session"],
            script: json!({"replies": [text("Doubled: 14.", 560, 6)]}),
        },
    ]
}

fn model_switch() -> Vec<Step> {
    vec![
        Step {
            prompt: "Hello on the default model.",
            args: &["--session-id", "{session}"],
            script: json!({"replies": [text("Hello from the default model.", 300, 7)]}),
        },
        Step {
            prompt: "/model claude-sonnet-4-5",
            args: &["--continue"],
            script: json!({"replies": []}),
        },
        Step {
            prompt: "Hello again.",
            args: &["--continue", "--model", "claude-sonnet-4-5"],
            script: json!({"replies": [text("Hello from Sonnet.", 320, 6)]}),
        },
    ]
}

fn outage() -> Vec<Step> {
    vec![
        Step {
            prompt: "First, while the server hangs.",
            args: &["--session-id", "{session}"],
            script: json!({"replies": [
                tool("Checking.", "Bash", json!({"command": "echo during-the-hang", "description": "Check"}), usage(600, 20, 0, 0)),
                text("Checked during the hang.", 650, 7),
            ]}),
        },
        Step {
            prompt: "Then, while it is stopped.",
            args: &["--continue"],
            script: json!({"replies": [text("Answered while the server is stopped.", 700, 9)]}),
        },
    ]
}

/// Results of the suite, one line per scenario × version (printed by
/// scripts/test): version, scenario, checks passed/total, failed checks,
/// the test's time, Claude Code's time with and without hookline, the
/// hooks Claude Code cancelled, the entries left in the spool for the next
/// hook (sent by the final flush), the end of turn of the step hookline
/// lengthened most (`end_of_turn`).
#[allow(clippy::too_many_arguments)]
fn report(
    version: &str,
    scenario: &str,
    results: &[(&str, Vec<String>)],
    took: Duration,
    claude: (Duration, Duration),
    cancelled: usize,
    left_in_spool: usize,
    end_of_turn: &str,
) {
    let passed = results.iter().filter(|(_, b)| b.is_empty()).count();
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(n, _)| *n)
        .collect();
    let line = format!(
        "{version}\t{scenario}\t{passed}/{}\t{}\t{:.1}s\tclaude {:.1}s with hookline, {:.1}s without\t{cancelled} hook(s) cancelled\t{left_in_spool} left in the spool for the next hook\t{end_of_turn}\n",
        results.len(),
        if failed.is_empty() {
            "-".into()
        } else {
            failed.join(",")
        },
        took.as_secs_f64(),
        claude.0.as_secs_f64(),
        claude.1.as_secs_f64()
    );
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-client-results.tsv");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
    eprint!("real-client: {line}");
}

fn scenario(version: &str, name: &str, steps: Vec<Step>, outage: Outage) -> anyhow::Result<()> {
    let Some(bin) = claude_binary(version)? else {
        return Ok(());
    };
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let session = uuid::Uuid::new_v4().to_string();
    let via_proxy = matches!(outage, Outage::HungThenStopped);
    let mut hooked = Hooked::new(dir.path(), via_proxy)?;
    let bare = Home::new(&dir.path().join("bare"))?;
    let scripts = dir.path().join("scripts");

    let mut hooked_runs: Vec<Run> = Vec::new();
    let mut bare_runs: Vec<Run> = Vec::new();
    let mut fired_per_run: Vec<Vec<Value>> = Vec::new();
    let mut recorder_runs: Vec<Vec<(chrono::DateTime<chrono::Utc>, Duration)>> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if let (Outage::HungThenStopped, Some(p)) = (outage, hooked.proxy.as_mut()) {
            p.set(if i == 0 { Mode::Hang } else { Mode::Stopped })?;
        }
        let args: Vec<String> = step
            .args
            .iter()
            .map(|a| a.replace("{session}", &session))
            .collect();
        let before = hooked.recorded()?.len();
        let run = claude(
            &bin,
            &hooked.home,
            &scripts,
            &format!("h{}", i + 1),
            step.prompt,
            &args,
            &step.script,
        )?;
        fired_per_run.push(hooked.recorded()?.split_off(before));
        recorder_runs.push(hooked.recorder_runs(before)?);
        hooked_runs.push(run);
        bare_runs.push(claude(
            &bin,
            &bare,
            &scripts,
            &format!("b{}", i + 1),
            step.prompt,
            &args,
            &step.script,
        )?);
    }
    if let Some(p) = hooked.proxy.as_mut() {
        p.set(Mode::Forward)?;
    }
    // What a cancelled hook spooled but did not send waits for the next
    // hook; the user's next session would send it, here `hookline-hook
    // flush` does (a lost event is in neither place, and the checks below
    // still fail on it). How many waited is reported. Let the last async
    // hooks finish first (Claude Code has exited; they have at most 1.5 s),
    // and the tail senders of Stop and SessionEnd.
    std::thread::sleep(Duration::from_millis(1500));
    hooked.wait_for_tail_senders(Duration::from_secs(40))?;
    let left_in_spool = hooked.spooled();
    let out = hooked.hook(&["flush"])?;
    anyhow::ensure!(
        out.status.success(),
        "hookline-hook flush: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let recorded = hooked.recorded()?;
    let expected = recorded
        .iter()
        .filter(|e| {
            hooked
                .registered
                .iter()
                .any(|r| e["hook_event_name"] == r.as_str())
        })
        .count();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(async {
        let db = SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&hooked.db_url())
            .await?;
        // Wait until as many audit rows as hookline-registered events fired
        // are processed, or nothing has changed for 3 s (an event the hook
        // lost never comes), at most 20 s; then once more for stragglers.
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut last, mut since) = (usize::MAX, Instant::now());
        loop {
            let s = checks::snapshot(&db).await?;
            let done = s.events.iter().filter(|e| e["status"] == "SUCCESS").count();
            let open = s.events.iter().any(|e| {
                matches!(
                    e["status"].as_str(),
                    Some("RECEIVED" | "PROCESSING" | "RETRYING")
                )
            });
            if s.events.len() != last {
                (last, since) = (s.events.len(), Instant::now());
            }
            let idle = since.elapsed() > Duration::from_secs(3) && !open;
            if (done >= expected && !open) || idle || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        checks::snapshot(&db).await
    })?;
    let truth = truth::read(&hooked.home.home.join(".claude/projects"))?;

    let mut no_wait = Vec::new();
    let mut not_cancelled = Vec::new();
    for (run, fired) in hooked_runs.iter().zip(&fired_per_run) {
        not_cancelled.extend(checks::not_cancelled(run));
        no_wait.extend(checks::no_wait(
            run,
            fired,
            &hooked.registered,
            &hooked.synchronous,
            &hooked.hook_command,
        ));
    }
    no_wait.extend(checks::synchronous_as_expected(&hooked.synchronous));
    no_wait.extend(checks::inline_time(&hooked.hook_log(), &hooked.synchronous));
    let runs: Vec<&Run> = hooked_runs.iter().collect();
    let pairs: Vec<(&Run, &Run)> = hooked_runs.iter().zip(&bare_runs).collect();
    let mut results: Vec<(&str, Vec<String>)> = vec![
        (
            "events",
            checks::events(&recorded, &hooked.registered, &store),
        ),
        (
            "registered",
            checks::registered(&recorded, &hooked.registered),
        ),
        ("transcript", checks::transcript(&truth, &recorded, &store)),
        ("usage", checks::usage(&truth, &runs, &store)),
        ("model", checks::model(&truth, &store)),
        (
            "cost",
            cost::cost(&truth, &runs, &hookline(), &hooked.data, dir.path()),
        ),
        ("same-as-bare", checks::same_as_bare(&pairs)),
        ("no-wait", no_wait),
    ];
    results.push(("script-followed", script_followed(&steps, &hooked_runs)));
    if matches!(outage, Outage::None) {
        results.push(("hook-log", checks::hook_log(&hooked.hook_log())));
    }
    // Also while the server hangs or is down: no hook sends for more than
    // 150 ms (what is left goes to a detached sender), so none is still
    // running when the turn ends.
    results.push((
        "end-of-turn",
        end_of_turn::check(
            &pairs,
            &recorder_runs,
            &hooked.synchronous,
            &hooked.hook_log(),
        ),
    ));
    if name == "subagent" {
        results.push(("subagents", checks::subagents(&truth, &recorded, &store)));
    }
    if name == "resume_fork" {
        results.push(("fork-linked", fork_linked(&truth, &session, &store)));
    }
    let total = |runs: &[Run]| runs.iter().map(|r| r.took).sum::<Duration>();
    report(
        version,
        name,
        &results,
        started.elapsed(),
        (total(&hooked_runs), total(&bare_runs)),
        not_cancelled.len(),
        left_in_spool,
        &end_of_turn::summary(&pairs, &hooked.hook_log()),
    );
    if std::env::var_os("REAL_CLIENT_KEEP").is_some() {
        eprintln!("real-client: kept {}", dir.keep().display());
    }
    let failures: Vec<String> = results
        .iter()
        .flat_map(|(n, b)| b.iter().map(move |m| format!("[{n}] {m}")))
        .collect();
    if !failures.is_empty() {
        for (i, r) in hooked_runs.iter().enumerate() {
            eprintln!(
                "run {}: exit {:?} in {:?}, stderr {:?}",
                i + 1,
                r.code,
                r.took,
                r.stderr
            );
        }
        anyhow::bail!(
            "Claude Code {version}, {name}: {} check(s) failed:\n  {}",
            results.iter().filter(|(_, b)| !b.is_empty()).count(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Claude Code asked for exactly the scripted replies, in each loop: no
/// more (an `exhausted` request) and no fewer. A difference means the
/// release behaves differently from what the scenario expects.
fn script_followed(steps: &[Step], runs: &[Run]) -> Vec<String> {
    let mut bad = Vec::new();
    for (i, (step, run)) in steps.iter().zip(runs).enumerate() {
        let mut want: Vec<(String, usize)> = vec![(
            "main".into(),
            step.script["replies"].as_array().map_or(0, Vec::len),
        )];
        for (marker, list) in step.script["agents"].as_object().into_iter().flatten() {
            want.push((marker.clone(), list.as_array().map_or(0, Vec::len)));
        }
        for (queue, n) in want {
            let got = run
                .requests
                .iter()
                .filter(|q| q["queue"] == queue.as_str() && !q["scripted"].is_null())
                .count();
            if got != n {
                bad.push(format!(
                    "run {}: {got} of {n} {queue} replies asked for",
                    i + 1
                ));
            }
        }
        let extra = run
            .requests
            .iter()
            .filter(|q| q["exhausted"] == true)
            .count();
        if extra > 0 {
            bad.push(format!(
                "run {}: {extra} agent-loop request(s) past the script",
                i + 1
            ));
        }
    }
    bad
}

/// The forked session is stitched to the one it forks.
fn fork_linked(
    truth: &std::collections::BTreeMap<String, truth::Session>,
    session: &str,
    store: &checks::Store,
) -> Vec<String> {
    let forks: Vec<&String> = truth.keys().filter(|s| s.as_str() != session).collect();
    if forks.len() != 1 {
        return vec![format!(
            "expected one forked session beside {session}, the transcripts hold {forks:?}"
        )];
    }
    match store
        .conversations
        .iter()
        .find(|c| c["session_id"] == forks[0].as_str())
    {
        Some(c) if c["parent_session_id"] == session => vec![],
        Some(c) => vec![format!(
            "fork {}: parent {}, link {}",
            forks[0], c["parent_session_id"], c["link_kind"]
        )],
        None => vec![format!("fork {}: no conversation row", forks[0])],
    }
}

macro_rules! suite {
    ($($test:ident: $scenario:ident, $outage:expr;)*) => {
        mod latest {
            use super::*;
            $(#[test]
            fn $test() -> anyhow::Result<()> {
                scenario(LATEST, stringify!($scenario), $scenario(), $outage)
            })*
        }
        mod older {
            use super::*;
            $(#[test]
            fn $test() -> anyhow::Result<()> {
                scenario(OLDER, stringify!($scenario), $scenario(), $outage)
            })*
        }
    };
}

suite! {
    thinking_text_and_tool_use_in_one_message_are_captured: multi_block, Outage::None;
    write_read_edit_and_bash_are_captured: file_tools, Outage::None;
    a_failing_tool_is_captured_as_failed: failing_tool, Outage::None;
    a_subagent_and_its_tool_calls_are_captured: subagent, Outage::None;
    resume_continue_and_fork_are_captured: resume_fork, Outage::None;
    a_model_switch_is_captured: model_switch, Outage::None;
    a_hung_then_stopped_server_loses_nothing_after_flush: outage, Outage::HungThenStopped;
}
