//! Running the real `tfchainc` binary from tests.

#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a `tfchainc` run printed.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON on stdout (`--json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The JSON of a run that must have succeeded.
    pub fn success(&self) -> Value {
        assert!(
            self.ok,
            "tfchainc failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self.json()
    }

    /// The `{"error": {kind, message}}` of a run that must have failed.
    pub fn failure(&self) -> (String, String) {
        assert!(!self.ok, "tfchainc should have failed:\n{}", self.stdout);
        let j = self.json();
        (
            j["error"]["kind"].as_str().unwrap_or_default().to_string(),
            j["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }
}

/// Runs `tfchainc ARGS` with `stdin` and no inherited TFCHAIN_* environment.
pub fn tfchainc(args: &[&str], stdin: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfchainc"));
    cmd.args(args)
        .env_remove("TFCHAIN_PASSPHRASE")
        .env_remove("TFCHAIN_RPC")
        .env_remove("TFCHAIN_WALLET_DIR")
        .env_remove("TFCHAIN_PASSPHRASE_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("tfchainc starts");
    if let Some(mut s) = child.stdin.take() {
        s.write_all(stdin.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("tfchainc runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A wallet directory with a passphrase file, used with `--json`.
#[derive(Debug)]
pub struct TestWallet {
    pub dir: PathBuf,
    pub pass: PathBuf,
    pub rpc: String,
}

impl TestWallet {
    pub fn new(root: &Path, name: &str, rpc: &str) -> TestWallet {
        let dir = root.join(name);
        let pass = root.join(format!("{name}.pass"));
        std::fs::write(&pass, format!("passphrase of {name}\n")).expect("write passphrase");
        TestWallet {
            dir,
            pass,
            rpc: rpc.to_string(),
        }
    }

    /// Runs `tfchainc` on this wallet with `--json`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        let dir = self.dir.to_string_lossy().into_owned();
        let pass = self.pass.to_string_lossy().into_owned();
        all.extend([
            "--json",
            "--rpc",
            &self.rpc,
            "--wallet-dir",
            &dir,
            "--passphrase-file",
            &pass,
        ]);
        tfchainc(&all, stdin)
    }

    pub fn ok(&self, args: &[&str]) -> Value {
        self.run(args, "").success()
    }

    /// `wallet init` with cheap test KDF parameters.
    pub fn init(&self) -> Value {
        self.ok(&["wallet", "init", "--yes", "--insecure-fast-kdf"])
    }

    /// The receive address and public key.
    pub fn address(&self) -> (String, String) {
        let j = self.ok(&["wallet", "address"]);
        (
            j["address"].as_str().unwrap_or_default().to_string(),
            j["public_key"].as_str().unwrap_or_default().to_string(),
        )
    }
}
