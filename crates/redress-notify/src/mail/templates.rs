//! Mail templates: subject, text and HTML per notice and language, in files.
//!
//! A template file (`{language}/{notice}.tmpl`) holds `Subject: ...` on its first line,
//! then a `--- text` section and a `--- html` section. `{{name}}` is replaced by a value;
//! in the HTML section values are escaped. The built-in set is embedded in the binary; an
//! override directory with the same layout replaces any of its files and may add languages.

use std::collections::HashMap;
use std::path::Path;

use redress_core::Notice;

macro_rules! builtin {
    ($($lang:literal / $notice:literal),+ $(,)?) => {
        &[$(($lang, $notice, include_str!(concat!("../../templates/", $lang, "/", $notice, ".tmpl")))),+]
    };
}

const BUILTIN: &[(&str, &str, &str)] = builtin!(
    "en" / "acknowledgement",
    "en" / "information_request",
    "en" / "decision_upheld",
    "en" / "decision_restored",
    "en" / "reopened",
    "en" / "closed_no_response",
    "en" / "account_restored",
    "en" / "throttle_warning",
    "en" / "appeal_refused",
    "de" / "acknowledgement",
    "de" / "information_request",
    "de" / "decision_upheld",
    "de" / "decision_restored",
    "de" / "reopened",
    "de" / "closed_no_response",
    "de" / "account_restored",
    "de" / "throttle_warning",
    "de" / "appeal_refused",
    "fr" / "acknowledgement",
    "fr" / "information_request",
    "fr" / "decision_upheld",
    "fr" / "decision_restored",
    "fr" / "reopened",
    "fr" / "closed_no_response",
    "fr" / "account_restored",
    "fr" / "throttle_warning",
    "fr" / "appeal_refused",
    "es" / "acknowledgement",
    "es" / "information_request",
    "es" / "decision_upheld",
    "es" / "decision_restored",
    "es" / "reopened",
    "es" / "closed_no_response",
    "es" / "account_restored",
    "es" / "throttle_warning",
    "es" / "appeal_refused",
    "it" / "acknowledgement",
    "it" / "information_request",
    "it" / "decision_upheld",
    "it" / "decision_restored",
    "it" / "reopened",
    "it" / "closed_no_response",
    "it" / "account_restored",
    "it" / "throttle_warning",
    "it" / "appeal_refused",
    "pt" / "acknowledgement",
    "pt" / "information_request",
    "pt" / "decision_upheld",
    "pt" / "decision_restored",
    "pt" / "reopened",
    "pt" / "closed_no_response",
    "pt" / "account_restored",
    "pt" / "throttle_warning",
    "pt" / "appeal_refused",
    "nl" / "acknowledgement",
    "nl" / "information_request",
    "nl" / "decision_upheld",
    "nl" / "decision_restored",
    "nl" / "reopened",
    "nl" / "closed_no_response",
    "nl" / "account_restored",
    "nl" / "throttle_warning",
    "nl" / "appeal_refused",
    "pl" / "acknowledgement",
    "pl" / "information_request",
    "pl" / "decision_upheld",
    "pl" / "decision_restored",
    "pl" / "reopened",
    "pl" / "closed_no_response",
    "pl" / "account_restored",
    "pl" / "throttle_warning",
    "pl" / "appeal_refused",
    "ja" / "acknowledgement",
    "ja" / "information_request",
    "ja" / "decision_upheld",
    "ja" / "decision_restored",
    "ja" / "reopened",
    "ja" / "closed_no_response",
    "ja" / "account_restored",
    "ja" / "throttle_warning",
    "ja" / "appeal_refused",
);

/// The languages Redress ships complete templates for: every notice in each.
pub const SHIPPED_LANGUAGES: &[&str] = redress_core::language::SHIPPED;

/// Values a template may use.
pub const VARIABLES: &[&str] = &[
    "reference",
    "message",
    "reasons",
    "statement",
    "redress",
    "status_link",
    "enforcement",
    "decision_due",
    "wave",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("template {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("cannot read template {name}: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("no template for notice {notice} in language {language} or {fallback}")]
    Missing {
        notice: String,
        language: String,
        fallback: String,
    },
}

#[derive(Debug, Clone)]
pub struct Templates {
    by_key: HashMap<(String, Notice), Template>,
    fallback_language: String,
}

impl Templates {
    /// The built-in templates, then every `*.tmpl` of `override_dir` (when given) on top.
    /// Every template is checked here, so a broken file stops the service at start-up
    /// instead of failing a delivery later.
    pub fn load(
        override_dir: Option<&Path>,
        fallback_language: &str,
    ) -> Result<Self, TemplateError> {
        let mut by_key = HashMap::new();
        for (language, notice, source) in BUILTIN {
            let name = format!("{language}/{notice}.tmpl");
            let notice = parse_notice(notice, &name)?;
            by_key.insert(((*language).to_owned(), notice), parse(&name, source)?);
        }
        if let Some(dir) = override_dir {
            load_dir(dir, &mut by_key)?;
        }
        let templates = Self {
            by_key,
            fallback_language: fallback_language.to_owned(),
        };
        for notice in Notice::ALL {
            templates.get(*notice, fallback_language)?;
        }
        Ok(templates)
    }

    /// The language `notice` is written in for an appellant of `language`: theirs when a
    /// template exists in it, else the fallback. Values (the statement of reasons, the
    /// enforcement) are written in the same language as the template around them.
    pub fn language_for<'a>(&'a self, notice: Notice, language: &'a str) -> &'a str {
        if self.by_key.contains_key(&(language.to_owned(), notice)) {
            language
        } else {
            &self.fallback_language
        }
    }

    /// The template for `notice` in `language`, else in the fallback language.
    pub fn get(&self, notice: Notice, language: &str) -> Result<&Template, TemplateError> {
        self.by_key
            .get(&(language.to_owned(), notice))
            .or_else(|| self.by_key.get(&(self.fallback_language.clone(), notice)))
            .ok_or_else(|| TemplateError::Missing {
                notice: notice.to_string(),
                language: language.to_owned(),
                fallback: self.fallback_language.clone(),
            })
    }

    pub fn render(
        &self,
        notice: Notice,
        language: &str,
        values: &HashMap<&str, String>,
    ) -> Result<Rendered, TemplateError> {
        let template = self.get(notice, language)?;
        Ok(Rendered {
            subject: substitute(&template.subject, values, |v| v.replace(['\r', '\n'], " ")),
            text: substitute(&template.text, values, str::to_owned),
            html: substitute(&template.html, values, escape_html),
        })
    }
}

fn load_dir(
    dir: &Path,
    by_key: &mut HashMap<(String, Notice), Template>,
) -> Result<(), TemplateError> {
    let io = |name: &Path, source| TemplateError::Io {
        name: name.display().to_string(),
        source,
    };
    for language in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let language = language.map_err(|e| io(dir, e))?.path();
        if !language.is_dir() {
            continue;
        }
        let Some(lang) = language
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        for file in std::fs::read_dir(&language).map_err(|e| io(&language, e))? {
            let path = file.map_err(|e| io(&language, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("tmpl") {
                continue;
            }
            let name = path.display().to_string();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let notice = parse_notice(stem, &name)?;
            let source = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            by_key.insert((lang.clone(), notice), parse(&name, &source)?);
        }
    }
    Ok(())
}

fn parse_notice(text: &str, name: &str) -> Result<Notice, TemplateError> {
    text.parse().map_err(|_| TemplateError::Invalid {
        name: name.to_owned(),
        reason: format!(
            "{text:?} is not a notice; expected one of {}",
            list(Notice::ALL)
        ),
    })
}

fn list(notices: &[Notice]) -> String {
    notices
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse(name: &str, source: &str) -> Result<Template, TemplateError> {
    let invalid = |reason: &str| TemplateError::Invalid {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let source = source.replace("\r\n", "\n");
    let (first, rest) = source.split_once('\n').unwrap_or((source.as_str(), ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or_else(|| invalid("the first line must be `Subject: ...`"))?
        .trim()
        .to_owned();
    let rest = rest
        .strip_prefix("--- text\n")
        .ok_or_else(|| invalid("a `--- text` line must follow the subject"))?;
    let (text, html) = rest
        .split_once("\n--- html\n")
        .ok_or_else(|| invalid("a `--- html` section must follow the text"))?;
    for part in [subject.as_str(), text, html] {
        check_placeholders(part).map_err(|reason| invalid(&reason))?;
    }
    Ok(Template {
        subject,
        text: text.trim_end().to_owned() + "\n",
        html: html.trim_end().to_owned() + "\n",
    })
}

fn check_placeholders(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "an unclosed `{{`".to_owned())?;
        let name = after[..end].trim();
        if !VARIABLES.contains(&name) {
            return Err(format!(
                "unknown value {{{{{name}}}}}; templates may use {}",
                VARIABLES.join(", ")
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

fn substitute(
    template: &str,
    values: &HashMap<&str, String>,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        if let Some(value) = values.get(name) {
            out.push_str(&encode(value));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>\n"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> HashMap<&'static str, String> {
        HashMap::from([
            ("reference", "RDR-7K3Q-9M2X".to_owned()),
            (
                "reasons",
                "The pin was <saved>, not posted & the rule misfired.".to_owned(),
            ),
            ("message", "Which board?".to_owned()),
        ])
    }

    #[test]
    fn every_builtin_template_parses_and_every_notice_has_one() {
        let templates = Templates::load(None, "en").expect("built-in templates are valid");
        for notice in Notice::ALL {
            for language in SHIPPED_LANGUAGES {
                let rendered = templates
                    .render(*notice, language, &values())
                    .expect("render");
                assert!(!rendered.subject.is_empty(), "{notice} {language}");
                assert!(!rendered.html.contains("{{"), "{notice} {language}");
                // A restoration without an appeal and a refused appeal have no case, so no
                // reference to show.
                if !matches!(notice, Notice::AccountRestored | Notice::AppealRefused) {
                    assert!(
                        rendered.subject.contains("RDR-7K3Q-9M2X"),
                        "{notice} {language}"
                    );
                    assert!(
                        rendered.text.contains("RDR-7K3Q-9M2X"),
                        "{notice} {language}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_shipped_language_has_its_own_template_for_every_notice() {
        // `Templates::get` falls back to the default language, which would hide a missing
        // translation; the built-in set itself must be complete.
        for language in SHIPPED_LANGUAGES {
            for notice in Notice::ALL {
                let source = BUILTIN
                    .iter()
                    .find(|(lang, name, _)| lang == language && *name == notice.as_str())
                    .map(|(_, _, source)| *source);
                let Some(source) = source else {
                    panic!("no {language} template for {notice}");
                };
                let template = parse(notice.as_str(), source).expect("valid");
                if crate::case_details::has_case(*notice) {
                    for part in [&template.text, &template.html] {
                        assert!(
                            part.contains("{{status_link}}"),
                            "{language}/{notice} has no status link"
                        );
                    }
                }
            }
        }
        assert!(BUILTIN
            .iter()
            .all(|(lang, _, _)| SHIPPED_LANGUAGES.contains(lang)));
    }

    /// The values a template part uses, each once.
    fn variables(part: &str) -> std::collections::BTreeSet<&str> {
        part.split("{{")
            .skip(1)
            .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
            .collect()
    }

    #[test]
    fn every_translation_uses_the_values_the_english_template_uses() {
        // A translation that dropped {{status_link}} (or added a value English never fills)
        // would render without the link, silently.
        for notice in Notice::ALL {
            let source = |language: &str| {
                let Some((_, _, source)) = BUILTIN
                    .iter()
                    .find(|(lang, name, _)| *lang == language && *name == notice.as_str())
                else {
                    panic!("no {language} template for {notice}");
                };
                parse(notice.as_str(), source).expect("valid")
            };
            let english = source("en");
            for language in SHIPPED_LANGUAGES {
                let translated = source(language);
                for (part, ours, theirs) in [
                    ("subject", &translated.subject, &english.subject),
                    ("text", &translated.text, &english.text),
                    ("html", &translated.html, &english.html),
                ] {
                    assert_eq!(
                        variables(ours),
                        variables(theirs),
                        "{language}/{notice}.tmpl: the {part} uses other values than en"
                    );
                }
            }
        }
    }

    #[test]
    fn the_acknowledgement_names_the_enforcement_the_date_and_how_to_add_information() {
        let templates = Templates::load(None, "en").expect("load");
        for language in SHIPPED_LANGUAGES {
            let template = templates
                .get(Notice::Acknowledgement, language)
                .expect("template");
            for value in [
                "{{enforcement}}",
                "{{decision_due}}",
                "{{status_link}}",
                "{{wave}}",
            ] {
                assert!(template.text.contains(value), "{language}: {value}");
            }
        }
        for notice in [Notice::DecisionUpheld, Notice::DecisionRestored] {
            for language in SHIPPED_LANGUAGES {
                let template = templates.get(notice, language).expect("template");
                for value in ["{{reasons}}", "{{statement}}", "{{redress}}"] {
                    assert!(
                        template.text.contains(value),
                        "{language}/{notice}: {value}"
                    );
                }
            }
        }
    }

    #[test]
    fn values_are_escaped_in_html_only() {
        let templates = Templates::load(None, "en").expect("load");
        let rendered = templates
            .render(Notice::DecisionUpheld, "en", &values())
            .expect("render");
        assert!(rendered
            .text
            .contains("The pin was <saved>, not posted & the rule misfired."));
        assert!(rendered
            .html
            .contains("The pin was &lt;saved&gt;, not posted &amp; the rule misfired."));
    }

    #[test]
    fn an_unknown_language_falls_back() {
        let templates = Templates::load(None, "en").expect("load");
        let rendered = templates
            .render(Notice::Acknowledgement, "fi", &values())
            .expect("render");
        assert_eq!(rendered.subject, "[RDR-7K3Q-9M2X] We received your appeal");
    }

    #[test]
    fn an_override_directory_replaces_and_adds_templates() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("fr")).expect("mkdir");
        std::fs::write(
            dir.path().join("en/acknowledgement.tmpl"),
            "Subject: Got it: {{reference}}\n--- text\nThanks.\n--- html\n<p>Thanks.</p>\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("fr/acknowledgement.tmpl"),
            "Subject: [{{reference}}] Appel reçu\n--- text\nMerci.\n--- html\n<p>Merci.</p>\n",
        )
        .expect("write");
        let templates = Templates::load(Some(dir.path()), "en").expect("load");
        let en = templates
            .render(Notice::Acknowledgement, "en", &values())
            .expect("en");
        assert_eq!(en.subject, "Got it: RDR-7K3Q-9M2X");
        let fr = templates
            .render(Notice::Acknowledgement, "fr", &values())
            .expect("fr");
        assert_eq!(fr.subject, "[RDR-7K3Q-9M2X] Appel reçu");
    }

    #[test]
    fn broken_templates_are_refused_with_their_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("en")).expect("mkdir");
        std::fs::write(
            dir.path().join("en/acknowledgement.tmpl"),
            "Subject: {{referenc}}\n--- text\nx\n--- html\nx\n",
        )
        .expect("write");
        let error = Templates::load(Some(dir.path()), "en").expect_err("typo");
        let text = error.to_string();
        assert!(
            text.contains("acknowledgement.tmpl") && text.contains("referenc"),
            "{text}"
        );
        std::fs::write(dir.path().join("en/acknowledgement.tmpl"), "no subject\n").expect("write");
        assert!(Templates::load(Some(dir.path()), "en").is_err());
        std::fs::write(
            dir.path().join("en/greeting.tmpl"),
            "Subject: x\n--- text\nx\n--- html\nx\n",
        )
        .expect("write");
        assert!(
            Templates::load(Some(dir.path()), "en").is_err(),
            "unknown notice"
        );
    }
}
