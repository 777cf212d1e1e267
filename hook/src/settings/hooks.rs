//! hookline's entries in `settings.json` `hooks`: adding them (after
//! removing any earlier ones, so installing twice leaves one set) and
//! removing only them.
//!
//! ```json
//! {"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "/usr/local/bin/hookline-hook", "timeout": 10, "async": true}]}],
//!            "Stop": [{"hooks": [{"type": "command", "command": "/usr/local/bin/hookline-hook", "timeout": 2, "async": false}]}]}}
//! ```

use super::ordered::Json;

/// A path as one shell word (single-quoted when it needs quoting).
pub use hookline_core::text::shell_word;

/// Claude Code events hookline does not register, each with the reason,
/// read from the CLI's bundle (2.1.197 and 2.1.332) and its docs.
///
/// Every other event of `hookline_core::event::KNOWN_EVENTS` is registered
/// as a command hook that prints nothing and exits 0, `async` but for
/// [`SYNCHRONOUS`]: Claude Code moves it to the background at once ("moved
/// to the background" in its `--debug` log), and a hook without output and
/// exit status 0 is no decision on the events that take one (PreToolUse,
/// UserPromptSubmit, Stop, SubagentStop, PreCompact, PermissionRequest, …),
/// so registering them changes nothing Claude Code does. Claude Code before an event
/// existed ignores its key in settings.json (2.1.197 has no DirectoryAdded).
/// An event this list does not know yet (a later Claude Code) is not
/// registered, since it may be a decision hook; ingest still accepts it.
pub const NOT_REGISTERED: [(&str, &str); 7] = [
    (
        "WorktreeCreate",
        "a hook there replaces Claude Code's own git worktree handling and must print the worktree path",
    ),
    (
        "WorktreeRemove",
        "a hook there replaces Claude Code's own git worktree removal",
    ),
    (
        "FileChanged",
        "its matcher names the files to watch: registering it starts a file watcher",
    ),
    (
        "MessageDisplay",
        "Claude Code runs it inline whatever `async` says (forceSyncExecution, 2.1.197 and 2.1.332): \
         a hook there delays every assistant message on screen; its text is in the transcript anyway",
    ),
    (
        "PreModelSwitch",
        "a decision hook (2.1.332: the switch's `decision` and `skipConfirm` come from its hooks; \
         without one Claude Code proceeds at once): a hook there sits in the path of every model switch; \
         the model is in the transcript",
    ),
    (
        "PostModelSwitch",
        "new in 2.1.332 and not in the docs: not known to run in the background; the model is in the transcript",
    ),
    (
        "PreSkillShellCommand",
        "a decision hook (2.1.332): its verdict allows or blocks a skill's shell command",
    ),
];

/// Events Claude Code runs inline whatever `async` says
/// (`forceSyncExecution` in its bundle): the hook only spools them (no lock
/// wait, no network; the next event sends them), so Claude Code waits for a
/// few local writes at most (6 ms for a debug build). MessageDisplay is
/// always inline, and not registered (should an older install have left
/// hookline there). Setup is inline under `claude --init`/`--init-only`,
/// where it fires; it stays registered. (SessionStart is inline under
/// `--init` too, but in the background in every other mode, so it is sent
/// as usual: under `--init` Claude Code waits for its 150 ms of sending at
/// most, `capture::INLINE_BUDGET`.)
pub const RUN_INLINE: [&str; 2] = ["MessageDisplay", "Setup"];

/// Events registered synchronously (`async: false`, [`SYNC_TIMEOUT_SECS`])
/// on unix, each with the reason; every other event is registered `async`.
///
/// When a `claude -p` turn ends, 2.1.332 cancels the async hooks still
/// running (SIGTERM to the hook's group as early as 16 ms after Stop
/// started, SIGKILL 1.5 s later) and waits for them to exit: a hook alive at
/// the cancel costs the 1.5 s whatever it does, and one killed before
/// `main` caught the signal (a debug binary starting on a loaded machine)
/// loses its event, with no trace in `hook.log`. On these two events the
/// hook does local work only (it spools the event and a tail job, starts
/// the detached tail sender and exits: 8 ms in a release build, 23 ms in a
/// debug one; no lock wait, no network), so Claude Code waits those few ms
/// and never cancels it. The hook prints nothing and exits 0, so it is no
/// decision (Claude Code does not go on after Stop). Off unix the hook
/// reads the transcript and sends itself (no detached sender), so there
/// these stay async.
pub const SYNCHRONOUS: [(&str, &str); 2] = [
    (
        "Stop",
        "ends every turn: an async Stop hook is cancelled at the end of a `-p` turn (1.5 s, or its event lost); \
         the hook only spools and starts the tail sender",
    ),
    (
        "SessionEnd",
        "fires at teardown, where both versions wait for its hooks whatever `async` says (1.5 s budget); \
         the hook only spools and starts the tail sender",
    ),
];

/// Seconds Claude Code gives a synchronous hook ([`SYNCHRONOUS`]): it only
/// bounds a hook that hangs (a stalled disk), since Claude Code waits that
/// long before it goes on; the hook takes a few ms.
pub const SYNC_TIMEOUT_SECS: u64 = 2;

/// Whether `install` registers `event` synchronously (on this platform).
pub fn runs_synchronously(event: &str) -> bool {
    cfg!(unix) && SYNCHRONOUS.iter().any(|(e, _)| *e == event)
}

/// Why hookline does not register `event`, if it does not.
pub fn not_registered(event: &str) -> Option<&'static str> {
    NOT_REGISTERED
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, why)| *why)
}

/// Every Claude Code event hookline captures: the events of
/// `hookline_core::event::KNOWN_EVENTS` but [`NOT_REGISTERED`].
pub fn events() -> impl Iterator<Item = &'static str> {
    hookline_core::event::KNOWN_EVENTS
        .into_iter()
        .filter(|e| not_registered(e).is_none())
}

/// Events whose hooks can only be commands (no `http`).
pub const COMMAND_ONLY: [&str; 2] = ["SessionStart", "Setup"];

/// Seconds Claude Code gives a command hook (it finishes in about one
/// `timeout_ms`; this only bounds a hook that hangs).
pub const COMMAND_TIMEOUT_SECS: u64 = 10;
/// Seconds Claude Code waits for an http hook (http hooks run inline).
pub const HTTP_TIMEOUT_SECS: u64 = 3;

/// The environment variable an http hook's header reads.
pub const TOKEN_VAR: &str = "HOOKLINE_TOKEN";

/// What `install` registers.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Shell command that runs the hook binary.
    pub command: String,
    /// With `--http`: the `/v1/hook` URL of native http hooks.
    pub http_url: Option<String>,
}

impl Plan {
    fn handler(&self, event: &str) -> Json {
        match &self.http_url {
            Some(url) if !COMMAND_ONLY.contains(&event) => Json::object(vec![
                ("type", Json::str("http")),
                ("url", Json::str(url)),
                (
                    "headers",
                    Json::object(vec![(
                        "Authorization",
                        Json::String(format!("Bearer ${TOKEN_VAR}")),
                    )]),
                ),
                ("allowedEnvVars", Json::Array(vec![Json::str(TOKEN_VAR)])),
                ("timeout", Json::Number(HTTP_TIMEOUT_SECS.into())),
            ]),
            _ => {
                let sync = runs_synchronously(event);
                let timeout = if sync {
                    SYNC_TIMEOUT_SECS
                } else {
                    COMMAND_TIMEOUT_SECS
                };
                Json::object(vec![
                    ("type", Json::str("command")),
                    ("command", Json::str(&self.command)),
                    ("timeout", Json::Number(timeout.into())),
                    ("async", Json::Bool(!sync)),
                ])
            }
        }
    }
}

/// True for a handler `install` wrote: a command running `hookline-hook`,
/// or an http hook to `…/v1/hook` that sends `$HOOKLINE_TOKEN`.
pub fn is_ours(handler: &Json) -> bool {
    match handler.get("type").and_then(Json::as_str) {
        Some("command") => handler
            .get("command")
            .and_then(Json::as_str)
            .is_some_and(|c| program_name(c) == "hookline-hook"),
        Some("http") => {
            let url = handler.get("url").and_then(Json::as_str).unwrap_or("");
            let token = matches!(handler.get("allowedEnvVars"), Some(Json::Array(v)) if v.iter().any(|x| x.as_str() == Some(TOKEN_VAR)));
            url.trim_end_matches('/').ends_with("/v1/hook") && token
        }
        _ => false,
    }
}

/// The file name of a command's program (first word, quotes removed).
fn program_name(command: &str) -> &str {
    let c = command.trim_start();
    let first = match c.chars().next() {
        Some(q @ ('\'' | '"')) => c[1..].split(q).next().unwrap_or(""),
        _ => c.split_whitespace().next().unwrap_or(""),
    };
    first
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim_end_matches(".exe")
}

/// Removes hookline's handlers (and the groups and event keys left empty
/// by that). Returns how many handlers were removed.
pub fn remove_ours(settings: &mut Json) -> usize {
    let mut removed = 0;
    let Some(Json::Object(events)) = settings.get_mut("hooks") else {
        return 0;
    };
    events.retain_mut(|(_, groups)| {
        let Json::Array(groups) = groups else {
            return true;
        };
        let before_groups = groups.len();
        groups.retain_mut(|group| {
            let Some(Json::Array(handlers)) = group.get_mut("hooks") else {
                return true;
            };
            let before = handlers.len();
            handlers.retain(|h| !is_ours(h));
            removed += before - handlers.len();
            !(handlers.is_empty() && before > 0)
        });
        !(groups.is_empty() && before_groups > 0)
    });
    let now_empty = events.is_empty();
    if removed > 0 && now_empty {
        settings.remove("hooks");
    }
    removed
}

/// Adds one group with hookline's handler to every event of [`events`],
/// after removing earlier ones. Returns the number of events registered.
pub fn add(settings: &mut Json, plan: &Plan) -> usize {
    remove_ours(settings);
    let Some(hooks) = settings.entry("hooks", Json::Object(Vec::new())) else {
        return 0;
    };
    let mut n = 0;
    for event in events() {
        if let Some(Json::Array(groups)) = hooks.entry(event, Json::Array(Vec::new())) {
            groups.push(Json::object(vec![(
                "hooks",
                Json::Array(vec![plan.handler(event)]),
            )]));
            n += 1;
        }
    }
    n
}

/// Events in `settings` that have a hookline handler.
pub fn installed_events(settings: &Json) -> Vec<String> {
    events_with(settings, |_, h| is_ours(h))
}

/// Events [`SYNCHRONOUS`] here whose hookline command hook in `settings`
/// is still `async: true` (written by an older install).
pub fn async_but_synchronous(settings: &Json) -> Vec<String> {
    events_with(settings, |event, h| {
        runs_synchronously(event)
            && is_ours(h)
            && h.get("type").and_then(Json::as_str) == Some("command")
            && matches!(h.get("async"), Some(Json::Bool(true)))
    })
}

/// Events in `settings` with a handler for which `pick(event, handler)`.
fn events_with(settings: &Json, pick: impl Fn(&str, &Json) -> bool) -> Vec<String> {
    let Some(Json::Object(events)) = settings.get("hooks") else {
        return Vec::new();
    };
    events
        .iter()
        .filter(|(event, groups)| {
            match groups {
            Json::Array(g) => g.iter().any(|grp| {
                matches!(grp.get("hooks"), Some(Json::Array(h)) if h.iter().any(|h| pick(event, h)))
            }),
            _ => false,
        }
        })
        .map(|(k, _)| k.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Json {
        serde_json::from_str(s).unwrap_or(Json::Null)
    }

    #[test]
    fn ours_is_recognised_by_program_name_only() {
        let cmd = |c: &str| {
            Json::object(vec![
                ("type", Json::str("command")),
                ("command", Json::str(c)),
            ])
        };
        assert!(is_ours(&cmd("/usr/local/bin/hookline-hook")));
        assert!(is_ours(&cmd("'/my dir/hookline-hook' capture")));
        assert!(!is_ours(&cmd("/bin/other-hook --hookline-hook")));
        assert!(!is_ours(&cmd("hookline-hook-wrapper")));
    }

    #[test]
    fn add_twice_leaves_one_handler_and_keeps_others() -> Result<(), serde_json::Error> {
        let mut s = parse(
            r#"{"model":"x","hooks":{"Stop":[{"matcher":"","hooks":[{"type":"command","command":"/bin/mine"}]}]}}"#,
        );
        let plan = Plan {
            command: "/opt/hookline-hook".into(),
            http_url: None,
        };
        add(&mut s, &plan);
        let once = serde_json::to_string(&s)?;
        add(&mut s, &plan);
        assert_eq!(serde_json::to_string(&s)?, once);
        assert_eq!(installed_events(&s).len(), events().count());
        assert_eq!(remove_ours(&mut s), events().count());
        assert_eq!(
            serde_json::to_string(&s)?,
            r#"{"model":"x","hooks":{"Stop":[{"matcher":"","hooks":[{"type":"command","command":"/bin/mine"}]}]}}"#
        );
        Ok(())
    }

    #[test]
    fn every_event_not_registered_is_a_known_one() {
        for (e, why) in NOT_REGISTERED {
            assert!(hookline_core::event::KNOWN_EVENTS.contains(&e), "{e}");
            assert!(!why.is_empty());
        }
        assert_eq!(
            events().count(),
            hookline_core::event::KNOWN_EVENTS.len() - NOT_REGISTERED.len()
        );
    }

    #[test]
    #[cfg(unix)]
    fn an_older_all_async_install_is_told_apart_and_add_upgrades_it() {
        let mut s = parse(
            r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"/opt/hookline-hook","timeout":10,"async":true}]}]}}"#,
        );
        assert_eq!(async_but_synchronous(&s), vec!["Stop".to_owned()]);
        let plan = Plan {
            command: "/opt/hookline-hook".into(),
            http_url: None,
        };
        add(&mut s, &plan);
        assert!(async_but_synchronous(&s).is_empty());
    }

    #[test]
    fn every_synchronous_event_is_registered_with_a_reason() {
        for (e, why) in SYNCHRONOUS {
            assert!(events().any(|r| r == e), "{e}");
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(
            shell_word("/usr/bin/hookline-hook"),
            "/usr/bin/hookline-hook"
        );
        assert_eq!(shell_word("/my dir/it's"), r"'/my dir/it'\''s'");
    }
}
