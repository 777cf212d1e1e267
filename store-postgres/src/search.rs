//! [`SearchStore`] on Postgres: the generated `tsvector` columns and their
//! GIN indexes (migration `20261202100000_search`), ranked by `ts_rank`,
//! the same answers as `store-sqlite/src/search.rs`.

use hookline_core::error::StoreError;
use hookline_core::search::{Kind, RawHit, Search, SearchStore};
use hookline_core::text::{escape_str, unescape_str};
use sqlx::Row;

use crate::{PgStore, store_error};

/// Filters, ranks and pages the hits of the four documents, then reads the
/// page's documents. Every filter applies inside each branch's scan, so
/// only the rows it keeps are ranked: `scope` is the sessions the user,
/// host, project and session filters and the viewer's users ($15) select
/// (read once; $14 whether any is set), given to each branch as an array so that Postgres can AND the GIN
/// bitmap with `messages_session_created_idx` (session and time) before it
/// reads a row; the time, kind and tool filters test each row. `found` is
/// MATERIALIZED: under a generic plan (a prepared statement's sixth run)
/// Postgres would otherwise rerun the whole union once per conversation
/// (95 s instead of 90 ms on 1M messages). $2 is the phrase boost (NULL:
/// none): its hits rank first. Without any filter ($16 false) only the
/// hits scoring at least the (offset + limit)th best score (`cut`; ties
/// kept, so the page is the one a full sort gives) meet `conversations`
/// and the sort.
const SEARCH: &str = r#"
WITH q AS (SELECT to_tsquery('simple', $1) AS q, to_tsquery('simple', $2) AS b),
scope AS MATERIALIZED (
    SELECT c.session_id FROM conversations c
    WHERE $14 AND ($3::text IS NULL OR c.user_name = $3) AND ($4::text IS NULL OR c.host = $4)
      AND ($6::text IS NULL OR c.cwd = $6 OR starts_with(c.cwd, $7))
      AND ($10::text IS NULL OR c.session_id LIKE $10 ESCAPE '\')
      AND ($15::text[] IS NULL OR c.user_name = ANY($15))
),
found AS MATERIALIZED (
    SELECT m.session_id, CASE m.role WHEN 'user' THEN 'prompt' ELSE 'reply' END AS kind,
           NULL::text AS tool_name, m.created_at AS at, m.message_key AS anchor,
           ts_rank(m.search_vector, q.q, 1)::float8
             + CASE WHEN m.search_vector @@ q.b THEN 1000 ELSE 0 END AS score
    FROM messages m, q
    WHERE m.search_vector @@ q.q AND $5::text IS NULL
      AND ($11::text IS NULL OR $11 = CASE m.role WHEN 'user' THEN 'prompt' ELSE 'reply' END)
      AND ($8::timestamptz IS NULL OR m.created_at >= $8) AND ($9::timestamptz IS NULL OR m.created_at < $9)
      AND (NOT $14 OR m.session_id = ANY (ARRAY(SELECT session_id FROM scope)))
    UNION ALL
    SELECT t.session_id, 'tool_input', t.tool_name, COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at),
           t.tool_use_id,
           ts_rank(t.search_input, q.q, 1)::float8 + CASE WHEN t.search_input @@ q.b THEN 1000 ELSE 0 END
    FROM tool_uses t, q
    WHERE t.search_input @@ q.q AND ($11::text IS NULL OR $11 = 'tool_input')
      AND ($5::text IS NULL OR lower(t.tool_name) = lower($5))
      AND ($8::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at, $8) >= $8)
      AND ($9::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) IS NULL
           OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) < $9)
      AND (NOT $14 OR t.session_id = ANY (ARRAY(SELECT session_id FROM scope)))
    UNION ALL
    SELECT t.session_id, 'tool_result', t.tool_name, COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at),
           t.tool_use_id,
           ts_rank(t.search_result, q.q, 1)::float8 + CASE WHEN t.search_result @@ q.b THEN 1000 ELSE 0 END
    FROM tool_uses t, q
    WHERE t.search_result @@ q.q AND ($11::text IS NULL OR $11 = 'tool_result')
      AND ($5::text IS NULL OR lower(t.tool_name) = lower($5))
      AND ($8::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at, $8) >= $8)
      AND ($9::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) IS NULL
           OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) < $9)
      AND (NOT $14 OR t.session_id = ANY (ARRAY(SELECT session_id FROM scope)))
    UNION ALL
    SELECT t.session_id, 'path', t.tool_name, COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at),
           t.tool_use_id,
           ts_rank(t.search_path, q.q, 1)::float8 + CASE WHEN t.search_path @@ q.b THEN 1000 ELSE 0 END
    FROM tool_uses t, q
    WHERE t.search_path @@ q.q AND ($11::text IS NULL OR $11 = 'path')
      AND ($5::text IS NULL OR lower(t.tool_name) = lower($5))
      AND ($8::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at, $8) >= $8)
      AND ($9::timestamptz IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) IS NULL
           OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) < $9)
      AND (NOT $14 OR t.session_id = ANY (ARRAY(SELECT session_id FROM scope)))
),
cut AS MATERIALIZED (
    SELECT CASE WHEN NOT $16 THEN (SELECT score FROM found ORDER BY score DESC LIMIT 1 OFFSET $12 + $13 - 1) END AS s
),
page AS (
    SELECT f.session_id, c.title, f.kind, f.tool_name, COALESCE(f.at, c.started_at) AS at, f.anchor, f.score
    FROM found f JOIN conversations c ON c.session_id = f.session_id, cut
    WHERE (cut.s IS NULL OR f.score >= cut.s)
      AND ($8::timestamptz IS NULL OR COALESCE(f.at, c.started_at) >= $8)
      AND ($9::timestamptz IS NULL OR COALESCE(f.at, c.started_at) < $9)
    ORDER BY f.score DESC, at DESC, f.anchor LIMIT $12 OFFSET $13
)
SELECT p.session_id, p.title, p.kind, p.tool_name, p.at, p.anchor, p.score,
       CASE p.kind
           WHEN 'tool_input' THEN (SELECT left(search_tool_input(t.input), 100000) FROM tool_uses t WHERE t.tool_use_id = p.anchor)
           WHEN 'tool_result' THEN (SELECT left(search_tool_result(t.response, t.transcript_result, t.error), 100000)
                                    FROM tool_uses t WHERE t.tool_use_id = p.anchor)
           WHEN 'path' THEN (SELECT left(search_tool_path(t.input), 100000) FROM tool_uses t WHERE t.tool_use_id = p.anchor)
           ELSE (SELECT left(m.text, 100000) FROM messages m WHERE m.session_id = p.session_id AND m.message_key = p.anchor)
       END AS body
FROM page p ORDER BY p.score DESC, p.at DESC, p.anchor
"#;

#[async_trait::async_trait]
impl SearchStore for PgStore {
    async fn search_hits(&self, s: &Search) -> Result<Vec<RawHit>, StoreError> {
        let f = &s.filters;
        let esc = |v: Option<&str>| v.map(|v| escape_str(v).into_owned());
        // Not a cached prepared statement: planned with this search's
        // values (whether a filter is set, how common the words are).
        let rows = sqlx::query(SEARCH)
            .persistent(false)
            .bind(s.query.tsquery())
            .bind(s.query.boost().map(|b| b.tsquery()))
            .bind(esc(f.user.as_deref()))
            .bind(esc(f.host.as_deref()))
            .bind(esc(f.tool.as_deref()))
            .bind(esc(s.project_dir().as_deref()))
            .bind(esc(s.project_below().as_deref()))
            .bind(f.since)
            .bind(f.until)
            .bind(esc(s.session_pattern().as_deref()))
            .bind(f.kind.map(Kind::as_str))
            .bind(s.limit)
            .bind(s.offset)
            .bind(s.scoped())
            .bind(crate::read::owner_array(f.owners.as_deref()))
            .bind(s.filtered())
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                let text = |k: &str| {
                    r.try_get::<Option<String>, _>(k)
                        .map(|v| v.map(|v| unescape_str(&v).into_owned()))
                        .map_err(store_error)
                };
                let need = |k: &str| {
                    text(k)?.ok_or_else(|| StoreError::refused(format!("search hit without {k}")))
                };
                let kind = need("kind")?;
                let body: String = text("body")?.unwrap_or_default();
                Ok(RawHit {
                    session_id: need("session_id")?,
                    title: text("title")?,
                    kind: Kind::parse(&kind)
                        .ok_or_else(|| StoreError::refused(format!("unknown hit kind {kind:?}")))?,
                    tool_name: text("tool_name")?,
                    at: r.try_get("at").map_err(store_error)?,
                    anchor: need("anchor")?,
                    score: r.try_get("score").map_err(store_error)?,
                    body,
                })
            })
            .collect()
    }
}
