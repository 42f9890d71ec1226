//! Where manifests come from (PROTOCOL.md §7.6): inline in `deployment_data`, or fetched
//! from the URL it names (size-capped, time-limited, hash-checked) and then kept in
//! `<data-dir>/manifests/<hash>.json`, so a restart does not depend on the URL again.
//! Fetch failures are remembered for a short while, so a dead URL is not hammered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tfchain_api::deployment::{verify_manifest, DeploymentSource, Manifest, FETCH_MAX};
use tfchain_types::{Hash, Reservation};

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Seconds before a failed fetch is tried again.
pub const RETRY_AFTER_S: u64 = 30;

#[derive(Debug)]
pub struct Manifests {
    dir: PathBuf,
    http: reqwest::Client,
    /// Fetched and checked, by deployment hash.
    fetched: BTreeMap<Hash, Manifest>,
    /// Why a URL failed, and when it may be tried again.
    failed: BTreeMap<Hash, (String, u64)>,
}

impl Manifests {
    pub fn new(data_dir: &std::path::Path) -> std::io::Result<Manifests> {
        let dir = data_dir.join("manifests");
        std::fs::create_dir_all(&dir)?;
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Manifests {
            dir,
            http,
            fetched: BTreeMap::new(),
            failed: BTreeMap::new(),
        })
    }

    /// Makes sure every URL manifest of `reservations` was fetched or has a recent failure,
    /// so [`Manifests::lookup`] can answer without I/O.
    pub async fn prefetch<'a>(
        &mut self,
        reservations: impl Iterator<Item = &'a Reservation>,
        now: u64,
    ) {
        for r in reservations {
            let Ok(DeploymentSource::Url(url)) = DeploymentSource::of(&r.deployment_data) else {
                continue;
            };
            let h = r.deployment_hash;
            if self.fetched.contains_key(&h) || self.failed.get(&h).is_some_and(|f| f.1 > now) {
                continue;
            }
            match self.fetch(&url, &h).await {
                Ok(m) => {
                    self.failed.remove(&h);
                    self.fetched.insert(h, m);
                }
                Err(reason) => {
                    tracing::warn!(reservation = r.id, %url, %reason, "manifest not fetched");
                    self.failed.insert(h, (reason, now + RETRY_AFTER_S));
                }
            }
        }
    }

    /// The manifest of `r` from `source`, checked against its deployment hash.
    pub fn lookup(&self, r: &Reservation, source: &DeploymentSource) -> Result<Manifest, String> {
        match source {
            DeploymentSource::Inline(bytes) => {
                verify_manifest(bytes, &r.deployment_hash).map_err(|e| e.to_string())
            }
            DeploymentSource::Url(url) => match self.fetched.get(&r.deployment_hash) {
                Some(m) => Ok(m.clone()),
                None => Err(match self.failed.get(&r.deployment_hash) {
                    Some((reason, _)) => format!("cannot fetch the manifest from {url}: {reason}"),
                    None => format!("the manifest at {url} is not fetched yet"),
                }),
            },
            DeploymentSource::None => Err("no deployment".into()),
        }
    }

    async fn fetch(&self, url: &str, hash: &Hash) -> Result<Manifest, String> {
        let cached = self.dir.join(format!("{hash}.json"));
        if let Ok(bytes) = std::fs::read(&cached) {
            if let Ok(m) = verify_manifest(&bytes, hash) {
                return Ok(m);
            }
        }
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > FETCH_MAX {
                return Err(format!("the manifest is larger than {FETCH_MAX} bytes"));
            }
        }
        let m = verify_manifest(&body, hash).map_err(|e| e.to_string())?;
        if crate::atomic::write(&cached, &body).is_err() {
            tracing::warn!(path = %cached.display(), "cannot keep the fetched manifest");
        }
        Ok(m)
    }
}
