//! Keeping credentials out of prompts.
//!
//! Indexed code sometimes holds a credential: a `.env` committed by mistake, a key pasted
//! into a test. A prompt leaves the machine, so before any text goes into one, every value
//! of a credential-looking environment variable (a name ending in `_KEY`, `_TOKEN`,
//! `_SECRET` or `_PASSWORD`, a `*_FILE` variant's target excluded, plus the providers'
//! well-known variables) is replaced by `[redacted]` wherever it appears. Values shorter
//! than [`MIN_SECRET_LEN`] characters are left alone: they are not credentials, and
//! redacting them (`1`, `true`) would mangle ordinary code.

use crate::llm::secret::REDACTED;

/// The shortest value treated as a credential.
pub const MIN_SECRET_LEN: usize = 6;

/// Name suffixes of credential variables.
const SUFFIXES: [&str; 4] = ["_KEY", "_TOKEN", "_SECRET", "_PASSWORD"];

/// Credential variables whose names do not end in one of [`SUFFIXES`].
const KNOWN: [&str; 8] = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AZURE_OPENAI_API_KEY",
    "DATABASE_URL",
    "NATS_CREDS",
];

/// Whether a variable of this name holds a credential.
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SUFFIXES.iter().any(|s| upper.ends_with(s)) || KNOWN.contains(&upper.as_str())
}

/// The credential values to redact.
#[derive(Clone, Default)]
pub struct SecretFilter {
    /// Longest first, so a value containing another is redacted whole.
    values: Vec<String>,
}

impl std::fmt::Debug for SecretFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretFilter({} values)", self.values.len())
    }
}

impl SecretFilter {
    /// The credential values of the process environment.
    pub fn from_env() -> SecretFilter {
        SecretFilter::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// The credential values among `vars` (name, value).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> SecretFilter {
        let mut values: Vec<String> = vars
            .into_iter()
            .filter(|(k, _)| is_secret_var(k))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| v.chars().count() >= MIN_SECRET_LEN)
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        SecretFilter { values }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every credential value replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        // A value overlapping the marker itself could reappear; such a value is never
        // left in the text, whatever it costs the surrounding words.
        for v in &self.values {
            while out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_values_are_redacted_and_short_ones_kept() {
        let f = SecretFilter::from_vars([
            ("OPENAI_API_KEY".into(), "sk-abcdef123456".into()),
            ("DB_PASSWORD".into(), "hunter22".into()),
            ("FEATURE_TOKEN".into(), "1".into()),
            ("HOME".into(), "/home/someone".into()),
        ]);
        let out = f.redact("key = \"sk-abcdef123456\"; pw = hunter22; home = /home/someone; n = 1");
        assert_eq!(
            out,
            "key = \"[redacted]\"; pw = [redacted]; home = /home/someone; n = 1"
        );
    }

    #[test]
    fn names_are_matched_by_suffix_and_known_list() {
        assert!(is_secret_var("GITHUB_TOKEN"));
        assert!(is_secret_var("stripe_secret"));
        assert!(is_secret_var("AWS_SECRET_ACCESS_KEY"));
        assert!(!is_secret_var("KEYBOARD"));
        assert!(!is_secret_var("PATH"));
    }
}
