//! A decision notice as the appellant will receive it, rendered before the decision is
//! sent: the same templates, values and DM text the deliverers use.

use std::collections::HashMap;

use redress_core::{Notice, Outcome, StatementOfReasons};

use crate::case_details::{CaseDetails, DisputeSettlementBody};
use crate::dm::text::notice_text;
use crate::mail::statement;
use crate::mail::templates::{TemplateError, Templates};

/// The mail and the direct message a decision sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNotice {
    pub notice: Notice,
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub direct_message: String,
}

/// The template values a decision's notice explains itself with: the reasons, the
/// statement of reasons and the redress open to the appellant.
pub(crate) fn decision_values(
    reasons: &str,
    statement: Option<&StatementOfReasons>,
    bodies: &[DisputeSettlementBody],
    language: &str,
) -> Vec<(&'static str, String)> {
    let mut values = vec![("reasons", reasons.to_owned())];
    let mut redress = statement::DEFAULT_REDRESS;
    if let Some(statement) = statement {
        values.push(("statement", statement::describe(statement, language)));
        if !statement.redress.is_empty() {
            redress = &statement.redress;
        }
    }
    values.push((
        "redress",
        statement::redress_options(redress, bodies, language),
    ));
    values
}

/// Renders the notice a decision with `outcome`, `reasons` and `statement` sends on the
/// appeal `reference`, in `language` (or the templates' fallback), with what the mail
/// deliverer adds of the `case`: its status link, the enforcement and its statement.
#[allow(clippy::too_many_arguments)]
pub fn decision_notice(
    templates: &Templates,
    language: &str,
    reference: &str,
    outcome: Outcome,
    reasons: &str,
    statement: Option<&StatementOfReasons>,
    bodies: &[DisputeSettlementBody],
    case: Option<&CaseDetails>,
) -> Result<DecisionNotice, TemplateError> {
    let notice = match outcome {
        Outcome::Uphold => Notice::DecisionUpheld,
        Outcome::Restore => Notice::DecisionRestored,
    };
    let mut values: HashMap<&str, String> = decision_values(reasons, statement, bodies, language)
        .into_iter()
        .collect();
    values.insert("reference", reference.to_owned());
    if let Some(case) = case {
        for (name, value) in crate::mail::deliverer::case_values(case, language) {
            // As the deliverer does: the decision's own statement wins over the enforcement's.
            values.entry(name).or_insert(value);
        }
    }
    let rendered = templates.render(notice, language, &values)?;
    Ok(DecisionNotice {
        notice,
        language: language.to_owned(),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        direct_message: notice_text(notice, reference, language),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upheld_decision_shows_its_reasons_in_the_language_asked_for() {
        let templates = Templates::load(None, "en").expect("templates");
        let notice = decision_notice(
            &templates,
            "de",
            "RDR-7K3Q-9M2X",
            Outcome::Uphold,
            "Der Pin ist Spam.",
            None,
            &[],
            None,
        )
        .expect("render");
        assert_eq!(notice.notice, Notice::DecisionUpheld);
        assert!(notice.subject.contains("RDR-7K3Q-9M2X"));
        assert!(notice.text.contains("Der Pin ist Spam."), "{}", notice.text);
        assert!(notice.direct_message.contains("RDR-7K3Q-9M2X"));
    }
}
