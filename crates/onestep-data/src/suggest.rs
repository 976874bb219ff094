//! "Did you mean": the closest of a list of known words to a mistyped one.

/// Levenshtein distance between `a` and `b`, in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known word closest to `word`, if it is within two edits (and `word` is not one of them).
pub fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (best, d) = known
        .into_iter()
        .map(|k| (k, distance(word, k)))
        .min_by_key(|&(_, d)| d)?;
    (d > 0 && d <= 2).then_some(best)
}

/// "did you mean `X`? " for the closest known word, or "".
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, known).map_or(String::new(), |k| format!("did you mean `{k}`? "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_words() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(closest("widht", ["width", "d", "n"]), Some("width"));
        assert_eq!(closest("width", ["width"]), None);
        assert_eq!(closest("zzzzzz", ["width", "n"]), None);
        assert_eq!(
            did_you_mean("tahn", ["tanh", "relu"]),
            "did you mean `tanh`? "
        );
    }
}
