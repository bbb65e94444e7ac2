//! What a search box query asks for. Recognised before any database work, so a hostile
//! query (search syntax, quotes, NUL, thousands of characters) is either refused here with
//! a clear reason or reduced to plain words the database cannot misread.

use std::str::FromStr;

use redress_core::{AppealReference, ReferenceError};

/// Longest query accepted, in characters: longer than any reference, address or id, and
/// than the few words a person types into a search box.
pub const MAX_QUERY_CHARS: usize = 256;
/// Words of a free-text query that count; the rest are ignored.
pub const MAX_WORDS: usize = 8;

/// A recognised query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// `RDR-7K3Q-9M2X`, in any case, with or without dashes.
    Reference(AppealReference),
    /// `someone@example.org`: the appeal's contact or the account's registered address.
    Email(String),
    /// `@name`: a social id, as a DM channel reports it or as linked to an account.
    Handle(String),
    /// One token that is none of the above: an account id or an enforcement's external id,
    /// and the same token as text.
    Identifier { token: String, words: Vec<String> },
    /// Words, all of which a message or note must contain.
    Text(Vec<String>),
}

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchQueryError {
    #[error("the search query is empty")]
    Empty,
    #[error("the search query is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the search query looks like an appeal reference but is not one: {0}")]
    BadReference(ReferenceError),
}

impl SearchQuery {
    /// The words a text search looks for; empty for exact lookups.
    pub fn words(&self) -> &[String] {
        match self {
            SearchQuery::Identifier { words, .. } | SearchQuery::Text(words) => words,
            _ => &[],
        }
    }
}

impl FromStr for SearchQuery {
    type Err = SearchQueryError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchQueryError::TooLong);
        }
        // A control character (NUL above all, which PostgreSQL cannot take) never belongs
        // to an address or id: it separates words like a space.
        let cleaned: String = input
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let query = cleaned.trim();
        if query.is_empty() {
            return Err(SearchQueryError::Empty);
        }
        if let Some(reference) = reference(query)? {
            return Ok(SearchQuery::Reference(reference));
        }
        let single_token = !query.contains(char::is_whitespace);
        if single_token {
            if let Some(name) = query.strip_prefix('@') {
                if !name.is_empty() && !name.contains('@') {
                    return Ok(SearchQuery::Handle(name.to_owned()));
                }
            }
            if is_email(query) {
                return Ok(SearchQuery::Email(query.to_owned()));
            }
            return Ok(SearchQuery::Identifier {
                token: query.to_owned(),
                words: words(query),
            });
        }
        Ok(SearchQuery::Text(words(query)))
    }
}

/// A reference when the query is one; an error when it starts like one (`RDR-`) but is
/// mistyped, so the person learns of the typo instead of getting no results.
fn reference(query: &str) -> Result<Option<AppealReference>, SearchQueryError> {
    match query.parse::<AppealReference>() {
        Ok(reference) => Ok(Some(reference)),
        Err(err) => {
            let looks_like_one = query
                .get(..4)
                .is_some_and(|start| start.eq_ignore_ascii_case("RDR-"));
            if looks_like_one {
                Err(SearchQueryError::BadReference(err))
            } else {
                Ok(None)
            }
        }
    }
}

fn is_email(token: &str) -> bool {
    let Some((local, domain)) = token.split_once('@') else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
}

/// The query's words as the indexes hold them: runs of letters and digits, lower case. Every
/// other character (search syntax, quotes, punctuation) breaks words, as it does in the
/// indexed text, and never reaches the database as syntax.
pub fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_WORDS {
            break;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<SearchQuery, SearchQueryError> {
        input.parse()
    }

    #[test]
    fn recognises_each_kind() {
        let reference = AppealReference::from_seed(42);
        assert_eq!(
            parse(&reference.as_str().to_lowercase()),
            Ok(SearchQuery::Reference(reference))
        );
        assert_eq!(
            parse(" Person@Example.org "),
            Ok(SearchQuery::Email("Person@Example.org".into()))
        );
        assert_eq!(parse("@someone"), Ok(SearchQuery::Handle("someone".into())));
        assert_eq!(
            parse("acct-42"),
            Ok(SearchQuery::Identifier {
                token: "acct-42".into(),
                words: vec!["acct".into(), "42".into()]
            })
        );
        assert_eq!(
            parse("Saved PIN"),
            Ok(SearchQuery::Text(vec!["saved".into(), "pin".into()]))
        );
    }

    #[test]
    fn refuses_what_cannot_be_searched() {
        assert_eq!(parse(""), Err(SearchQueryError::Empty));
        assert_eq!(parse(" \0 \t"), Err(SearchQueryError::Empty));
        assert_eq!(parse(&"a".repeat(10_000)), Err(SearchQueryError::TooLong));
        assert!(matches!(
            parse("RDR-0000-0001"),
            Err(SearchQueryError::BadReference(_))
        ));
    }

    #[test]
    fn search_syntax_becomes_plain_words() {
        assert_eq!(
            parse(r#"saved" OR pin* NEAR(x) -"#),
            Ok(SearchQuery::Text(vec![
                "saved".into(),
                "or".into(),
                "pin".into(),
                "near".into(),
                "x".into()
            ]))
        );
        assert_eq!(parse(r#""" ** ()"#), Ok(SearchQuery::Text(vec![])));
        assert_eq!(
            parse("a\0@b.c"),
            Ok(SearchQuery::Text(vec!["a".into(), "b".into(), "c".into()]))
        );
    }

    #[test]
    fn keeps_at_most_max_words() {
        let many = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(parse(&many).map(|q| q.words().len()), Ok(MAX_WORDS));
    }
}
