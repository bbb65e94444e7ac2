//! `redress report` and `redress export-statements`.

use std::io::Write;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use redress_engine::quality::QualityRates;
use redress_engine::transparency::TransparencyReport;
use redress_engine::{Engine, SystemClock};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
}

/// An instant given as RFC 3339 or as a date (midnight UTC).
pub fn parse_instant(value: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").with_context(|| {
        format!("{value:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time")
    })?;
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub(super) async fn engine(config: &Config) -> anyhow::Result<Engine> {
    crate::app::open_engine(config, Arc::new(SystemClock)).await
}

/// Writes the transparency report of `[from, to)` to `out`.
pub async fn report(
    config: &Config,
    from: &str,
    to: &str,
    format: ReportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (from, to) = (parse_instant(from)?, parse_instant(to)?);
    let engine = engine(config).await?;
    let report = engine.transparency_report(from, to).await?;
    let quality = engine.quality_rates(from, to).await?;
    match format {
        ReportFormat::Json => {
            let whole = ReportWithQuality {
                report: &report,
                quality: &quality,
            };
            serde_json::to_writer_pretty(&mut *out, &whole)?;
            writeln!(out)?;
        }
        ReportFormat::Csv => write_csv(&report, &quality, out)?,
    }
    Ok(())
}

/// The report's figures with the quality figures of the same period under `quality`.
#[derive(serde::Serialize)]
struct ReportWithQuality<'a> {
    #[serde(flatten)]
    report: &'a TransparencyReport,
    quality: &'a QualityRates,
}

/// One row per figure: `metric,key,value`, the key naming the channel, basis, outcome,
/// reviewer, policy or template of a breakdown and empty otherwise.
pub fn write_csv(
    report: &TransparencyReport,
    quality: &QualityRates,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["metric", "key", "value"])?;
    let optional = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    let rows: Vec<(&str, String, String)> = [
        ("from", String::new(), report.from.to_rfc3339()),
        ("to", String::new(), report.to.to_rfc3339()),
        (
            "appeals_received",
            String::new(),
            report.appeals_received.to_string(),
        ),
    ]
    .into_iter()
    .chain(
        report
            .received_by_basis
            .iter()
            .map(|(k, v)| ("received_by_basis", k.clone(), v.to_string())),
    )
    .chain(
        report
            .received_by_channel
            .iter()
            .map(|(k, v)| ("received_by_channel", k.clone(), v.to_string())),
    )
    .chain([("decisions", String::new(), report.decisions.to_string())])
    .chain(
        report
            .decisions_by_outcome
            .iter()
            .map(|(k, v)| ("decisions_by_outcome", k.clone(), v.to_string())),
    )
    .chain([
        (
            "median_hours_to_decision",
            String::new(),
            optional(report.median_hours_to_decision),
        ),
        (
            "p90_hours_to_decision",
            String::new(),
            optional(report.p90_hours_to_decision),
        ),
        ("reversed", String::new(), report.reversed.to_string()),
        (
            "decisions_within_sla",
            String::new(),
            report.decisions_within_sla.to_string(),
        ),
        (
            "sla_compliance",
            String::new(),
            optional(report.sla_compliance),
        ),
        ("escalations", String::new(), report.escalations.to_string()),
        (
            "bulk_restorations",
            String::new(),
            report.bulk_restorations.to_string(),
        ),
        (
            "out_of_court_disputes",
            String::new(),
            report.out_of_court_disputes.to_string(),
        ),
    ])
    .chain(quality_rows(quality))
    .collect();
    for (metric, key, value) in rows {
        csv.write_record([metric, key.as_str(), value.as_str()])?;
    }
    csv.flush()?;
    Ok(())
}

/// The quality figures as `metric,key,value` rows: agreement as `agreement_rate` and its
/// counts, each breakdown keyed `reviewer:`, `policy:` or `template:`.
fn quality_rows(quality: &QualityRates) -> Vec<(&'static str, String, String)> {
    let optional = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    let mut rows = vec![
        (
            "second_reviews",
            String::new(),
            quality.second_reviews.to_string(),
        ),
        (
            "second_reviews_agreed",
            String::new(),
            quality.agreed.to_string(),
        ),
        (
            "agreement_rate",
            String::new(),
            optional(quality.agreement_rate),
        ),
    ];
    for (prefix, breakdown) in [
        ("reviewer", &quality.by_reviewer),
        ("policy", &quality.by_policy),
        ("template", &quality.by_template),
    ] {
        for row in breakdown {
            let key = format!("{prefix}:{}", row.key);
            rows.push(("second_reviews", key.clone(), row.reviewed.to_string()));
            rows.push(("second_reviews_agreed", key.clone(), row.agreed.to_string()));
            rows.push(("agreement_rate", key, row.rate.to_string()));
        }
    }
    rows.extend([
        (
            "reopened_and_decided_again",
            String::new(),
            quality.reopened_and_decided_again.to_string(),
        ),
        ("overturned", String::new(), quality.overturned.to_string()),
        (
            "overturn_rate",
            String::new(),
            optional(quality.overturn_rate),
        ),
    ]);
    rows
}

/// Writes the bodies of the Transparency Database's batch endpoint, one per line (JSON
/// Lines), each `{"statements": [...]}` with at most 100 statements. Any enforcement it
/// would refuse is listed with the fields at fault and the command fails, so an incomplete
/// export is never taken for a complete one. `redress tdb submit` sends them itself and
/// keeps a record; this is for a manual or external upload.
pub async fn export_statements(
    config: &Config,
    from: &str,
    to: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (from, to) = (parse_instant(from)?, parse_instant(to)?);
    if to <= from {
        bail!("--to must be after --from");
    }
    let export = engine(config)
        .await?
        .export_statements(&config.transparency.transparency_database, from, to)
        .await?;
    for batch in export.batches() {
        serde_json::to_writer(&mut *out, &serde_json::json!({ "statements": batch }))?;
        writeln!(out)?;
    }
    if !export.rejected.is_empty() {
        for rejected in &export.rejected {
            tracing::error!(
                enforcement = %rejected.enforcement_id,
                errors = %rejected.errors,
                "statement refused"
            );
        }
        bail!(
            "{} enforcement(s) have statements the Transparency Database would refuse",
            export.rejected.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_dates_or_rfc3339() {
        assert_eq!(
            parse_instant("2026-07-01").expect("date").to_rfc3339(),
            "2026-07-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_instant("2026-07-01T12:30:00+02:00")
                .expect("time")
                .to_rfc3339(),
            "2026-07-01T10:30:00+00:00"
        );
        assert!(parse_instant("July").is_err());
    }
}
