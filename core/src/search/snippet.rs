//! The highlighted snippet of a hit, made here for both stores: a window
//! of the document around its first highlighted word, the query's words
//! marked. Words are found as the indexes find them (runs of letters and
//! digits, case-insensitive; [`super::query::words`]), so what matched is
//! what is marked, a word inside `src/main.rs` too (Postgres's
//! `ts_headline` reads such a path as one token).

use serde::{Deserialize, Serialize};

use super::query::Query;

/// Characters of the document shown before the first hit.
const BEFORE: usize = 60;
/// Longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 220;

/// A piece of a snippet: text, and whether it is a hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub text: String,
    pub hit: bool,
}

/// The snippet of `doc` for `query`: at most [`SNIPPET_CHARS`] characters
/// (whitespace runs as one space), `…` where it was cut.
pub fn snippet(doc: &str, query: &Query) -> Vec<Fragment> {
    let chars: Vec<char> = doc.chars().collect();
    // Word spans (start, end) in chars, and whether each is a hit.
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_alphanumeric() {
            let s = i;
            while i < chars.len() && chars[i].is_alphanumeric() {
                i += 1;
            }
            let w: String = chars[s..i].iter().collect::<String>().to_lowercase();
            spans.push((s, i, query.highlights(&w)));
        } else {
            i += 1;
        }
    }
    let first = spans.iter().find(|s| s.2).map_or(0, |s| s.0);
    let mut start = first.saturating_sub(BEFORE);
    // Start at a word boundary.
    while start > 0 && start < first && chars[start - 1].is_alphanumeric() {
        start += 1;
    }
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut out: Vec<Fragment> = Vec::new();
    let mut push = |text: &str, hit: bool| {
        let text = collapse(text);
        if text.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(&text),
            _ => out.push(Fragment { text, hit }),
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for &(s, e, hit) in spans.iter().filter(|s| s.2 && s.0 >= start && s.1 <= end) {
        push(&chars[at..s].iter().collect::<String>(), false);
        push(&chars[s..e].iter().collect::<String>(), hit);
        at = e;
    }
    push(&chars[at..end].iter().collect::<String>(), false);
    if end < chars.len() {
        push("…", false);
    }
    if let Some(f) = out.first_mut().filter(|f| !f.hit) {
        f.text = f.text.trim_start().to_owned();
    }
    if let Some(f) = out.last_mut().filter(|f| !f.hit) {
        f.text = f.text.trim_end().to_owned();
    }
    out.retain(|f| !f.text.is_empty());
    out
}

fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

/// The snippet as one string, hits between `open` and `close`.
pub fn marked(fragments: &[Fragment], open: &str, close: &str) -> String {
    fragments
        .iter()
        .map(|f| {
            if f.hit {
                format!("{open}{}{close}", f.text)
            } else {
                f.text.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_marked_in_a_bounded_window_around_the_first_hit() -> Result<(), String> {
        let q = Query::parse("main* pool").map_err(|e| e.to_string())?;
        let doc = format!(
            "{} Edit src/main.rs:\n\n  the POOL is full",
            "x ".repeat(200)
        );
        let s = snippet(&doc, &q);
        let text = marked(&s, "[", "]");
        assert!(text.starts_with('…'), "{text}");
        assert!(
            text.ends_with("Edit src/[main].rs: the [POOL] is full"),
            "{text}"
        );
        assert!(text.chars().count() <= SNIPPET_CHARS + 2, "{text}");
        let long = snippet(&"word ".repeat(500), &q);
        assert_eq!(long.len(), 1, "no hit: the start, not marked");
        assert!(marked(&long, "[", "]").ends_with('…'));
        Ok(())
    }
}
