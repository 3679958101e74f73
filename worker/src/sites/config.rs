//! A site's configuration: who may embed its rooms, who may chat, its limits.
//! Stored by the registry; edited through the admin API.

use protocol::origin::is_valid_pattern;
use protocol::room::policy::PolicyError;
use protocol::room::RoomPolicy;
use protocol::Limits;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Most origins one site may list.
pub const MAX_ORIGINS: usize = 50;
/// Shortest secret accepted: HS256 keys should carry at least 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;
pub const MAX_SECRET_BYTES: usize = 512;

/// What the registry stores. The secret never leaves the Worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: String,
    pub origins: Vec<String>,
    pub allow_anonymous: bool,
    pub allow_no_origin: bool,
    pub limits: Limits,
    /// Edit window, reaction emoji, word filter, link policy.
    #[serde(default)]
    pub moderation: RoomPolicy,
    pub secret: Option<String>,
    /// Drawn when the site is created and part of its rooms' object names:
    /// a deleted site's rooms are unreachable for good, even by a new site
    /// with the same id. Empty for sites created before epochs existed.
    #[serde(default)]
    pub epoch: String,
    pub created_at: u64,
    pub updated_at: u64,
}

impl Site {
    /// The site as the admin API shows it: everything but the secret.
    pub fn public(&self) -> Value {
        json!({
            "id": self.id,
            "origins": self.origins,
            "allowAnonymous": self.allow_anonymous,
            "allowNoOrigin": self.allow_no_origin,
            "limits": self.limits,
            "moderation": self.moderation,
            "hasSecret": self.secret.is_some(),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }
}

/// The body of `PUT /admin/sites/{id}`. Absent fields take their defaults,
/// except `secret`: absent keeps the current secret, `null` removes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteInput {
    #[serde(default)]
    pub origins: Vec<String>,
    #[serde(default = "yes")]
    pub allow_anonymous: bool,
    #[serde(default)]
    pub allow_no_origin: bool,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub moderation: RoomPolicy,
    #[serde(default, deserialize_with = "present")]
    pub secret: Option<Option<String>>,
}

fn yes() -> bool {
    true
}

/// Distinguishes `"secret": null` (Some(None)) from no `secret` key (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// How the stored secret changes with an update.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SecretChange {
    Keep,
    Remove,
    Set(String),
}

/// What the Worker asks the registry to store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteUpdate {
    pub id: String,
    pub origins: Vec<String>,
    pub allow_anonymous: bool,
    pub allow_no_origin: bool,
    pub limits: Limits,
    pub moderation: RoomPolicy,
    pub secret: SecretChange,
}

/// Why a site configuration is refused (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    TooManyOrigins,
    BadOrigin(String),
    BadSecretLength,
    BadPolicy(PolicyError),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::TooManyOrigins => write!(f, "at most {MAX_ORIGINS} origins"),
            ConfigError::BadOrigin(o) => write!(
                f,
                "origin {o:?} is not scheme://host[:port] (http or https; `*` port, `*.` subdomain or a lone `*` allowed)"
            ),
            ConfigError::BadSecretLength => write!(f, "secret must be {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes"),
            ConfigError::BadPolicy(e) => write!(f, "moderation: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl SiteInput {
    /// Check the input and turn it into an update, or say what is wrong.
    pub fn validate(self, id: &str) -> Result<SiteUpdate, ConfigError> {
        if self.origins.len() > MAX_ORIGINS {
            return Err(ConfigError::TooManyOrigins);
        }
        if let Some(bad) = self.origins.iter().find(|o| !is_valid_pattern(o)) {
            return Err(ConfigError::BadOrigin(bad.clone()));
        }
        let secret = match self.secret {
            None => SecretChange::Keep,
            Some(None) => SecretChange::Remove,
            Some(Some(s)) if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&s.len()) => {
                SecretChange::Set(s)
            }
            Some(Some(_)) => return Err(ConfigError::BadSecretLength),
        };
        Ok(SiteUpdate {
            id: id.to_owned(),
            origins: self
                .origins
                .iter()
                .map(|o| o.trim().to_ascii_lowercase())
                .collect(),
            allow_anonymous: self.allow_anonymous,
            allow_no_origin: self.allow_no_origin,
            limits: self.limits.clamped(),
            moderation: self.moderation.validate().map_err(ConfigError::BadPolicy)?,
            secret,
        })
    }
}

impl SiteUpdate {
    /// Apply to the stored site (if any) at time `now`; a new site gets
    /// `fresh_epoch`.
    pub fn apply(self, existing: Option<Site>, now: u64, fresh_epoch: String) -> Site {
        let (created_at, old_secret, epoch) = existing.map_or((now, None, fresh_epoch), |s| {
            (s.created_at, s.secret, s.epoch)
        });
        Site {
            id: self.id,
            origins: self.origins,
            allow_anonymous: self.allow_anonymous,
            allow_no_origin: self.allow_no_origin,
            limits: self.limits,
            moderation: self.moderation,
            secret: match self.secret {
                SecretChange::Keep => old_secret,
                SecretChange::Remove => None,
                SecretChange::Set(s) => Some(s),
            },
            epoch,
            created_at,
            updated_at: now,
        }
    }
}
