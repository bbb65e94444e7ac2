//! Mail out: appellant notices through lettre, from templates in files.

pub mod confirmation;
pub mod deliverer;
pub mod statement;
pub mod templates;
pub mod transport;

pub use confirmation::ConfirmationMailDeliverer;
pub use deliverer::{Composed, MailDeliverer, MailSettings, SigningKey};
pub use templates::{TemplateError, Templates};
pub use transport::MailTransport;
