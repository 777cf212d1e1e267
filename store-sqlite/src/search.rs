//! [`SearchStore`] on SQLite: FTS5 (`search_fts`, migration
//! `20261202100000_search`), ranked by bm25, the same answers as
//! `store-postgres/src/search.rs`.

use hookline_core::error::StoreError;
use hookline_core::search::{Kind, RawHit, Search, SearchStore};
use sqlx::Row;

use crate::store::SqliteStore;
use crate::time::{from_text, to_text_opt};

/// Filters, ranks and pages the FTS5 hits (rowid `messages.id * 4`, or
/// `search_tool_ids.id * 4 + 1|2|3`), then reads the page's documents.
/// bm25 comes with the FTS5 scan (a bm25 of one row alone costs a scan of
/// the whole doclist), and SQLite computes it only for the rows the scan's
/// WHERE keeps: so when a filter is set (?17) `hits` tests each match's
/// row there, before it is ranked (`scope` is the sessions the user, host,
/// project and session filters and the viewer's users (?16, a JSON array)
/// select, read once; ?15 whether any is set; the time, kind and tool
/// filters test each row). ?2 is the phrase boost (?14: whether there is
/// one; without one its scan does not run): its hits rank first, scored
/// in `hits`. Without any filter every match is a candidate, and only
/// those scoring at least the (offset + limit)th best score (`cut`; ties
/// kept, so the page is the one a full sort gives) meet `messages`,
/// `tool_uses` and `conversations`: a common word's page reads the rows
/// of about one page (and the ties at the cut), not of its 10,000 matches.
const SEARCH: &str = r#"
WITH scope AS MATERIALIZED (
    SELECT c.session_id FROM conversations c
    WHERE ?15 AND (?3 IS NULL OR c.user_name = ?3) AND (?4 IS NULL OR c.host = ?4)
      AND (?6 IS NULL OR c.cwd = ?6 OR substr(c.cwd, 1, length(?7)) = ?7)
      AND (?10 IS NULL OR c.session_id LIKE ?10 ESCAPE '\')
      AND (?16 IS NULL OR c.user_name IN (SELECT value FROM json_each(?16)))
),
boost AS MATERIALIZED (SELECT rowid AS r FROM search_fts WHERE ?14 AND search_fts MATCH ?2),
hits AS MATERIALIZED (
    SELECT s.rowid AS r,
           -bm25(search_fts) + CASE WHEN ?14 AND s.rowid IN (SELECT r FROM boost) THEN 1000.0 ELSE 0.0 END AS score
    FROM search_fts s WHERE search_fts MATCH ?1
      AND (NOT ?17 OR CASE WHEN s.rowid % 4 = 0 THEN EXISTS (
              SELECT 1 FROM messages m WHERE m.id = s.rowid / 4 AND ?5 IS NULL
                AND (?11 IS NULL OR ?11 = CASE m.role WHEN 'user' THEN 'prompt' ELSE 'reply' END)
                AND (?8 IS NULL OR m.created_at >= ?8) AND (?9 IS NULL OR m.created_at < ?9)
                AND (NOT ?15 OR m.session_id IN (SELECT session_id FROM scope)))
           ELSE EXISTS (
              SELECT 1 FROM search_tool_ids i JOIN tool_uses t ON t.tool_use_id = i.tool_use_id
              WHERE i.id = s.rowid / 4 AND (?5 IS NULL OR lower(t.tool_name) = lower(?5))
                AND (?11 IS NULL OR ?11 = CASE s.rowid % 4 WHEN 1 THEN 'tool_input' WHEN 2 THEN 'tool_result' ELSE 'path' END)
                AND (?8 IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at, ?8) >= ?8)
                AND (?9 IS NULL OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) IS NULL
                     OR COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at) < ?9)
                AND (NOT ?15 OR t.session_id IN (SELECT session_id FROM scope))) END)
),
cut AS MATERIALIZED (
    SELECT CASE WHEN NOT ?17 THEN (SELECT score FROM hits ORDER BY score DESC LIMIT 1 OFFSET ?12 + ?13 - 1) END AS s
),
kept AS MATERIALIZED (
    SELECT r, score FROM hits WHERE (SELECT s FROM cut) IS NULL OR score >= (SELECT s FROM cut)
),
found AS (
    SELECT h.r, m.session_id, CASE m.role WHEN 'user' THEN 'prompt' ELSE 'reply' END AS kind,
           NULL AS tool_name, m.created_at AS at, m.message_key AS anchor, h.score
    FROM kept h JOIN messages m ON m.id = h.r / 4
    WHERE h.r % 4 = 0
    UNION ALL
    SELECT h.r, t.session_id,
           CASE h.r % 4 WHEN 1 THEN 'tool_input' WHEN 2 THEN 'tool_result' ELSE 'path' END,
           t.tool_name, COALESCE(t.used_at, t.pre_at, t.result_at, t.post_at), t.tool_use_id, h.score
    FROM kept h JOIN search_tool_ids i ON i.id = h.r / 4 JOIN tool_uses t ON t.tool_use_id = i.tool_use_id
    WHERE h.r % 4 <> 0
),
page AS (
    SELECT f.r, f.session_id, c.title, f.kind, f.tool_name, COALESCE(f.at, c.started_at) AS at,
           f.anchor, f.score
    FROM found f JOIN conversations c ON c.session_id = f.session_id
    WHERE (?8 IS NULL OR COALESCE(f.at, c.started_at) >= ?8)
      AND (?9 IS NULL OR COALESCE(f.at, c.started_at) < ?9)
    ORDER BY score DESC, at DESC, f.r LIMIT ?12 OFFSET ?13
)
SELECT p.session_id, p.title, p.kind, p.tool_name, p.at, p.anchor, p.score,
       CASE WHEN p.r % 4 = 0 THEN (SELECT substr(m.text, 1, 100000) FROM messages m WHERE m.id = p.r / 4)
            ELSE (SELECT substr(CASE p.r % 4 WHEN 1 THEN d.input_doc WHEN 2 THEN d.result_doc
                                ELSE d.path_doc END, 1, 100000)
                  FROM search_tool_docs d WHERE d.tool_use_id = p.anchor) END AS body
FROM page p ORDER BY p.score DESC, p.at DESC, p.r
"#;

#[async_trait::async_trait]
impl SearchStore for SqliteStore {
    async fn search_hits(&self, s: &Search) -> Result<Vec<RawHit>, StoreError> {
        let main = s.query.fts5();
        let boost = s.query.boost().map(|b| b.fts5());
        let has_boost = boost.is_some();
        // Without a boost, ?2 is the query itself (MATCH needs an expression).
        let boost = boost.unwrap_or_else(|| main.clone());
        let f = &s.filters;
        let rows = sqlx::query(SEARCH)
            .bind(&main)
            .bind(&boost)
            .bind(f.user.as_deref())
            .bind(f.host.as_deref())
            .bind(f.tool.as_deref())
            .bind(s.project_dir())
            .bind(s.project_below())
            .bind(to_text_opt(f.since))
            .bind(to_text_opt(f.until))
            .bind(s.session_pattern())
            .bind(f.kind.map(Kind::as_str))
            .bind(s.limit)
            .bind(s.offset)
            .bind(has_boost)
            .bind(s.scoped())
            .bind(crate::read::owners(f.owners.as_deref()))
            .bind(s.filtered())
            .fetch_all(self.pool())
            .await
            .map_err(crate::store_error)?;
        rows.iter()
            .map(|r| {
                let get = |k: &str| r.try_get::<String, _>(k).map_err(crate::store_error);
                let kind = get("kind")?;
                let at = get("at")?;
                Ok(RawHit {
                    session_id: get("session_id")?,
                    title: r.try_get("title").map_err(crate::store_error)?,
                    kind: Kind::parse(&kind)
                        .ok_or_else(|| StoreError::refused(format!("unknown hit kind {kind:?}")))?,
                    tool_name: r.try_get("tool_name").map_err(crate::store_error)?,
                    at: from_text(&at).ok_or_else(|| {
                        StoreError::refused(format!("bad timestamp {at:?} in the database"))
                    })?,
                    anchor: get("anchor")?,
                    score: r.try_get("score").map_err(crate::store_error)?,
                    body: r
                        .try_get::<Option<String>, _>("body")
                        .map_err(crate::store_error)?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
