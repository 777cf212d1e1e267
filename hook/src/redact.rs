//! Redaction: secrets are masked in the event (Claude Code's JSON and the
//! transcript lines the hook read) before it is spooled, so they never leave
//! the machine. A secret becomes `[REDACTED:<rule>]`; the event carries how
//! many times each rule fired (`hookline.redactions`), never the secret.
//!
//! All rules are compiled once per process into one multi-pattern regex
//! (regex-automata's meta engine: one pass over each string whatever the
//! number of rules, linear time). A rule whose pattern has a group named
//! `secret` masks that group only (`password=[REDACTED:password_pair]`);
//! a rule with `min_entropy` masks only values that look random (see
//! [`looks_random`]). JSON string values under a key that names a secret
//! (`"password": "…"`) are masked whole (rule `secret_field`). Only string
//! values are read: keys, numbers and the JSON layout are left as they are.
//! docs/privacy.md lists the rules.

use std::collections::BTreeMap;

use regex_automata::Input;
use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many times each rule fired.
pub type Counts = BTreeMap<String, u32>;

/// Name of the rule that masks JSON values under a secret-named key.
pub const SECRET_FIELD: &str = "secret_field";

/// A rule as written in the config file (`[[redaction.rules]]`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RuleSpec {
    pub name: String,
    pub pattern: String,
    /// Mask only matches whose secret looks random (Shannon entropy in bits
    /// per character at least this, upper and lower case letters and digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_entropy: Option<f64>,
}

/// Word boundary on ASCII only: Unicode `\b` would make the engine slow on
/// non-ASCII text.
const B: &str = r"(?-u:\b)";

/// The built-in rules, in priority order (at one position the first wins).
pub fn builtin() -> Vec<RuleSpec> {
    let r = |name: &str, pattern: String, min_entropy: Option<f64>| RuleSpec {
        name: name.into(),
        pattern,
        min_entropy,
    };
    vec![
        r(
            "private_key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\r\n\t :,.-]*)".into(),
            None,
        ),
        r(
            "aws_access_key",
            format!("{B}(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z2-7]{{16}}{B}"),
            None,
        ),
        r(
            "aws_secret_key",
            r#"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?secret)["']?[ \t]*[:=][ \t]*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#.into(),
            None,
        ),
        r(
            "github_token",
            format!("{B}(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{22,}}){B}"),
            None,
        ),
        r(
            "slack_token",
            format!("{B}xox[abposre]-[A-Za-z0-9-]{{10,}}|https://hooks\\.slack\\.com/services/[A-Za-z0-9_/]+"),
            None,
        ),
        r(
            "stripe_key",
            format!("{B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{16,}}{B}|{B}whsec_[A-Za-z0-9]{{24,}}{B}"),
            None,
        ),
        r(
            "anthropic_key",
            format!("{B}sk-ant-[A-Za-z0-9_-]{{20,}}"),
            None,
        ),
        r(
            "openai_key",
            format!("{B}sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{{20,}}T3BlbkFJ[A-Za-z0-9_-]{{20,}}"),
            None,
        ),
        r("google_api_key", format!("{B}AIza[0-9A-Za-z_-]{{35}}{B}"), None),
        r(
            "jwt",
            format!("{B}eyJ[A-Za-z0-9_-]{{8,}}\\.eyJ[A-Za-z0-9_-]{{8,}}\\.[A-Za-z0-9_-]{{8,}}"),
            None,
        ),
        r(
            "url_credentials",
            format!("{B}[A-Za-z][A-Za-z0-9+.-]*://[^\\s:/@\"']+:(?P<secret>[^\\s@/\"']+)@"),
            None,
        ),
        r(
            "bearer_token",
            format!("(?i:{B}bearer)[ \\t]+(?P<secret>[A-Za-z0-9._~+/=-]{{16,}})"),
            None,
        ),
        r(
            "password_pair",
            format!("(?i:[A-Za-z0-9_]*(?:password|passwd|passphrase|{B}pwd))[\"']?[ \\t]*(?::=|=[ \\t]*[\"']?|:[ \\t]*[\"'])(?P<secret>[^\\s\"'`,;&)]{{3,}})"),
            None,
        ),
        r(
            "password_pair",
            r#"(?m)^[ \t]*(?:[0-9]+(?:→|\t))?[ \t]*(?i:[A-Za-z0-9_]*(?:password|passwd|passphrase))[ \t]*:[ \t]*(?P<secret>[^\s"'`,;&)]{3,})"#.into(),
            None,
        ),
        r(
            "env_high_entropy",
            r#"(?m)^[ \t]*(?:[0-9]+(?:→|\t))?[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*[=:][ \t]*["']?(?P<secret>[A-Za-z0-9+/=_-]{20,})"#.into(),
            Some(3.5),
        ),
    ]
}

/// JSON keys whose string value is a secret whatever it looks like:
/// `password`, `db_password`, `apiKey`, `client_secret`, `github_token`…
/// (not `max_tokens`, `next_token`, `password_reset_url`).
fn secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const SUFFIX: [&str; 10] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "apikey",
        "secretkey",
        "privatekey",
        "accesskey",
        "authtoken",
        "accesstoken",
    ];
    const NOT_SECRET_TOKENS: [&str; 7] = [
        "next",
        "page",
        "continuation",
        "cancellation",
        "sync",
        "max",
        "start",
    ];
    k == "pwd"
        || SUFFIX.iter().any(|s| k.ends_with(s))
        || k.strip_suffix("token")
            .is_some_and(|p| !NOT_SECRET_TOKENS.iter().any(|n| p.ends_with(n)))
}

/// The redaction settings of the config file (`[redaction]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Settings {
    /// On unless `false` (or `HOOKLINE_REDACT=off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Names of rules to switch off (built-in or `secret_field`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disable: Vec<String>,
    /// Extra rules, after the built-in ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
}

/// Built-in rules that recognise a secret by its context (a key name, a
/// URL, a header) rather than by its own format. They run in a second pass,
/// so a token of a known format inside such a context is named by its own
/// rule (`API_KEY=sk_live_…` counts as `stripe_key`).
const CONTEXT_RULES: [&str; 4] = [
    "url_credentials",
    "bearer_token",
    "password_pair",
    "env_high_entropy",
];

struct Rule {
    name: String,
    min_entropy: Option<f64>,
}

/// One multi-pattern regex and its rules (pattern i is `rules[i]`).
struct Pass {
    re: Regex,
    rules: Vec<Rule>,
}

/// The compiled rule set.
pub struct Redactor {
    passes: Vec<Pass>,
    fields: bool,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .passes
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| r.name.as_str()))
            .collect();
        f.debug_struct("Redactor")
            .field("rules", &names)
            .field("secret_field", &self.fields)
            .finish()
    }
}

impl Redactor {
    /// The built-in rules minus `disable`, plus the user's rules. A user
    /// rule that does not compile is left out and reported in the second
    /// value.
    pub fn new(settings: &Settings) -> (Redactor, Vec<String>) {
        let mut problems = Vec::new();
        let (context, mut own): (Vec<RuleSpec>, Vec<RuleSpec>) = builtin()
            .into_iter()
            .filter(|r| !settings.disable.contains(&r.name))
            .partition(|r| CONTEXT_RULES.contains(&r.name.as_str()));
        own.extend(
            settings
                .rules
                .iter()
                .filter(|r| !r.name.is_empty() && !settings.disable.contains(&r.name))
                .cloned(),
        );
        let mut passes = Vec::new();
        for mut specs in [own, context] {
            if specs.is_empty() {
                continue;
            }
            let patterns: Vec<&str> = specs.iter().map(|r| r.pattern.as_str()).collect();
            let re = match Regex::new_many(&patterns) {
                Ok(re) => re,
                Err(_) => {
                    // Only when the set does not compile (a user rule is
                    // wrong) is each rule compiled alone, to leave out and
                    // report the bad ones; the usual run compiles once.
                    specs.retain(|r| match Regex::new(&r.pattern) {
                        Ok(_) => true,
                        Err(e) => {
                            problems.push(format!(
                                "redaction rule {:?} does not compile ({e}); left out",
                                r.name
                            ));
                            false
                        }
                    });
                    let patterns: Vec<&str> = specs.iter().map(|r| r.pattern.as_str()).collect();
                    match Regex::new_many(&patterns) {
                        Ok(re) => re,
                        Err(e) => {
                            problems
                                .push(format!("redaction rules do not compile ({e}); left out"));
                            continue;
                        }
                    }
                }
            };
            passes.push(Pass {
                re,
                rules: specs
                    .into_iter()
                    .map(|s| Rule {
                        name: s.name,
                        min_entropy: s.min_entropy,
                    })
                    .collect(),
            });
        }
        let fields = !settings.disable.iter().any(|d| d == SECRET_FIELD);
        (Redactor { passes, fields }, problems)
    }

    /// `s` with its secrets masked, or `None` when nothing was found.
    pub fn redact_str(&self, s: &str, counts: &mut Counts) -> Option<String> {
        let mut out: Option<String> = None;
        for p in &self.passes {
            let cur = out.as_deref().unwrap_or(s);
            if let Some(r) = p.redact(cur, counts) {
                out = Some(r);
            }
        }
        out
    }
    /// Masks the secrets in every string value of `v`.
    pub fn redact_value(&self, v: &mut Value, counts: &mut Counts) {
        match v {
            Value::String(s) => {
                if let Some(r) = self.redact_str(s, counts) {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x, counts)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    match x {
                        Value::String(s) if self.fields && secret_value(k, s) => {
                            *s = masked(SECRET_FIELD);
                            *counts.entry(SECRET_FIELD.into()).or_default() += 1;
                        }
                        _ => self.redact_value(x, counts),
                    }
                }
            }
            _ => {}
        }
    }

    /// Masks the secrets in the string values of a JSON text, keeping every
    /// other byte as it was; `None` when nothing was found. `raw` must be
    /// valid JSON.
    pub fn redact_json(&self, raw: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut copied = 0;
        let mut i = 0;
        let mut prev = 0u8; // last significant byte outside strings
        let mut last_key: Option<String> = None;
        while i < raw.len() {
            let b = raw[i];
            if b != b'"' {
                if !b.is_ascii_whitespace() {
                    prev = b;
                }
                i += 1;
                continue;
            }
            let end = string_end(raw, i);
            let lit = &raw[i..end];
            let is_key = raw[end..]
                .iter()
                .find(|c| !c.is_ascii_whitespace())
                .is_some_and(|c| *c == b':');
            if is_key {
                last_key = decode(lit);
            } else if let Some(s) = decode(lit) {
                let key = last_key.as_deref().filter(|_| prev == b':');
                let new = match key {
                    Some(k) if self.fields && secret_value(k, &s) => {
                        *counts.entry(SECRET_FIELD.into()).or_default() += 1;
                        Some(masked(SECRET_FIELD))
                    }
                    _ => self.redact_str(&s, counts),
                };
                if let Some(n) = new.and_then(|n| serde_json::to_vec(&n).ok()) {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(raw.len()));
                    o.extend_from_slice(&raw[copied..i]);
                    o.extend_from_slice(&n);
                    copied = end;
                }
            }
            prev = b'"';
            i = end;
        }
        let mut o = out?;
        o.extend_from_slice(&raw[copied..]);
        Some(o)
    }
}

impl Pass {
    /// `s` with this pass's secrets masked, or `None` when nothing was found.
    fn redact(&self, s: &str, counts: &mut Counts) -> Option<String> {
        let re = &self.re;
        let mut caps = re.create_captures();
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut at = 0;
        while at <= s.len() {
            re.search_captures(&Input::new(s).range(at..), &mut caps);
            let Some(m) = caps.get_match() else { break };
            let (start, end) = secret_span(&caps);
            let rule = &self.rules[m.pattern().as_usize()];
            let secret = &s[start..end];
            let keep = start == end
                || s[m.start()..m.end()].contains("[REDACTED:")
                || rule.min_entropy.is_some_and(|e| {
                    // Part of a longer word (a path, a host name): not a secret.
                    let cut = s[end..].starts_with(['.', ':', '@', '\\', '/']);
                    cut || !looks_random(secret, e)
                });
            if keep {
                // Not a secret: look again from the next character, so a
                // rule that starts later inside this match still applies.
                at = next_char(s, m.start());
                continue;
            }
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[copied..start]);
            o.push_str("[REDACTED:");
            o.push_str(&rule.name);
            o.push(']');
            copied = end;
            *counts.entry(rule.name.clone()).or_default() += 1;
            at = if m.end() > m.start() {
                m.end()
            } else {
                next_char(s, m.end())
            };
        }
        let mut o = out?;
        o.push_str(&s[copied..]);
        Some(o)
    }
}

fn masked(rule: &str) -> String {
    format!("[REDACTED:{rule}]")
}

fn secret_value(key: &str, value: &str) -> bool {
    value.len() >= 3 && !value.starts_with("[REDACTED:") && secret_key(key)
}

/// The span to mask: the `secret` group when the rule has one, else the match.
fn secret_span(caps: &Captures) -> (usize, usize) {
    caps.get_group_by_name("secret")
        .or_else(|| caps.get_match().map(|m| m.span()))
        .map_or((0, 0), |s| (s.start, s.end))
}

fn next_char(s: &str, i: usize) -> usize {
    s[i..]
        .chars()
        .next()
        .map_or(s.len() + 1, |c| i + c.len_utf8())
}

/// Index just after the closing quote of the string literal opening at `i`.
fn string_end(raw: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < raw.len() {
        match raw[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    raw.len()
}

/// The text of a JSON string literal (quotes included).
fn decode(lit: &[u8]) -> Option<String> {
    if lit.len() >= 2 && !lit.contains(&b'\\') {
        return std::str::from_utf8(&lit[1..lit.len() - 1])
            .ok()
            .map(str::to_owned);
    }
    serde_json::from_slice(lit).ok()
}

/// A value that looks like a generated secret: not a path, not only hex
/// digits (hashes, UUIDs), upper and lower case letters and digits, and at
/// least `min_entropy` bits of Shannon entropy per character.
pub fn looks_random(s: &str, min_entropy: f64) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || matches!(b[0], b'/' | b'.' | b'~') {
        return false;
    }
    if b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-') {
        return false;
    }
    let has = |f: fn(&u8) -> bool| b.iter().any(f);
    if !(has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit)) {
        return false;
    }
    entropy(b) >= min_entropy
}

/// Shannon entropy in bits per byte.
pub fn entropy(b: &[u8]) -> f64 {
    let mut freq = [0u32; 256];
    for c in b {
        freq[*c as usize] += 1;
    }
    let n = b.len() as f64;
    freq.iter()
        .filter(|f| **f > 0)
        .map(|f| {
            let p = f64::from(*f) / n;
            -p * p.log2()
        })
        .sum()
}

/// Adds `b`'s counts to `a`.
pub fn add(a: &mut Counts, b: &Counts) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> Redactor {
        Redactor::new(&Settings::default()).0
    }

    #[test]
    fn the_secret_group_is_masked_and_the_key_kept() {
        let mut c = Counts::new();
        let out = on().redact_str("DB_PASSWORD=hunter2hunter2 next", &mut c);
        assert_eq!(
            out.as_deref(),
            Some("DB_PASSWORD=[REDACTED:password_pair] next")
        );
        assert_eq!(c.get("password_pair"), Some(&1));
    }

    #[test]
    fn json_text_keeps_its_layout_and_masks_values_only() {
        let raw = br#"{"a" : 1.50, "tool_input":{"command":"export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"},"password":"s3cr3t!","x":"ok"}"#;
        let mut c = Counts::new();
        let out = on().redact_json(raw, &mut c).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with(r#"{"a" : 1.50, "tool_input""#), "{text}");
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert!(
            text.contains(r#""password":"[REDACTED:secret_field]""#),
            "{text}"
        );
        assert!(serde_json::from_slice::<Value>(&out).is_ok());
        assert_eq!(c.values().sum::<u32>(), 2, "{c:?}");
    }

    #[test]
    fn disabled_rules_and_user_rules() {
        let s = Settings {
            enabled: None,
            disable: vec!["jwt".into()],
            rules: vec![
                RuleSpec {
                    name: "acme".into(),
                    pattern: "acme_[a-z0-9]{12}".into(),
                    min_entropy: None,
                },
                RuleSpec {
                    name: "broken".into(),
                    pattern: "(".into(),
                    min_entropy: None,
                },
            ],
        };
        let (r, problems) = Redactor::new(&s);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut c = Counts::new();
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let text = format!("{jwt} acme_0123456789ab");
        let out = r.redact_str(&text, &mut c);
        assert_eq!(out, Some(format!("{jwt} [REDACTED:acme]")));
    }
}
