#![doc = include_str!("../README.md")]

pub mod appeal;
pub mod calendar;
pub mod command;
pub mod effects;
pub mod error;
pub mod event;
pub mod language;
pub mod overturn;
pub mod policy;
pub mod reference;
pub mod role;
pub mod sla;
pub mod state;
pub mod statement;
pub mod throttle;
pub mod transition;

pub use appeal::{Appeal, Decision};
pub use calendar::{BusinessHours, CalendarError};
pub use command::{Command, FileAppeal};
pub use effects::{effects_of, Effect, Notice, StaffAlert};
pub use error::{TransitionError, UnknownValue};
pub use event::{AccountLink, Event, EventKind, RuleRef};
pub use overturn::{wilson_interval, IncidentRule, Interval};
pub use policy::{
    DecisionTemplate, GroundKind, PlaceholderError, Policy, PolicyText, StatementDraft,
};
pub use reference::{AppealReference, ReferenceError};
pub use role::{Actor, Role};
pub use sla::{SlaClock, SlaMarks, SlaPolicy, SlaSchedule};
pub use state::{AppealState, Channel, Deadline, Outcome, Priority};
pub use statement::{
    Automation, ContentRelation, Ground, RedressOption, Restriction, RestrictionFamily,
    RestrictionKind, StatementError, StatementOfReasons, TerritorialScope,
};
pub use throttle::ThrottleRule;
