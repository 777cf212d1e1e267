//! The search query language, parsed once here and rendered per dialect:
//! a Postgres `tsquery` ([`Query::tsquery`]) and an FTS5 `MATCH`
//! expression ([`Query::fts5`]).
//!
//! | syntax | finds |
//! | --- | --- |
//! | `pool timeout` | documents with every word (in any order) |
//! | `"connection pool"` | the words next to each other, in this order |
//! | `migrat*` | words starting with `migrat` |
//! | `-flaky` or `-"test run"` | not the word (or phrase) |
//!
//! A word is a run of letters and digits, compared case-insensitively, as
//! both indexes see it: `src/main.rs` is the phrase `src main rs`,
//! `parse_query` the phrase `parse query`. Words without letters or digits
//! are an error, as are an unclosed quote, a query of exclusions only, and
//! a `*` anywhere but at the end of a term.

use std::fmt::Write as _;

/// Most terms a query may have.
pub const MAX_TERMS: usize = 32;

/// Why a query cannot be searched; the message names the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("the query is empty: give at least one word")]
    Empty,
    #[error("unclosed quote: the phrase starting at character {0} has no closing \"")]
    UnclosedQuote(usize),
    #[error("{0:?} has no letters or digits to search for")]
    NoWords(String),
    #[error("{0:?}: `*` (prefix) only goes at the end of a word or phrase")]
    MisplacedStar(String),
    #[error("the query only excludes (-word): give at least one word to find")]
    OnlyExclusions,
    #[error("too many terms ({0}); at most {MAX_TERMS}")]
    TooMany(usize),
}

/// One term: a word or a phrase (its words in order), maybe a prefix (its
/// last word), maybe excluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// Lower-case runs of letters and digits; one for a plain word.
    pub words: Vec<String>,
    pub prefix: bool,
    pub negated: bool,
}

/// A parsed query: every positive term must match, no negated one may.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

/// The words of `s` as both indexes see them.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Query {
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        let chars: Vec<char> = input.chars().collect();
        let mut terms = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            let negated = chars[i] == '-';
            if negated {
                i += 1;
            }
            let (body, quoted) = if chars.get(i) == Some(&'"') {
                let open = i;
                let close = chars[open + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or(QueryError::UnclosedQuote(open + 1))?;
                i = open + 1 + close + 1;
                (chars[open + 1..open + 1 + close].iter().collect(), true)
            } else {
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
                    i += 1;
                }
                (
                    chars[start + usize::from(negated)..i].iter().collect(),
                    false,
                )
            };
            let mut body: String = body;
            let mut prefix = false;
            if chars.get(i) == Some(&'*') && quoted {
                prefix = true;
                i += 1;
            } else if !quoted && body.ends_with('*') {
                prefix = true;
                body.pop();
            }
            let raw: String = chars[start..i].iter().collect();
            if !quoted && body.contains('*') {
                return Err(QueryError::MisplacedStar(raw));
            }
            let words = words(&body);
            if words.is_empty() {
                return Err(QueryError::NoWords(raw));
            }
            terms.push(Term {
                words,
                prefix,
                negated,
            });
        }
        if terms.is_empty() {
            return Err(QueryError::Empty);
        }
        if terms.len() > MAX_TERMS {
            return Err(QueryError::TooMany(terms.len()));
        }
        if terms.iter().all(|t| t.negated) {
            return Err(QueryError::OnlyExclusions);
        }
        Ok(Query { terms })
    }

    fn positives(&self) -> impl Iterator<Item = &Term> {
        self.terms.iter().filter(|t| !t.negated)
    }

    /// The positive terms as one phrase, when there are two or more: the
    /// documents holding the query's words as written rank first.
    pub fn boost(&self) -> Option<Query> {
        let pos: Vec<&Term> = self.positives().collect();
        if pos.len() < 2 {
            return None;
        }
        let words = pos.iter().flat_map(|t| t.words.iter().cloned()).collect();
        let prefix = pos.last().is_some_and(|t| t.prefix);
        Some(Query {
            terms: vec![Term {
                words,
                prefix,
                negated: false,
            }],
        })
    }

    /// A Postgres tsquery (for `to_tsquery('simple', …)`).
    pub fn tsquery(&self) -> String {
        let term = |t: &Term| {
            let mut s = String::new();
            for (n, w) in t.words.iter().enumerate() {
                if n > 0 {
                    s.push_str(" <-> ");
                }
                let _ = write!(s, "'{w}'");
                if t.prefix && n + 1 == t.words.len() {
                    s.push_str(":*");
                }
            }
            match (t.negated, t.words.len()) {
                (true, _) => format!("!({s})"),
                (false, 1) => s,
                (false, _) => format!("({s})"),
            }
        };
        let mut parts: Vec<String> = self.positives().map(term).collect();
        parts.extend(self.terms.iter().filter(|t| t.negated).map(term));
        parts.join(" & ")
    }

    /// An FTS5 MATCH expression.
    pub fn fts5(&self) -> String {
        let term = |t: &Term| {
            format!(
                "\"{}\"{}",
                t.words.join(" "),
                if t.prefix { "*" } else { "" }
            )
        };
        let pos: Vec<String> = self.positives().map(term).collect();
        let mut out = format!("({})", pos.join(" AND "));
        for t in self.terms.iter().filter(|t| t.negated) {
            out += &format!(" NOT {}", term(t));
        }
        out
    }

    /// Whether `word` (lower case) is one the query looks for: highlighted
    /// in snippets.
    pub fn highlights(&self, word: &str) -> bool {
        self.positives().any(|t| {
            t.words.iter().enumerate().any(|(n, w)| {
                if t.prefix && n + 1 == t.words.len() {
                    word.starts_with(w.as_str())
                } else {
                    word == w
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        match Query::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn words_phrases_prefixes_and_exclusions_render_for_both_engines() {
        let query = q(r#"Pool "connection timeout" migrat* -flaky -"test run""#);
        assert_eq!(
            query.tsquery(),
            "'pool' & ('connection' <-> 'timeout') & 'migrat':* & !('flaky') & !('test' <-> 'run')"
        );
        assert_eq!(
            query.fts5(),
            r#"("pool" AND "connection timeout" AND "migrat"*) NOT "flaky" NOT "test run""#
        );
        let b = query.boost().map(|b| b.fts5());
        assert_eq!(b.as_deref(), Some(r#"("pool connection timeout migrat"*)"#));
        assert!(q("one").boost().is_none());
    }

    #[test]
    fn punctuation_splits_words_as_the_indexes_do() {
        let query = q("src/main.rs parse_query*");
        assert_eq!(query.fts5(), r#"("src main rs" AND "parse query"*)"#);
        assert_eq!(
            query.tsquery(),
            "('src' <-> 'main' <-> 'rs') & ('parse' <-> 'query':*)"
        );
        assert_eq!(
            q(r#""Café au lait"*"#).terms[0].words,
            ["café", "au", "lait"]
        );
        assert!(q("migrat*").highlights("migration"));
        assert!(!q("migrat* -foo").highlights("foo"));
    }

    #[test]
    fn a_bad_query_names_its_problem() {
        assert_eq!(Query::parse("  "), Err(QueryError::Empty));
        assert_eq!(
            Query::parse(r#"a "open phrase"#),
            Err(QueryError::UnclosedQuote(3))
        );
        assert_eq!(
            Query::parse("ok -- ."),
            Err(QueryError::NoWords("--".into()))
        );
        assert_eq!(
            Query::parse("fo*o"),
            Err(QueryError::MisplacedStar("fo*o".into()))
        );
        assert_eq!(Query::parse("-a -b"), Err(QueryError::OnlyExclusions));
        let many = vec!["w"; 40].join(" ");
        assert_eq!(Query::parse(&many), Err(QueryError::TooMany(40)));
        let msg = Query::parse("fo*o").map_err(|e| e.to_string());
        assert_eq!(
            msg,
            Err("\"fo*o\": `*` (prefix) only goes at the end of a word or phrase".into())
        );
    }
}
