//! Cost and usage (docs/usage.md): what every session, model, user, host
//! and project spent, in exact pico-dollars.
//!
//! The store keeps a rollup, `usage_hourly` (per session, UTC hour, model,
//! agent and context band: token sums of the assistant messages), and
//! `usage_tool_hourly` (the same per tool), recomputed by the worker's
//! `refresh`; [`UsageStore::usage_rows`] reads
//! it with each row's conversation (user, host, cwd). Everything else is
//! here, once for both stores: pricing each row at the price valid in its
//! hour ([`price::PriceBook`]), and the reports ([`report`](mod@report)).

pub mod price;
pub mod report;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;
pub use price::{Pico, Price, PriceBook};
pub use report::{By, Figures, Period, Report, ReportOptions, ReportRow, build};

/// Token counts of some assistant messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
    /// Cache writes, all lifetimes.
    pub cache_creation: i64,
    /// Of which written for 5 minutes / 1 hour (the transcript's split; a
    /// write without a split is priced as 5-minute, Anthropic's default).
    pub cache_creation_5m: i64,
    pub cache_creation_1h: i64,
    pub cache_read: i64,
}

impl Tokens {
    pub fn add(&mut self, o: &Tokens) {
        self.input += o.input;
        self.output += o.output;
        self.cache_creation += o.cache_creation;
        self.cache_creation_5m += o.cache_creation_5m;
        self.cache_creation_1h += o.cache_creation_1h;
        self.cache_read += o.cache_read;
    }

    pub fn total(&self) -> i64 {
        self.input + self.output + self.cache_creation + self.cache_read
    }

    /// The input a request sent, cache included: what decides the
    /// long-context tier.
    pub fn context(&self) -> i64 {
        self.input + self.cache_creation + self.cache_read
    }

    /// The cost of these tokens at `rates`, exactly.
    pub fn cost(&self, r: &price::Rates) -> Pico {
        let unsplit =
            (self.cache_creation - self.cache_creation_5m - self.cache_creation_1h).max(0);
        let t = |n: i64, rate: i64| i128::from(n) * i128::from(rate);
        t(self.input, r.input)
            + t(self.output, r.output)
            + t(self.cache_creation_5m + unsplit, r.cache_write_5m)
            + t(self.cache_creation_1h, r.cache_write_1h)
            + t(self.cache_read, r.cache_read)
    }
}

/// One rollup row with its conversation's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRow {
    pub session_id: String,
    /// Start of the UTC hour.
    pub hour: DateTime<Utc>,
    /// `""` when the messages had no model.
    pub model: String,
    /// `""` for the main transcript, else the subagent's id.
    pub agent_id: String,
    /// [`price::context_band`] of its messages.
    pub context_band: i64,
    /// The per-tool rollup's tool (`""`: no tool_use; always `""` in the
    /// other rollup). Its messages and tokens are the tool's equal share.
    pub tool: String,
    pub messages: i64,
    pub tokens: Tokens,
    pub user_name: Option<String>,
    pub host: Option<String>,
    pub cwd: Option<String>,
    pub title: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// Which rows [`UsageStore::usage_rows`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// Hours from this one on.
    pub since: Option<DateTime<Utc>>,
    /// Hours before this one.
    pub until: Option<DateTime<Utc>>,
    /// Only this user's sessions.
    pub user: Option<String>,
    /// Only this session.
    pub session_id: Option<String>,
    /// Only sessions whose user is one of these: the viewer's scope, set by
    /// [`crate::store::scope`]. `None`: any.
    pub owners: Option<Vec<String>>,
    /// Read the per-tool rollup (`usage_tool_hourly`): each message's
    /// count and tokens split over its tool_use blocks.
    pub per_tool: bool,
}

/// One assistant message's usage (the session page's cost per message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageUsage {
    pub message_key: String,
    pub created_at: DateTime<Utc>,
    pub model: Option<String>,
    pub agent_id: Option<String>,
    pub tokens: Tokens,
}

/// What the usage reports and the price commands read and write.
#[async_trait::async_trait]
pub trait UsageStore: Send + Sync {
    /// The rollup rows `q` selects, with their conversations.
    async fn usage_rows(&self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError>;
    /// A session's assistant messages with usage, in time order.
    async fn message_usage(&self, session_id: &str) -> Result<Vec<MessageUsage>, StoreError>;
    /// The imported prices.
    async fn stored_prices(&self) -> Result<Vec<Price>, StoreError>;
    /// Stores imported prices (a row of the same model and `valid_from` is
    /// replaced). Returns how many were written.
    async fn put_prices(&self, prices: &[Price]) -> Result<u64, StoreError>;
}

/// The price book of a store: pinned, its imported prices, `overrides`.
pub async fn book<S: UsageStore + ?Sized>(
    store: &S,
    overrides: Vec<Price>,
) -> Result<PriceBook, StoreError> {
    Ok(PriceBook::new(
        price::pinned(),
        store.stored_prices().await?,
        overrides,
    ))
}

/// A message's cost: `None` when its model has no price.
pub fn message_cost(book: &PriceBook, m: &MessageUsage) -> Option<Pico> {
    let p = book.lookup(m.model.as_deref().unwrap_or(""), m.created_at)?;
    Some(
        m.tokens
            .cost(p.rates_for(price::context_band(m.tokens.context()))),
    )
}

/// The report `opts` asks for over the hours from `since` to before
/// `until`, priced with the store's book and `overrides`: what
/// `hookline usage`, its `--json` and the MCP `usage` tool give.
pub async fn report<S: UsageStore + ?Sized>(
    store: &S,
    overrides: Vec<Price>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    opts: &ReportOptions,
) -> Result<Report, StoreError> {
    let query = UsageQuery {
        since,
        until,
        user: opts.user.clone(),
        session_id: None,
        owners: None,
        per_tool: opts.by == Some(By::Tool),
    };
    let rows = store.usage_rows(&query).await?;
    let book = book(store, overrides).await?;
    Ok(build(&rows, &book, opts))
}
