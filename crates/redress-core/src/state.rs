//! The vocabulary of an appeal: states, outcomes, channels, priorities.

/// Declares a string-backed enum with stable wire names used in the database, in events
/// and in the API, so one spelling exists for each value.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = crate::error::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err(crate::error::UnknownValue { kind: $what, value: other.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// Where an appeal is in its lifecycle. Escalation is a level, not a state.
    AppealState, "appeal state" {
        Filed => "filed",
        Triaged => "triaged",
        AwaitingUser => "awaiting_user",
        Reviewed => "reviewed",
        Restored => "restored",
        Upheld => "upheld",
        Withdrawn => "withdrawn",
    }
);

impl AppealState {
    /// States in which the case still needs work; at most one open appeal exists per
    /// account and enforcement.
    pub const OPEN: &'static [AppealState] = &[
        AppealState::Filed,
        AppealState::Triaged,
        AppealState::AwaitingUser,
        AppealState::Reviewed,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Restored, upheld and withdrawn end a case; only `upheld` can be reopened.
    pub fn is_terminal(self) -> bool {
        !self.is_open()
    }
}

wire_enum!(
    /// What a reviewer decided.
    Outcome, "outcome" {
        Restore => "restore",
        Uphold => "uphold",
    }
);

wire_enum!(
    /// How an appeal or a message reached Redress.
    Channel, "channel" {
        Email => "email",
        X => "x",
        Instagram => "instagram",
        Messenger => "messenger",
        Api => "api",
    }
);

wire_enum!(
    /// Queue priority; higher is served first.
    Priority, "priority" {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

impl Priority {
    /// A number that sorts the queue: larger first.
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

wire_enum!(
    /// Which SLA deadline a warning or breach concerns.
    Deadline, "deadline" {
        Triage => "triage",
        Decision => "decision",
    }
);
