//! `hookline sessions`: read captured conversations without SQL.

use hookline_core::store::{
    self, Seek, SessionCursor, SessionFilter, SessionSummary, SessionView, Step, ThreadLink,
};

use crate::config::{Role, StoreArgs};
use crate::text::one_line;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List conversations, newest first: started, duration, messages, tool uses, title.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Only the conversations of this OS user (as the hook stamped it).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only the conversations captured on this host.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
        /// The page older than this cursor (`STARTED_AT,SESSION_ID`, as the
        /// "older:" line of the previous page prints it).
        #[arg(long, value_name = "CURSOR", conflicts_with = "after")]
        before: Option<SessionCursor>,
        /// The page newer than this cursor (the "newer:" line).
        #[arg(long, value_name = "CURSOR")]
        after: Option<SessionCursor>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one conversation as a readable transcript: prompts, replies, tool
    /// calls with their results.
    Show {
        /// Session id, or a unique prefix of it.
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Show the whole thread: every session linked to this one by
        /// resume, fork, clear or compact, in order.
        #[arg(long)]
        thread: bool,
    },
    /// Export one session, its thread, or the sessions of a date range as
    /// Markdown, one self-contained HTML file, or the transcript lines
    /// (JSONL); see --help.
    Export(super::export::Opts),
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let reader = match opts.command {
        Command::Export(e) => return super::export::run(e, opts.store).await,
        _ => opts.store.open(Role::Operator).await?.reader,
    };
    match opts.command {
        Command::List {
            limit,
            user,
            host,
            before,
            after,
            json,
        } => {
            let filter = SessionFilter {
                user,
                host,
                ..SessionFilter::default()
            };
            let at = match (before, after) {
                (Some(c), _) => Seek::Before(c),
                (None, Some(c)) => Seek::After(c),
                (None, None) => Seek::First,
            };
            let page = store::page::page(reader.as_ref(), &filter, &at, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page.sessions)?);
            } else {
                print!("{}", table(&page.sessions));
            }
            // The links, on stderr: stdout stays the table or the JSON.
            if let Some(c) = &page.newer {
                eprintln!("newer: --after '{c}'");
            }
            if let Some(c) = &page.older {
                eprintln!("older: --before '{c}'");
            }
        }
        Command::Show { id, json, thread } => {
            let Some(view) = reader.session(&id).await? else {
                anyhow::bail!(
                    "no session {id:?} (or the prefix matches several; give more of the id)"
                );
            };
            let links = store::thread(reader.as_ref(), &view.summary.session_id).await?;
            if !thread {
                if json {
                    println!("{}", serde_json::to_string_pretty(&view)?);
                } else {
                    print!("{}", thread_table(&links, &view.summary.session_id));
                    print!("{}", transcript(&view));
                }
                return Ok(());
            }
            let mut views = Vec::new();
            for l in &links {
                if let Some(v) = reader.session(&l.session_id).await? {
                    views.push(v);
                }
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"thread": links, "sessions": views})
                    )?
                );
            } else {
                print!("{}", thread_table(&links, &view.summary.session_id));
                for v in &views {
                    let link = links.iter().find(|l| l.session_id == v.summary.session_id);
                    if let Some(parent) = link.and_then(|l| l.parent_session_id.as_deref()) {
                        let kind = link
                            .and_then(|l| l.link_kind.as_deref())
                            .unwrap_or("continued");
                        println!("── {kind} of {parent} ──");
                    }
                    print!("{}", transcript(v));
                }
            }
        }
        Command::Export(_) => {}
    }
    Ok(())
}

/// From start to end; to the last activity (marked `+`) when no SessionEnd came.
fn duration(s: &SessionSummary) -> String {
    let open = if s.ended_at.is_none() { "+" } else { "" };
    match s.duration_seconds() {
        None => "open".into(),
        Some(d) if d < 60 => format!("{d}s{open}"),
        Some(d) if d < 3600 => format!("{}m{:02}s{open}", d / 60, d % 60),
        Some(d) => format!("{}h{:02}m{open}", d / 3600, (d % 3600) / 60),
    }
}

/// `user@host`, with `-` for what the hook did not stamp.
fn who(s: &SessionSummary) -> String {
    format!(
        "{}@{}",
        s.user_name.as_deref().unwrap_or("-"),
        s.host.as_deref().unwrap_or("-")
    )
}

pub fn table(sessions: &[SessionSummary]) -> String {
    let mut out = format!(
        "{:<19}  {:>8}  {:>5}  {:>5}  {:<36}  {:<24}  {}\n",
        "STARTED", "DURATION", "MSGS", "TOOLS", "SESSION", "USER@HOST", "TITLE"
    );
    for s in sessions {
        out += &format!(
            "{:<19}  {:>8}  {:>5}  {:>5}  {:<36}  {:<24}  {}\n",
            s.started_at.format("%Y-%m-%d %H:%M:%S"),
            duration(s),
            s.message_count,
            s.tool_use_count,
            s.session_id,
            one_line(&who(s), 24),
            one_line(s.title.as_deref().unwrap_or("-"), 60)
        );
    }
    if sessions.is_empty() {
        out += "(no sessions captured yet)\n";
    }
    out
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

fn json_brief(v: &serde_json::Value, max: usize) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    if s.len() > max {
        let cut: String = s.chars().take(max).collect();
        format!(
            "{cut}\n… ({} bytes in all; --json shows everything)",
            s.len()
        )
    } else {
        s
    }
}

/// The thread a session belongs to, one line per session; empty when the
/// session is linked to no other.
pub fn thread_table(links: &[ThreadLink], current: &str) -> String {
    if links.len() < 2 {
        return String::new();
    }
    let mut out = format!("Thread ({} sessions)\n", links.len());
    for l in links {
        let mark = if l.session_id == current { "*" } else { " " };
        out += &format!(
            "{mark} {}{}  {}  {:<9}  {}\n",
            "  ".repeat(l.depth),
            l.session_id,
            l.started_at.format("%Y-%m-%d %H:%M:%S"),
            l.link_kind.as_deref().unwrap_or("start"),
            one_line(l.title.as_deref().unwrap_or("-"), 60)
        );
    }
    out.push('\n');
    out
}

/// A conversation's head: title, cwd, who, times, model and counts.
pub fn header(v: &SessionView) -> String {
    let s = &v.summary;
    let mut out = format!("Session {}\n", s.session_id);
    out += &format!("  title    {}\n", s.title.as_deref().unwrap_or("-"));
    out += &format!("  cwd      {}\n", s.cwd.as_deref().unwrap_or("-"));
    out += &format!("  by       {}\n", who(s));
    out += &format!(
        "  started  {} ({})   ended {} ({})   duration {}\n",
        s.started_at.format("%Y-%m-%d %H:%M:%S"),
        v.start_source.as_deref().unwrap_or("-"),
        match (s.ended_at, s.last_activity_at) {
            (Some(e), _) => e.format("%H:%M:%S").to_string(),
            (None, Some(l)) => format!("- (last activity {})", l.format("%Y-%m-%d %H:%M:%S")),
            (None, None) => "-".into(),
        },
        s.end_reason.as_deref().unwrap_or("-"),
        duration(s)
    );
    out += &format!(
        "  model    {}   messages {}   tool uses {}   tokens in {} out {}\n\n",
        v.model.as_deref().unwrap_or("-"),
        s.message_count,
        s.tool_use_count,
        s.input_tokens,
        s.output_tokens
    );
    out
}

/// One step of a transcript: a message, or a tool call with its result.
pub fn step(step: &Step) -> String {
    let mut out = String::new();
    match step {
        Step::Message {
            at,
            role,
            text,
            agent_id,
            ..
        } => {
            let who = agent_id
                .as_ref()
                .map_or(role.clone(), |a| format!("{role} ({a})"));
            out += &format!(
                "{}  {who}\n{}\n",
                at.format("%H:%M:%S"),
                indent(text, "    ")
            );
        }
        Step::ToolUse {
            at,
            tool_name,
            status,
            input,
            response,
            error,
            duration_ms,
            ..
        } => {
            let took = duration_ms.map_or(String::new(), |d| format!(", {d} ms"));
            out += &format!(
                "{}  tool {} [{status}{took}]\n",
                at.format("%H:%M:%S"),
                tool_name.as_deref().unwrap_or("?")
            );
            if let Some(i) = input {
                out += &format!("    input:\n{}", indent(&json_brief(i, 2000), "      "));
            }
            if let Some(r) = response {
                out += &format!("    result:\n{}", indent(&json_brief(r, 2000), "      "));
            }
            if let Some(e) = error {
                out += &format!("    error:\n{}", indent(e, "      "));
            }
            out += "\n";
        }
    }
    out
}

pub fn transcript(v: &SessionView) -> String {
    let mut out = header(v);
    for s in &v.steps {
        out += &step(s);
    }
    out
}
