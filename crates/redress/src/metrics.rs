//! `/metrics` in the Prometheus text format. Everything is read from the database at
//! scrape time, so each replica reports the same numbers and a restart loses none.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{counter, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;
use redress_engine::stats::Stats;

use crate::app::AppState;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let stats = state.engine.stats().await;
    let tdb = state.engine.tdb_submission_counts().await;
    match (stats, tdb) {
        (Ok(stats), Ok(tdb)) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            render(&stats) + &render_tdb(&tdb),
        )
            .into_response(),
        (Err(err), _) | (_, Err(err)) => {
            tracing::warn!(error = %err, "metrics could not be read");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable\n").into_response()
        }
    }
}

/// The Transparency Database statements by state, read like the rest at scrape time.
pub fn render_tdb(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_gauge!(
            "redress_tdb_statements",
            "Statements for the EU Transparency Database by state."
        );
        for state in ["pending", "submitted", "refused"] {
            let n = counts.get(state).copied().unwrap_or(0);
            gauge!("redress_tdb_statements", "state" => state).set(n as f64);
        }
    });
    handle.render()
}

/// Renders through a recorder made for this scrape, so no global state is involved.
pub fn render(stats: &Stats) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_gauge!("redress_appeals", "Appeals by queue and state.");
        for (queue, state, n) in &stats.appeals {
            gauge!("redress_appeals", "queue" => queue.clone(), "state" => state.clone())
                .set(*n as f64);
        }
        metrics::describe_counter!(
            "redress_appeals_filed_total",
            "Appeals opened, by the channel they came in on."
        );
        for (channel, n) in &stats.appeals_by_channel {
            counter!("redress_appeals_filed_total", "channel" => channel.clone())
                .absolute(*n as u64);
        }
        metrics::describe_counter!(
            "redress_messages_received_total",
            "Inbound messages (appeals and follow-ups), by channel."
        );
        for (channel, n) in &stats.inbound_messages {
            counter!("redress_messages_received_total", "channel" => channel.clone())
                .absolute(*n as u64);
        }
        metrics::describe_counter!("redress_sla_warnings_total", "SLA warnings fired.");
        counter!("redress_sla_warnings_total").absolute(stats.sla_warnings as u64);
        metrics::describe_counter!(
            "redress_sla_breaches_total",
            "SLA deadlines breached (escalations by the SLA timer)."
        );
        counter!("redress_sla_breaches_total").absolute(stats.sla_breaches as u64);
        metrics::describe_gauge!(
            "redress_appeals_overdue",
            "Open appeals past a deadline, by deadline."
        );
        gauge!("redress_appeals_overdue", "deadline" => "triage").set(stats.overdue_triage as f64);
        gauge!("redress_appeals_overdue", "deadline" => "decision")
            .set(stats.overdue_decision as f64);
        metrics::describe_gauge!("redress_outbox_items", "Outbox items by status.");
        let outbox = &stats.outbox;
        for (status, n) in [
            ("pending", outbox.pending),
            ("delivered", outbox.delivered),
            ("dead", outbox.dead),
        ] {
            gauge!("redress_outbox_items", "status" => status).set(n as f64);
        }
        metrics::describe_gauge!(
            "redress_outbox_failing",
            "Pending outbox items that have failed at least once."
        );
        gauge!("redress_outbox_failing").set(outbox.failing as f64);
    });
    handle.render()
}
