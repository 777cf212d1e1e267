//! Reversible escaping of text that Postgres cannot hold.
//!
//! Postgres rejects the NUL character in `text` and in `jsonb` (`\u0000`).
//! hookline never drops it: NUL is written as U+E000 followed by `0`, and
//! U+E000 itself (a private-use character) as U+E000 twice. Text that holds
//! neither character, nearly all text, is stored unchanged.

use std::borrow::Cow;

use serde_json::Value;

/// `word` as one word for a POSIX shell: as it is when it holds only
/// characters no shell treats specially, else single-quoted (for the
/// commands hookline writes into settings.json or prints to paste).
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,=".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

const ESC: char = '\u{E000}';

fn needs_escape(s: &str) -> bool {
    s.contains(['\0', ESC])
}

/// Escapes a string for storage.
pub fn escape_str(s: &str) -> Cow<'_, str> {
    if !needs_escape(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0' => {
                out.push(ESC);
                out.push('0');
            }
            ESC => {
                out.push(ESC);
                out.push(ESC);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Reverses [`escape_str`].
pub fn unescape_str(s: &str) -> Cow<'_, str> {
    if !s.contains(ESC) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != ESC {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some(ESC) => out.push(ESC),
            // Not produced by escape_str; keep what is there.
            Some(other) => {
                out.push(ESC);
                out.push(other);
            }
            None => out.push(ESC),
        }
    }
    Cow::Owned(out)
}

fn map_strings(v: &Value, f: &dyn Fn(&str) -> Cow<'_, str>) -> Value {
    match v {
        Value::String(s) => Value::String(f(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(|i| map_strings(i, f)).collect()),
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| (f(k).into_owned(), map_strings(v, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn any_string(v: &Value, pred: &dyn Fn(&str) -> bool) -> bool {
    match v {
        Value::String(s) => pred(s),
        Value::Array(items) => items.iter().any(|i| any_string(i, pred)),
        Value::Object(obj) => obj.iter().any(|(k, v)| pred(k) || any_string(v, pred)),
        _ => false,
    }
}

/// Escapes every string (keys included) of a JSON value for storage.
pub fn escape_json(v: &Value) -> Cow<'_, Value> {
    if any_string(v, &needs_escape) {
        Cow::Owned(map_strings(v, &escape_str))
    } else {
        Cow::Borrowed(v)
    }
}

/// Reverses [`escape_json`].
pub fn unescape_json(v: &Value) -> Cow<'_, Value> {
    if any_string(v, &|s| s.contains(ESC)) {
        Cow::Owned(map_strings(v, &unescape_str))
    } else {
        Cow::Borrowed(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert!(matches!(escape_str("hello"), Cow::Borrowed("hello")));
    }

    #[test]
    fn nul_is_escaped_without_nul_in_output() {
        let e = escape_str("a\0b");
        assert!(!e.contains('\0'));
        assert_eq!(unescape_str(&e), "a\0b");
    }

    proptest! {
        #[test]
        fn escaping_round_trips(s in "[a\\x00\u{E000}0b]{0,40}") {
            let e = escape_str(&s);
            prop_assert!(!e.contains('\0'));
            prop_assert_eq!(unescape_str(&e).into_owned(), s.clone());
        }
    }
}
