//! `hookline_core::store::Reader` on SQLite: the same answers as the
//! Postgres reader (SQLite keeps NUL, so nothing is unescaped here).

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::{
    Reader, Seek, SessionFilter, SessionHead, SessionSummary, Step, ThreadLink,
};

use crate::store::SqliteStore;
use crate::time::{from_text, to_text, to_text_opt};

fn time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    from_text(s).ok_or_else(|| StoreError::refused(format!("bad timestamp {s:?} in the database")))
}

/// A viewer's users as the JSON array a scoped query reads with
/// `json_each`.
pub(crate) fn owners(users: Option<&[String]>) -> Option<String> {
    users.map(|us| serde_json::Value::from(us.to_vec()).to_string())
}

fn json(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

#[async_trait::async_trait]
impl Reader for SqliteStore {
    async fn thread_link(&self, session_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, parent_session_id, link_kind, started_at, title
             FROM conversations WHERE session_id = ?1",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await
        .map_err(crate::store_error)?;
        row.map(|r| link_of(&r)).transpose()
    }

    async fn thread_children(&self, session_id: &str) -> Result<Vec<ThreadLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, parent_session_id, link_kind, started_at, title
             FROM conversations WHERE parent_session_id = ?1 AND session_id <> ?1
             ORDER BY started_at, session_id",
        )
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.iter().map(link_of).collect()
    }

    async fn session_rows(
        &self,
        filter: &SessionFilter,
        at: &Seek,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let (user, host, tool) = (
            filter.user.as_deref(),
            filter.host.as_deref(),
            filter.tool.as_deref(),
        );
        let owners = self::owners(filter.owners.as_deref());
        let text = filter.text.as_deref().map(str::to_lowercase);
        // The start range as index bounds: '' is before every stored time,
        // END after every one.
        let since = to_text_opt(filter.since).unwrap_or_default();
        let until = to_text_opt(filter.until).unwrap_or_else(|| END.to_owned());
        let rows = match at {
            Seek::First | Seek::Before(_) => {
                let (at, id) = match at {
                    Seek::Before(c) => (to_text(c.started_at), c.session_id.clone()),
                    _ => (END.to_owned(), String::new()),
                };
                sqlx::query_as!(
                    ListRow,
                    r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                              message_count, tool_use_count, input_tokens, output_tokens, last_activity_at
                       FROM conversations c
                       WHERE (started_at, session_id) < (?2, ?3)
                         AND started_at >= ?4 AND started_at < ?5
                         AND (?6 IS NULL OR user_name = ?6) AND (?7 IS NULL OR host = ?7)
                         AND (?8 IS NULL OR user_name IN (SELECT value FROM json_each(?8)))
                         AND (?9 IS NULL OR instr(lower(title), ?9) > 0 OR instr(lower(cwd), ?9) > 0
                              OR instr(lower(session_id), ?9) > 0)
                         AND (?10 IS NULL OR EXISTS (SELECT 1 FROM tool_uses t
                              WHERE t.session_id = c.session_id AND lower(t.tool_name) = lower(?10)))
                       ORDER BY started_at DESC, session_id DESC LIMIT ?1"#,
                    limit,
                    at,
                    id,
                    since,
                    until,
                    user,
                    host,
                    owners,
                    text,
                    tool,
                )
                .fetch_all(self.pool())
                .await
            }
            Seek::After(c) => {
                let at = to_text(c.started_at);
                sqlx::query_as!(
                    ListRow,
                    r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                              message_count, tool_use_count, input_tokens, output_tokens, last_activity_at
                       FROM conversations c
                       WHERE (started_at, session_id) > (?2, ?3)
                         AND started_at >= ?4 AND started_at < ?5
                         AND (?6 IS NULL OR user_name = ?6) AND (?7 IS NULL OR host = ?7)
                         AND (?8 IS NULL OR user_name IN (SELECT value FROM json_each(?8)))
                         AND (?9 IS NULL OR instr(lower(title), ?9) > 0 OR instr(lower(cwd), ?9) > 0
                              OR instr(lower(session_id), ?9) > 0)
                         AND (?10 IS NULL OR EXISTS (SELECT 1 FROM tool_uses t
                              WHERE t.session_id = c.session_id AND lower(t.tool_name) = lower(?10)))
                       ORDER BY started_at, session_id LIMIT ?1"#,
                    limit,
                    at,
                    c.session_id,
                    since,
                    until,
                    user,
                    host,
                    owners,
                    text,
                    tool,
                )
                .fetch_all(self.pool())
                .await
            }
        }
        .map_err(crate::store_error)?;
        rows.into_iter().map(ListRow::summary).collect()
    }

    async fn session_heads(
        &self,
        id: &str,
        pattern: &str,
        owners: Option<&[String]>,
    ) -> Result<Vec<SessionHead>, StoreError> {
        let owners = self::owners(owners);
        let found = sqlx::query!(
            r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                      message_count, tool_use_count, input_tokens, output_tokens, start_source, model,
                      last_activity_at
               FROM conversations WHERE (session_id = ?1 OR session_id LIKE ?2 ESCAPE '\')
                 AND (?3 IS NULL OR user_name IN (SELECT value FROM json_each(?3)))
               ORDER BY (session_id = ?1) DESC LIMIT 2"#,
            id,
            pattern,
            owners,
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        found
            .into_iter()
            .map(|r| {
                Ok(SessionHead {
                    summary: SessionSummary {
                        session_id: r.session_id,
                        title: r.title,
                        cwd: r.cwd,
                        user_name: r.user_name,
                        host: r.host,
                        started_at: time(&r.started_at)?,
                        ended_at: r.ended_at.as_deref().map(time).transpose()?,
                        end_reason: r.end_reason,
                        message_count: r.message_count,
                        tool_use_count: r.tool_use_count,
                        input_tokens: r.input_tokens,
                        output_tokens: r.output_tokens,
                        last_activity_at: r.last_activity_at.as_deref().map(time).transpose()?,
                    },
                    start_source: r.start_source,
                    model: r.model,
                })
            })
            .collect()
    }

    async fn session_user(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError> {
        crate::store::session_user(self.pool(), session_id).await
    }

    async fn session_messages(&self, session_id: &str) -> Result<Vec<Step>, StoreError> {
        sqlx::query!(
            r#"SELECT message_key, role, text, model, input_tokens, output_tokens, agent_id, created_at
               FROM messages WHERE session_id = ?1 ORDER BY created_at, message_key"#,
            session_id
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?
        .into_iter()
        .map(|m| {
            Ok(Step::Message {
                at: time(&m.created_at)?,
                key: m.message_key,
                role: m.role,
                text: m.text,
                model: m.model,
                input_tokens: m.input_tokens,
                output_tokens: m.output_tokens,
                agent_id: m.agent_id,
            })
        })
        .collect()
    }

    async fn session_tool_uses(
        &self,
        session_id: &str,
        fallback: DateTime<Utc>,
    ) -> Result<Vec<Step>, StoreError> {
        sqlx::query!(
            r#"SELECT tool_use_id, tool_name, status, input, error, duration_ms, agent_id,
                      COALESCE(response, transcript_result -> '$.content') AS "response?: String",
                      COALESCE(used_at, pre_at, result_at, post_at) AS "at: String"
               FROM tool_uses WHERE session_id = ?1"#,
            session_id
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?
        .into_iter()
        .map(|t| {
            Ok(Step::ToolUse {
                at: t.at.as_deref().map(time).transpose()?.unwrap_or(fallback),
                tool_use_id: t.tool_use_id,
                tool_name: t.tool_name,
                status: t.status,
                input: json(t.input),
                response: json(t.response),
                error: t.error,
                duration_ms: t.duration_ms,
                agent_id: t.agent_id,
            })
        })
        .collect()
    }

    async fn session_entries(
        &self,
        session_id: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT raw FROM transcript_entries WHERE session_id = ?1
             ORDER BY agent_id IS NOT NULL, agent_id, line_pos IS NULL, line_pos, ts IS NOT NULL, ts, uuid",
        )
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.iter()
            .map(|r| serde_json::from_str(r).map_err(StoreError::permanent))
            .collect()
    }

    async fn sessions_started_between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        owners: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT session_id FROM conversations
             WHERE started_at >= ?1 AND started_at < ?2
               AND (?3 IS NULL OR user_name IN (SELECT value FROM json_each(?3)))
             ORDER BY started_at, session_id LIMIT ?4",
        )
        .bind(to_text_opt(since).unwrap_or_default())
        .bind(to_text_opt(until).unwrap_or_else(|| END.to_owned()))
        .bind(self::owners(owners))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)
    }
}

/// After every stored time (they are fixed-width, `time.rs`): the open
/// upper end of a start range.
const END: &str = "9999-12-31T23:59:59.999999Z";

/// A row of the sessions list.
struct ListRow {
    session_id: String,
    title: Option<String>,
    cwd: Option<String>,
    user_name: Option<String>,
    host: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    end_reason: Option<String>,
    message_count: i64,
    tool_use_count: i64,
    input_tokens: i64,
    output_tokens: i64,
    last_activity_at: Option<String>,
}

impl ListRow {
    fn summary(self) -> Result<SessionSummary, StoreError> {
        Ok(SessionSummary {
            session_id: self.session_id,
            title: self.title,
            cwd: self.cwd,
            user_name: self.user_name,
            host: self.host,
            started_at: time(&self.started_at)?,
            ended_at: self.ended_at.as_deref().map(time).transpose()?,
            end_reason: self.end_reason,
            message_count: self.message_count,
            tool_use_count: self.tool_use_count,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            last_activity_at: self.last_activity_at.as_deref().map(time).transpose()?,
        })
    }
}

fn link_of(r: &sqlx::sqlite::SqliteRow) -> Result<ThreadLink, StoreError> {
    use sqlx::Row;
    let get = |k: &str| {
        r.try_get::<Option<String>, _>(k)
            .map_err(crate::store_error)
    };
    Ok(ThreadLink {
        session_id: r.try_get("session_id").map_err(crate::store_error)?,
        parent_session_id: get("parent_session_id")?,
        link_kind: get("link_kind")?,
        started_at: time(
            &r.try_get::<String, _>("started_at")
                .map_err(crate::store_error)?,
        )?,
        title: get("title")?,
        depth: 0,
    })
}
