//! A site's configuration: who may embed its rooms, who may chat, its limits
//! and moderation policy, its identity secret. Stored by the registry;
//! edited through the operator's admin API and the site owner's API.
//!
//! Edits merge: a field absent from the body keeps its current value (and
//! `limits` and `moderation` merge field by field), so a body that only
//! names `origins` never turns anonymous access back on or resets limits.

use crate::origin::is_valid_pattern;
use crate::room::emoji::is_one_emoji;
use crate::room::policy::PolicyError;
use crate::room::RoomPolicy;
use crate::Limits;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Most origins one site may list.
pub const MAX_ORIGINS: usize = 50;
/// Shortest secret accepted: HS256 keys should carry at least 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;
pub const MAX_SECRET_BYTES: usize = 512;
/// Longest grace period for a rotated secret (30 days).
pub const MAX_GRACE_MS: u64 = 30 * 24 * 3600 * 1000;

/// What the registry stores. The secrets never leave the Worker.
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
    /// The secret before the last rotation, valid until `previous_until`
    /// (ms since the epoch), so tokens already minted keep working.
    #[serde(default)]
    pub previous_secret: Option<String>,
    #[serde(default)]
    pub previous_until: Option<u64>,
    /// The events the site's webhooks subscribe to (rooms send only those).
    #[serde(default)]
    pub hooks: Vec<String>,
    /// Drawn when the site is created and part of its rooms' object names:
    /// a deleted site's rooms are unreachable for good, even by a new site
    /// with the same id. Empty for sites created before epochs existed.
    #[serde(default)]
    pub epoch: String,
    pub created_at: u64,
    pub updated_at: u64,
}

impl Site {
    /// The site as the APIs show it: everything but the secrets.
    pub fn public(&self) -> Value {
        json!({
            "id": self.id,
            "origins": self.origins,
            "allowAnonymous": self.allow_anonymous,
            "allowNoOrigin": self.allow_no_origin,
            "limits": self.limits,
            "moderation": self.moderation,
            "hasSecret": self.secret.is_some(),
            "previousSecretValidUntil": self.previous_until,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }

    /// The identity secrets a token may be signed with now: the current one
    /// and, during its grace period, the previous one. None once identity is
    /// turned off (the previous secret does not outlive the current one).
    pub fn secrets(&self, now: u64) -> Vec<&str> {
        if self.secret.is_none() {
            return Vec::new();
        }
        let previous = self
            .previous_secret
            .as_deref()
            .filter(|_| self.previous_until.is_some_and(|u| u > now));
        self.secret.as_deref().into_iter().chain(previous).collect()
    }
}

/// The body of a site edit: every field optional; `secret` only in the
/// operator's API (absent keeps it, `null` removes it).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteInput {
    pub origins: Option<Vec<String>>,
    pub allow_anonymous: Option<bool>,
    pub allow_no_origin: Option<bool>,
    pub limits: Option<Map<String, Value>>,
    pub moderation: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    pub secret: Option<Option<String>>,
}

/// Distinguishes `"secret": null` (Some(None)) from no `secret` key (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Why a site configuration is refused (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    TooManyOrigins,
    BadOrigin(String),
    BadSecretLength,
    BadLimits(String),
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
            ConfigError::BadLimits(e) => write!(f, "limits: {e}"),
            ConfigError::BadPolicy(e) => write!(f, "moderation: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `current` with the fields of `patch` laid over it.
fn merged<T: Serialize + for<'de> Deserialize<'de>>(
    current: &T,
    patch: Option<&Map<String, Value>>,
) -> Result<T, String> {
    let Some(patch) = patch else {
        return serde_json::to_value(current)
            .and_then(serde_json::from_value)
            .map_err(|e| e.to_string());
    };
    let mut value = serde_json::to_value(current).map_err(|e| e.to_string())?;
    if let Value::Object(fields) = &mut value {
        for (k, v) in patch {
            // Checked here, not by the types: what is stored (a site, a
            // room's state, a ticket) must stay readable by a version that
            // knows fewer fields, as after a rollback.
            if !fields.contains_key(k) {
                let known: Vec<String> = fields.keys().map(|k| format!("`{k}`")).collect();
                return Err(format!(
                    "unknown field `{k}`, expected one of {}",
                    known.join(", ")
                ));
            }
            fields.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// A checked secret.
pub fn check_secret(secret: String) -> Result<String, ConfigError> {
    if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&secret.len()) {
        Ok(secret)
    } else {
        Err(ConfigError::BadSecretLength)
    }
}

impl SiteInput {
    /// `existing` (or, for a new site `id`, the defaults) with this edit
    /// applied at time `now`, checked; a new site gets `fresh_epoch`.
    pub fn apply(
        self,
        id: &str,
        existing: Option<Site>,
        now: u64,
        fresh_epoch: String,
    ) -> Result<Site, ConfigError> {
        let created = existing.is_none();
        let mut site = existing.unwrap_or_else(|| Site {
            id: id.to_owned(),
            origins: Vec::new(),
            allow_anonymous: true,
            allow_no_origin: false,
            limits: Limits::default(),
            moderation: RoomPolicy::default(),
            secret: None,
            previous_secret: None,
            previous_until: None,
            hooks: Vec::new(),
            epoch: fresh_epoch,
            created_at: now,
            updated_at: now,
        });
        if let Some(origins) = self.origins {
            if origins.len() > MAX_ORIGINS {
                return Err(ConfigError::TooManyOrigins);
            }
            if let Some(bad) = origins.iter().find(|o| !is_valid_pattern(o)) {
                return Err(ConfigError::BadOrigin(bad.clone()));
            }
            site.origins = origins
                .iter()
                .map(|o| o.trim().to_ascii_lowercase())
                .collect();
        }
        if let Some(v) = self.allow_anonymous {
            site.allow_anonymous = v;
        }
        if let Some(v) = self.allow_no_origin {
            site.allow_no_origin = v;
        }
        site.limits = merged(&site.limits, self.limits.as_ref())
            .map_err(ConfigError::BadLimits)?
            .clamped();
        // Reactions saved before each had to be one emoji must not block an
        // edit of something else: those are dropped unless this edit sets them.
        let mut base = site.moderation.clone();
        if self
            .moderation
            .as_ref()
            .and_then(|m| m.get("emoji"))
            .is_none()
        {
            base.emoji.retain(|e| is_one_emoji(e));
            if base.emoji.is_empty() {
                base.emoji = RoomPolicy::default().emoji;
            }
        }
        let policy: RoomPolicy = merged(&base, self.moderation.as_ref())
            .map_err(|e| ConfigError::BadPolicy(PolicyError(e)))?;
        site.moderation = policy.validate().map_err(ConfigError::BadPolicy)?;
        match self.secret {
            None => {}
            // Identity off: a secret from before a rotation goes too.
            Some(None) => {
                site.secret = None;
                site.previous_secret = None;
                site.previous_until = None;
            }
            // A new secret set outright (not rotated): no grace for the one
            // before a rotation either, as when turning identity off.
            Some(Some(s)) => {
                let s = check_secret(s)?;
                if site.secret.as_deref() != Some(s.as_str()) {
                    site.previous_secret = None;
                    site.previous_until = None;
                }
                site.secret = Some(s);
            }
        }
        if !created {
            site.updated_at = next_version(site.updated_at, now);
        }
        Ok(site)
    }
}

/// Replace the identity secret with `new`; the old one stays valid for
/// `grace_ms`.
pub fn rotate(site: &mut Site, new: String, grace_ms: u64, now: u64) {
    site.previous_secret = site.secret.take();
    site.previous_until = site
        .previous_secret
        .as_ref()
        .map(|_| now + grace_ms.min(MAX_GRACE_MS));
    site.secret = Some(new);
    site.updated_at = next_version(site.updated_at, now);
}

/// A site's `updatedAt` after a change at `now`: the version of its rules,
/// which rooms compare, so always later than the one before, even for two
/// changes in the same millisecond (or a clock that stepped back).
pub fn next_version(before: u64, now: u64) -> u64 {
    now.max(before.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> SiteInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_edit_gets_a_later_version_even_in_the_same_millisecond() {
        let created = input("{}").apply("s", None, 5, "e".into()).unwrap();
        assert_eq!((created.created_at, created.updated_at), (5, 5));
        let first = input(r#"{"limits":{"maxMessageChars":300}}"#)
            .apply("s", Some(created), 9, "x".into())
            .unwrap();
        let second = input(r#"{"limits":{"maxMessageChars":301}}"#)
            .apply("s", Some(first.clone()), 9, "x".into())
            .unwrap();
        assert!(second.updated_at > first.updated_at);
        let mut rotated = second.clone();
        rotate(&mut rotated, "n".repeat(32), 0, 3);
        assert!(rotated.updated_at > second.updated_at);
    }

    #[test]
    fn reactions_saved_before_the_emoji_check_do_not_block_other_edits() {
        let mut old = input("{}").apply("s", None, 1, "e".into()).unwrap();
        old.moderation.emoji = ["ok", "👍", "+1"].map(String::from).to_vec();
        let edited = input(r#"{"allowAnonymous":false}"#)
            .apply("s", Some(old.clone()), 2, "x".into())
            .unwrap();
        assert_eq!(edited.moderation.emoji, ["👍"]);
        old.moderation.emoji = vec!["ok".into()];
        let edited = input(r#"{"moderation":{"words":["spam"]}}"#)
            .apply("s", Some(old.clone()), 2, "x".into())
            .unwrap();
        assert_eq!(edited.moderation.emoji, RoomPolicy::default().emoji);
        assert!(input(r#"{"moderation":{"emoji":["ok"]}}"#)
            .apply("s", Some(old), 2, "x".into())
            .is_err());
    }

    #[test]
    fn edits_merge_and_never_reset_what_they_do_not_name() {
        let created = input(
            r#"{"origins":["https://a.example"],"allowAnonymous":false,"limits":{"rateBurst":7}}"#,
        )
        .apply("s", None, 1, "e".into())
        .unwrap();
        assert_eq!(
            (
                created.allow_anonymous,
                created.limits.rate_burst,
                created.limits.retention
            ),
            (false, 7, 10_000)
        );
        let edited = input(r#"{"origins":["https://b.example"],"limits":{"retention":50}}"#)
            .apply("s", Some(created), 2, "x".into())
            .unwrap();
        assert!(!edited.allow_anonymous, "absent: kept");
        assert_eq!(
            (edited.limits.rate_burst, edited.limits.retention),
            (7, 50),
            "limits merge field by field"
        );
        assert_eq!(
            (edited.epoch.as_str(), edited.created_at, edited.updated_at),
            ("e", 1, 2)
        );
        assert!(input(r#"{"limits":{"rateBurst":"many"}}"#)
            .apply("s", Some(edited.clone()), 3, "x".into())
            .is_err());
        assert!(input(r#"{"limits":{"colour":1}}"#)
            .apply("s", Some(edited.clone()), 3, "x".into())
            .is_err());
        assert!(serde_json::from_str::<SiteInput>(r#"{"colour":"blue"}"#).is_err());
    }

    #[test]
    fn an_edit_naming_unknown_fields_is_refused_but_stored_ones_are_read_past() {
        let typo = input(r#"{"limits":{"maxMesageChars":10}}"#).apply("s", None, 1, "e".into());
        let err = typo.unwrap_err().to_string();
        assert!(err.contains("unknown field `maxMesageChars`"), "{err}");
        assert!(input(r#"{"moderation":{"word":["x"]}}"#)
            .apply("s", None, 1, "e".into())
            .is_err());
        // Written by a newer version (a field this one does not know), and
        // read back here after a rollback: read, not lost.
        let limits: Limits =
            serde_json::from_str(r#"{"maxMessageChars":10,"maxSomethingNew":3}"#).unwrap();
        assert_eq!(limits.max_message_chars, 10);
        let policy: RoomPolicy =
            serde_json::from_str(r#"{"receipts":true,"somethingNew":[]}"#).unwrap();
        assert!(policy.receipts);
    }

    #[test]
    fn a_rotated_secret_stays_valid_for_its_grace_period() {
        let mut site = input(r#"{"secret":"first-secret-0123456789"}"#)
            .apply("s", None, 0, "e".into())
            .unwrap();
        rotate(&mut site, "second-secret-0123456789".into(), 60_000, 1_000);
        assert_eq!(
            site.secrets(30_000),
            ["second-secret-0123456789", "first-secret-0123456789"]
        );
        assert_eq!(site.secrets(61_001), ["second-secret-0123456789"]);
    }

    #[test]
    fn turning_identity_off_also_ends_a_rotated_secrets_grace() {
        let mut site = input(r#"{"secret":"first-secret-0123456789"}"#)
            .apply("s", None, 0, "e".into())
            .unwrap();
        rotate(&mut site, "second-secret-0123456789".into(), 60_000, 1_000);
        let off = input(r#"{"secret":null}"#)
            .apply("s", Some(site), 2_000, "e".into())
            .unwrap();
        assert!(off.secrets(2_000).is_empty());
        assert_eq!(off.previous_secret, None);
        let mut site = input(r#"{"secret":"first-secret-0123456789"}"#)
            .apply("s", None, 0, "e".into())
            .unwrap();
        rotate(&mut site, "second-secret-0123456789".into(), 60_000, 1_000);
        let replaced = input(r#"{"secret":"third-secret-0123456789"}"#)
            .apply("s", Some(site), 2_000, "e".into())
            .unwrap();
        assert_eq!(replaced.secrets(2_000), ["third-secret-0123456789"]);
    }
}
