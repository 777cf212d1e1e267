//! [`UsageStore`] on Postgres: the rollup's rows, a session's message
//! usage, the imported prices. The rollup itself is written by `refresh`
//! (`store/domain.rs`, `refresh_usage`).

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::text::{escape_str, unescape_str};
use hookline_core::usage::price::{Rates, Tier};
use hookline_core::usage::{MessageUsage, Price, Tokens, UsageQuery, UsageRow, UsageStore};

use crate::{PgStore, store_error};

fn un(s: Option<String>) -> Option<String> {
    s.map(|s| unescape_str(&s).into_owned())
}

#[async_trait::async_trait]
impl UsageStore for PgStore {
    async fn usage_rows(&self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let esc = |s: &Option<String>| s.as_deref().map(|s| escape_str(s).into_owned());
        let rows = sqlx::query!(
            r#"WITH u AS (
                 SELECT session_id, hour, model, agent_id, context_band, '' AS tool, messages,
                        input_tokens, output_tokens, cache_creation_input_tokens,
                        cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_input_tokens
                 FROM usage_hourly WHERE NOT $5
                 UNION ALL
                 SELECT session_id, hour, model, agent_id, context_band, tool, messages,
                        input_tokens, output_tokens, cache_creation_input_tokens,
                        cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_input_tokens
                 FROM usage_tool_hourly WHERE $5)
               SELECT u.session_id AS "session_id!", u.hour AS "hour!", u.model AS "model!",
                      u.agent_id AS "agent_id!", u.context_band AS "context_band!", u.tool AS "tool!",
                      u.messages AS "messages!", u.input_tokens AS "input_tokens!",
                      u.output_tokens AS "output_tokens!",
                      u.cache_creation_input_tokens AS "cache_creation_input_tokens!",
                      u.cache_creation_5m_tokens AS "cache_creation_5m_tokens!",
                      u.cache_creation_1h_tokens AS "cache_creation_1h_tokens!",
                      u.cache_read_input_tokens AS "cache_read_input_tokens!",
                      c.user_name, c.host, c.cwd, c.title, c.started_at
               FROM u JOIN conversations c ON c.session_id = u.session_id
               WHERE ($1::timestamptz IS NULL OR u.hour >= $1)
                 AND ($2::timestamptz IS NULL OR u.hour < $2)
                 AND ($3::text IS NULL OR c.user_name = $3)
                 AND ($4::text IS NULL OR u.session_id = $4)
                 AND ($6::text[] IS NULL OR c.user_name = ANY($6))"#,
            q.since,
            q.until,
            esc(&q.user),
            esc(&q.session_id),
            q.per_tool,
            crate::read::owner_array(q.owners.as_deref()) as Option<Vec<String>>,
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| UsageRow {
                session_id: unescape_str(&r.session_id).into_owned(),
                hour: r.hour,
                model: unescape_str(&r.model).into_owned(),
                agent_id: unescape_str(&r.agent_id).into_owned(),
                context_band: r.context_band,
                tool: unescape_str(&r.tool).into_owned(),
                messages: r.messages,
                tokens: Tokens {
                    input: r.input_tokens,
                    output: r.output_tokens,
                    cache_creation: r.cache_creation_input_tokens,
                    cache_creation_5m: r.cache_creation_5m_tokens,
                    cache_creation_1h: r.cache_creation_1h_tokens,
                    cache_read: r.cache_read_input_tokens,
                },
                user_name: un(r.user_name),
                host: un(r.host),
                cwd: un(r.cwd),
                title: un(r.title),
                started_at: r.started_at,
            })
            .collect())
    }

    async fn message_usage(&self, session_id: &str) -> Result<Vec<MessageUsage>, StoreError> {
        let sid = escape_str(session_id).into_owned();
        let rows = sqlx::query!(
            r#"SELECT message_key, created_at, model, agent_id,
                      COALESCE(input_tokens, 0) AS "input!", COALESCE(output_tokens, 0) AS "output!",
                      COALESCE(cache_creation_input_tokens, 0) AS "cc!",
                      COALESCE(cache_creation_5m_tokens, 0) AS "cc5!",
                      COALESCE(cache_creation_1h_tokens, 0) AS "cc1!",
                      COALESCE(cache_read_input_tokens, 0) AS "cr!"
               FROM messages
               WHERE session_id = $1 AND role = 'assistant' AND source = 'transcript'
               ORDER BY created_at, message_key"#,
            sid
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| MessageUsage {
                message_key: unescape_str(&r.message_key).into_owned(),
                created_at: r.created_at,
                model: un(r.model),
                agent_id: un(r.agent_id),
                tokens: Tokens {
                    input: r.input,
                    output: r.output,
                    cache_creation: r.cc,
                    cache_creation_5m: r.cc5,
                    cache_creation_1h: r.cc1,
                    cache_read: r.cr,
                },
            })
            .collect())
    }

    async fn stored_prices(&self) -> Result<Vec<Price>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT p.model, p.valid_from, p.source, p.input, p.output, p.cache_write_5m,
                      p.cache_write_1h, p.cache_read, p.tier_threshold, p.tier_input, p.tier_output,
                      p.tier_cache_write_5m, p.tier_cache_write_1h, p.tier_cache_read
               FROM prices p ORDER BY p.model, p.valid_from"#
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let rates = Rates {
                    input: r.input,
                    output: r.output,
                    cache_write_5m: r.cache_write_5m,
                    cache_write_1h: r.cache_write_1h,
                    cache_read: r.cache_read,
                };
                Price {
                    model: unescape_str(&r.model).into_owned(),
                    valid_from: r.valid_from,
                    source: unescape_str(&r.source).into_owned(),
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
                }
            })
            .collect())
    }

    async fn put_prices(&self, prices: &[Price]) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let now: DateTime<Utc> = Utc::now();
        let mut n = 0;
        for p in prices {
            let t = p.tier.as_ref();
            n += sqlx::query!(
                r#"INSERT INTO prices (model, valid_from, source, imported_at, input, output,
                       cache_write_5m, cache_write_1h, cache_read, tier_threshold, tier_input,
                       tier_output, tier_cache_write_5m, tier_cache_write_1h, tier_cache_read)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                   ON CONFLICT (model, valid_from) DO UPDATE SET
                       source = EXCLUDED.source, imported_at = EXCLUDED.imported_at,
                       input = EXCLUDED.input, output = EXCLUDED.output,
                       cache_write_5m = EXCLUDED.cache_write_5m, cache_write_1h = EXCLUDED.cache_write_1h,
                       cache_read = EXCLUDED.cache_read, tier_threshold = EXCLUDED.tier_threshold,
                       tier_input = EXCLUDED.tier_input, tier_output = EXCLUDED.tier_output,
                       tier_cache_write_5m = EXCLUDED.tier_cache_write_5m,
                       tier_cache_write_1h = EXCLUDED.tier_cache_write_1h,
                       tier_cache_read = EXCLUDED.tier_cache_read"#,
                escape_str(&p.model).into_owned(),
                p.valid_from,
                escape_str(&p.source).into_owned(),
                now,
                p.rates.input,
                p.rates.output,
                p.rates.cache_write_5m,
                p.rates.cache_write_1h,
                p.rates.cache_read,
                t.map(|t| t.threshold),
                t.map(|t| t.rates.input),
                t.map(|t| t.rates.output),
                t.map(|t| t.rates.cache_write_5m),
                t.map(|t| t.rates.cache_write_1h),
                t.map(|t| t.rates.cache_read),
            )
            .execute(&mut *tx)
            .await
            .map_err(store_error)?
            .rows_affected();
        }
        tx.commit().await.map_err(store_error)?;
        Ok(n)
    }
}
