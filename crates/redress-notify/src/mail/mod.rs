//! Mail out: appellant notices through lettre, from templates in files, and staff alerts.

pub mod alerts;
pub mod confirmation;
pub mod deliverer;
pub mod statement;
pub mod templates;
pub mod transport;

pub use alerts::{AlertRecipients, AlertSettings, StaffAlertDeliverer};
pub use confirmation::ConfirmationMailDeliverer;
pub use deliverer::{Composed, MailDeliverer, MailSettings, SigningKey};
pub use lettre::message::Mailbox;
pub use templates::{TemplateError, Templates};
pub use transport::MailTransport;
