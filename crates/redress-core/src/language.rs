//! The appellant's language: which languages Redress writes to people in, what a well-formed
//! language tag is, and how the case records the language it was given.
//!
//! A language is kept as its primary language subtag, lower case (`de` for `de-AT`):
//! notices, decision templates and the status page are written per language, not per
//! region, and a routing rule on `de` then matches every German-speaking appellant.

/// The languages Redress ships every notice, DM text and status page string in.
pub const SHIPPED: &[&str] = &["en", "de", "fr", "es", "it", "pt", "nl", "pl", "ja"];

/// The tag that names the appellant's language on a case, e.g. `language:de`.
pub const LANGUAGE_TAG: &str = "language:";

/// Longest tag looked at: the longest RFC 5646 (section 4.4.1) asks implementations to keep
/// whole. Anything longer is no language tag, whatever it holds.
const MAX_TAG_LEN: usize = 35;

/// The primary language of a well-formed BCP 47 tag (`de-AT` gives `de`), lower case; `None`
/// for anything else. The primary subtag must be an ISO 639 code (two or three letters):
/// the longer forms BCP 47 reserves name no language anyone writes in, and `i-` and `x-`
/// tags name none a notice could be written in.
pub fn primary_language(tag: &str) -> Option<String> {
    let tag = tag.trim();
    if tag.len() > MAX_TAG_LEN {
        return None;
    }
    let mut subtags = tag.split(['-', '_']);
    let primary = subtags.next()?;
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok = subtags.all(|subtag| {
        (1..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    (primary_ok && rest_ok).then(|| primary.to_ascii_lowercase())
}

/// The first shipped language of an `Accept-Language` header, for pages shown before the
/// case (and so its language) is known.
pub fn accepted_language(header: &str) -> Option<&'static str> {
    header
        .split(',')
        .take(16)
        .filter_map(|item| item.split(';').next())
        .filter_map(primary_language)
        .find_map(|language| {
            SHIPPED
                .iter()
                .find(|shipped| **shipped == language)
                .copied()
        })
}

/// Whether Redress ships its texts in `language` (a primary subtag, as [`primary_language`]
/// gives).
pub fn is_shipped(language: &str) -> bool {
    SHIPPED.contains(&language)
}

/// The tag that records `language` on a case.
pub fn language_tag(language: &str) -> String {
    format!("{LANGUAGE_TAG}{language}")
}

/// The language a case's tags name, the first `language:xx` tag with a value.
pub fn from_tags(tags: &[String]) -> Option<String> {
    tags.iter()
        .filter_map(|tag| tag.strip_prefix(LANGUAGE_TAG))
        .map(str::trim)
        .find(|language| !language.is_empty())
        .map(str::to_owned)
}

/// The tags a routing rule gives a new case: the rule's own, and the language the case was
/// filed with unless the rule names a language itself. A rule routes; it does not forget
/// what language the appellant wrote in.
pub fn keep_language(rule_tags: &[String], case_tags: &[String]) -> Vec<String> {
    let mut tags = rule_tags.to_vec();
    if from_tags(rule_tags).is_none() {
        if let Some(language) = from_tags(case_tags) {
            tags.push(language_tag(&language));
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_tags_give_their_primary_language() {
        for (tag, language) in [
            ("de", "de"),
            ("de-AT", "de"),
            ("DE-at", "de"),
            ("pt_BR", "pt"),
            (" fr-CA ", "fr"),
            ("zh-Hant-TW", "zh"),
            ("sgn-BE-FR", "sgn"),
        ] {
            assert_eq!(primary_language(tag).as_deref(), Some(language), "{tag}");
        }
    }

    #[test]
    fn anything_else_is_no_language() {
        let long = format!("en-{}", "a".repeat(40));
        for tag in [
            "",
            "e",
            "english",
            "x-klingon",
            "i-default",
            "*",
            "en;q=0.8",
            "en--US",
            "en-",
            "d3",
            "de-ÄT",
            "' OR 1=1 --",
            long.as_str(),
        ] {
            assert_eq!(primary_language(tag), None, "{tag:?}");
        }
    }

    #[test]
    fn a_rule_keeps_the_filed_language_unless_it_names_one() {
        let case = vec![language_tag("de")];
        assert_eq!(
            keep_language(&["fast".to_owned()], &case),
            vec!["fast".to_owned(), "language:de".to_owned()]
        );
        assert_eq!(
            keep_language(&["language:fr".to_owned()], &case),
            vec!["language:fr".to_owned()]
        );
        assert_eq!(keep_language(&[], &[]), Vec::<String>::new());
    }

    #[test]
    fn every_shipped_language_is_a_primary_language() {
        for language in SHIPPED {
            assert_eq!(primary_language(language).as_deref(), Some(*language));
        }
    }
}
