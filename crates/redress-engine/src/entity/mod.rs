//! sea-orm entities, one module per table. Columns mirror the migrations. The core's enums
//! are stored as their wire names (see `redress_core::state`) and converted at the
//! repository edge; the engine's own statuses are `stored_enum!`s, which sea-orm reads and
//! writes as the same text.

/// An enum of the engine's own (a status, an outcome) stored in a text column as one fixed
/// string per variant. The strings are the column's values, so they never change; a value
/// the enum does not know fails the read rather than being guessed. Serialised and
/// displayed as the same strings.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            ::sea_orm::EnumIter, ::sea_orm::DeriveActiveEnum,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// The stored string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;

pub mod account;
pub mod appeal;
pub mod appeal_event;
pub mod appeal_status_token;
pub mod audit_entry;
pub mod bulk_decision_job;
pub mod bulk_decision_target;
pub mod bulk_restore_job;
pub mod bulk_restore_outcome;
pub mod bulk_restore_slice;
pub mod bulk_restore_target;
pub mod catalog_entry;
pub mod catalog_entry_version;
pub mod enforcement;
pub mod enforcement_incident;
pub mod handle_confirmation;
pub mod linked_handle;
pub mod mail_signing_key;
pub mod message;
pub mod out_of_court_dispute;
pub mod outbox;
pub mod outside_copy_removal;
pub mod restoration;
pub mod restoration_item;
pub mod routing_rule;
pub mod routing_rule_version;
pub mod second_review;
pub mod staff_session;
pub mod staff_sign_in;
pub mod tdb_submission;
pub mod webhook_endpoint;
