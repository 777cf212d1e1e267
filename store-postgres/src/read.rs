//! [`Reader`] on Postgres.

use crate::PgStore;
use crate::store_error;
use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::Seek;
use hookline_core::store::read::{
    Reader, SessionFilter, SessionHead, SessionSummary, Step, ThreadLink,
};
use hookline_core::text::{escape_str, unescape_json, unescape_str};

fn un(s: Option<String>) -> Option<String> {
    s.map(|s| unescape_str(&s).into_owned())
}

/// A viewer's users as the `text[]` a scoped query compares with (escaped
/// as stored).
pub(crate) fn owner_array(users: Option<&[String]>) -> Option<Vec<String>> {
    users.map(|us| us.iter().map(|u| escape_str(u).into_owned()).collect())
}

fn unj(v: Option<serde_json::Value>) -> Option<serde_json::Value> {
    v.map(|v| unescape_json(&v).into_owned())
}

#[async_trait::async_trait]
impl Reader for PgStore {
    async fn thread_link(&self, session_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, parent_session_id, link_kind, started_at, title
             FROM conversations WHERE session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        row.map(|r| link_of_pg(&r)).transpose()
    }

    async fn thread_children(&self, session_id: &str) -> Result<Vec<ThreadLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, parent_session_id, link_kind, started_at, title
             FROM conversations WHERE parent_session_id = $1 AND session_id <> $1
             ORDER BY started_at, session_id",
        )
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.iter().map(link_of_pg).collect()
    }

    async fn session_rows(
        &self,
        filter: &SessionFilter,
        at: &Seek,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let esc = |s: Option<&str>| s.map(|s| escape_str(s).into_owned());
        let (user, host, tool) = (
            esc(filter.user.as_deref()),
            esc(filter.host.as_deref()),
            esc(filter.tool.as_deref()),
        );
        let owners = owner_array(filter.owners.as_deref());
        let text = esc(filter.text.as_deref().map(str::to_lowercase).as_deref());
        // NULL bounds are open ends ('-infinity', 'infinity'): index bounds
        // either way.
        let rows = match at {
            Seek::First | Seek::Before(_) => {
                let (at, id) = match at {
                    Seek::Before(c) => (Some(c.started_at), esc(Some(&c.session_id))),
                    _ => (None, None),
                };
                sqlx::query_as!(
                    ListRow,
                    r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                              message_count, tool_use_count, input_tokens, output_tokens, last_activity_at
                       FROM conversations c
                       WHERE (started_at, session_id) < (COALESCE($2::timestamptz, 'infinity'), COALESCE($3::text, ''))
                         AND started_at >= COALESCE($4::timestamptz, '-infinity')
                         AND started_at < COALESCE($5::timestamptz, 'infinity')
                         AND ($6::text IS NULL OR user_name = $6) AND ($7::text IS NULL OR host = $7)
                         AND ($8::text[] IS NULL OR user_name = ANY($8))
                         AND ($9::text IS NULL OR strpos(lower(title), $9) > 0
                              OR strpos(lower(cwd), $9) > 0 OR strpos(lower(session_id), $9) > 0)
                         AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM tool_uses t
                              WHERE t.session_id = c.session_id AND lower(t.tool_name) = lower($10)))
                       ORDER BY started_at DESC, session_id DESC LIMIT $1"#,
                    limit,
                    at as Option<DateTime<Utc>>,
                    id as Option<String>,
                    filter.since as Option<DateTime<Utc>>,
                    filter.until as Option<DateTime<Utc>>,
                    user as Option<String>,
                    host as Option<String>,
                    owners as Option<Vec<String>>,
                    text as Option<String>,
                    tool as Option<String>,
                )
                .fetch_all(self.pool())
                .await
            }
            Seek::After(c) => {
                let id = escape_str(&c.session_id).into_owned();
                sqlx::query_as!(
                    ListRow,
                    r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                              message_count, tool_use_count, input_tokens, output_tokens, last_activity_at
                       FROM conversations c
                       WHERE (started_at, session_id) > ($2::timestamptz, $3::text)
                         AND started_at >= COALESCE($4::timestamptz, '-infinity')
                         AND started_at < COALESCE($5::timestamptz, 'infinity')
                         AND ($6::text IS NULL OR user_name = $6) AND ($7::text IS NULL OR host = $7)
                         AND ($8::text[] IS NULL OR user_name = ANY($8))
                         AND ($9::text IS NULL OR strpos(lower(title), $9) > 0
                              OR strpos(lower(cwd), $9) > 0 OR strpos(lower(session_id), $9) > 0)
                         AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM tool_uses t
                              WHERE t.session_id = c.session_id AND lower(t.tool_name) = lower($10)))
                       ORDER BY started_at, session_id LIMIT $1"#,
                    limit,
                    c.started_at,
                    id,
                    filter.since as Option<DateTime<Utc>>,
                    filter.until as Option<DateTime<Utc>>,
                    user as Option<String>,
                    host as Option<String>,
                    owners as Option<Vec<String>>,
                    text as Option<String>,
                    tool as Option<String>,
                )
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(store_error)?;
        Ok(rows.into_iter().map(ListRow::summary).collect())
    }

    async fn session_heads(
        &self,
        id: &str,
        pattern: &str,
        owners: Option<&[String]>,
    ) -> Result<Vec<SessionHead>, StoreError> {
        let owners = owner_array(owners);
        let found = sqlx::query!(
            r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                      message_count, tool_use_count, input_tokens, output_tokens, start_source, model,
                      last_activity_at
               FROM conversations WHERE (session_id = $1 OR session_id LIKE $2)
                 AND ($3::text[] IS NULL OR user_name = ANY($3))
               ORDER BY (session_id = $1) DESC LIMIT 2"#,
            id,
            pattern,
            owners as Option<Vec<String>>,
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(found
            .into_iter()
            .map(|r| SessionHead {
                summary: SessionSummary {
                    session_id: unescape_str(&r.session_id).into_owned(),
                    title: un(r.title),
                    cwd: un(r.cwd),
                    user_name: un(r.user_name),
                    host: un(r.host),
                    started_at: r.started_at,
                    ended_at: r.ended_at,
                    end_reason: un(r.end_reason),
                    message_count: r.message_count.into(),
                    tool_use_count: r.tool_use_count.into(),
                    input_tokens: r.input_tokens,
                    output_tokens: r.output_tokens,
                    last_activity_at: r.last_activity_at,
                },
                start_source: un(r.start_source),
                model: un(r.model),
            })
            .collect())
    }

    async fn session_user(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError> {
        crate::store::session_user(self.pool(), session_id).await
    }

    async fn session_messages(&self, session_id: &str) -> Result<Vec<Step>, StoreError> {
        let sid = escape_str(session_id).into_owned();
        Ok(sqlx::query!(
            r#"SELECT message_key, role, text, model, input_tokens, output_tokens, agent_id, created_at
               FROM messages WHERE session_id = $1 ORDER BY created_at, message_key"#,
            sid
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|m| Step::Message {
            at: m.created_at,
            key: unescape_str(&m.message_key).into_owned(),
            role: m.role,
            text: unescape_str(&m.text).into_owned(),
            model: un(m.model),
            input_tokens: m.input_tokens,
            output_tokens: m.output_tokens,
            agent_id: un(m.agent_id),
        })
        .collect())
    }

    async fn session_tool_uses(
        &self,
        session_id: &str,
        fallback: DateTime<Utc>,
    ) -> Result<Vec<Step>, StoreError> {
        let sid = escape_str(session_id).into_owned();
        Ok(sqlx::query!(
            r#"SELECT tool_use_id, tool_name, status, input, error, duration_ms, agent_id,
                      COALESCE(response, transcript_result->'content') AS response,
                      COALESCE(used_at, pre_at, result_at, post_at) AS "at: chrono::DateTime<chrono::Utc>"
               FROM tool_uses WHERE session_id = $1"#,
            sid
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|t| Step::ToolUse {
            at: t.at.unwrap_or(fallback),
            tool_use_id: unescape_str(&t.tool_use_id).into_owned(),
            tool_name: un(t.tool_name),
            status: t.status,
            input: unj(t.input),
            response: unj(t.response),
            error: un(t.error),
            duration_ms: t.duration_ms,
            agent_id: un(t.agent_id),
        })
        .collect())
    }

    async fn session_entries(
        &self,
        session_id: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        use sqlx::Row;
        let sid = escape_str(session_id).into_owned();
        let rows = sqlx::query(
            "SELECT raw FROM transcript_entries WHERE session_id = $1
             ORDER BY agent_id NULLS FIRST, line_pos NULLS LAST, ts NULLS FIRST, uuid",
        )
        .bind(sid)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                let raw: serde_json::Value = r.try_get("raw").map_err(store_error)?;
                Ok(unescape_json(&raw).into_owned())
            })
            .collect()
    }

    async fn sessions_started_between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        owners: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT session_id FROM conversations
             WHERE started_at >= COALESCE($1::timestamptz, '-infinity')
               AND started_at < COALESCE($2::timestamptz, 'infinity')
               AND ($3::text[] IS NULL OR user_name = ANY($3))
             ORDER BY started_at, session_id LIMIT $4",
        )
        .bind(since)
        .bind(until)
        .bind(owner_array(owners))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get("session_id").map_err(store_error)?;
                Ok(unescape_str(&s).into_owned())
            })
            .collect()
    }
}

/// A row of the sessions list.
struct ListRow {
    session_id: String,
    title: Option<String>,
    cwd: Option<String>,
    user_name: Option<String>,
    host: Option<String>,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    end_reason: Option<String>,
    message_count: i32,
    tool_use_count: i32,
    input_tokens: i64,
    output_tokens: i64,
    last_activity_at: Option<DateTime<Utc>>,
}

impl ListRow {
    fn summary(self) -> SessionSummary {
        SessionSummary {
            session_id: unescape_str(&self.session_id).into_owned(),
            title: un(self.title),
            cwd: un(self.cwd),
            user_name: un(self.user_name),
            host: un(self.host),
            started_at: self.started_at,
            ended_at: self.ended_at,
            end_reason: un(self.end_reason),
            message_count: self.message_count.into(),
            tool_use_count: self.tool_use_count.into(),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            last_activity_at: self.last_activity_at,
        }
    }
}

fn link_of_pg(r: &sqlx::postgres::PgRow) -> Result<ThreadLink, StoreError> {
    use sqlx::Row;
    Ok(ThreadLink {
        session_id: unescape_str(&r.try_get::<String, _>("session_id").map_err(store_error)?)
            .into_owned(),
        parent_session_id: un(r.try_get("parent_session_id").map_err(store_error)?),
        link_kind: un(r.try_get("link_kind").map_err(store_error)?),
        started_at: r.try_get("started_at").map_err(store_error)?,
        title: un(r.try_get("title").map_err(store_error)?),
        depth: 0,
    })
}
