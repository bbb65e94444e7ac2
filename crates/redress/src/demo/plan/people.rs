//! The people of the wave: a name, an address that reaches nobody, the language they write
//! in, and, for those who write by DM, a social id that no platform would accept.

use rand::seq::IndexedRandom;
use rand::Rng;

use super::Language;

/// Someone whose account the platform knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub account_id: String,
    pub name: String,
    /// Under the reserved `example.*` domains (RFC 2606): mail to it reaches nobody.
    pub email: String,
    pub language: Language,
}

const GIVEN: &[(Language, &[&str])] = &[
    (
        Language::En,
        &[
            "Emma", "Oliver", "Ava", "Noah", "Grace", "Liam", "Chloe", "Ethan",
        ],
    ),
    (
        Language::De,
        &[
            "Lena", "Jonas", "Mia", "Lukas", "Hannah", "Felix", "Jana", "Tobias",
        ],
    ),
    (
        Language::Fr,
        &[
            "Camille", "Louis", "Chloé", "Hugo", "Léa", "Jules", "Manon", "Théo",
        ],
    ),
    (
        Language::Es,
        &[
            "Lucía", "Mateo", "Sofía", "Diego", "Martina", "Pablo", "Elena", "Javier",
        ],
    ),
    (
        Language::Pt,
        &[
            "João", "Beatriz", "Miguel", "Ana", "Rafael", "Mariana", "Tiago", "Inês",
        ],
    ),
];

const FAMILY: &[(Language, &[&str])] = &[
    (
        Language::En,
        &[
            "Smith", "Jones", "Taylor", "Brown", "Walker", "Wright", "Evans", "Hughes",
        ],
    ),
    (
        Language::De,
        &[
            "Müller", "Schmidt", "Weber", "Fischer", "Becker", "Hoffmann", "Wagner", "Koch",
        ],
    ),
    (
        Language::Fr,
        &[
            "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux",
        ],
    ),
    (
        Language::Es,
        &[
            "García",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Romero",
            "Navarro",
            "Torres",
        ],
    ),
    (
        Language::Pt,
        &[
            "Silva",
            "Santos",
            "Ferreira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Almeida",
            "Sousa",
        ],
    ),
];

fn names_of(
    table: &'static [(Language, &'static [&'static str])],
    language: Language,
) -> &'static [&'static str] {
    table
        .iter()
        .find(|(l, _)| *l == language)
        .map_or(&[][..], |(_, names)| *names)
}

/// The `index`th account holder.
pub fn person(rng: &mut impl Rng, index: usize, language: Language) -> Person {
    let given = names_of(GIVEN, language)
        .choose(rng)
        .copied()
        .unwrap_or("Alex");
    let family = names_of(FAMILY, language)
        .choose(rng)
        .copied()
        .unwrap_or("Doe");
    let domain = ["example.com", "example.org", "example.net"]
        .choose(rng)
        .copied()
        .unwrap_or("example.com");
    Person {
        account_id: format!("acct-{index:06}"),
        name: format!("{given} {family}"),
        email: format!(
            "{}.{}{index}@{domain}",
            ascii_folded(given),
            ascii_folded(family)
        ),
        language,
    }
}

/// A social id for `person` on a platform: marked as the demo's, so no send API would take it.
pub fn social_id(platform: &str, index: usize) -> String {
    format!("demo-{platform}-{index:06}")
}

/// Lower-case ASCII for a mailbox name: the accents a name's letters carry are dropped.
fn ascii_folded(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'Ü' => 'U',
            other => other,
        })
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_names_are_plain_ascii() {
        assert_eq!(ascii_folded("Müller"), "muller");
        assert_eq!(ascii_folded("Inês"), "ines");
        assert_eq!(ascii_folded("Fernández"), "fernandez");
    }
}
