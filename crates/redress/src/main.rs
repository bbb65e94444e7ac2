use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    redress::cli::run(redress::cli::Cli::parse()).await
}
