//! `tfchaind`: the tfchain full node. See `tfchaind --help`.

use clap::Parser;
use tfchain_node::cli::{Cli, Command};
use tfchain_node::clock::{Clock, SystemClock};
use tfchain_node::commands;
use tfchain_node::config::ConfigFile;
use tfchain_node::logging;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config_path = match &cli.command {
        None => cli.run.chain.config.clone(),
        Some(Command::Run(r)) => r.chain.config.clone(),
        Some(Command::ExportBlocks(a)) => a.chain.config.clone(),
        Some(Command::ImportBlocks(a)) => a.chain.config.clone(),
        Some(Command::Rollback(a)) => a.chain.config.clone(),
        Some(_) => None,
    };
    let file = match &config_path {
        Some(p) => ConfigFile::load(p)?,
        None => ConfigFile::default(),
    };
    let (format, level) = cli.log.merged(&file);
    logging::init(format, &level);

    let result = match cli.command {
        None => return run_node(cli.run),
        Some(Command::Run(args)) => return run_node(args),
        Some(Command::Key(k)) => commands::key::run(k),
        Some(Command::Genesis(g)) => commands::genesis::run(g, SystemClock.now()),
        Some(Command::ExportBlocks(a)) => commands::blocks::export(a),
        Some(Command::ImportBlocks(a)) => commands::blocks::import(a).map(|_| ()),
        Some(Command::Rollback(a)) => commands::blocks::rollback(a),
        Some(Command::Localnet(a)) => return run_localnet(a),
    };
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

fn run_localnet(args: tfchain_node::cli::LocalnetArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(commands::localnet::run(args))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn run_node(args: tfchain_node::cli::RunArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tfchaind")
        .build()?;
    runtime
        .block_on(commands::run::run(args))
        .map_err(|e| anyhow::anyhow!("{e}"))
}
