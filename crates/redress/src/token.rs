//! `redress token`: development bearer tokens for the embedded HS256 setup.

use anyhow::Context;
use clap::Args;
use redress_core::Role;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The staff subject (user name) the token speaks for.
    #[arg(long)]
    pub sub: String,
    /// A role; repeat for several (triager, reviewer, senior_reviewer, support, admin,
    /// integration).
    #[arg(long = "role", required = true)]
    pub roles: Vec<Role>,
    /// How long the token is valid.
    #[arg(long, default_value_t = 8)]
    pub hours: i64,
}

pub fn print(config: &Config, args: &TokenArgs) -> anyhow::Result<()> {
    let token = redress_graphql::auth::mint_dev_token(
        &config.graphql.auth,
        &args.sub,
        &args.roles,
        chrono::Utc::now(),
        chrono::TimeDelta::hours(args.hours),
    )
    .context("minting a development token")?;
    println!("{token}");
    Ok(())
}
