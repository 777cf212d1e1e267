//! Redaction: secrets are masked in the event (Claude Code's JSON and the
//! transcript lines the hook read) before it is spooled, so they never leave
//! the machine. A secret becomes `[REDACTED:<rule>]`; the event carries how
//! many times each rule fired (`hookline.redactions`), never the secret.
//!
//! A text is first searched for the literals the built-in rules need
//! (`AKIA`, `eyJ`, `password`…, case ignored); only the rules that can
//! match are compiled (regex-automata's meta engine, linear time), at
//! most once per process and only when first needed: most events hold no
//! secret, and compiling every rule costs more than a whole hook run's
//! other work (about 1.4 ms; docs/performance.md). At one position the
//! rule listed first wins, as in one alternation. A rule whose pattern has a group named
//! `secret` masks that group only (`password=[REDACTED:password_pair]`);
//! a rule with `min_entropy` masks only values that look random (see
//! [`looks_random`]). JSON string values under a key that names a secret
//! (`"password": "…"`) are masked whole (rule `secret_field`). Only string
//! values are read: keys, numbers and the JSON layout are left as they are.
//! docs/privacy.md lists the rules.

use std::collections::BTreeMap;
use std::sync::OnceLock;

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

/// The built-in rules, in priority order (at one position the first wins),
/// each with its gate (what a text must hold for the rule to match in it).
fn builtin() -> Vec<(RuleSpec, Gate)> {
    let r = |name: &str, pattern: String, min_entropy: Option<f64>, gate: Gate| {
        let spec = RuleSpec {
            name: name.into(),
            pattern,
            min_entropy,
        };
        (spec, gate)
    };
    vec![
        r(
            "private_key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\r\n\t :,.-]*)".into(),
            None,
            Gate::Any(&["-----begin"]),
        ),
        r(
            "aws_access_key",
            format!("{B}(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z2-7]{{16}}{B}"),
            None,
            Gate::Any(&["akia", "asia", "abia", "acca", "aida", "aroa"]),
        ),
        r(
            "aws_secret_key",
            r#"(?i-u:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?secret)["']?[ \t]*[:=][ \t]*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#.into(),
            None,
            Gate::Any(&["secret"]),
        ),
        r(
            "github_token",
            format!("{B}(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{22,}}){B}"),
            None,
            Gate::Any(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        ),
        r(
            "slack_token",
            format!("{B}xox[abposre]-[A-Za-z0-9-]{{10,}}|https://hooks\\.slack\\.com/services/[A-Za-z0-9_/]+"),
            None,
            Gate::Any(&["xox", "hooks.slack.com"]),
        ),
        r(
            "stripe_key",
            format!("{B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{16,}}{B}|{B}whsec_[A-Za-z0-9]{{24,}}{B}"),
            None,
            Gate::Any(&["_live_", "_test_", "whsec_"]),
        ),
        r(
            "anthropic_key",
            format!("{B}sk-ant-[A-Za-z0-9_-]{{20,}}"),
            None,
            Gate::Any(&["sk-ant-"]),
        ),
        r(
            "openai_key",
            format!("{B}sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{{20,}}T3BlbkFJ[A-Za-z0-9_-]{{20,}}"),
            None,
            Gate::Any(&["t3blbkfj"]),
        ),
        r("google_api_key", format!("{B}AIza[0-9A-Za-z_-]{{35}}{B}"), None, Gate::Any(&["aiza"])),
        r(
            "jwt",
            format!("{B}eyJ[A-Za-z0-9_-]{{8,}}\\.eyJ[A-Za-z0-9_-]{{8,}}\\.[A-Za-z0-9_-]{{8,}}"),
            None,
            Gate::Any(&["eyj"]),
        ),
        r(
            "url_credentials",
            format!("{B}[A-Za-z][A-Za-z0-9+.-]*://[^\\s:/@\"']+:(?P<secret>[^\\s@/\"']+)@"),
            None,
            Gate::Any(&["://"]),
        ),
        r(
            "bearer_token",
            format!("(?i-u:{B}bearer)[ \\t]+(?P<secret>[A-Za-z0-9._~+/=-]{{16,}})"),
            None,
            Gate::Any(&["bearer"]),
        ),
        r(
            "password_pair",
            format!("(?i-u:[A-Za-z0-9_]*(?:password|passwd|passphrase|{B}pwd))[\"']?[ \\t]*(?::=|=[ \\t]*[\"']?|:[ \\t]*[\"'])(?P<secret>[^\\s\"'`,;&)]{{3,}})"),
            None,
            Gate::Any(&["password", "passwd", "passphrase", "pwd"]),
        ),
        r(
            "password_pair",
            r#"(?m)^[ \t]*(?:[0-9]+(?:→|\t))?[ \t]*(?i-u:[A-Za-z0-9_]*(?:password|passwd|passphrase))[ \t]*:[ \t]*(?P<secret>[^\s"'`,;&)]{3,})"#.into(),
            None,
            Gate::Any(&["password", "passwd", "passphrase"]),
        ),
        r(
            "env_high_entropy",
            r#"(?m)^[ \t]*(?:[0-9]+(?:→|\t))?[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*[=:][ \t]*["']?(?P<secret>[A-Za-z0-9+/=_-]{20,})"#.into(),
            Some(3.5),
            Gate::EnvValue,
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

/// What a text must hold for a built-in rule to match in it: tested before
/// the rule's regex is compiled or run, so a rule costs nothing on a text
/// that cannot hold its secret. Each is a necessary condition of the rule's
/// pattern (the equivalence test below checks it against the plain search).
#[derive(Debug, Clone, Copy)]
enum Gate {
    /// One of these literals, ASCII case ignored (written in lowercase,
    /// found in the lowercased text).
    Any(&'static [&'static str]),
    /// env_high_entropy's shape: `=` or `:`, blanks, an optional quote, then
    /// 20 characters of a key.
    EnvValue,
    /// No cheap test: the rule always runs (the user's rules).
    Always,
}

impl Gate {
    /// Whether a rule behind this gate can match in `s` (`lower`: `s` in
    /// ASCII lowercase).
    fn admits(self, s: &str, lower: &[u8]) -> bool {
        match self {
            Gate::Any(words) => words
                .iter()
                .any(|w| memchr::memmem::find(lower, w.as_bytes()).is_some()),
            Gate::EnvValue => env_value(s),
            Gate::Always => true,
        }
    }
}

/// Whether `s` has env_high_entropy's shape somewhere (see [`Gate::EnvValue`]).
fn env_value(s: &str) -> bool {
    let b = s.as_bytes();
    let key = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-');
    memchr::memchr2_iter(b'=', b':', b).any(|i| {
        let mut j = i + 1;
        while b.get(j).is_some_and(|c| matches!(c, b' ' | b'\t')) {
            j += 1;
        }
        if b.get(j).is_some_and(|c| matches!(c, b'"' | b'\'')) {
            j += 1;
        }
        b.get(j..)
            .is_some_and(|rest| rest.iter().take(20).take_while(|c| key(c)).count() == 20)
    })
}

struct Rule {
    name: String,
    min_entropy: Option<f64>,
    pattern: String,
    gate: Gate,
    /// Compiled on first use (`None`: it does not compile).
    re: OnceLock<Option<Regex>>,
}

impl Rule {
    fn new(spec: RuleSpec, gate: Gate) -> Rule {
        Rule {
            name: spec.name,
            min_entropy: spec.min_entropy,
            pattern: spec.pattern,
            gate,
            re: OnceLock::new(),
        }
    }

    fn regex(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }

    /// The leftmost match at or after `at` (the text before `at` still
    /// counts for `^` and `\b`).
    fn find(&self, s: &str, at: usize) -> Option<Found> {
        let re = self.regex()?;
        let mut caps = re.create_captures();
        re.search_captures(&Input::new(s).range(at..), &mut caps);
        let m = caps.get_match()?;
        Some(Found {
            start: m.start(),
            end: m.end(),
            secret: secret_span(&caps),
        })
    }
}

/// A match: its span and the span to mask.
#[derive(Debug, Clone, Copy)]
struct Found {
    start: usize,
    end: usize,
    secret: (usize, usize),
}

/// What is known of a rule's next match while a text is scanned.
#[derive(Debug, Clone, Copy)]
enum Next {
    Unknown,
    At(Found),
    None,
}

/// The rules of one pass, in priority order.
struct Pass {
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
    /// value. User rules are compiled here (to report them); built-in ones
    /// when a text first needs them.
    pub fn new(settings: &Settings) -> (Redactor, Vec<String>) {
        let mut problems = Vec::new();
        let (context, mut own): (Vec<Rule>, Vec<Rule>) = builtin()
            .into_iter()
            .filter(|(r, _)| !settings.disable.contains(&r.name))
            .map(|(r, gate)| Rule::new(r, gate))
            .partition(|r| CONTEXT_RULES.contains(&r.name.as_str()));
        for spec in &settings.rules {
            if spec.name.is_empty() || settings.disable.contains(&spec.name) {
                continue;
            }
            let rule = Rule::new(spec.clone(), Gate::Always);
            match Regex::new(&rule.pattern) {
                Ok(re) => {
                    let _ = rule.re.set(Some(re));
                    own.push(rule);
                }
                Err(e) => problems.push(format!(
                    "redaction rule {:?} does not compile ({e}); left out",
                    spec.name
                )),
            }
        }
        let passes = [own, context]
            .into_iter()
            .filter(|rules| !rules.is_empty())
            .map(|rules| Pass { rules })
            .collect();
        let fields = !settings.disable.iter().any(|d| d == SECRET_FIELD);
        (Redactor { passes, fields }, problems)
    }

    /// `s` with its secrets masked, or `None` when nothing was found.
    pub fn redact_str(&self, s: &str, counts: &mut Counts) -> Option<String> {
        let mut out: Option<String> = None;
        // The gates look in the lowercased text: made once, again only
        // when a pass changed the text.
        let mut lower: Option<Vec<u8>> = None;
        for p in &self.passes {
            let cur = out.as_deref().unwrap_or(s);
            let low = lower.get_or_insert_with(|| cur.as_bytes().to_ascii_lowercase());
            if let Some(r) = p.redact(cur, low, counts) {
                out = Some(r);
                lower = None;
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
    /// `lower`: `s` in ASCII lowercase, for the gates.
    fn redact(&self, s: &str, lower: &[u8], counts: &mut Counts) -> Option<String> {
        // Each admitted rule's next match, searched again only once the
        // scan has passed its start: the leftmost wins, the first rule on a
        // tie.
        let mut next: Vec<Next> = self
            .rules
            .iter()
            .map(|r| {
                if r.gate.admits(s, lower) {
                    Next::Unknown
                } else {
                    Next::None
                }
            })
            .collect();
        if next.iter().all(|n| matches!(n, Next::None)) {
            return None;
        }
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut at = 0;
        while at <= s.len() {
            let mut best: Option<(usize, Found)> = None;
            for (i, n) in next.iter_mut().enumerate() {
                if let Next::At(f) = n
                    && f.start < at
                {
                    *n = Next::Unknown;
                }
                if let Next::Unknown = n {
                    *n = self.rules[i].find(s, at).map_or(Next::None, Next::At);
                }
                if let Next::At(f) = n
                    && best.is_none_or(|(_, b)| f.start < b.start)
                {
                    best = Some((i, *f));
                }
            }
            let Some((i, m)) = best else { break };
            let rule = &self.rules[i];
            let (start, end) = m.secret;
            let secret = &s[start..end];
            let keep = start == end
                || s[m.start..m.end].contains("[REDACTED:")
                || rule.min_entropy.is_some_and(|e| {
                    // Part of a longer word (a path, a host name): not a secret.
                    let cut = s[end..].starts_with(['.', ':', '@', '\\', '/']);
                    cut || !looks_random(secret, e)
                });
            if keep {
                // Not a secret: look again from the next character, so a
                // rule that starts later inside this match still applies.
                at = next_char(s, m.start);
                continue;
            }
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[copied..start]);
            o.push_str("[REDACTED:");
            o.push_str(&rule.name);
            o.push(']');
            copied = end;
            *counts.entry(rule.name.clone()).or_default() += 1;
            at = if m.end > m.start {
                m.end
            } else {
                next_char(s, m.end)
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

    /// The texts the equivalence test runs on: the corpus (secrets and
    /// look-alikes), every string of the recorded events and transcript,
    /// and pseudo-random mixes of their pieces, so matches of different
    /// rules overlap, touch and nest.
    fn texts() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        let mut out = Vec::new();
        for f in ["secrets.tsv", "lookalikes.tsv"] {
            let text = std::fs::read_to_string(root.join("redaction").join(f)).unwrap_or_default();
            for l in text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                out.push(
                    l.split_once('\t')
                        .map_or(l, |(_, t)| t)
                        .replace("\\n", "\n"),
                );
            }
        }
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        for dir in ["events", "transcripts"] {
            for entry in std::fs::read_dir(root.join(dir))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for l in text.lines() {
                    if let Ok(v) = serde_json::from_str::<Value>(l) {
                        strings(&v, &mut out);
                    }
                }
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    strings(&v, &mut out);
                }
            }
        }
        assert!(out.len() > 100, "fixtures not found: {} texts", out.len());
        let pieces: Vec<String> = out
            .iter()
            .cloned()
            .chain(
                [
                    " ",
                    "\n",
                    "=",
                    ": ",
                    "\"",
                    "'",
                    "export ",
                    "password=",
                    "://u:",
                    "@",
                    "Bearer ",
                    "é→",
                ]
                .map(String::from),
            )
            .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rand = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap_or(0)
        };
        for _ in 0..3000 {
            let mut t = String::new();
            for _ in 0..1 + rand(6) {
                let p = &pieces[rand(pieces.len())];
                // A random char-aligned slice of the piece.
                let cuts: Vec<usize> = p.char_indices().map(|(i, _)| i).chain([p.len()]).collect();
                let a = cuts[rand(cuts.len())];
                let b = cuts[rand(cuts.len())];
                t.push_str(&p[a.min(b)..a.max(b)]);
                if rand(3) == 0 {
                    t.push_str(p);
                }
            }
            out.push(t);
        }
        out
    }

    /// The plain algorithm the gates and the per-rule merge must equal: all
    /// rules of a pass in one multi-pattern regex, run on every text.
    fn reference_passes(
        settings: &Settings,
    ) -> Result<Vec<(Regex, Vec<RuleSpec>)>, Box<regex_automata::meta::BuildError>> {
        let (context, mut own): (Vec<RuleSpec>, Vec<RuleSpec>) = builtin()
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| !settings.disable.contains(&r.name))
            .partition(|r| CONTEXT_RULES.contains(&r.name.as_str()));
        own.extend(settings.rules.iter().cloned());
        [own, context]
            .into_iter()
            .map(|specs| {
                let pats: Vec<&str> = specs.iter().map(|r| r.pattern.as_str()).collect();
                Ok((Regex::new_many(&pats).map_err(Box::new)?, specs))
            })
            .collect()
    }

    fn reference(
        passes: &[(Regex, Vec<RuleSpec>)],
        s: &str,
        counts: &mut Counts,
    ) -> Option<String> {
        let mut cur: Option<String> = None;
        for (re, specs) in passes {
            let text = cur.clone().unwrap_or_else(|| s.to_owned());
            let s = text.as_str();
            let mut caps = re.create_captures();
            let mut out: Option<String> = None;
            let (mut copied, mut at) = (0, 0);
            while at <= s.len() {
                re.search_captures(&Input::new(s).range(at..), &mut caps);
                let Some(m) = caps.get_match() else { break };
                let (start, end) = secret_span(&caps);
                let rule = &specs[m.pattern().as_usize()];
                let keep = start == end
                    || s[m.start()..m.end()].contains("[REDACTED:")
                    || rule.min_entropy.is_some_and(|e| {
                        s[end..].starts_with(['.', ':', '@', '\\', '/'])
                            || !looks_random(&s[start..end], e)
                    });
                if keep {
                    at = next_char(s, m.start());
                    continue;
                }
                let o = out.get_or_insert_with(String::new);
                o.push_str(&s[copied..start]);
                o.push_str(&masked(&rule.name));
                copied = end;
                *counts.entry(rule.name.clone()).or_default() += 1;
                at = if m.end() > m.start() {
                    m.end()
                } else {
                    next_char(s, m.end())
                };
            }
            if let Some(mut o) = out {
                o.push_str(&s[copied..]);
                cur = Some(o);
            }
        }
        cur
    }

    #[test]
    fn gated_per_rule_search_equals_one_regex_over_every_rule()
    -> Result<(), Box<regex_automata::meta::BuildError>> {
        let settings = Settings {
            rules: vec![RuleSpec {
                name: "acme".into(),
                pattern: "acme_[a-z0-9]{8}".into(),
                min_entropy: None,
            }],
            ..Settings::default()
        };
        let r = Redactor::new(&settings).0;
        let passes = reference_passes(&settings)?;
        let (mut masked_texts, mut total) = (0, 0);
        for t in texts() {
            let (mut a, mut b) = (Counts::new(), Counts::new());
            let got = r.redact_str(&t, &mut a);
            let want = reference(&passes, &t, &mut b);
            assert_eq!(got, want, "text: {t:?}");
            assert_eq!(a, b, "text: {t:?}");
            masked_texts += usize::from(want.is_some());
            total += 1;
        }
        // The comparison means something only if many texts were masked.
        assert!(masked_texts > 200, "{masked_texts} of {total} texts masked");
        Ok(())
    }

    #[test]
    fn rules_compile_only_when_their_literal_is_there() {
        let r = on();
        let mut c = Counts::new();
        assert_eq!(
            r.redact_str("Please fix the failing test in src/lib.rs", &mut c),
            None
        );
        let compiled = |r: &Redactor| -> Vec<String> {
            r.passes
                .iter()
                .flat_map(|p| &p.rules)
                .filter(|x| x.re.get().is_some())
                .map(|x| x.name.clone())
                .collect()
        };
        assert!(compiled(&r).is_empty(), "{:?}", compiled(&r));
        let out = r.redact_str(
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            &mut c,
        );
        assert!(out.is_some_and(|o| o.contains("[REDACTED:jwt]")));
        assert_eq!(compiled(&r), ["jwt"]);
    }

    #[test]
    fn every_builtin_rule_compiles() {
        for (r, gate) in builtin() {
            assert!(Regex::new(&r.pattern).is_ok(), "{}", r.name);
            // The gates search the lowercased text.
            if let Gate::Any(words) = gate {
                for w in words {
                    assert_eq!(*w, w.to_ascii_lowercase(), "{}: gate {w:?}", r.name);
                }
            }
        }
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
