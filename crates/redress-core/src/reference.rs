//! Human-friendly appeal references such as `RDR-7K3Q-9M2X`.
//!
//! Seven random characters from Crockford's base-32 alphabet (no I, L, O or U, so nothing
//! reads as a digit or a rude word) plus one Luhn mod 32 check character. The check catches
//! every single-character error and every transposition of adjacent characters except
//! `0`/`Z` (the one pair Luhn mod 32 cannot tell apart), so a
//! reference typed from a letter or read aloud over the phone is either right or rejected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const PREFIX: &str = "RDR";
const DATA_LEN: usize = 7;
const CODE_LEN: usize = DATA_LEN + 1;

/// A validated appeal reference. Stored and displayed as `RDR-XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppealReference(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    #[error("an appeal reference starts with RDR, got {0:?}")]
    MissingPrefix(String),
    #[error("an appeal reference has {CODE_LEN} characters after RDR, got {0}")]
    WrongLength(usize),
    #[error("{0:?} is not a character used in appeal references")]
    BadCharacter(char),
    #[error("the check character of {0} does not match: the reference has a typo")]
    CheckFailed(String),
}

impl AppealReference {
    /// Builds a reference from 35 random bits; the caller supplies the randomness so this
    /// stays deterministic. Higher bits of `seed` are ignored.
    pub fn from_seed(seed: u64) -> Self {
        let mut digits = [0u8; DATA_LEN];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = ((seed >> (5 * (DATA_LEN - 1 - i))) & 31) as u8;
        }
        let check = luhn_check_digit(&digits);
        let mut code = String::with_capacity(CODE_LEN);
        for d in digits.iter().chain(std::iter::once(&check)) {
            code.push(char::from(ALPHABET[usize::from(*d)]));
        }
        Self(format!("{PREFIX}-{}-{}", &code[..4], &code[4..]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Finds the first valid reference in free text, such as a mail subject
    /// ("Re: [RDR-7K3Q-9M2X] Your appeal").
    pub fn find_in(text: &str) -> Option<Self> {
        let upper = text.to_ascii_uppercase();
        let mut search_from = 0;
        while let Some(pos) = upper[search_from..].find(PREFIX) {
            let start = search_from + pos;
            let candidate: String = upper[start..]
                .chars()
                .take(PREFIX.len() + CODE_LEN + 4)
                .collect();
            for end in (PREFIX.len() + CODE_LEN..=candidate.len()).rev() {
                if let Some(slice) = candidate.get(..end) {
                    if let Ok(reference) = slice.parse() {
                        return Some(reference);
                    }
                }
            }
            search_from = start + PREFIX.len();
        }
        None
    }
}

fn digit_of(c: char) -> Result<u8, ReferenceError> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|p| p as u8)
        .ok_or(ReferenceError::BadCharacter(c))
}

/// Luhn mod N: doubles every second digit from the right, folding the product in base N.
fn luhn_sum(digits: &[u8], double_first_from_right: bool) -> u32 {
    let mut double = double_first_from_right;
    let mut sum = 0u32;
    for &d in digits.iter().rev() {
        let mut addend = u32::from(d) * if double { 2 } else { 1 };
        addend = addend / 32 + addend % 32;
        sum += addend;
        double = !double;
    }
    sum
}

fn luhn_check_digit(data: &[u8]) -> u8 {
    let remainder = luhn_sum(data, true) % 32;
    ((32 - remainder) % 32) as u8
}

impl FromStr for AppealReference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .collect();
        let upper = compact.to_ascii_uppercase();
        let Some(code) = upper.strip_prefix(PREFIX) else {
            return Err(ReferenceError::MissingPrefix(input.to_owned()));
        };
        if code.chars().count() != CODE_LEN {
            return Err(ReferenceError::WrongLength(code.chars().count()));
        }
        let digits = code.chars().map(digit_of).collect::<Result<Vec<_>, _>>()?;
        if luhn_sum(&digits, false) % 32 != 0 {
            return Err(ReferenceError::CheckFailed(input.to_owned()));
        }
        let canonical: String = digits
            .iter()
            .map(|d| char::from(ALPHABET[usize::from(*d)]))
            .collect();
        Ok(Self(format!(
            "{PREFIX}-{}-{}",
            &canonical[..4],
            &canonical[4..]
        )))
    }
}

impl TryFrom<String> for AppealReference {
    type Error = ReferenceError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<AppealReference> for String {
    fn from(value: AppealReference) -> Self {
        value.0
    }
}

impl fmt::Display for AppealReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn has_the_documented_shape() {
        let reference = AppealReference::from_seed(0x1234_5678);
        let s = reference.as_str();
        assert_eq!(s.len(), 13);
        assert!(s.starts_with("RDR-"));
        assert_eq!(&s[8..9], "-");
    }

    #[test]
    fn rejects_garbage_with_a_precise_error() {
        assert!(matches!(
            "ABC-1234-5678".parse::<AppealReference>(),
            Err(ReferenceError::MissingPrefix(_))
        ));
        assert!(matches!(
            "RDR-1234".parse::<AppealReference>(),
            Err(ReferenceError::WrongLength(4))
        ));
        assert!(matches!(
            "RDR-12U4-5678".parse::<AppealReference>(),
            Err(ReferenceError::BadCharacter('U'))
        ));
    }

    #[test]
    fn finds_a_reference_in_a_subject() {
        let reference = AppealReference::from_seed(987_654_321);
        let subject = format!("Re: [{}] Your appeal", reference.as_str().to_lowercase());
        assert_eq!(AppealReference::find_in(&subject), Some(reference));
        assert_eq!(AppealReference::find_in("Re: RDR-nothing here"), None);
    }

    proptest! {
        #[test]
        fn round_trips_through_text(seed in any::<u64>()) {
            let reference = AppealReference::from_seed(seed);
            let parsed: AppealReference = reference.as_str().parse().expect("valid");
            prop_assert_eq!(&parsed, &reference);
            let sloppy = reference.as_str().to_lowercase().replace('-', " ");
            prop_assert_eq!(sloppy.parse::<AppealReference>().expect("valid"), reference);
        }

        #[test]
        fn every_single_character_typo_is_caught(seed in any::<u64>(), pos in 0usize..8, delta in 1u8..32) {
            let reference = AppealReference::from_seed(seed);
            let mut code: Vec<u8> = reference.as_str().bytes().filter(|b| *b != b'-').skip(3).collect();
            let old = ALPHABET.iter().position(|a| *a == code[pos]).expect("alphabet") as u8;
            code[pos] = ALPHABET[usize::from((old + delta) % 32)];
            let typo = format!("RDR{}", String::from_utf8(code).expect("ascii"));
            prop_assert!(typo.parse::<AppealReference>().is_err());
        }

        #[test]
        fn adjacent_transpositions_are_caught(seed in any::<u64>(), pos in 0usize..7) {
            let reference = AppealReference::from_seed(seed);
            let mut code: Vec<u8> = reference.as_str().bytes().filter(|b| *b != b'-').skip(3).collect();
            prop_assume!(code[pos] != code[pos + 1]);
            let pair = [code[pos], code[pos + 1]];
            prop_assume!(pair != *b"0Z" && pair != *b"Z0");
            code.swap(pos, pos + 1);
            let typo = format!("RDR{}", String::from_utf8(code).expect("ascii"));
            prop_assert!(typo.parse::<AppealReference>().is_err());
        }
    }
}
