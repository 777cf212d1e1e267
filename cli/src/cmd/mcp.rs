//! `hookline mcp`: the captured history for Claude itself, as an MCP server
//! over stdio (docs/mcp.md). Four read-only tools, written once against
//! [`History`]: a local store (the store options of every command) or a
//! remote `hookline serve` (`--remote URL --token T`, its read API).
//!
//! stdout is the protocol: everything else (logs, errors) goes to stderr.
//! Every answer is text of at most [`MAX_ANSWER`] bytes; one that was cut
//! says so and how to get the rest (`offset`).

use std::sync::Arc;

use anyhow::Context;
use hookline_core::search::snippet;
use hookline_core::store::SessionSummary;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};

use super::sessions;
use crate::config::{PriceArgs, Role, StoreArgs};
use crate::history::{History, HistoryError, Local, Remote, SearchArgs, SessionsArgs, UsageArgs};
use crate::text::one_line;

/// Most bytes of text in one answer, so that it fits a model's context.
pub const MAX_ANSWER: usize = 20_000;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Read from this hookline server (its read API) instead of a local
    /// store, e.g. https://hookline.example.com.
    #[arg(long, value_name = "URL", env = "HOOKLINE_REMOTE", requires = "token")]
    remote: Option<String>,
    /// The bearer token of --remote (one of the server's tokens).
    #[arg(long, env = "HOOKLINE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    prices: PriceArgs,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let history: Arc<dyn History> = match (&opts.remote, &opts.token) {
        (Some(url), Some(token)) => Arc::new(Remote::new(url, token)),
        _ => {
            let overrides = opts.prices.overrides()?;
            let stores = opts.store.open(Role::Operator).await?;
            eprintln!("hookline mcp: reading {}", stores.description);
            Arc::new(Local::of(&stores, overrides))
        }
    };
    let server = Tools::new(history)
        .serve(rmcp::transport::stdio())
        .await
        .context("MCP initialization failed")?;
    server.waiting().await.context("MCP server failed")?;
    Ok(())
}

/// The MCP server: its tools over one [`History`].
#[derive(Clone)]
pub struct Tools {
    history: Arc<dyn History>,
    tool_router: ToolRouter<Self>,
}

/// `get_session`'s arguments.
#[derive(Clone, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionArgs {
    /// The session id, or a unique prefix of it (as search_history and
    /// recent_sessions show them).
    pub id: String,
    /// Start at this step (0 = the first message): the `offset` a cut
    /// answer names.
    #[serde(default)]
    pub offset: Option<usize>,
}

/// The text of a tool's answer, bounded by [`MAX_ANSWER`].
struct Answer {
    text: String,
}

impl Answer {
    fn new(head: String) -> Answer {
        Answer { text: head }
    }

    /// Adds `piece` when it fits with room for a closing note; false when
    /// it does not (the answer is full).
    fn push(&mut self, piece: &str) -> bool {
        if self.text.len() + piece.len() + 300 > MAX_ANSWER {
            return false;
        }
        self.text += piece;
        true
    }

    /// Adds as much of `piece` as fits (on a character boundary).
    fn push_cut(&mut self, piece: &str) {
        let room = MAX_ANSWER.saturating_sub(self.text.len() + 300);
        let mut end = room.min(piece.len());
        while !piece.is_char_boundary(end) {
            end -= 1;
        }
        self.text += &piece[..end];
    }

    fn done(self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(self.text)])
    }
}

/// A tool's failure as the model sees it: the tool ran and said why.
fn refused(e: HistoryError) -> CallToolResult {
    let text = crate::text::error_chain(&e);
    if !matches!(e, HistoryError::Arg(_)) {
        tracing::error!(error = %text, "hookline mcp: a tool failed");
    }
    CallToolResult::error(vec![ContentBlock::text(text)])
}

fn who(s: &SessionSummary) -> String {
    format!(
        "{}@{}",
        s.user_name.as_deref().unwrap_or("-"),
        s.host.as_deref().unwrap_or("-")
    )
}

#[tool_router]
impl Tools {
    pub fn new(history: Arc<dyn History>) -> Tools {
        Tools {
            history,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        description = "Full-text search over the captured Claude Code sessions: prompts, replies, tool inputs and results, file paths. Query syntax: words (all, any order), \"a phrase\", prefix*, -word. Ranked hits, each with its session id, time, kind and a snippet (**marked** words); use get_session with the id for the whole conversation."
    )]
    async fn search_history(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let page = match self.history.search(&args).await {
            Ok(p) => p,
            Err(e) => return Ok(refused(e)),
        };
        let offset = args.offset.unwrap_or(0);
        let mut a = Answer::new(format!(
            "{} hits for {:?} (from offset {offset}):\n",
            page.hits.len(),
            args.query
        ));
        let mut shown = 0;
        for h in &page.hits {
            let what = match &h.tool_name {
                Some(t) => format!("{} {t}", h.kind.as_str()),
                None => h.kind.as_str().to_owned(),
            };
            let piece = format!(
                "\n- {}  {what}  session {}  \"{}\"  (anchor {})\n  {}\n",
                h.at.format("%Y-%m-%d %H:%M:%S"),
                h.session_id,
                one_line(h.title.as_deref().unwrap_or("-"), 80),
                h.anchor,
                snippet::marked(&h.snippet, "**", "**"),
            );
            if !a.push(&piece) {
                break;
            }
            shown += 1;
        }
        let next = if shown < page.hits.len() {
            Some(offset + shown as i64)
        } else {
            page.next_offset
        };
        if page.hits.is_empty() {
            a.push("(no hits)\n");
        } else if let Some(n) = next {
            a.push(&format!(
                "\n(more hits: call search_history again with offset={n})\n"
            ));
        }
        Ok(a.done())
    }

    #[tool(
        description = "One captured Claude Code session by id (or a unique prefix): its title, cwd, user, times, then every prompt, reply and tool call with input and result, in order. Long sessions come in parts: the answer names the offset of the next part."
    )]
    async fn get_session(
        &self,
        Parameters(args): Parameters<SessionArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let view = match self.history.session(&args.id).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                    "argument `id`: no session {:?} (or the prefix matches several; give more of the id, or find it with recent_sessions or search_history)",
                    args.id
                ))]));
            }
            Err(e) => return Ok(refused(e)),
        };
        let total = view.steps.len();
        let from = args.offset.unwrap_or(0);
        if from > total {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "argument `offset`: {from} is past the session's {total} steps"
            ))]));
        }
        let mut a = Answer::new(sessions::header(&view));
        let mut next = None;
        for (i, s) in view.steps.iter().enumerate().skip(from) {
            let piece = format!("[step {i}] {}", sessions::step(s));
            if !a.push(&piece) {
                if i == from {
                    // One step larger than an answer: its start.
                    a.push_cut(&piece);
                    a.text += &format!(
                        "\n… (this step is cut at the answer's limit; `hookline sessions show {} --json` shows it whole)\n",
                        view.summary.session_id
                    );
                    next = Some(i + 1).filter(|n| *n < total);
                } else {
                    next = Some(i);
                }
                break;
            }
        }
        if let Some(n) = next {
            a.text += &format!(
                "\n(cut: steps {from} to {} of {total} shown; call get_session with id={:?} offset={n} for the rest)\n",
                n - 1,
                view.summary.session_id
            );
        }
        Ok(a.done())
    }

    #[tool(
        description = "The captured Claude Code sessions, newest first: start time, duration, messages, tool uses, id, user@host, cwd and title. Filters: user, host; limit (default 20, at most 100)."
    )]
    async fn recent_sessions(
        &self,
        Parameters(args): Parameters<SessionsArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let list = match self.history.sessions(&args).await {
            Ok(l) => l,
            Err(e) => return Ok(refused(e)),
        };
        let mut a = Answer::new(format!("{} sessions, newest first:\n", list.len()));
        for (i, s) in list.iter().enumerate() {
            let piece = format!(
                "\n- {}  session {}  {}  {} messages, {} tool uses  cwd {}\n  \"{}\"\n",
                s.started_at.format("%Y-%m-%d %H:%M:%S"),
                s.session_id,
                who(s),
                s.message_count,
                s.tool_use_count,
                s.cwd.as_deref().unwrap_or("-"),
                one_line(s.title.as_deref().unwrap_or("-"), 100),
            );
            if !a.push(&piece) {
                a.push(&format!(
                    "\n(cut: {i} of {} shown; narrow with user or host, or ask a smaller limit)\n",
                    list.len()
                ));
                break;
            }
        }
        if list.is_empty() {
            a.push("(no sessions captured yet)\n");
        }
        Ok(a.done())
    }

    #[tool(
        description = "Tokens and exact cost of the captured sessions (as `hookline usage`): one row per day (view daily, the default), week, month, session or 5-hour billing block, optionally split by model, user, host, project or tool; since/until are UTC days (YYYY-MM-DD). The answer is the report as JSON."
    )]
    async fn usage(
        &self,
        Parameters(args): Parameters<UsageArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let report = match self.history.usage(&args).await {
            Ok(r) => r,
            Err(e) => return Ok(refused(e)),
        };
        let rows = report["rows"].as_array().cloned().unwrap_or_default();
        let mut head = report.clone();
        if let Some(o) = head.as_object_mut() {
            o.remove("rows");
        }
        let mut a = Answer::new(format!(
            "{}\n{} rows:\n",
            serde_json::to_string(&head).unwrap_or_default(),
            rows.len()
        ));
        for (i, r) in rows.iter().enumerate() {
            let piece = format!("{}\n", serde_json::to_string(r).unwrap_or_default());
            if !a.push(&piece) {
                a.push(&format!(
                    "(cut: {i} of {} rows shown; narrow with since/until, user or project, or a coarser view)\n",
                    rows.len()
                ));
                break;
            }
        }
        Ok(a.done())
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("hookline", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "The user's captured Claude Code history (hookline): search it with search_history, read a session with get_session, list recent_sessions, see token usage and cost with usage. Read-only.",
            )
    }
}
