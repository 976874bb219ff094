//! Text helpers for the SVG writer: coordinates as short decimals, XML escaping, word wrap.

/// A coordinate for SVG: two decimals, never NaN or infinite (those become 0; callers skip them first).
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        debug_assert!(false, "non-finite coordinate reached the SVG writer");
        return "0".into();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Escapes text for XML character data and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Greedy word wrap to at most `max_chars` per line (longer words stay whole); honours newlines.
pub(crate) fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max_chars {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_words_wrap() {
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.126), "0.13");
        assert_eq!(num(-0.001), "0");
        assert_eq!(esc("a\u{7}<b"), "a&lt;b");
        assert_eq!(
            wrap("one two three four\nfive", 9),
            ["one two", "three", "four", "five"]
        );
        assert_eq!(wrap("unbreakable", 3), ["unbreakable"]);
    }
}
