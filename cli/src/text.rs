//! Text helpers for the CLI's tables and progress lines, URLs and error
//! messages.

/// `s` on one line (white space runs folded to one space), cut to `max`
/// characters with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        let kept: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    } else {
        line
    }
}

/// A single line of progress on stderr, rewritten in place.
pub fn progress(label: &str, done: usize, total: Option<usize>) {
    use std::io::Write as _;
    let line = match total {
        Some(t) if t > 0 => {
            let width = 30;
            let filled = (done.min(t) * width) / t;
            format!(
                "\r{label} [{}{}] {done}/{t}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            )
        }
        _ => format!("\r{label} {done}"),
    };
    let mut err = std::io::stderr();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// One path segment, percent-encoded (a `/` in an id too).
pub fn seg(s: &str) -> String {
    url_encode(s).replace('/', "%2F")
}

/// An error and its causes, `: `-separated (what anyhow's `{:#}` prints).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out += ": ";
        out += &c.to_string();
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn folds_white_space_and_cuts_with_an_ellipsis() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line("abcdef", 0), "…");
    }
}
