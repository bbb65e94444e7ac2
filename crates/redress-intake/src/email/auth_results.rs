//! Sender identity from Authentication-Results (RFC 8601). Only headers stamped by a
//! trusted receiving server count; that server must remove headers claiming its id from
//! incoming mail, or anyone could write one.

use serde::Serialize;

/// How far the From address can be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Identity {
    /// A trusted server saw DMARC pass, or DKIM pass for the From domain.
    Verified {
        method: String,
        authserv_id: String,
    },
    Unverified,
}

impl Identity {
    pub fn is_verified(&self) -> bool {
        matches!(self, Identity::Verified { .. })
    }
}

/// Judges `headers` (the values of every Authentication-Results header) for a message
/// from `from_domain`.
pub fn identity<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    trusted_authserv_ids: &[String],
    from_domain: &str,
) -> Identity {
    for header in headers {
        let cleaned = strip_comments(header);
        let mut sections = cleaned.split(';').map(str::trim);
        let Some(authserv_id) = sections.next().and_then(|s| s.split_whitespace().next()) else {
            continue;
        };
        if !trusted_authserv_ids
            .iter()
            .any(|trusted| trusted.eq_ignore_ascii_case(authserv_id))
        {
            continue;
        }
        for result in sections {
            if let Some(method) = passing_method(result, from_domain) {
                return Identity::Verified {
                    method: method.to_owned(),
                    authserv_id: authserv_id.to_owned(),
                };
            }
        }
    }
    Identity::Unverified
}

/// `dmarc` or `dkim` when `result` ("dkim=pass header.d=example.org ...") vouches for
/// `from_domain`.
fn passing_method<'a>(result: &'a str, from_domain: &str) -> Option<&'a str> {
    let mut tokens = result.split_whitespace();
    let (method, verdict) = tokens.next()?.split_once('=')?;
    if !verdict.eq_ignore_ascii_case("pass") {
        return None;
    }
    let property = |name: &str| {
        result.split_whitespace().find_map(|token| {
            let (key, value) = token.split_once('=')?;
            key.eq_ignore_ascii_case(name).then_some(value)
        })
    };
    let aligned = |domain: &str| {
        let domain = domain.trim_start_matches('@');
        let domain = domain.rsplit_once('@').map_or(domain, |(_, d)| d);
        let from = from_domain.to_ascii_lowercase();
        let domain = domain.to_ascii_lowercase();
        !domain.is_empty() && (from == domain || from.ends_with(&format!(".{domain}")))
    };
    if method.eq_ignore_ascii_case("dmarc") {
        property("header.from")
            .is_none_or(aligned)
            .then_some(method)
    } else if method.eq_ignore_ascii_case("dkim") {
        property("header.d")
            .or_else(|| property("header.i"))
            .is_some_and(aligned)
            .then_some(method)
    } else {
        None
    }
}

/// Removes RFC 5322 comments ("(...)"), which may contain anything, even semicolons.
fn strip_comments(value: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<String> {
        vec!["mx.redress.example".to_owned()]
    }

    #[test]
    fn dmarc_pass_from_the_trusted_server_verifies() {
        let header = "mx.redress.example; spf=pass smtp.mailfrom=example.org; \
                      dkim=pass (2048-bit key) header.d=example.org; dmarc=pass (p=REJECT) header.from=example.org";
        assert_eq!(
            identity([header], &trusted(), "example.org"),
            Identity::Verified {
                method: "dkim".into(),
                authserv_id: "mx.redress.example".into()
            }
        );
    }

    #[test]
    fn other_servers_failures_and_foreign_domains_do_not_verify() {
        let forged = "mx.attacker.example; dmarc=pass header.from=example.org";
        let failed = "mx.redress.example; dkim=fail header.d=example.org; dmarc=fail header.from=example.org";
        let foreign = "mx.redress.example; dkim=pass header.d=attacker.example";
        let spf_only = "mx.redress.example; spf=pass smtp.mailfrom=example.org";
        for header in [forged, failed, foreign, spf_only] {
            assert_eq!(
                identity([header], &trusted(), "example.org"),
                Identity::Unverified,
                "{header}"
            );
        }
    }

    #[test]
    fn subdomains_align_with_their_organisational_domain() {
        let header = "mx.redress.example 1; dkim=pass header.i=@example.org";
        assert!(identity([header], &trusted(), "mail.example.org").is_verified());
    }
}
