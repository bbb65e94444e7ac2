//! Free text over messages and notes, answered by the indexes of migrations
//! `m20261129_001300_search` and `m20261204_001400_stored_search_vectors`: on PostgreSQL a
//! GIN index over each message's stored vector (`messages.search_vector`) and a GIN
//! expression index over notes, FTS5 tables on SQLite. The note expression below must stay
//! exactly that of its index, or the planner falls back to reading every row.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::error::EngineError;

/// The indexed text of a message, stored in the row when it is written: testing a row
/// reads it instead of computing it again.
const POSTGRES_MESSAGE_VECTOR: &str = "search_vector";

/// The indexed text of a note, as the `appeal_notes_search` index computes it.
const POSTGRES_NOTE_VECTOR: &str = r##"to_tsvector('simple'::regconfig, translate(left(coalesce(payload -> 'kind' ->> 'text', ''), 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))"##;

/// An appeal whose text matched, and the row that matched (for the snippet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextMatch<K> {
    pub appeal_id: Uuid,
    pub row: K,
}

/// Where one kind of text is searched: the rows that hold it, the column that tells the
/// newest match of an appeal, and each backend's index over it.
struct SearchedText {
    table: &'static str,
    rows: &'static str,
    newest_by: &'static str,
    postgres_vector: &'static str,
    sqlite_index: &'static str,
}

const MESSAGES: SearchedText = SearchedText {
    table: "messages",
    rows: "appeal_id IS NOT NULL",
    newest_by: "id",
    postgres_vector: POSTGRES_MESSAGE_VECTOR,
    sqlite_index: "message_search",
};

const NOTES: SearchedText = SearchedText {
    table: "appeal_events",
    rows: "kind = 'note_added'",
    newest_by: "version",
    postgres_vector: POSTGRES_NOTE_VECTOR,
    sqlite_index: "note_search",
};

/// Appeals with a message containing every word, newest case first, with the newest
/// matching message of each.
pub async fn messages<C: ConnectionTrait>(
    conn: &C,
    words: &[String],
    limit: u64,
) -> Result<Vec<TextMatch<Uuid>>, EngineError> {
    newest_matches(conn, &MESSAGES, words, limit).await
}

/// Appeals with a note containing every word, newest case first, with the version of the
/// newest matching note of each.
pub async fn notes<C: ConnectionTrait>(
    conn: &C,
    words: &[String],
    limit: u64,
) -> Result<Vec<TextMatch<i64>>, EngineError> {
    newest_matches(conn, &NOTES, words, limit).await
}

async fn newest_matches<C: ConnectionTrait, K: sea_orm::TryGetable>(
    conn: &C,
    searched: &SearchedText,
    words: &[String],
    limit: u64,
) -> Result<Vec<TextMatch<K>>, EngineError> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let SearchedText {
        table,
        rows,
        newest_by,
        postgres_vector,
        sqlite_index,
    } = searched;
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT DISTINCT ON (appeal_id) appeal_id, {newest_by} AS row_key FROM {table} \
             WHERE {rows} AND {postgres_vector} @@ plainto_tsquery('simple'::regconfig, $1) \
             ORDER BY appeal_id DESC, {newest_by} DESC LIMIT $2"
        ),
        _ => format!(
            "SELECT appeal_id, max({newest_by}) AS row_key FROM {table} \
             WHERE {rows} AND rowid IN (SELECT rowid FROM {sqlite_index} WHERE {sqlite_index} MATCH ?) \
             GROUP BY appeal_id ORDER BY appeal_id DESC LIMIT ?"
        ),
    };
    let found = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(match_expression(backend, words)), limit.into()],
        ))
        .await?;
    found
        .into_iter()
        .map(|row| {
            Ok(TextMatch {
                appeal_id: row.try_get("", "appeal_id")?,
                row: row.try_get("", "row_key")?,
            })
        })
        .collect()
}

/// The words as each backend's query language takes them, every word required. The words
/// hold only letters and digits (see `query::words`); SQLite's are quoted all the same, so
/// that a word such as `or` or `near` is a word and not an operator.
fn match_expression(backend: DbBackend, words: &[String]) -> String {
    match backend {
        DbBackend::Postgres => words.join(" "),
        _ => words
            .iter()
            .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Characters of context shown on each side of the first matching word.
const SNIPPET_CONTEXT: usize = 60;

/// A short excerpt of `text` around the first of `words` it contains as a whole word
/// (compared as the index compares them), or its beginning when none is found.
pub fn snippet(text: &str, words: &[String]) -> String {
    let chars: Vec<char> = text
        .chars()
        .take(100_000)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut found = None;
    let mut start = 0;
    while start < chars.len() && found.is_none() {
        if !chars[start].is_alphanumeric() {
            start += 1;
            continue;
        }
        let end = chars[start..]
            .iter()
            .position(|c| !c.is_alphanumeric())
            .map_or(chars.len(), |len| start + len);
        let word: String = chars[start..end].iter().collect::<String>().to_lowercase();
        if words.contains(&word) {
            found = Some(start);
        }
        start = end;
    }
    let at = found.unwrap_or(0);
    let from = at.saturating_sub(SNIPPET_CONTEXT);
    let to = (at + SNIPPET_CONTEXT * 2).min(chars.len());
    let mut excerpt: String = chars[from..to].iter().collect();
    excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
    if from > 0 {
        excerpt.insert(0, '…');
    }
    if to < chars.len() {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_centres_on_the_first_matching_word() {
        let text = format!(
            "{} the PIN was only saved {}",
            "x ".repeat(100),
            "y ".repeat(100)
        );
        let excerpt = snippet(&text, &["pin".into()]);
        assert!(excerpt.contains("the PIN was only saved"), "{excerpt}");
        assert!(excerpt.starts_with('…') && excerpt.ends_with('…'));
        assert!(excerpt.chars().count() < 200);
    }

    #[test]
    fn snippet_matches_whole_words_only() {
        assert_eq!(snippet("spinning pin", &["pin".into()]), "spinning pin");
        assert_eq!(snippet("short", &["absent".into()]), "short");
    }
}
