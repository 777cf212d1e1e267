//! Rows as JSON objects in one shape whatever the backend.

use anyhow::{Context, bail};
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, TypeInfo, Value as _, ValueRef};

/// Columns holding JSON (jsonb in Postgres, TEXT in SQLite).
const JSON_COLUMNS: &[&str] = &[
    "payload",
    "headers",
    "validation_errors",
    "content",
    "raw",
    "input",
    "response",
    "transcript_result",
];

/// `s` as an SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQLite row as a JSON object (JSON columns parsed, times normalized).
pub fn sqlite_row(row: &SqliteRow) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for col in row.columns() {
        let raw = row.try_get_raw(col.ordinal())?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let owned = ValueRef::to_owned(&raw);
            match owned.type_info().name() {
                "INTEGER" => Value::from(owned.try_decode::<i64>()?),
                "REAL" => Value::from(owned.try_decode::<f64>()?),
                "TEXT" => {
                    let s = owned.try_decode::<String>()?;
                    if JSON_COLUMNS.contains(&col.name()) {
                        serde_json::from_str(&s)
                            .with_context(|| format!("{} is not JSON: {s}", col.name()))?
                    } else {
                        Value::String(s)
                    }
                }
                other => bail!("unexpected SQLite value type {other} in {}", col.name()),
            }
        };
        out.insert(col.name().to_owned(), value);
    }
    Ok(normalized(out))
}

/// Timestamps (columns named `*_at`, `at`, `ts`, `hour`) in one form.
pub(super) fn normalized(mut row: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in row.iter_mut() {
        if !(k.ends_with("_at") || k == "at" || k == "ts" || k == "hour") {
            continue;
        }
        let parsed = v.as_str().and_then(hookline_store_sqlite::time::from_text);
        if let Some(t) = parsed {
            *v = Value::String(hookline_store_sqlite::time::to_text(t));
        }
    }
    row
}
