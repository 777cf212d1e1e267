//! `hookline_core::store::Reader` on SQLite: the same answers as the
//! Postgres reader (SQLite keeps NUL, so nothing is unescaped here).

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::{Reader, SessionFilter, SessionHead, SessionSummary, Step, ThreadLink};

use crate::store::SqliteStore;
use crate::time::from_text;

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

    async fn list_sessions_where(
        &self,
        filter: &SessionFilter,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let (user, host) = (filter.user.as_deref(), filter.host.as_deref());
        let owners = self::owners(filter.owners.as_deref());
        let rows = sqlx::query!(
            r#"SELECT session_id, title, cwd, user_name, host, started_at, ended_at, end_reason,
                      message_count, tool_use_count, input_tokens, output_tokens, last_activity_at
               FROM conversations
               WHERE (?2 IS NULL OR user_name = ?2) AND (?3 IS NULL OR host = ?3)
                 AND (?4 IS NULL OR user_name IN (SELECT value FROM json_each(?4)))
               ORDER BY started_at DESC, session_id LIMIT ?1"#,
            limit,
            user,
            host,
            owners,
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(SessionSummary {
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
                })
            })
            .collect()
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
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT session_id FROM conversations
             WHERE (?1 IS NULL OR started_at >= ?1) AND (?2 IS NULL OR started_at < ?2)
             ORDER BY started_at, session_id LIMIT ?3",
        )
        .bind(crate::time::to_text_opt(since))
        .bind(crate::time::to_text_opt(until))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)
    }

    async fn sessions_using_tool(&self, tool_name: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar!(
            r#"SELECT DISTINCT session_id AS "session_id!" FROM tool_uses
               WHERE lower(tool_name) = lower(?1)"#,
            tool_name
        )
        .fetch_all(self.pool())
        .await
        .map_err(crate::store_error)
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
