//! Text helpers for the CLI's tables.

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
