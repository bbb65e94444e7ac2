//! The preview of decision notices for the API, rendered by the deliverers' own templates
//! so that what a reviewer reads is what the appellant receives.

use std::sync::Arc;

use anyhow::Context as _;
use redress_core::{Outcome, StatementOfReasons};
use redress_graphql::{NoticePreviewer, PreviewedNotice};
use redress_notify::case_details::DisputeSettlementBody;
use redress_notify::mail::Templates;

use crate::email::EmailConfig;

struct TemplatePreviewer {
    templates: Templates,
    bodies: Vec<DisputeSettlementBody>,
}

impl NoticePreviewer for TemplatePreviewer {
    fn decision_notice(
        &self,
        language: &str,
        reference: &str,
        outcome: Outcome,
        reasons: &str,
        statement: Option<&StatementOfReasons>,
    ) -> Result<PreviewedNotice, String> {
        let notice = redress_notify::preview::decision_notice(
            &self.templates,
            language,
            reference,
            outcome,
            reasons,
            statement,
            &self.bodies,
        )
        .map_err(|err| err.to_string())?;
        Ok(PreviewedNotice {
            language: notice.language,
            mail_subject: notice.subject,
            mail_text: notice.text,
            mail_html: notice.html,
            direct_message: notice.direct_message,
        })
    }
}

/// The previewer over the configured mail templates (built-in, then the override directory).
pub fn previewer(
    config: &EmailConfig,
    bodies: Vec<DisputeSettlementBody>,
) -> anyhow::Result<Arc<dyn NoticePreviewer>> {
    let templates = Templates::load(config.templates_dir.as_deref(), &config.default_language)
        .context("loading mail templates")?;
    Ok(Arc::new(TemplatePreviewer { templates, bodies }))
}
