//! The policy catalog and decision templates, for administrators: every policy and template
//! as stored (retired ones too), their versions, and changes to them. What reviewers read
//! of the catalog in force is in `decisions`.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use redress_core::{
    Automation, DecisionTemplate, GroundKind, Policy, PolicyText, RedressOption, RestrictionKind,
    Role, StatementDraft, TerritorialScope,
};
use redress_engine::catalog::{CatalogEditError, Versioned};
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::decisions::{PolicyNode, TemplateNode};
use crate::schema::enums::OutcomeGql;

impl From<CatalogEditError> for ApiError {
    fn from(err: CatalogEditError) -> Self {
        match err {
            CatalogEditError::Engine(engine) => engine.into(),
            CatalogEditError::NotFound { .. } => ApiError::NotFound(err.to_string()),
            other => match other.field() {
                Some(field) => ApiError::invalid_field(&api_field(&field), other.to_string()),
                None => ApiError::bad_input(other.to_string()),
            },
        }
    }
}

/// The input's name for a field the engine names by the core's fields:
/// `statement.territorial_scope.countries` is `statement.countries`, `ground_kind` is
/// `groundKind`; language keys (`texts.de.title`) stay as they are.
fn api_field(engine_field: &str) -> String {
    let camel = |segment: &str| {
        let mut out = String::with_capacity(segment.len());
        let mut upper = false;
        for c in segment.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    engine_field
        .split('.')
        .map(camel)
        .collect::<Vec<_>>()
        .join(".")
        .replace("territorialScope.countries", "countries")
}

/// The caller, who must be an administrator.
fn admin(ctx: &Context<'_>, what: &str) -> Result<redress_core::Actor, ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(&[Role::Admin]) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(format!("{what} needs one of: admin")))
    }
}

fn parse<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| ApiError::invalid_field(field, e.to_string()))
}

fn parse_all<T: std::str::FromStr>(field: &str, values: &[String]) -> Result<Vec<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    values.iter().map(|value| parse(field, value)).collect()
}

/// What a policy says in one language.
#[derive(InputObject, Debug, Clone)]
pub struct PolicyTextInput {
    /// A primary language subtag in lower case: `en`, `de`.
    pub language: String,
    pub title: String,
    /// The terms clause, or the legal provision for illegal content.
    pub ground: String,
    /// What the policy means, in plain language.
    pub explanation: String,
}

/// A policy as an administrator writes it; an update replaces every field.
#[derive(InputObject, Debug, Clone)]
pub struct PolicyInput {
    /// The name enforcements give the policy; it cannot change.
    pub id: String,
    /// `incompatible_with_terms` or `illegal_content`.
    pub ground_kind: String,
    /// The Transparency Database category, e.g. `STATEMENT_CATEGORY_SCAMS_AND_FRAUD`.
    pub category: String,
    /// The restrictions usually imposed (wire names, e.g. `account_suspended`).
    #[graphql(default)]
    pub restrictions: Vec<String>,
    /// One text per language.
    pub texts: Vec<PolicyTextInput>,
}

impl TryFrom<PolicyInput> for Policy {
    type Error = ApiError;

    fn try_from(input: PolicyInput) -> Result<Self, ApiError> {
        let mut texts = std::collections::BTreeMap::new();
        for text in input.texts {
            let field = format!("texts.{}", text.language);
            let language = text.language.clone();
            let previous = texts.insert(
                text.language,
                PolicyText {
                    title: text.title,
                    ground: text.ground,
                    explanation: text.explanation,
                },
            );
            if previous.is_some() {
                return Err(ApiError::invalid_field(
                    &field,
                    format!("the language {language:?} has two texts"),
                ));
            }
        }
        Ok(Policy {
            id: input.id,
            ground_kind: parse::<GroundKind>("groundKind", &input.ground_kind)?,
            category: input.category,
            restrictions: parse_all::<RestrictionKind>("restrictions", &input.restrictions)?,
            texts,
        })
    }
}

/// Where the template's statement says the restriction applies.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerritorialScopeKind {
    Worldwide,
    /// Only in `countries`.
    Countries,
}

/// The statement of reasons a template fills in; a field left null comes from the
/// enforcement's own statement (and the ground from the policy).
#[derive(InputObject, Debug, Clone, Default)]
pub struct StatementDraftInput {
    /// Wire names, e.g. `content_removed`.
    pub restrictions: Option<Vec<String>>,
    pub territorial_scope: Option<TerritorialScopeKind>,
    /// ISO 3166-1 alpha-2 codes, upper case; with `territorialScope: COUNTRIES`.
    #[graphql(default)]
    pub countries: Vec<String>,
    /// May hold placeholders.
    pub facts: Option<String>,
    /// The ground's explanation; may hold placeholders. The policy's own when null.
    pub explanation: Option<String>,
    /// `fully`, `partially`, `not`.
    pub automated_detection: Option<String>,
    /// `fully`, `partially`, `not`.
    pub automated_decision: Option<String>,
    /// `internal_complaint`, `out_of_court_dispute_settlement`, `judicial_redress`.
    pub redress: Option<Vec<String>>,
}

impl TryFrom<StatementDraftInput> for StatementDraft {
    type Error = ApiError;

    fn try_from(input: StatementDraftInput) -> Result<Self, ApiError> {
        let automation = |field: &str, value: Option<String>| {
            value.map(|v| parse::<Automation>(field, &v)).transpose()
        };
        Ok(StatementDraft {
            restrictions: input
                .restrictions
                .map(|r| parse_all::<RestrictionKind>("statement.restrictions", &r))
                .transpose()?,
            territorial_scope: input.territorial_scope.map(|kind| match kind {
                TerritorialScopeKind::Worldwide => TerritorialScope::Worldwide,
                TerritorialScopeKind::Countries => TerritorialScope::Countries {
                    countries: input.countries.clone(),
                },
            }),
            facts: input.facts,
            explanation: input.explanation,
            automated_detection: automation(
                "statement.automatedDetection",
                input.automated_detection,
            )?,
            automated_decision: automation(
                "statement.automatedDecision",
                input.automated_decision,
            )?,
            redress: input
                .redress
                .map(|r| parse_all::<RedressOption>("statement.redress", &r))
                .transpose()?,
        })
    }
}

/// A decision template as an administrator writes it; an update replaces every field.
#[derive(InputObject, Debug, Clone)]
pub struct DecisionTemplateInput {
    /// Its id; it cannot change.
    pub id: String,
    /// The policy it decides under; it must be in force.
    pub policy: String,
    pub outcome: OutcomeGql,
    /// A primary language subtag in lower case: `en`, `de`.
    pub language: String,
    /// What a reviewer picks it by.
    pub title: String,
    /// The reasons sent to the appellant; may hold placeholders such as `{reference}`.
    pub reasons: String,
    #[graphql(default)]
    pub statement: StatementDraftInput,
}

impl TryFrom<DecisionTemplateInput> for DecisionTemplate {
    type Error = ApiError;

    fn try_from(input: DecisionTemplateInput) -> Result<Self, ApiError> {
        Ok(DecisionTemplate {
            id: input.id,
            policy: input.policy,
            outcome: input.outcome.into(),
            language: input.language,
            title: input.title,
            reasons: input.reasons,
            statement: input.statement.try_into()?,
        })
    }
}

/// A policy at one version: as it stands now, or as one change left it.
#[derive(SimpleObject, Debug, Clone)]
pub struct PolicyVersion {
    pub policy: PolicyNode,
    pub version: i64,
    /// A retired policy is no longer offered; enforcements that name it keep their text.
    pub retired: bool,
    /// `seeded` (from the configuration file), `created`, `updated`, `retired`; null on a
    /// policy as it stands now.
    pub change: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

impl From<Versioned<Policy>> for PolicyVersion {
    fn from(v: Versioned<Policy>) -> Self {
        Self {
            policy: PolicyNode(v.entry),
            version: v.version,
            retired: v.retired,
            change: v.change.map(|c| c.as_str().to_owned()),
            changed_at: v.changed_at,
            changed_by: v.changed_by,
        }
    }
}

/// A decision template at one version: as it stands now, or as one change left it.
#[derive(SimpleObject, Debug, Clone)]
pub struct DecisionTemplateVersion {
    pub template: TemplateNode,
    pub version: i64,
    pub retired: bool,
    /// `seeded` (from the configuration file), `created`, `updated`, `retired`; null on a
    /// template as it stands now.
    pub change: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

impl From<Versioned<DecisionTemplate>> for DecisionTemplateVersion {
    fn from(v: Versioned<DecisionTemplate>) -> Self {
        Self {
            template: TemplateNode(v.entry),
            version: v.version,
            retired: v.retired,
            change: v.change.map(|c| c.as_str().to_owned()),
            changed_at: v.changed_at,
            changed_by: v.changed_by,
        }
    }
}

#[derive(Debug, Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Every policy as stored, retired ones included, by id. Administrators only.
    async fn catalog_policies(&self, ctx: &Context<'_>) -> Result<Vec<PolicyVersion>> {
        admin(ctx, "catalogPolicies").or_api()?;
        let stored = ctx.data::<Engine>()?.stored_policies().await.or_api()?;
        Ok(stored.into_iter().map(Into::into).collect())
    }

    /// Every decision template as stored, retired ones included, by id. Administrators
    /// only.
    async fn catalog_decision_templates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<DecisionTemplateVersion>> {
        admin(ctx, "catalogDecisionTemplates").or_api()?;
        let stored = ctx
            .data::<Engine>()?
            .stored_decision_templates()
            .await
            .or_api()?;
        Ok(stored.into_iter().map(Into::into).collect())
    }

    /// Every version of a policy, oldest first. Administrators only.
    async fn policy_versions(&self, ctx: &Context<'_>, id: String) -> Result<Vec<PolicyVersion>> {
        admin(ctx, "policyVersions").or_api()?;
        let versions = ctx.data::<Engine>()?.policy_versions(&id).await.or_api()?;
        Ok(versions.into_iter().map(Into::into).collect())
    }

    /// Every version of a decision template, oldest first. Administrators only.
    async fn decision_template_versions(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<Vec<DecisionTemplateVersion>> {
        admin(ctx, "decisionTemplateVersions").or_api()?;
        let versions = ctx
            .data::<Engine>()?
            .decision_template_versions(&id)
            .await
            .or_api()?;
        Ok(versions.into_iter().map(Into::into).collect())
    }
}

#[derive(Debug, Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Adds a policy (version 1). A field that is not valid is `BAD_USER_INPUT` naming it.
    async fn create_policy(&self, ctx: &Context<'_>, input: PolicyInput) -> Result<PolicyVersion> {
        let actor = rbac::authorize(ctx, "createPolicy").or_api()?;
        let policy = Policy::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine.create_policy(&actor, policy).await.or_api()?.into())
    }

    /// Replaces a policy's fields (a new version); a retired policy is offered again.
    /// Decisions already made keep the statement they were sent with.
    async fn update_policy(&self, ctx: &Context<'_>, input: PolicyInput) -> Result<PolicyVersion> {
        let actor = rbac::authorize(ctx, "updatePolicy").or_api()?;
        let policy = Policy::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine.update_policy(&actor, policy).await.or_api()?.into())
    }

    /// Stops offering a policy (a new version); its templates must be retired first.
    async fn retire_policy(&self, ctx: &Context<'_>, id: String) -> Result<PolicyVersion> {
        let actor = rbac::authorize(ctx, "retirePolicy").or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine.retire_policy(&actor, &id).await.or_api()?.into())
    }

    /// Adds a decision template (version 1) for a policy in force.
    async fn create_decision_template(
        &self,
        ctx: &Context<'_>,
        input: DecisionTemplateInput,
    ) -> Result<DecisionTemplateVersion> {
        let actor = rbac::authorize(ctx, "createDecisionTemplate").or_api()?;
        let template = DecisionTemplate::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .create_decision_template(&actor, template)
            .await
            .or_api()?
            .into())
    }

    /// Replaces a template's fields (a new version); a retired template is offered again.
    /// Bulk decisions already running keep the version they started with.
    async fn update_decision_template(
        &self,
        ctx: &Context<'_>,
        input: DecisionTemplateInput,
    ) -> Result<DecisionTemplateVersion> {
        let actor = rbac::authorize(ctx, "updateDecisionTemplate").or_api()?;
        let template = DecisionTemplate::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .update_decision_template(&actor, template)
            .await
            .or_api()?
            .into())
    }

    /// Stops offering a template (a new version).
    async fn retire_decision_template(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<DecisionTemplateVersion> {
        let actor = rbac::authorize(ctx, "retireDecisionTemplate").or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .retire_decision_template(&actor, &id)
            .await
            .or_api()?
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::api_field;

    #[test]
    fn engine_fields_are_named_as_the_input_names_them() {
        assert_eq!(api_field("ground_kind"), "groundKind");
        assert_eq!(api_field("texts.de.title"), "texts.de.title");
        assert_eq!(
            api_field("statement.territorial_scope.countries"),
            "statement.countries"
        );
        assert_eq!(api_field("statement.facts"), "statement.facts");
    }
}
