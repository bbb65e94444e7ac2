//! The Transparency Database's API over HTTP (`POST {base}/api/v1/statements`, `GET
//! {base}/api/v1/statement/existing-puid/{puid}`), and its configuration. The token goes
//! only into the `Authorization` header; it is never logged.

use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use redress_engine::transparency::tdb::{FieldErrors, TdbSettings, TdbStatement, BATCH_LIMIT};
use redress_engine::transparency::tdb_submission::{BatchAnswer, Created, SubmitSettings, TdbApi};
use redress_engine::worker::Backoff;
use reqwest::header::{ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// `[transparency.tdb_submission]`: where and how Redress submits statements itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TdbSubmissionConfig {
    /// Run the submission worker in `serve` and `worker`.
    pub enabled: bool,
    /// The database's address without the path, e.g. `https://transparency.dsa.ec.europa.eu`
    /// (or the sandbox's).
    pub base_url: String,
    /// The platform's API token (`REDRESS_TRANSPARENCY__TDB_SUBMISSION__TOKEN`).
    pub token: Secret,
    /// Statements per call, 1 to 100.
    pub batch_size: usize,
    /// Seconds between rounds when nothing is due.
    pub interval_seconds: u64,
    /// Seconds one call may take.
    pub request_timeout_seconds: u64,
    /// Seconds a round holds its statements; at least twice the request timeout.
    pub lease_seconds: u64,
    /// Delay after the first temporary failure; doubles, with jitter, up to the max.
    pub backoff_base_seconds: u64,
    pub backoff_max_seconds: u64,
    /// Enforcements before this day (UTC) are never submitted.
    pub submit_from: Option<NaiveDate>,
}

impl Default for TdbSubmissionConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: String::new(),
            token: Secret::default(),
            batch_size: BATCH_LIMIT,
            interval_seconds: 60,
            request_timeout_seconds: 60,
            lease_seconds: 300,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            submit_from: None,
        }
    }
}

impl TdbSubmissionConfig {
    pub fn validate(&self) -> Result<(), String> {
        let name = "transparency.tdb_submission";
        if !(1..=BATCH_LIMIT).contains(&self.batch_size) {
            return Err(format!(
                "{name}.batch_size must be between 1 and {BATCH_LIMIT}"
            ));
        }
        if [
            self.interval_seconds,
            self.request_timeout_seconds,
            self.backoff_base_seconds,
        ]
        .contains(&0)
        {
            return Err(format!(
                "{name}: interval, request timeout and backoff must be positive"
            ));
        }
        if self.lease_seconds < self.request_timeout_seconds.saturating_mul(2) {
            return Err(format!(
                "{name}.lease_seconds must be at least twice request_timeout_seconds, or a \
                 slow call could see its statements taken by another replica"
            ));
        }
        if self.backoff_max_seconds < self.backoff_base_seconds {
            return Err(format!(
                "{name}.backoff_max_seconds must not be below backoff_base_seconds"
            ));
        }
        if self.enabled || !self.base_url.is_empty() {
            let url = reqwest::Url::parse(&self.base_url)
                .map_err(|e| format!("{name}.base_url {:?}: {e}", self.base_url))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(format!("{name}.base_url must be an http(s) URL"));
            }
        }
        if self.enabled && self.token.is_empty() {
            return Err(format!("{name}.token is required when it is enabled"));
        }
        Ok(())
    }

    /// The engine's settings of a round.
    pub fn submit_settings(&self, tdb: &TdbSettings) -> SubmitSettings {
        SubmitSettings {
            tdb: tdb.clone(),
            batch_size: self.batch_size,
            lease: Duration::from_secs(self.lease_seconds),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            backoff: Backoff {
                base: Duration::from_secs(self.backoff_base_seconds),
                max: Duration::from_secs(self.backoff_max_seconds),
                max_attempts: u32::MAX,
            },
            submit_from: self
                .submit_from
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|at| at.and_utc()),
            full_scan: false,
        }
    }
}

/// The API client.
#[derive(Debug, Clone)]
pub struct HttpTdbApi {
    client: reqwest::Client,
    base_url: String,
    token: Secret,
}

impl HttpTdbApi {
    pub fn new(config: &TdbSubmissionConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.request_timeout_seconds))
            // The PUID look-up answers 302 with the statement in the body.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            token: config.token.clone(),
        })
    }
}

/// The most of an answer's body that is read: a batch's answer repeats its 100 statements
/// (at most some 3 MB); anything longer is not the database's answer.
const ANSWER_LIMIT: usize = 16 * 1024 * 1024;

/// The body of `response`, read up to [`ANSWER_LIMIT`]; `Err` past it or on a lost
/// connection.
async fn limited_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > ANSWER_LIMIT {
            return Err(format!("the answer exceeds {ANSWER_LIMIT} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The longest reason text kept from an answer's body.
const REASON_LIMIT: usize = 500;

fn shortened(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(REASON_LIMIT)
        .collect()
}

#[derive(Deserialize)]
struct CreatedBody {
    statements: Vec<CreatedStatement>,
}

#[derive(Deserialize)]
struct CreatedStatement {
    puid: Option<serde_json::Value>,
    uuid: Option<String>,
}

/// What an answer of the batch endpoint means. Pure, so the wire format is tested alone.
pub fn read_answer(status: u16, retry_after: Option<Duration>, body: &[u8]) -> BatchAnswer {
    let unavailable = |reason: String| BatchAnswer::Unavailable {
        reason,
        retry_after,
    };
    match status {
        201 => {
            // Created: whatever the body, the statements are in; the uuids are a bonus.
            let created = serde_json::from_slice::<CreatedBody>(body)
                .map(|body| {
                    body.statements
                        .into_iter()
                        .filter_map(|s| {
                            let puid = match s.puid? {
                                serde_json::Value::String(puid) => puid,
                                other => other.to_string(),
                            };
                            Some(Created { puid, uuid: s.uuid })
                        })
                        .collect()
                })
                .unwrap_or_default();
            BatchAnswer::Created(created)
        }
        422 => read_refusal(body).unwrap_or_else(|| BatchAnswer::Refused {
            status,
            reason: shortened(body),
        }),
        401 | 403 => unavailable(format!(
            "HTTP {status}: the database does not take the configured token"
        )),
        408 | 429 => unavailable(format!("HTTP {status}: {}", shortened(body))),
        500..=599 => BatchAnswer::ServerFailure {
            status,
            reason: format!("HTTP {status}: {}", shortened(body)),
            retry_after,
        },
        // Not the database's answer to these statements (a redirect, a wrong path, a proxy's
        // size limit, a 200 from something that is not the database): a configuration
        // fault, so nothing is refused for good; the resend is answered `existing_puids`
        // if the statements were stored after all.
        _ => unavailable(format!(
            "HTTP {status}: not the database's answer to a batch (check base_url and any \
             proxy): {}",
            shortened(body)
        )),
    }
}

fn read_refusal(body: &[u8]) -> Option<BatchAnswer> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let errors = body.get("errors")?.as_object()?;
    if let Some(existing) = errors.get("existing_puids") {
        let puids = existing
            .as_array()?
            .iter()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect();
        return Some(BatchAnswer::ExistingPuids(puids));
    }
    let mut invalid = std::collections::BTreeMap::new();
    for (key, fields) in errors {
        let Some(index) = key
            .strip_prefix("statement_")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let mut found = FieldErrors::default();
        for (field, messages) in fields.as_object()? {
            for message in messages.as_array().into_iter().flatten() {
                found.add(field, message.as_str().unwrap_or_default());
            }
        }
        invalid.insert(index, found);
    }
    (!invalid.is_empty()).then_some(BatchAnswer::Invalid(invalid))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.min(24 * 3600)))
}

#[async_trait]
impl TdbApi for HttpTdbApi {
    async fn submit(&self, statements: &[TdbStatement]) -> BatchAnswer {
        let sent = self
            .client
            .post(format!("{}/api/v1/statements", self.base_url))
            .bearer_auth(self.token.expose())
            .header(ACCEPT, "application/json")
            .json(&serde_json::json!({ "statements": statements }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                return BatchAnswer::Unavailable {
                    reason: format!("cannot reach the database: {}", err.without_url()),
                    retry_after: None,
                }
            }
        };
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        match limited_body(response).await {
            Ok(body) => read_answer(status, wait, &body),
            Err(err) if status == 201 => {
                tracing::warn!(error = %err, "the body of a 201 was not read; recording without uuids");
                BatchAnswer::Created(Vec::new())
            }
            Err(err) if (500..=599).contains(&status) => BatchAnswer::ServerFailure {
                status,
                reason: format!("HTTP {status}, body not read: {err}"),
                retry_after: wait,
            },
            Err(err) => BatchAnswer::Unavailable {
                reason: format!("HTTP {status}, body not read: {err}"),
                retry_after: wait,
            },
        }
    }

    async fn existing_uuid(&self, puid: &str) -> Result<Option<String>, String> {
        let response = self
            .client
            .get(format!(
                "{}/api/v1/statement/existing-puid/{puid}",
                self.base_url
            ))
            .bearer_auth(self.token.expose())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::FOUND | StatusCode::OK => {
                let body = limited_body(response).await?;
                let body: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| format!("the look-up's answer is not JSON: {e}"))?;
                Ok(body.get("uuid").and_then(|u| u.as_str()).map(str::to_owned))
            }
            other => Err(format!("HTTP {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_statements_give_their_uuids() {
        let body = br#"{"statements":[{"puid":"a-1","uuid":"u-1"},{"puid":"b_2","uuid":"u-2"}]}"#;
        assert_eq!(
            read_answer(201, None, body),
            BatchAnswer::Created(vec![
                Created {
                    puid: "a-1".into(),
                    uuid: Some("u-1".into())
                },
                Created {
                    puid: "b_2".into(),
                    uuid: Some("u-2".into())
                },
            ])
        );
        assert_eq!(
            read_answer(201, None, b"not json"),
            BatchAnswer::Created(Vec::new())
        );
    }

    #[test]
    fn refusals_name_the_statements_or_the_existing_puids() {
        let invalid = br#"{"errors":{"statement_0":{"puid":["The puid format is invalid."]},"statement_2":{"decision_facts":["x"]}}}"#;
        let BatchAnswer::Invalid(by_position) = read_answer(422, None, invalid) else {
            panic!("per-statement errors");
        };
        assert_eq!(by_position.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
        assert!(by_position[&0].has("puid"));
        let existing = br#"{"message":"The platform identifier(s) are not all unique within this call.","errors":{"puid":["The platform identifier(s) are not all unique within this call."],"existing_puids":["p-1","p-2"]}}"#;
        assert_eq!(
            read_answer(422, None, existing),
            BatchAnswer::ExistingPuids(vec!["p-1".into(), "p-2".into()])
        );
        assert!(matches!(
            read_answer(422, None, br#"{"errors":{"statements":["required"]}}"#),
            BatchAnswer::Refused { status: 422, .. }
        ));
    }

    #[test]
    fn throttling_outages_tokens_and_answers_not_from_the_database_are_temporary() {
        let wait = Some(Duration::from_secs(7));
        assert!(matches!(
            read_answer(429, wait, b""),
            BatchAnswer::Unavailable { retry_after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        for status in [401, 403] {
            assert!(
                matches!(
                    read_answer(status, None, b""),
                    BatchAnswer::Unavailable { .. }
                ),
                "{status}"
            );
        }
        for status in [500, 502, 503, 504] {
            assert!(
                matches!(
                    read_answer(status, wait, b"maintenance"),
                    BatchAnswer::ServerFailure { status: s, retry_after: Some(_), ref reason } if s == status && reason.contains("maintenance")
                ),
                "{status}"
            );
        }
        for status in [200, 301, 302, 400, 404, 405, 413] {
            assert!(
                matches!(
                    read_answer(status, None, b"<html>nginx</html>"),
                    BatchAnswer::Unavailable { ref reason, .. } if reason.contains("base_url")
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn the_configuration_bounds_batches_and_requires_a_token_when_enabled() {
        TdbSubmissionConfig::default()
            .validate()
            .expect("defaults are valid");
        let too_big = TdbSubmissionConfig {
            batch_size: 101,
            ..TdbSubmissionConfig::default()
        };
        assert!(too_big.validate().is_err());
        let no_token = TdbSubmissionConfig {
            enabled: true,
            base_url: "https://tdb.example".into(),
            ..TdbSubmissionConfig::default()
        };
        assert!(no_token.validate().expect_err("token").contains("token"));
        let short_lease = TdbSubmissionConfig {
            lease_seconds: 90,
            ..TdbSubmissionConfig::default()
        };
        assert!(short_lease.validate().is_err());
    }
}
