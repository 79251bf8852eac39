//! Suggestions for misspelt names: the "did you mean" in diagnostics about
//! an unknown model, component, port, parameter or expression name.

/// The candidate most similar to `name`, if any is reasonably similar:
/// few edits away (one per three characters) or sharing most of a prefix.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let max_edits = name.chars().count() / 3;
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(name, c),
                strsim::levenshtein(name, c),
                c,
            )
        })
        .filter(|(score, edits, _)| *score > 0.8 || *edits <= max_edits)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, _, c)| c)
}
