//! The appellant's language, decided once, when a case is filed: the account's locale when
//! the platform sent one with an enforcement, else the language the channel declared (a
//! mail's `Content-Language`), else the language of the message's text when detection is
//! sure of it and Redress writes in it, else none (the deployment's default applies).
//!
//! The decision is recorded where everything else reads it: the opening message's metadata
//! under [`LANGUAGE_KEY`] (routing rules, the dry run) and the case's `language:xx` tag
//! (notices, decision templates, the status page, the console).

use redress_core::language::{is_shipped, primary_language};
use serde::{Deserialize, Serialize};

/// The metadata key a channel declares the appellant's language under (a BCP 47 tag), and
/// where filing records the language it decided.
pub const LANGUAGE_KEY: &str = "language";

/// The metadata key that says where the language came from ([`LanguageSource`]).
pub const LANGUAGE_SOURCE_KEY: &str = "language_source";

/// How much of a message detection reads: the opening lines say what language it is in, and
/// a hostile megabyte is not worth reading to find out.
const DETECTION_SAMPLE_BYTES: usize = 4096;

/// Where the appellant's language came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageSource {
    /// The account's locale, as the platform sent it with an enforcement.
    AccountLocale,
    /// The channel's declaration, e.g. a mail's `Content-Language` header.
    Declared,
    /// Detected from the message's text.
    Detected,
}

impl LanguageSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageSource::AccountLocale => "account_locale",
            LanguageSource::Declared => "declared",
            LanguageSource::Detected => "detected",
        }
    }
}

/// The appellant's language (a primary language subtag such as `de`) and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppellantLanguage {
    pub language: String,
    pub source: LanguageSource,
}

/// Decides the appellant's language. Malformed locales and declarations count as none; a
/// declared language Redress does not ship is still the appellant's language (routing rules
/// may send it to people who read it; notices fall back to the default), but detection only
/// answers with a language Redress ships, and only when it is reliable.
pub fn decide(
    account_locale: Option<&str>,
    declared: Option<&str>,
    text: &str,
) -> Option<AppellantLanguage> {
    let given = |value: Option<&str>, source| {
        value
            .and_then(primary_language)
            .map(|language| AppellantLanguage { language, source })
    };
    given(account_locale, LanguageSource::AccountLocale)
        .or_else(|| given(declared, LanguageSource::Declared))
        .or_else(|| {
            detect(text).map(|language| AppellantLanguage {
                language: language.to_owned(),
                source: LanguageSource::Detected,
            })
        })
}

/// The shipped language `text` is written in, when whatlang is reliably sure of it.
pub fn detect(text: &str) -> Option<&'static str> {
    let info = whatlang::detect(sample(text))?;
    if !info.is_reliable() {
        return None;
    }
    let language = match info.lang() {
        whatlang::Lang::Eng => "en",
        whatlang::Lang::Deu => "de",
        whatlang::Lang::Fra => "fr",
        whatlang::Lang::Spa => "es",
        whatlang::Lang::Ita => "it",
        whatlang::Lang::Por => "pt",
        whatlang::Lang::Nld => "nl",
        whatlang::Lang::Pol => "pl",
        whatlang::Lang::Jpn => "ja",
        _ => return None,
    };
    is_shipped(language).then_some(language)
}

/// The start of `text`, cut at a character boundary.
fn sample(text: &str) -> &str {
    if text.len() <= DETECTION_SAMPLE_BYTES {
        return text;
    }
    let mut end = DETECTION_SAMPLE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GERMAN: &str = "Guten Tag, mein Konto wurde gesperrt, obwohl ich das Bild nur \
                          gespeichert und nie selbst veröffentlicht habe. Bitte prüfen Sie \
                          die Entscheidung noch einmal.";
    const FRENCH: &str = "Bonjour, mon compte a été suspendu alors que je n'ai fait \
                          qu'enregistrer cette image. Je vous demande de bien vouloir \
                          réexaminer cette décision.";

    #[test]
    fn the_locale_beats_the_declaration_which_beats_detection() {
        let decided =
            |locale, declared, text| decide(locale, declared, text).map(|d| (d.language, d.source));
        assert_eq!(
            decided(Some("it-IT"), Some("fr"), GERMAN),
            Some(("it".to_owned(), LanguageSource::AccountLocale))
        );
        assert_eq!(
            decided(None, Some("fr-CA"), GERMAN),
            Some(("fr".to_owned(), LanguageSource::Declared))
        );
        assert_eq!(
            decided(None, None, GERMAN),
            Some(("de".to_owned(), LanguageSource::Detected))
        );
        assert_eq!(
            decided(Some("not a locale!"), Some("*"), FRENCH),
            Some(("fr".to_owned(), LanguageSource::Detected))
        );
        assert_eq!(decided(None, None, "ok"), None);
    }

    #[test]
    fn short_or_unshipped_text_is_not_guessed() {
        for text in [
            "",
            "ok",
            "RDR-7K3Q-9M2X",
            "Hallo",
            "?!",
            "https://example.org/x",
        ] {
            assert_eq!(detect(text), None, "{text:?}");
        }
        // Swedish, reliably detected but not shipped.
        assert_eq!(
            detect(
                "Hej, mitt konto har stängts av trots att jag bara sparade bilden. Jag ber er \
                 att pröva beslutet igen."
            ),
            None
        );
    }

    #[test]
    fn a_huge_message_is_sampled_at_a_character_boundary() {
        let text = "ü".repeat(DETECTION_SAMPLE_BYTES);
        assert!(sample(&text).len() <= DETECTION_SAMPLE_BYTES);
        assert!(sample(&text).chars().all(|c| c == 'ü'));
        let _ = detect(&format!("{GERMAN} {}", "x".repeat(1 << 20)));
    }
}
