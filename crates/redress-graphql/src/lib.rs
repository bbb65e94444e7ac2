//! The reviewer and platform API over GraphQL.
