//! What a reviewer decides with: the policy catalog, decision templates filled for an
//! appeal, the decision's checks run before sending (the core's own, not a copy), and the
//! appellant's notice as it will be sent.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use redress_core::policy::PlaceholderError;
use redress_core::transition::{check_decision, restorable};
use redress_core::{
    DecisionTemplate, Outcome, Policy, StatementOfReasons, TerritorialScope, TransitionError,
};
use redress_engine::policies::FillError;
use redress_engine::transparency::AppellantCase;
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::enums::OutcomeGql;
use crate::schema::ids::parse_id;

/// Renders the notice a decision sends; the binary provides it from the mail and DM
/// deliverers' own templates, so the preview is what the appellant receives.
pub trait NoticePreviewer: Send + Sync {
    /// `case` is what the notice tells of the case beside the decision (the enforcement,
    /// its statement, the status link); its token must not reach the preview.
    fn decision_notice(
        &self,
        language: &str,
        reference: &str,
        outcome: Outcome,
        reasons: &str,
        statement: Option<&StatementOfReasons>,
        case: AppellantCase,
    ) -> Result<PreviewedNotice, String>;
}

/// The appellant's decision notice as it will be sent.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(name = "DecisionNoticePreview")]
pub struct PreviewedNotice {
    /// The language the notice is written in.
    pub language: String,
    pub mail_subject: String,
    pub mail_text: String,
    pub mail_html: String,
    /// The direct message sent where the appeal came in by DM.
    pub direct_message: String,
}

/// The previewer as schema data.
#[derive(Clone)]
pub struct Previewer(pub Arc<dyn NoticePreviewer>);

impl std::fmt::Debug for Previewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Previewer")
    }
}

#[derive(Debug, Clone)]
pub struct PolicyNode(pub Policy);

/// What a policy says in one language.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "PolicyText")]
pub struct PolicyTextNode {
    pub language: String,
    pub title: String,
    /// The terms clause or the legal provision.
    pub ground: String,
    /// What the policy means, in plain language.
    pub explanation: String,
}

fn text_node(language: &str, text: &redress_core::PolicyText) -> PolicyTextNode {
    PolicyTextNode {
        language: language.to_owned(),
        title: text.title.clone(),
        ground: text.ground.clone(),
        explanation: text.explanation.clone(),
    }
}

#[Object(name = "Policy")]
impl PolicyNode {
    /// The name enforcements give the policy.
    async fn id(&self) -> &str {
        &self.0.id
    }

    /// `incompatible_with_terms` or `illegal_content`.
    async fn ground_kind(&self) -> &str {
        self.0.ground_kind.as_str()
    }

    /// The Transparency Database category.
    async fn category(&self) -> &str {
        &self.0.category
    }

    /// The restrictions usually imposed under it (wire names, e.g. `account_suspended`).
    async fn restrictions(&self) -> Vec<&str> {
        self.0.restrictions.iter().map(|r| r.as_str()).collect()
    }

    async fn texts(&self) -> Vec<PolicyTextNode> {
        self.0
            .texts
            .iter()
            .map(|(language, text)| text_node(language, text))
            .collect()
    }

    /// The text in `language`, else in the default language, else any.
    async fn text(&self, ctx: &Context<'_>, language: Option<String>) -> Result<PolicyTextNode> {
        let engine = ctx.data::<Engine>()?;
        let catalog = engine.policy_catalog();
        let fallback = catalog.default_language();
        let (language, text) = self
            .0
            .text(language.as_deref().unwrap_or(fallback), fallback)
            .ok_or(ApiError::Internal)
            .or_api()?;
        Ok(text_node(language, text))
    }
}

#[derive(Debug, Clone)]
pub struct TemplateNode(pub DecisionTemplate);

#[Object(name = "DecisionTemplate")]
impl TemplateNode {
    async fn id(&self) -> &str {
        &self.0.id
    }

    async fn policy(&self) -> &str {
        &self.0.policy
    }

    async fn outcome(&self) -> OutcomeGql {
        self.0.outcome.into()
    }

    async fn language(&self) -> &str {
        &self.0.language
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The reasons with their placeholders, e.g. `{reference}`.
    async fn reasons(&self) -> &str {
        &self.0.reasons
    }

    /// What the template fills in of the statement of reasons.
    async fn statement(&self) -> StatementDraftNode {
        let draft = &self.0.statement;
        let names = |values: &[_]| {
            values
                .iter()
                .map(|v: &redress_core::RestrictionKind| v.as_str().to_owned())
                .collect()
        };
        let (territorial_scope, countries) = match &draft.territorial_scope {
            None => (None, Vec::new()),
            Some(TerritorialScope::Worldwide) => (Some("worldwide".to_owned()), Vec::new()),
            Some(TerritorialScope::Countries { countries }) => {
                (Some("countries".to_owned()), countries.clone())
            }
        };
        StatementDraftNode {
            restrictions: draft.restrictions.as_deref().map(names),
            territorial_scope,
            countries,
            facts: draft.facts.clone(),
            explanation: draft.explanation.clone(),
            automated_detection: draft.automated_detection.map(|a| a.as_str().to_owned()),
            automated_decision: draft.automated_decision.map(|a| a.as_str().to_owned()),
            redress: draft
                .redress
                .as_ref()
                .map(|r| r.iter().map(|o| o.as_str().to_owned()).collect()),
        }
    }
}

/// The part of the statement of reasons a template fills in; null leaves a field to the
/// enforcement's own statement (and the ground's explanation to the policy).
#[derive(SimpleObject, Debug, Clone)]
pub struct StatementDraftNode {
    pub restrictions: Option<Vec<String>>,
    /// `worldwide` or `countries`.
    pub territorial_scope: Option<String>,
    pub countries: Vec<String>,
    pub facts: Option<String>,
    pub explanation: Option<String>,
    pub automated_detection: Option<String>,
    pub automated_decision: Option<String>,
    pub redress: Option<Vec<String>>,
}

/// A template filled for one appeal.
#[derive(SimpleObject, Debug)]
pub struct FilledDecisionTemplate {
    pub template: String,
    pub language: String,
    pub reasons: String,
    /// The statement of reasons to start from, in the shape of `Enforcement.statement`.
    pub statement_of_reasons: serde_json::Value,
}

/// The result of the decision's checks: the first problem, naming its field.
#[derive(SimpleObject, Debug, PartialEq, Eq)]
pub struct DecisionCheck {
    pub valid: bool,
    /// The field at fault, as in the statement's JSON (e.g. `restrictions.ends_at`,
    /// `ground.clause`, `facts`) or `reasons`.
    pub field: Option<String>,
    pub message: Option<String>,
}

impl DecisionCheck {
    fn failed(field: &str, message: impl Into<String>) -> Self {
        Self {
            valid: false,
            field: Some(field.to_owned()),
            message: Some(message.into()),
        }
    }
}

/// The statement as the core reads it, or the check that names what is wrong with its
/// shape (serde names a missing or unknown field in backticks).
pub(crate) fn parse_statement(
    value: serde_json::Value,
) -> Result<StatementOfReasons, DecisionCheck> {
    serde_json::from_value(value).map_err(|err| {
        let message = err.to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.starts_with("missing field"))
            .unwrap_or("statementOfReasons")
            .to_owned();
        DecisionCheck::failed(&field, message)
    })
}

/// The field a refused decision is about, as [`DecisionCheck::field`] names it.
pub(crate) fn refused_field(err: &TransitionError) -> &'static str {
    match err {
        TransitionError::InvalidStatement(statement) => statement.field,
        TransitionError::UnfilledPlaceholder { field, .. }
        | TransitionError::InvalidInput { field, .. } => field,
        TransitionError::NoHumanReviewer { .. } => "automated_decision",
        _ => "statementOfReasons",
    }
}

fn fill_error(err: FillError) -> async_graphql::Error {
    match err {
        FillError::UnknownTemplate(_) => ApiError::invalid_field("template", err.to_string()),
        FillError::Placeholder { ref source, .. } => {
            let field = placeholder_field(source);
            ApiError::invalid_field(&field, err.to_string())
        }
        FillError::Engine(engine) => engine.into(),
        _ => ApiError::Internal,
    }
    .extend_api()
}

fn placeholder_field(source: &PlaceholderError) -> String {
    format!("template.{}", source.field())
}

trait ExtendApi {
    fn extend_api(self) -> async_graphql::Error;
}

impl ExtendApi for ApiError {
    fn extend_api(self) -> async_graphql::Error {
        async_graphql::ErrorExtensions::extend(&self)
    }
}

#[derive(Debug, Default)]
pub struct DecisionQuery;

#[Object]
impl DecisionQuery {
    /// Every policy in force.
    async fn policies(&self, ctx: &Context<'_>) -> Result<Vec<PolicyNode>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .current_policy_catalog()
            .await
            .or_api()?
            .policies()
            .iter()
            .cloned()
            .map(PolicyNode)
            .collect())
    }

    async fn policy(&self, ctx: &Context<'_>, id: String) -> Result<Option<PolicyNode>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .current_policy_catalog()
            .await
            .or_api()?
            .policy(&id)
            .cloned()
            .map(PolicyNode))
    }

    /// The templates for a policy and outcome in `language`; where there is none in that
    /// language, those in the default language. Without a language, every language.
    async fn decision_templates(
        &self,
        ctx: &Context<'_>,
        policy: Option<String>,
        outcome: Option<OutcomeGql>,
        language: Option<String>,
    ) -> Result<Vec<TemplateNode>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .current_policy_catalog()
            .await
            .or_api()?
            .templates_for(
                policy.as_deref(),
                outcome.map(Into::into),
                language.as_deref(),
            )
            .into_iter()
            .cloned()
            .map(TemplateNode)
            .collect())
    }

    /// Fills a template for the appeal: its placeholders from the case and its
    /// enforcement, and a statement of reasons that starts from the enforcement's. A
    /// placeholder the case has no value for is `BAD_USER_INPUT` naming it. Nothing is
    /// written.
    async fn render_decision_template(
        &self,
        ctx: &Context<'_>,
        appeal: ID,
        template: String,
    ) -> Result<FilledDecisionTemplate> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        let filled = engine
            .fill_decision_template(parse_id(&appeal)?, &template)
            .await
            .map_err(fill_error)?;
        Ok(FilledDecisionTemplate {
            template: filled.template_id,
            language: filled.language,
            reasons: filled.reasons,
            statement_of_reasons: serde_json::to_value(&filled.statement)
                .map_err(|_| ApiError::Internal)
                .or_api()?,
        })
    }

    /// Runs the checks `decideAppeal` runs on a decision's reasons and statement of
    /// reasons (DSA Art. 17), without deciding: the console shows the first problem by
    /// field as the reviewer types.
    async fn validate_statement_of_reasons(
        &self,
        ctx: &Context<'_>,
        statement_of_reasons: Option<serde_json::Value>,
        #[graphql(default_with = "OutcomeGql::Uphold")] outcome: OutcomeGql,
        #[graphql(default)] reasons: String,
    ) -> Result<DecisionCheck> {
        rbac::staff(ctx).or_api()?;
        let statement = match statement_of_reasons.map(parse_statement).transpose() {
            Ok(statement) => statement,
            Err(check) => return Ok(check),
        };
        // Reasons are checked only once typed: the form asks for them on its own.
        let reasons = if reasons.trim().is_empty() {
            "-"
        } else {
            reasons.as_str()
        };
        Ok(
            match check_decision(outcome.into(), reasons, statement.as_ref()) {
                Ok(()) => DecisionCheck {
                    valid: true,
                    field: None,
                    message: None,
                },
                Err(err) => DecisionCheck::failed(refused_field(&err), err.to_string()),
            },
        )
    }

    /// The notice the appellant will receive if the appeal is decided so: the mail (in
    /// the appellant's language) and the direct message. A restore of an appeal linked to
    /// no account is refused as `decideAppeal` would refuse it (`BAD_USER_INPUT` on
    /// `outcome`), rather than previewed as a restoration that could not happen.
    async fn preview_decision_notice(
        &self,
        ctx: &Context<'_>,
        appeal: ID,
        outcome: OutcomeGql,
        reasons: String,
        statement_of_reasons: Option<serde_json::Value>,
    ) -> Result<PreviewedNotice> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        let stored = engine.appeal(parse_id(&appeal)?).await.or_api()?;
        // Never show a notice promising what the decision would be refused for.
        restorable(&stored.appeal, outcome.into())
            .map_err(ApiError::from)
            .or_api()?;
        let statement = statement_of_reasons
            .map(parse_statement)
            .transpose()
            .map_err(|check| {
                ApiError::invalid_field(
                    &format!(
                        "statementOfReasons.{}",
                        check.field.as_deref().unwrap_or_default()
                    ),
                    check.message.unwrap_or_default(),
                )
            })
            .or_api()?;
        let previewer = ctx
            .data_opt::<Previewer>()
            .ok_or_else(|| ApiError::bad_input("notice previews are not available here"))
            .or_api()?;
        let case = engine.appellant_case(stored.id).await.or_api()?;
        previewer
            .0
            .decision_notice(
                &engine.appeal_language(&stored),
                stored.reference.as_str(),
                outcome.into(),
                &reasons,
                statement.as_ref(),
                case,
            )
            .map_err(|reason| {
                tracing::error!(%reason, "a decision notice could not be rendered");
                ApiError::Internal
            })
            .or_api()
    }
}
