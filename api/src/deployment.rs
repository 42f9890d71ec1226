//! Deployments (PROTOCOL.md §7.6): the manifest a reservation's owner wants run, its hash
//! (the reservation's `deployment_hash`), and what `deployment_data` carries (the manifest
//! itself, or `{"url": ...}` naming where to fetch it). A convention between the wallet and
//! the node daemon (`tfchain-provisiond`); consensus never reads either field.
//!
//! The manifest's JSON schema is `docs/deployment-manifest.schema.json`; this module is
//! the parser both sides use, and a test keeps the two in step.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tfchain_types::grid::MAX_DEPLOYMENT_DATA;
use tfchain_types::hash::Hasher;
use tfchain_types::{Hash, Resources};

/// The domain tag of deployment hashes (PROTOCOL.md §1, §7.6).
pub const DEPLOYMENT_TAG: &[u8] = b"tfchain/deployment/";
/// Largest manifest inlined in `deployment_data`; a larger one is fetched by URL.
pub const INLINE_MAX: usize = MAX_DEPLOYMENT_DATA;
/// Largest manifest a daemon fetches by URL.
pub const FETCH_MAX: usize = 64 * 1024;
/// The manifest version this code reads.
pub const MANIFEST_VERSION: u32 = 1;
/// Most arguments in `command`, variables in `env`, bytes in one string of either.
pub const MAX_ARGS: usize = 256;
pub const MAX_ENV: usize = 256;
pub const MAX_STRING: usize = 4096;

/// `H("tfchain/deployment/" ‖ manifest bytes)` over the exact bytes.
pub fn deployment_hash(manifest: &[u8]) -> Hash {
    let mut h = Hasher::tagged(DEPLOYMENT_TAG);
    h.update(manifest);
    h.finish()
}

/// What runs a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// A command run as a supervised child process.
    Process,
    /// An OCI image run by the Docker engine.
    Container,
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkloadKind::Process => "process",
            WorkloadKind::Container => "container",
        })
    }
}

/// When an exited workload is started again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    /// Whether a workload that exited with `code` (`None`: killed by a signal) restarts.
    pub fn restarts(self, code: Option<i32>) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != Some(0),
            RestartPolicy::Never => false,
        }
    }
}

/// Manifest v1 (PROTOCOL.md §7.6). Unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    pub kind: WorkloadKind,
    /// The program and its arguments (for a container: overrides the image's command; may
    /// be empty).
    #[serde(default)]
    pub command: Vec<String>,
    /// The image of a container; not allowed for a process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// What the workload may use, at most the reservation's resources (default: all of
    /// them). Same units as the reservation: cores, GiB of memory, GiB of SSD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// Why a manifest or its `deployment_data` is refused; each says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON for manifest v1: {0}")]
    Parse(String),
    #[error("manifest version {0} is not supported (this daemon reads version 1)")]
    Version(u32),
    #[error("a process manifest needs a non-empty `command`")]
    NoCommand,
    #[error("a container manifest needs an `image`")]
    NoImage,
    #[error("a process manifest cannot have an `image`")]
    ImageOnProcess,
    #[error("the manifest has too many entries in `{field}` ({count}, at most {max})")]
    TooMany {
        field: &'static str,
        count: usize,
        max: usize,
    },
    #[error("the manifest has an invalid `{field}` entry: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the manifest asks for {asked} but the reservation reserved {reserved}")]
    ExceedsReservation { asked: String, reserved: String },
    #[error(
        "the manifest's hash {actual} does not match the reservation's deployment hash {expected}"
    )]
    HashMismatch { expected: Hash, actual: Hash },
    #[error("deployment_data is neither a manifest nor {{\"url\": \"...\"}}: {0}")]
    BadData(String),
}

impl Manifest {
    /// Parses and checks a manifest's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Parse(e.to_string()))?;
        m.check()?;
        Ok(m)
    }

    /// The rules the schema cannot say alone.
    pub fn check(&self) -> Result<(), ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::Version(self.version));
        }
        match self.kind {
            WorkloadKind::Process if self.command.is_empty() => {
                return Err(ManifestError::NoCommand)
            }
            WorkloadKind::Process if self.image.is_some() => {
                return Err(ManifestError::ImageOnProcess)
            }
            WorkloadKind::Container if self.image.as_deref().is_none_or(str::is_empty) => {
                return Err(ManifestError::NoImage)
            }
            _ => {}
        }
        bounded("command", self.command.len(), MAX_ARGS)?;
        bounded("env", self.env.len(), MAX_ENV)?;
        for a in &self.command {
            string("command", a)?;
        }
        if let Some(i) = &self.image {
            string("image", i)?;
        }
        for (k, v) in &self.env {
            string("env", v)?;
            let valid = !k.is_empty()
                && k.len() <= MAX_STRING
                && !k.starts_with(|c: char| c.is_ascii_digit())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ManifestError::Invalid {
                    field: "env",
                    reason: format!("{k:?} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
                });
            }
            if k.starts_with("TFCHAIN_") {
                return Err(ManifestError::Invalid {
                    field: "env",
                    reason: format!("{k} is set by the daemon (TFCHAIN_* names are reserved)"),
                });
            }
        }
        Ok(())
    }

    /// What the workload is limited to: its own `resources`, which must fit in what the
    /// reservation reserved, or all of those.
    pub fn limits(&self, reserved: &Resources) -> Result<Resources, ManifestError> {
        match self.resources {
            None => Ok(*reserved),
            Some(asked) if asked.fits_within(reserved) => Ok(asked),
            Some(asked) => Err(ManifestError::ExceedsReservation {
                asked: describe(&asked),
                reserved: describe(reserved),
            }),
        }
    }
}

fn describe(r: &Resources) -> String {
    format!(
        "cru {} mru {} GiB sru {} GiB hru {} GiB ipv4 {}",
        r.cru, r.mru, r.sru, r.hru, r.ipv4
    )
}

fn bounded(field: &'static str, count: usize, max: usize) -> Result<(), ManifestError> {
    if count > max {
        return Err(ManifestError::TooMany { field, count, max });
    }
    Ok(())
}

fn string(field: &'static str, s: &str) -> Result<(), ManifestError> {
    if s.len() > MAX_STRING || s.contains('\0') {
        return Err(ManifestError::Invalid {
            field,
            reason: format!("strings are at most {MAX_STRING} bytes and hold no NUL"),
        });
    }
    Ok(())
}

/// Where a reservation's manifest is, from its `deployment_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentSource {
    /// No deployment: the reservation holds capacity and runs nothing.
    None,
    /// The manifest's bytes themselves.
    Inline(Vec<u8>),
    /// `{"url": "..."}`: fetch the manifest from there.
    Url(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pointer {
    url: String,
}

impl DeploymentSource {
    /// Reads `deployment_data`: empty is no deployment; a JSON object whose only field is
    /// `url` is a pointer; anything else is taken as the manifest (and checked as one).
    pub fn of(data: &[u8]) -> Result<DeploymentSource, ManifestError> {
        if data.is_empty() {
            return Ok(DeploymentSource::None);
        }
        if let Ok(p) = serde_json::from_slice::<Pointer>(data) {
            let ok = p.url.starts_with("http://") || p.url.starts_with("https://");
            if !ok || p.url.len() > MAX_STRING {
                return Err(ManifestError::BadData(format!(
                    "the url {:?} is not an http:// or https:// URL",
                    p.url
                )));
            }
            return Ok(DeploymentSource::Url(p.url));
        }
        Ok(DeploymentSource::Inline(data.to_vec()))
    }

    /// The `deployment_data` that carries `manifest`: itself when it fits, else `{"url"}`
    /// (`None` when it does not fit and no URL is given).
    pub fn data_for(manifest: &[u8], url: Option<&str>) -> Option<Vec<u8>> {
        match url {
            Some(u) => Some(serde_json::json!({ "url": u }).to_string().into_bytes()),
            None if manifest.len() <= INLINE_MAX => Some(manifest.to_vec()),
            None => None,
        }
    }
}

/// Checks that `bytes` are the manifest `expected` names and parses them.
pub fn verify_manifest(bytes: &[u8], expected: &Hash) -> Result<Manifest, ManifestError> {
    let actual = deployment_hash(bytes);
    if actual != *expected {
        return Err(ManifestError::HashMismatch {
            expected: *expected,
            actual,
        });
    }
    Manifest::parse(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEARTBEAT: &str = r#"{"version":1,"kind":"process","command":["sh","-c","while true; do date > beat; sleep 1; done"],"restart":"always"}"#;

    #[test]
    fn hash_is_tagged_blake2b_of_the_exact_bytes() {
        let h = deployment_hash(HEARTBEAT.as_bytes());
        assert_eq!(
            h,
            tfchain_types::hash::blake2b(&[DEPLOYMENT_TAG, HEARTBEAT.as_bytes()].concat())
        );
        // One more space is another manifest.
        assert_ne!(h, deployment_hash(format!("{HEARTBEAT} ").as_bytes()));
    }

    #[test]
    fn parse_refuses_unknown_fields_and_bad_shapes() {
        assert!(Manifest::parse(HEARTBEAT.as_bytes()).is_ok());
        let unknown = HEARTBEAT.replace("\"restart\"", "\"privileged\":true,\"restart\"");
        assert!(matches!(
            Manifest::parse(unknown.as_bytes()),
            Err(ManifestError::Parse(e)) if e.contains("privileged")
        ));
        let v2 = HEARTBEAT.replace("\"version\":1", "\"version\":2");
        assert_eq!(
            Manifest::parse(v2.as_bytes()),
            Err(ManifestError::Version(2))
        );
        let no_cmd = r#"{"version":1,"kind":"process"}"#;
        assert_eq!(
            Manifest::parse(no_cmd.as_bytes()),
            Err(ManifestError::NoCommand)
        );
        let no_image = r#"{"version":1,"kind":"container"}"#;
        assert_eq!(
            Manifest::parse(no_image.as_bytes()),
            Err(ManifestError::NoImage)
        );
        let reserved =
            r#"{"version":1,"kind":"process","command":["x"],"env":{"TFCHAIN_NODE":"9"}}"#;
        assert!(matches!(
            Manifest::parse(reserved.as_bytes()),
            Err(ManifestError::Invalid { field: "env", .. })
        ));
    }

    #[test]
    fn limits_never_exceed_the_reservation() {
        let reserved = Resources {
            cru: 1,
            mru: 1,
            sru: 2,
            ..Resources::ZERO
        };
        let m = Manifest::parse(HEARTBEAT.as_bytes()).expect("parses");
        assert_eq!(m.limits(&reserved), Ok(reserved));
        let big = r#"{"version":1,"kind":"process","command":["x"],"resources":{"cru":1,"mru":2,"sru":0,"hru":0,"ipv4":0}}"#;
        let m = Manifest::parse(big.as_bytes()).expect("parses");
        assert!(matches!(
            m.limits(&reserved),
            Err(ManifestError::ExceedsReservation { .. })
        ));
    }

    #[test]
    fn data_is_none_inline_or_a_url() {
        assert_eq!(DeploymentSource::of(b""), Ok(DeploymentSource::None));
        assert_eq!(
            DeploymentSource::of(HEARTBEAT.as_bytes()),
            Ok(DeploymentSource::Inline(HEARTBEAT.as_bytes().to_vec()))
        );
        let ptr = DeploymentSource::data_for(&[b' '; 600], Some("http://127.0.0.1:1/m.json"))
            .expect("a url always fits");
        assert_eq!(
            DeploymentSource::of(&ptr),
            Ok(DeploymentSource::Url("http://127.0.0.1:1/m.json".into()))
        );
        assert_eq!(DeploymentSource::data_for(&[b' '; 600], None), None);
        assert!(DeploymentSource::of(br#"{"url":"file:///etc/passwd"}"#).is_err());
        let wrong = verify_manifest(HEARTBEAT.as_bytes(), &Hash::default());
        assert!(matches!(wrong, Err(ManifestError::HashMismatch { .. })));
    }
}
