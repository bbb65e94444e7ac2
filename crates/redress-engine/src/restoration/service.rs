//! The port to the platform's account service, and the choice of backend.

use std::fmt::Debug;
use std::sync::Arc;

use super::plan::{RestorationReport, RestorationRequest};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountServiceError {
    /// Timeouts, 5xx, 429: the same request (same idempotency key) is sent again later.
    #[error("account service unavailable: {0}")]
    Retryable(String),
    /// The service refused the request; sending it again would not help.
    #[error("account service refused the restoration: {0}")]
    Refused(String),
}

/// The platform's account service. Implementations must send `request.restoration_id` as
/// the idempotency key, so a repeated call restores once.
#[async_trait::async_trait]
pub trait AccountService: Send + Sync + Debug {
    async fn restore(
        &self,
        request: &RestorationRequest,
    ) -> Result<RestorationReport, AccountServiceError>;
}

/// Where restorations are carried out.
#[derive(Debug, Clone, Default)]
pub enum RestorationBackend {
    /// Redress keeps the account registry itself and restores in the same transaction as
    /// the confirmation.
    #[default]
    Embedded,
    /// The platform restores; Redress records what it reports.
    AccountService(Arc<dyn AccountService>),
}

impl RestorationBackend {
    pub fn name(&self) -> &'static str {
        match self {
            RestorationBackend::Embedded => "embedded",
            RestorationBackend::AccountService(_) => "account_service",
        }
    }
}
