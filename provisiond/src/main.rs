//! `tfchain-provisiond`: `run` follows the chain for one grid node and keeps its workloads
//! equal to what the chain reserved; `status` prints what a running daemon manages.

use anyhow::{bail, Context};
use clap::Parser;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tfchain_provisiond::cli::{
    Cli, Command, KeySource, LogFormat, RuntimeKind, Settings, StatusArgs,
};
use tfchain_provisiond::runtime::docker::DockerRuntime;
use tfchain_provisiond::runtime::process::{ProcessConfig, ProcessRuntime};
use tfchain_provisiond::runtime::Runtime;
use tfchain_provisiond::{board, chain, daemon, http, manifests, node_key, state};

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    match cli.command {
        Command::Run(args) => {
            let settings = args.settings()?;
            init_logging(settings.log_format, &settings.log_level);
            rt.block_on(run(settings))
        }
        Command::Status(args) => rt.block_on(status(args)),
    }
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

async fn build_runtime(
    s: &Settings,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<dyn Runtime>> {
    Ok(match s.runtime {
        RuntimeKind::Process => Arc::new(ProcessRuntime::new(ProcessConfig {
            data_dir: data_dir.to_path_buf(),
            run_as: s.run_as.clone(),
            allow_root: s.allow_root,
            stop_grace: Duration::from_secs(s.stop_grace_secs),
        })?),
        RuntimeKind::Docker => Arc::new(DockerRuntime::connect().await?),
    })
}

/// Finds the node by its key, retrying while tfchaind is unreachable (a data dir that
/// already serves a node starts at once with that node and follows the chain when it
/// can).
async fn find_node(
    ws: &str,
    key: tfchain_types::PublicKey,
    known: Option<tfchain_types::NodeId>,
) -> anyhow::Result<tfchain_types::NodeId> {
    let mut backoff = daemon::RECONNECT_MIN;
    loop {
        match chain::Chain::connect(ws).await {
            Ok(c) => match c.node_by_key(key).await? {
                Some(n) => {
                    if let Some(k) = known.filter(|k| *k != n.node.id) {
                        bail!("this data dir serves node {k}, but the key is node {}'s: give each node its own --data-dir", n.node.id);
                    }
                    return Ok(n.node.id);
                }
                None => bail!(
                    "no node on chain has the key {}: register the node first (tfchainc node register …), or check --node-key",
                    hex::encode(key.0)
                ),
            },
            Err(e) => {
                if let Some(k) = known {
                    tracing::warn!(error = %e, node = k, "tfchaind is unreachable: starting with the node this data dir serves");
                    return Ok(k);
                }
                tracing::warn!(error = %e, retry_in_s = backoff.as_secs(), "tfchaind is unreachable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(daemon::RECONNECT_MAX);
            }
        }
    }
}

async fn run(s: Settings) -> anyhow::Result<()> {
    let key = match &s.key {
        KeySource::File(p) => node_key::read(p)?,
        KeySource::Dev(n) => node_key::dev(*n)?,
    };
    let temp = match &s.data_dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("tfchain-provisiond-")
                .tempdir()?,
        ),
    };
    let data_dir = match (&s.data_dir, &temp) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => bail!("no data dir"),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("create the data dir {}", data_dir.display()))?;
    let state_file = state::StateFile::new(&data_dir);
    let mut st = state_file.load()?;
    let runtime = build_runtime(&s, &data_dir).await?;
    let ws = chain::ws_url(&s.rpc)?;
    let node = find_node(&ws, key.public_key(), st.node).await?;
    if st.node != Some(node) {
        st.node = Some(node);
        state_file.save(&st)?;
    }
    tracing::info!(
        node,
        data_dir = %data_dir.display(),
        runtime = %runtime.kind(),
        limits = %runtime.limits_note(),
        rpc = %s.rpc,
        confirmations = s.confirmations,
        "provisiond starting"
    );
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .with_context(|| format!("listen on {}", s.listen))?;
    let addr = listener.local_addr()?;
    let shared: http::SharedBoard = Arc::new(RwLock::new(daemon::board(node, runtime.as_ref())));
    let server = tokio::spawn(http::serve(listener, shared.clone()));
    println!("node: {node}");
    println!("listen: http://{addr}");
    let follow = daemon::Follow {
        ws_url: ws,
        confirmations: s.confirmations,
        reconcile_blocks: s.reconcile_blocks,
    };
    let mut d = daemon::Daemon::new(
        node,
        follow,
        runtime,
        state_file,
        st,
        manifests::Manifests::new(&data_dir)?,
        shared,
    );
    d.run(shutdown()).await;
    server.abort();
    if temp.is_some() {
        tracing::info!("removing the workloads of the temporary data dir");
        d.remove_all().await;
    } else {
        tracing::info!("stopped; workloads keep running and are adopted on the next start");
    }
    Ok(())
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => futures::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

async fn status(a: StatusArgs) -> anyhow::Result<()> {
    let url = format!("http://{}/workloads", a.listen);
    let body = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .with_context(|| {
            format!(
                "ask the daemon at {url} (is `tfchain-provisiond run` running with --listen {}?)",
                a.listen
            )
        })?
        .bytes()
        .await
        .context("read the daemon's answer")?;
    let b: board::Board =
        serde_json::from_slice(&body).context("the daemon's answer is not a workload list")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&b)?);
        return Ok(());
    }
    println!(
        "node {} at height {} ({}), runtime {} ({})",
        b.node,
        b.height,
        if b.connected {
            "connected"
        } else {
            "tfchaind unreachable"
        },
        b.runtime,
        b.limits
    );
    if b.workloads.is_empty() {
        println!("no workloads");
    }
    for w in &b.workloads {
        let id = w
            .pid
            .map(|p| format!("pid {p}"))
            .or(w.container.clone())
            .unwrap_or_else(|| "-".into());
        println!(
            "reservation {:>6}  desired {:<8} actual {:<8} {:<14} restarts {}{}",
            w.reservation,
            w.desired,
            w.actual,
            id,
            w.restarts,
            w.reason
                .as_ref()
                .or(w.last_error.as_ref())
                .map(|r| format!("  {r}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
