//! Deployments (PROTOCOL.md §7.6): a manifest file becomes a reservation's deployment hash
//! and data (the manifest itself when it fits in 512 bytes, else `{"url": ...}`), checked
//! before anything is sent; `tfchainc deployment hash FILE` prints the hash offline.

use crate::cli::DeploymentCmd;
use crate::cli_grid::DeploymentArgs;
use crate::error::{Result, WalletError};
use crate::output::{lines, Report};
use serde_json::json;
use std::path::Path;
use tfchain_api::deployment::{deployment_hash, DeploymentSource, Manifest, INLINE_MAX};
use tfchain_types::grid::MAX_DEPLOYMENT_DATA;
use tfchain_types::{Hash, Resources};

/// A reservation's deployment, as the chain records it.
#[derive(Debug)]
pub(crate) struct Deployment {
    pub hash: Hash,
    pub data: Vec<u8>,
    /// `inline`, `url` or `data` (given as hex).
    pub how: &'static str,
}

fn read_manifest(path: &Path) -> Result<(Vec<u8>, Manifest)> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| WalletError::bad_arg("--manifest", shown.clone(), e.to_string()))?;
    let m = Manifest::parse(&bytes)
        .map_err(|e| WalletError::bad_arg("--manifest", shown, e.to_string()))?;
    Ok((bytes, m))
}

/// The deployment `a` names, checked against the resources it will run in.
pub(crate) fn resolve(a: &DeploymentArgs, reserved: &Resources) -> Result<Deployment> {
    if let Some(path) = &a.manifest {
        let (bytes, m) = read_manifest(path)?;
        m.limits(reserved).map_err(|e| {
            WalletError::bad_arg("--manifest", path.display().to_string(), e.to_string())
        })?;
        let data = DeploymentSource::data_for(&bytes, a.manifest_url.as_deref()).ok_or_else(|| {
            WalletError::bad_arg(
                "--manifest",
                path.display().to_string(),
                format!(
                    "is {} bytes, more than the {INLINE_MAX} a reservation carries: publish it and give --manifest-url URL",
                    bytes.len()
                ),
            )
        })?;
        if let Some(url) = &a.manifest_url {
            DeploymentSource::of(&data)
                .map_err(|e| WalletError::bad_arg("--manifest-url", url.clone(), e.to_string()))?;
            if data.len() > MAX_DEPLOYMENT_DATA {
                return Err(WalletError::bad_arg(
                    "--manifest-url",
                    url.clone(),
                    format!("too long: the pointer must fit in {MAX_DEPLOYMENT_DATA} bytes"),
                ));
            }
        }
        return Ok(Deployment {
            hash: deployment_hash(&bytes),
            data,
            how: if a.manifest_url.is_some() {
                "url"
            } else {
                "inline"
            },
        });
    }
    let Some(h) = &a.deployment_hash else {
        return Err(WalletError::bad_arg(
            "deployment",
            "none",
            "give --manifest FILE (or the low-level --deployment-hash HEX)",
        ));
    };
    let hash = crate::args::parse_hash("--deployment-hash", h)?;
    let data = match &a.deployment_data {
        None => vec![],
        Some(x) => hex::decode(x.trim())
            .map_err(|e| WalletError::bad_arg("--deployment-data", x, e.to_string()))?,
    };
    if data.len() > MAX_DEPLOYMENT_DATA {
        return Err(WalletError::bad_arg(
            "--deployment-data",
            format!("{} bytes", data.len()),
            format!("at most {MAX_DEPLOYMENT_DATA} bytes"),
        ));
    }
    Ok(Deployment {
        hash,
        data,
        how: "data",
    })
}

pub(crate) fn run(c: &DeploymentCmd) -> Result<Report> {
    match c {
        DeploymentCmd::Hash { file } => {
            let (bytes, m) = read_manifest(file)?;
            let hash = deployment_hash(&bytes);
            let inline = bytes.len() <= INLINE_MAX;
            Ok(Report::new(
                json!({"hash": hash, "bytes": bytes.len(), "inline": inline, "kind": m.kind}),
                lines(&[
                    ("hash", hash.to_string()),
                    ("bytes", bytes.len().to_string()),
                    (
                        "carried",
                        if inline {
                            "inline in the reservation".into()
                        } else {
                            format!("by URL (over {INLINE_MAX} bytes): reserve with --manifest-url")
                        },
                    ),
                ]),
            ))
        }
    }
}
