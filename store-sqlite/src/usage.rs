//! [`UsageStore`] on SQLite, as on Postgres (`store-postgres/src/usage.rs`):
//! times as fixed-width text.

use hookline_core::error::StoreError;
use hookline_core::usage::price::{Rates, Tier};
use hookline_core::usage::{MessageUsage, Price, Tokens, UsageQuery, UsageRow, UsageStore};

use crate::store::SqliteStore;
use crate::time::{from_text, to_text, to_text_opt};

fn time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    from_text(s).ok_or_else(|| StoreError::refused(format!("bad timestamp {s:?} in the database")))
}

#[async_trait::async_trait]
impl UsageStore for SqliteStore {
    async fn usage_rows(&self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let (since, until) = (to_text_opt(q.since), to_text_opt(q.until));
        let (user, sid) = (q.user.as_deref(), q.session_id.as_deref());
        let owners = crate::read::owners(q.owners.as_deref());
        let rows = sqlx::query!(
            // One branch per rollup, each joined on its own (a UNION ALL
            // subquery is materialized first: twice as slow).
            r#"SELECT u.session_id AS "session_id!: String", u.hour AS "hour!: String",
                      u.model AS "model!: String", u.agent_id AS "agent_id!: String",
                      u.context_band AS "context_band!: i64", '' AS "tool!: String",
                      u.messages AS "messages!: i64", u.input_tokens AS "input_tokens!: i64",
                      u.output_tokens AS "output_tokens!: i64",
                      u.cache_creation_input_tokens AS "cache_creation_input_tokens!: i64",
                      u.cache_creation_5m_tokens AS "cache_creation_5m_tokens!: i64",
                      u.cache_creation_1h_tokens AS "cache_creation_1h_tokens!: i64",
                      u.cache_read_input_tokens AS "cache_read_input_tokens!: i64",
                      c.user_name, c.host, c.cwd, c.title, c.started_at
               FROM usage_hourly u JOIN conversations c ON c.session_id = u.session_id
               WHERE NOT ?5 AND (?1 IS NULL OR u.hour >= ?1) AND (?2 IS NULL OR u.hour < ?2)
                 AND (?3 IS NULL OR c.user_name = ?3) AND (?4 IS NULL OR u.session_id = ?4)
                 AND (?6 IS NULL OR c.user_name IN (SELECT value FROM json_each(?6)))
               UNION ALL
               SELECT u.session_id, u.hour, u.model, u.agent_id, u.context_band, u.tool, u.messages,
                      u.input_tokens, u.output_tokens, u.cache_creation_input_tokens,
                      u.cache_creation_5m_tokens, u.cache_creation_1h_tokens, u.cache_read_input_tokens,
                      c.user_name, c.host, c.cwd, c.title, c.started_at
               FROM usage_tool_hourly u JOIN conversations c ON c.session_id = u.session_id
               WHERE ?5 AND (?1 IS NULL OR u.hour >= ?1) AND (?2 IS NULL OR u.hour < ?2)
                 AND (?3 IS NULL OR c.user_name = ?3) AND (?4 IS NULL OR u.session_id = ?4)
                 AND (?6 IS NULL OR c.user_name IN (SELECT value FROM json_each(?6)))"#,
            since,
            until,
            user,
            sid,
            q.per_tool,
            owners,
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(UsageRow {
                    session_id: r.session_id,
                    hour: time(&r.hour)?,
                    model: r.model,
                    agent_id: r.agent_id,
                    context_band: r.context_band,
                    tool: r.tool,
                    messages: r.messages,
                    tokens: Tokens {
                        input: r.input_tokens,
                        output: r.output_tokens,
                        cache_creation: r.cache_creation_input_tokens,
                        cache_creation_5m: r.cache_creation_5m_tokens,
                        cache_creation_1h: r.cache_creation_1h_tokens,
                        cache_read: r.cache_read_input_tokens,
                    },
                    user_name: r.user_name,
                    host: r.host,
                    cwd: r.cwd,
                    title: r.title,
                    started_at: time(&r.started_at)?,
                })
            })
            .collect()
    }

    async fn message_usage(&self, session_id: &str) -> Result<Vec<MessageUsage>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT message_key, created_at, model, agent_id,
                      COALESCE(input_tokens, 0) AS "input!: i64", COALESCE(output_tokens, 0) AS "output!: i64",
                      COALESCE(cache_creation_input_tokens, 0) AS "cc!: i64",
                      COALESCE(cache_creation_5m_tokens, 0) AS "cc5!: i64",
                      COALESCE(cache_creation_1h_tokens, 0) AS "cc1!: i64",
                      COALESCE(cache_read_input_tokens, 0) AS "cr!: i64"
               FROM messages
               WHERE session_id = ?1 AND role = 'assistant' AND source = 'transcript'
               ORDER BY created_at, message_key"#,
            session_id
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(MessageUsage {
                    message_key: r.message_key,
                    created_at: time(&r.created_at)?,
                    model: r.model,
                    agent_id: r.agent_id,
                    tokens: Tokens {
                        input: r.input,
                        output: r.output,
                        cache_creation: r.cc,
                        cache_creation_5m: r.cc5,
                        cache_creation_1h: r.cc1,
                        cache_read: r.cr,
                    },
                })
            })
            .collect()
    }

    async fn stored_prices(&self) -> Result<Vec<Price>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT model, valid_from, source, input, output, cache_write_5m, cache_write_1h,
                      cache_read, tier_threshold, tier_input, tier_output, tier_cache_write_5m,
                      tier_cache_write_1h, tier_cache_read
               FROM prices ORDER BY model, valid_from"#
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.into_iter()
            .map(|r| {
                let rates = Rates {
                    input: r.input,
                    output: r.output,
                    cache_write_5m: r.cache_write_5m,
                    cache_write_1h: r.cache_write_1h,
                    cache_read: r.cache_read,
                };
                Ok(Price {
                    model: r.model,
                    valid_from: time(&r.valid_from)?,
                    source: r.source,
                    tier: Tier::from_columns(
                        r.tier_threshold,
                        rates,
                        [
                            r.tier_input,
                            r.tier_output,
                            r.tier_cache_write_5m,
                            r.tier_cache_write_1h,
                            r.tier_cache_read,
                        ],
                    ),
                    rates,
                })
            })
            .collect()
    }

    async fn put_prices(&self, prices: &[Price]) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await.map_err(crate::store_error)?;
        let now = to_text(chrono::Utc::now());
        let mut n = 0;
        for p in prices {
            let t = p.tier.as_ref();
            let valid_from = to_text(p.valid_from);
            let (threshold, ti, to, t5, t1, tr) = (
                t.map(|t| t.threshold),
                t.map(|t| t.rates.input),
                t.map(|t| t.rates.output),
                t.map(|t| t.rates.cache_write_5m),
                t.map(|t| t.rates.cache_write_1h),
                t.map(|t| t.rates.cache_read),
            );
            n += sqlx::query!(
                r#"INSERT INTO prices (model, valid_from, source, imported_at, input, output,
                       cache_write_5m, cache_write_1h, cache_read, tier_threshold, tier_input,
                       tier_output, tier_cache_write_5m, tier_cache_write_1h, tier_cache_read)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                   ON CONFLICT (model, valid_from) DO UPDATE SET
                       source = excluded.source, imported_at = excluded.imported_at,
                       input = excluded.input, output = excluded.output,
                       cache_write_5m = excluded.cache_write_5m, cache_write_1h = excluded.cache_write_1h,
                       cache_read = excluded.cache_read, tier_threshold = excluded.tier_threshold,
                       tier_input = excluded.tier_input, tier_output = excluded.tier_output,
                       tier_cache_write_5m = excluded.tier_cache_write_5m,
                       tier_cache_write_1h = excluded.tier_cache_write_1h,
                       tier_cache_read = excluded.tier_cache_read"#,
                p.model,
                valid_from,
                p.source,
                now,
                p.rates.input,
                p.rates.output,
                p.rates.cache_write_5m,
                p.rates.cache_write_1h,
                p.rates.cache_read,
                threshold,
                ti,
                to,
                t5,
                t1,
                tr,
            )
            .execute(&mut *tx)
            .await
            .map_err(crate::store_error)?
            .rows_affected();
        }
        tx.commit().await.map_err(crate::store_error)?;
        Ok(n)
    }
}
