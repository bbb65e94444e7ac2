//! Wiring: configuration in, a running service out.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use redress_engine::{Clock, Engine, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;

/// What request handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Engine,
    pub config: Arc<Config>,
    pub graphql: redress_graphql::Api,
    /// Sign-in through the identity provider, when `[oidc]` names one.
    pub staff_sign_in: Option<Arc<crate::oidc::StaffSignIn>>,
}

/// A started service: its bound address and a handle to stop it.
#[derive(Debug)]
pub struct RunningApp {
    pub http_addr: SocketAddr,
    /// The SMTP intake's address, when it is enabled.
    pub smtp_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<BackgroundTask>,
}

/// A long-running task (listener, worker) that stops when the shutdown signal flips.
pub type BackgroundTask = tokio::task::JoinHandle<anyhow::Result<()>>;

impl RunningApp {
    /// Asks every task to finish its in-flight work and waits for the HTTP server.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.send_replace(true);
        self.server.await.context("HTTP server task")??;
        for task in self.background {
            task.await.context("background task")??;
        }
        Ok(())
    }

    /// Runs until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

/// Connects, migrates and binds. Port 0 binds a free port (tests).
pub async fn start(config: Config) -> anyhow::Result<RunningApp> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<RunningApp> {
    // Boxed: start-up holds the whole configuration across awaits, too large a future to
    // keep on every caller's stack.
    Box::pin(start_boxed(config, clock)).await
}

async fn start_boxed(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<RunningApp> {
    let state = connect_state(config, clock).await?;

    let listener = TcpListener::bind(state.config.http.bind)
        .await
        .with_context(|| format!("binding HTTP on {}", state.config.http.bind))?;
    let http_addr = listener.local_addr()?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    // Background services (listeners, workers) register here; each gets the shutdown
    // receiver and must finish or release its in-flight work when it flips.
    let mut background: Vec<BackgroundTask> = Vec::new();
    // Appeal changes from every replica reach this one's live subscriptions.
    let (engine, stop) = (state.engine.clone(), shutdown_rx.clone());
    background.push(tokio::spawn(async move {
        Ok(engine.relay_changes(stop).await?)
    }));
    background.extend(crate::workers::spawn(&state, &shutdown_rx)?);
    let email = crate::email::start(&state, shutdown_rx.clone()).await?;
    background.extend(email.listener);
    let router = crate::http::router(state.clone()).merge(email.routes);
    background.push(crate::restoration::spawn_bulk_runner(
        state.engine.clone(),
        &state.config.restoration,
        shutdown_rx.clone(),
    )?);
    background.push(crate::bulk_decisions::spawn_runner(
        state.engine.clone(),
        shutdown_rx.clone(),
    ));
    background.push(crate::routing::spawn_refresher(
        state.engine.clone(),
        &state.config.routing,
        shutdown_rx.clone(),
    ));
    background.push(crate::transparency::spawn_detector(
        state.engine.clone(),
        &state.config.transparency.detector,
        shutdown_rx.clone(),
    ));
    let mut server_shutdown = shutdown_rx.clone();
    let server = tokio::spawn(async move {
        // The peer's address keys the sign-in rate limit.
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        })
        .await
    });
    for key in state.config.unset_public_urls() {
        tracing::warn!(
            key,
            bind = %state.config.http.bind,
            "{key} is still http://127.0.0.1:8080 while Redress listens elsewhere; set it to the address people reach this service at, or the links it makes lead nowhere"
        );
    }
    tracing::info!(%http_addr, database = %state.engine.backend(), "redress is serving");
    Ok(RunningApp {
        http_addr,
        smtp_addr: email.smtp_addr,
        state,
        shutdown,
        server,
        background,
    })
}

/// Imports `[[policies]]` and `[[decision_templates]]` into the database, where each later
/// change is a version: an entry the file adds or changes becomes a new version, one it
/// leaves as it was keeps whatever administrators made of it since.
async fn seed_policy_catalog(engine: &Engine) -> anyhow::Result<()> {
    let configured = engine.settings().policies.clone();
    let written = engine
        .seed_policy_catalog(&configured)
        .await
        .context("importing the policy catalog of the configuration")?;
    if written > 0 {
        tracing::info!(
            written,
            "policies and decision templates imported from the configuration"
        );
    }
    Ok(())
}

/// Connects and migrates: the state every entry point (`serve`, `worker`, admin commands)
/// starts from.
pub async fn connect_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let engine = open_engine(&config, clock).await?;
    crate::routing::load(&engine, &config.routing).await?;
    seed_policy_catalog(&engine).await?;
    let previewer =
        crate::notice_preview::previewer(&config.email, config.transparency.notice_settings())?;
    let mut graphql =
        redress_graphql::Api::with_previewer(engine.clone(), &config.graphql, Some(previewer))
            .context("setting up the GraphQL API")?;
    let staff_sign_in = crate::oidc::StaffSignIn::from_config(&config, engine.clone())
        .context("setting up sign-in with the identity provider (oidc)")?
        .map(Arc::new);
    if let Some(sign_in) = &staff_sign_in {
        graphql = graphql.with_browser_sessions(sign_in.browser_sessions());
    }
    Ok(AppState {
        engine,
        config: Arc::new(config),
        graphql,
        staff_sign_in,
    })
}

/// Opens the configured database, migrated, and the engine on it.
pub async fn open_engine(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Engine> {
    let mut settings = config.engine_settings();
    settings.status_tokens = config.transparency.status_page.token_keys()?;
    let engine = Engine::open(
        &config.database.url,
        &config.pool_settings(),
        settings,
        clock,
    )
    .await
    .with_context(|| format!("opening {}", redact_url(&config.database.url)))?;
    if config.email.transport == crate::email::MailTransportKind::Files {
        engine.attach_outside_copies(std::sync::Arc::new(crate::privacy::MailOutFolder::new(
            config.email.outgoing_dir.clone(),
        )));
    }
    Ok(engine)
}

/// Hides the password of a database URL in messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://redress:s3cret@db:5432/redress"),
            "postgres://redress:***@db:5432/redress"
        );
        assert_eq!(
            redact_url("sqlite://redress.sqlite?mode=rwc"),
            "sqlite://redress.sqlite?mode=rwc"
        );
    }
}
