//! The preview of decision notices for the API, rendered by the deliverers' own templates
//! so that what a reviewer reads is what the appellant receives.

use std::sync::Arc;

use anyhow::Context as _;
use redress_core::{Outcome, StatementOfReasons};
use redress_engine::transparency::AppellantCase;
use redress_graphql::{NoticePreviewer, PreviewedNotice};
use redress_notify::case_details::{CaseDetails, NoticeSettings};
use redress_notify::mail::Templates;

use crate::email::EmailConfig;

/// Stands for the appellant's status token in a preview's link: staff read the preview,
/// and the token would let them act on the status page as the appellant.
pub const WITHHELD_TOKEN: &str = "withheld-in-this-preview";

struct TemplatePreviewer {
    templates: Templates,
    notices: NoticeSettings,
}

impl NoticePreviewer for TemplatePreviewer {
    fn decision_notice(
        &self,
        language: &str,
        reference: &str,
        outcome: Outcome,
        reasons: &str,
        statement: Option<&StatementOfReasons>,
        mut case: AppellantCase,
    ) -> Result<PreviewedNotice, String> {
        let status_link = case
            .status_token
            .take()
            .map(|_| self.notices.status_link(&case.reference, WITHHELD_TOKEN));
        let case = CaseDetails { case, status_link };
        let notice = redress_notify::preview::decision_notice(
            &self.templates,
            language,
            reference,
            outcome,
            reasons,
            statement,
            &self.notices.dispute_settlement_bodies,
            Some(&case),
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

/// The previewer over the configured mail templates (built-in, then the override directory)
/// and what every notice adds (the status link's base, the dispute settlement bodies).
pub fn previewer(
    config: &EmailConfig,
    notices: NoticeSettings,
) -> anyhow::Result<Arc<dyn NoticePreviewer>> {
    let templates = Templates::load(config.templates_dir.as_deref(), &config.default_language)
        .context("loading mail templates")?;
    Ok(Arc::new(TemplatePreviewer { templates, notices }))
}
