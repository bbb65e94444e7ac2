//! Finding a person's identifiers in text: whole occurrences only, without regard to ASCII
//! case. An address is a word with `.`, `_`, `%`, `+`, `-` and `@` in it, so erasing
//! `jo@example.org` must not touch `mary.jo@example.org` nor `jo@example.org.uk`; a
//! sentence's full stop after an address still ends it.

/// Identifiers shorter than this are never looked for: they would match too much.
pub const MIN_IDENTIFIER: usize = 3;

/// Characters that continue an address or a handle on either side of a match.
const JOINERS: &[u8] = b"._%+-@";

/// Whether the byte at `at` continues the word a match would sit in; `after` is whether it
/// follows the match, where `.` or `-` only continue it when a letter or digit comes next.
fn continues(bytes: &[u8], at: usize, after: bool) -> bool {
    let Some(&byte) = bytes.get(at) else {
        return false;
    };
    if byte.is_ascii_alphanumeric() || byte >= 0x80 {
        return true;
    }
    if !JOINERS.contains(&byte) {
        return false;
    }
    if after && (byte == b'.' || byte == b'-') {
        return bytes
            .get(at + 1)
            .is_some_and(|next| next.is_ascii_alphanumeric() || *next >= 0x80);
    }
    true
}

/// Whether the match at `at` continues a word before it. `@handle` mentions a handle, so
/// an `@` that starts a word does not join a handle to it.
fn joined_before(bytes: &[u8], at: usize, needle: &str) -> bool {
    if at == 0 || !continues(bytes, at - 1, false) {
        return false;
    }
    if bytes[at - 1] == b'@' && !needle.contains('@') {
        return at >= 2 && continues(bytes, at - 2, false);
    }
    true
}

/// Where `needle` occurs whole in `haystack` (ASCII case aside), as byte ranges.
fn whole_matches(haystack: &str, needle: &str) -> Vec<(usize, usize)> {
    if needle.chars().count() < MIN_IDENTIFIER {
        return Vec::new();
    }
    let lower = haystack.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle) {
        let end = at + needle.len();
        if at < last || joined_before(bytes, at, &needle) || continues(bytes, end, true) {
            continue;
        }
        found.push((at, end));
        last = end;
    }
    found
}

/// Whether `text` names `identifier` as a whole word.
pub fn mentions(text: &str, identifier: &str) -> bool {
    !whole_matches(text, identifier).is_empty()
}

/// `haystack` with every whole occurrence of `needle` replaced.
pub(crate) fn replace_whole(haystack: &str, needle: &str, replacement: &str) -> String {
    let matches = whole_matches(haystack, needle);
    if matches.is_empty() {
        return haystack.to_owned();
    }
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for (at, end) in matches {
        out.push_str(&haystack[last..at]);
        out.push_str(replacement);
        last = end;
    }
    out.push_str(&haystack[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_inside_a_longer_address_is_not_it() {
        assert!(!mentions("write to mary.jo@example.org", "jo@example.org"));
        assert!(!mentions("jo@example.org.uk", "jo@example.org"));
        assert!(!mentions("x+jo@example.org", "jo@example.org"));
        assert!(mentions("thanks @handle918!", "handle918"));
        assert!(!mentions("mary@handle918", "handle918"));
        assert!(mentions("Write to Jo@Example.ORG.", "jo@example.org"));
        assert!(mentions("<jo@example.org>", "jo@example.org"));
        assert!(!mentions("acct-77 and xacct-7", "acct-7"));
        assert!(!mentions("an id of 12", "12"));
    }

    #[test]
    fn replacing_keeps_what_is_around() {
        assert_eq!(
            replace_whole(
                "to Jo@Example.org, cc mary.jo@example.org",
                "jo@example.org",
                "[removed]"
            ),
            "to [removed], cc mary.jo@example.org"
        );
    }
}
