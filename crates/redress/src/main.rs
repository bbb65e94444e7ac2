use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Boxed: the command's future carries the whole configuration.
    Box::pin(redress::cli::run(redress::cli::Cli::parse())).await
}
