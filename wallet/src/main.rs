//! `tfchainc`: parses the command line, runs the command, prints its report.

use clap::Parser;
use tfchain_wallet::cli::Cli;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(tfchain_wallet::run(&cli)) {
        Ok(report) => {
            println!("{}", report.render(cli.json));
            Ok(())
        }
        Err(e) => {
            if cli.json {
                let mut j =
                    serde_json::json!({"error": {"kind": e.kind(), "message": e.to_string()}});
                if let Some(serde_json::Value::Object(details)) = e.details() {
                    for (k, v) in details {
                        j["error"][k] = v;
                    }
                }
                println!("{j}");
            } else {
                eprintln!("error: {e}");
            }
            std::process::exit(1);
        }
    }
}
