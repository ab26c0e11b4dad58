//! Credentials never reach the index. Files that hold only credentials (private keys,
//! `.env`, Phoenix's `*.secret.exs`) are skipped and counted; in every other file,
//! values that look like credentials are masked with `*` of the same length, so spans,
//! lines and the syntax tree stay as they were.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// Whether `path` names a file that holds credentials and nothing worth searching.
pub fn is_secret_file(path: &str) -> bool {
    const EXTENSIONS: [&str; 7] = [
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".secret.exs",
    ];
    const NAMES: [&str; 6] = [
        ".env",
        ".netrc",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
    ];
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let env_variant = name.strip_prefix(".env.").is_some_and(|rest| {
        !matches!(
            rest,
            "example" | "sample" | "template" | "dist" | "defaults"
        )
    });
    NAMES.contains(&name.as_str()) || env_variant || EXTENSIONS.iter().any(|e| name.ends_with(e))
}

/// Patterns of credential values; the first capture group is what is masked. ASCII
/// classes and word boundaries (`-u`).
const PATTERN_SOURCES: [&str; 4] = [
    // The body of a PEM private key.
    r"(?-u)-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END [A-Z ]*PRIVATE KEY-----",
    // Tokens known by their prefix: Stripe, OpenAI, Anthropic, GitHub, Slack, AWS,
    // Google, GitLab.
    r"(?-u)\b(sk_live_[0-9A-Za-z]{8,}|sk_test_[0-9A-Za-z]{8,}|rk_live_[0-9A-Za-z]{8,}|sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|glpat-[A-Za-z0-9_\-]{20,})",
    // A quoted literal given to a credential's name, or to a name ending in one (or in
    // one and a key: `secret_access_key`): `password: "…"`, `"api_key" => "…"`,
    // `secret_key_base = "…"`, `secret_access_key: "…"`, `security_token: "…"` (not
    // `tokenizer:`, `token_url:` or `password_reset_path:`); not a placeholder (`"[FILTERED]"`,
    // `"<your key>"`, `"********"`, `"${TOKEN}"`, `"%{token}"`); a string built by
    // interpolation (`"#{conn.token}:#{id}"`) is code, left out in `secret_ranges`.
    r#"(?i-u)\b(?:[a-z0-9]+_)*(?:password|passwd|secret|secret_key_base|signing_salt|encryption_salt|encryption_key|api_key|apikey|access_key|access_token|auth_token|private_key|client_secret|token)(?:(?:_[a-z0-9]+)?_(?:key|base|value))?["']?\s*(?::|=>|=)\s*["']([^"'\s\[<*$%][^"'\s]{7,})["']"#,
    // An environment-style assignment: `STRIPE_SECRET_KEY=…`, `export API_TOKEN=…`.
    r#"(?m-u)^[ \t]*(?:export[ \t]+)?[A-Z0-9_]*(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD)[A-Z0-9_]*[ \t]*[=:][ \t]*["']?([^\s"'#\[<*$%][^\s"'#]{7,})"#,
];

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    (PATTERN_SOURCES.iter())
        .map(|p| Regex::new(p).expect("secret patterns compile"))
        .collect()
});

/// Literals a file must hold for the pattern of the same place to match in it (`None`:
/// the pattern starts with a literal of its own, which the regex engine looks for first).
/// The two patterns that start with a name have none: a scan of a file for these words
/// costs a fraction of the pattern's, and few files hold them.
const GATE_SOURCES: [Option<&str>; 4] = [
    None,
    None,
    // Each name the third pattern accepts holds one of these.
    Some(r"(?i-u)passw|secret|salt|api_?key|access_key|token|private_key"),
    // Each name the fourth accepts, in capitals, holds one of these.
    Some(r"(?-u)KEY|SECRET|TOKEN|PASSW"),
];

static GATES: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    (GATE_SOURCES.iter())
        .map(|g| g.map(|g| Regex::new(g).expect("secret gates compile")))
        .collect()
});

/// The byte ranges of `bytes` that look like credential values.
pub fn secret_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for (pattern, gate) in PATTERNS.iter().zip(GATES.iter()) {
        if gate.as_ref().is_some_and(|g| !g.is_match(bytes)) {
            continue;
        }
        for caps in pattern.captures_iter(bytes) {
            // A string built by interpolation (`"#{team.token}:#{id}"`) is code.
            if let Some(m) = caps.get(1)
                && memchr::memmem::find(m.as_bytes(), b"#{").is_none()
            {
                out.push(m.range());
            }
        }
    }
    out
}

/// `bytes` with every credential value masked (`None` when there is none): each byte
/// becomes `*`, line breaks stay.
pub fn mask(bytes: &[u8]) -> Option<Vec<u8>> {
    let ranges = secret_ranges(bytes);
    if ranges.is_empty() {
        return None;
    }
    let mut out = bytes.to_vec();
    for r in ranges {
        for b in &mut out[r] {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_files_are_recognised_by_name() {
        for secret in [
            ".env",
            "apps/web/.env.production",
            "priv/cert/selfsigned_key.pem",
            "config/prod.secret.exs",
            "deploy/server.key",
            "home/.ssh/id_ed25519",
        ] {
            assert!(is_secret_file(secret), "{secret}");
        }
        for plain in [
            ".env.example",
            "lib/env.ex",
            "config/prod.exs",
            "lib/my_app/key.ex",
            "README.md",
            "lib/keystore_test.exs",
        ] {
            assert!(!is_secret_file(plain), "{plain}");
        }
    }

    #[test]
    fn credential_values_are_masked_and_code_is_not() {
        let src = concat!(
            "config :stripity_stripe, api_key: \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n",
            "config :my_app, MyApp.Repo, password: \"hunter2prod\", pool_size: 10\n",
            "config :my_app, MyAppWeb.Endpoint, secret_key_base: System.get_env(\"SKB\")\n",
            "STRIPE_SECRET_KEY=whsec_abcdefgh12345\n",
            "key = \"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----\"\n",
            "def token(conn), do: conn.assigns.token\n",
            "api_key = Keyword.fetch!(opts, :api_key)\n",
            "assert filter_values(%{\"password\" => \"secret\"}) == %{\"password\" => \"[FILTERED]\"}\n",
            "config :app, token: \"<your token here>\", api_key: \"${API_KEY}\"\n",
            "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}\n",
            "token = \"#{team.session_token}:#{agent_name}:#{nonce}\"\n",
            "password: \"user-#{id}-password\"\n",
            "def a, do: [password: \"#Sup3rS3cret!\", api_key: \"x9{Qz}4kLpW2\"]\n",
            "config :ex_aws, secret_access_key: \"wJalrXUtnFEMI/K7MDENG\",\n",
            "  aws_secret_key: \"Qm9vdGggc2VjcmV0\", security_token: \"FwoGZXIvYXdzEJr\"\n",
            "config :search, tokenizer: \"whitespace\", token_count: 100\n",
            "config :ueberauth, token_url: \"https://github.com/login/oauth/access_token\"\n",
            "  password_reset_path: \"/users/reset_password\"\n",
            "config :app, Endpoint, signing_salt: \"Xq3vLm9pT2\"\n",
            "export DB_PASSWD=\"k8sPr0dPw\"\n",
            "config :cadet, encryption_key: \"b4u7g0AyN3Tu2br9WSdZ\"\n",
        );
        let masked = String::from_utf8(mask(src.as_bytes()).expect("secrets found")).unwrap();
        assert_eq!(masked.len(), src.len());
        assert_eq!(masked.lines().count(), src.lines().count());
        for secret in [
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "hunter2prod",
            "whsec_abcdefgh12345",
            "MIIEvQIBADANBgkqhkiG9w0BAQEF",
            // A leading `#` or braces are a password's characters, not an interpolation.
            "#Sup3rS3cret!",
            "x9{Qz}4kLpW2",
            // A credential's word among others in its name.
            "wJalrXUtnFEMI/K7MDENG",
            "Qm9vdGggc2VjcmV0",
            "FwoGZXIvYXdzEJr",
            "Xq3vLm9pT2",
            "k8sPr0dPw",
            "b4u7g0AyN3Tu2br9WSdZ",
        ] {
            assert!(!masked.contains(secret), "{secret} left in:\n{masked}");
        }
        for code in [
            "System.get_env(\"SKB\")",
            "def token(conn), do: conn.assigns.token",
            "api_key = Keyword.fetch!(opts, :api_key)",
            "pool_size: 10",
            // A credential's word inside another word is not one.
            "tokenizer: \"whitespace\"",
            "token_url: \"https://github.com/login/oauth/access_token\"",
            "password_reset_path: \"/users/reset_password\"",
            "-----BEGIN PRIVATE KEY-----",
            // Placeholders are not credentials.
            "\"password\" => \"[FILTERED]\"",
            "token: \"<your token here>\"",
            "api_key: \"${API_KEY}\"",
            "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}",
            // Interpolations are code.
            "token = \"#{team.session_token}:#{agent_name}:#{nonce}\"",
            "password: \"user-#{id}-password\"",
        ] {
            assert!(masked.contains(code), "{code} changed:\n{masked}");
        }
        assert_eq!(mask(b"defmodule A do\n  def f, do: :ok\nend\n"), None);
    }
}
