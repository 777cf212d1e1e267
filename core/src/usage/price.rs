//! Prices: integer pico-dollars (1e-12 USD) per token, exact for every
//! published price, read from LiteLLM's `model_prices_and_context_window`
//! JSON (the pinned `core/prices/anthropic.json`, or a newer file given to
//! `hookline prices import`) and from a deployment's override file.
//!
//! Which price a message pays: the overrides' price of its model valid at
//! the message's time, else the stored (imported) one, else the pinned one;
//! of several, the one with the latest `valid_from` not after the message.
//! A price is valid from a whole UTC hour, the unit of the rollup
//! (`usage_hourly`), so the rollup prices exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;

/// Pico-dollars, 1e-12 USD.
pub type Pico = i128;

/// Pico-dollars per US dollar.
pub const PICO_PER_USD: i128 = 1_000_000_000_000;

/// The long-context thresholds the rollup keeps apart (`context_band`): a
/// message whose input (input + cache write + cache read) exceeds one of
/// them is in its band. A price's tier must start at one of them.
pub const CONTEXT_BANDS: [i64; 2] = [100_000, 200_000];

/// The band of a message with this much input (incl. cache).
pub fn context_band(input_incl_cache: i64) -> i64 {
    CONTEXT_BANDS
        .iter()
        .rev()
        .copied()
        .find(|b| input_incl_cache > *b)
        .unwrap_or(0)
}

/// The pinned table (scripts/prices-update).
pub const PINNED_JSON: &str = include_str!("../../prices/anthropic.json");

/// A price table that cannot be read, with the model and field at fault.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("price file is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("price override file is not TOML: {0}")]
    Toml(String),
    #[error("{model}: field {field}: {message}")]
    Field {
        model: String,
        field: String,
        message: String,
    },
    #[error("price file has no Anthropic models (no entry with litellm_provider \"anthropic\")")]
    Empty,
}

fn field_err(model: &str, field: &str, message: impl Into<String>) -> PriceError {
    PriceError::Field {
        model: model.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Per-token rates of one tier, pico-dollars per token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub input: i64,
    pub output: i64,
    pub cache_write_5m: i64,
    pub cache_write_1h: i64,
    pub cache_read: i64,
}

/// The long-context tier of a price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Tier {
    /// Applies to a message whose input (incl. cache) exceeds this.
    pub threshold: i64,
    pub rates: Rates,
}

impl Tier {
    /// A tier from a `prices` row's columns (both stores): no threshold, no
    /// tier; a rate the row leaves NULL is the base rate. `rates` in the
    /// order input, output, cache write 5m, cache write 1h, cache read.
    pub fn from_columns(
        threshold: Option<i64>,
        base: Rates,
        rates: [Option<i64>; 5],
    ) -> Option<Tier> {
        let [input, output, cw5, cw1, read] = rates;
        threshold.map(|threshold| Tier {
            threshold,
            rates: Rates {
                input: input.unwrap_or(base.input),
                output: output.unwrap_or(base.output),
                cache_write_5m: cw5.unwrap_or(base.cache_write_5m),
                cache_write_1h: cw1.unwrap_or(base.cache_write_1h),
                cache_read: read.unwrap_or(base.cache_read),
            },
        })
    }
}

/// The price of one model from one time on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Price {
    pub model: String,
    pub valid_from: DateTime<Utc>,
    /// Where it came from (the pinned table's source, an imported file, the
    /// override file).
    pub source: String,
    pub rates: Rates,
    pub tier: Option<Tier>,
}

impl Price {
    /// The rates a message of this context band pays.
    pub fn rates_for(&self, band: i64) -> &Rates {
        match &self.tier {
            Some(t) if band >= t.threshold => &t.rates,
            _ => &self.rates,
        }
    }
}

/// `s`, a non-negative decimal (`"3.75"`, `"0.000003"`, `"3.75e-06"`), times
/// 10^`scale`, exactly; an error if it has more precision than that.
pub fn parse_scaled(s: &str, scale: u32) -> Result<i64, String> {
    let s = s.trim();
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (
            &s[..i],
            s[i + 1..]
                .parse::<i32>()
                .map_err(|_| format!("{s:?} is not a number"))?,
        ),
        None => (s, 0),
    };
    if mantissa.starts_with('-') {
        return Err(format!("{s} is negative"));
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{s:?} is not a number"));
    }
    let digits: String = format!("{int}{frac}");
    // value = digits * 10^(exp - frac.len()); scaled by 10^scale.
    let shift = exp + scale as i32 - frac.len() as i32;
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(b - b'0')))
            .ok_or_else(|| format!("{s} is too large"))?;
    }
    if shift >= 0 {
        for _ in 0..shift {
            v = v
                .checked_mul(10)
                .ok_or_else(|| format!("{s} is too large"))?;
        }
    } else {
        for _ in 0..(-shift) {
            if v % 10 != 0 {
                return Err(format!(
                    "{s} has more precision than hookline keeps (1e-{scale})"
                ));
            }
            v /= 10;
        }
    }
    i64::try_from(v).map_err(|_| format!("{s} is too large"))
}

/// A JSON number or numeric string as pico-dollars per token (LiteLLM's
/// USD-per-token figures).
fn per_token(model: &str, field: &str, v: &Value) -> Result<i64, PriceError> {
    let text = match v {
        // The shortest text that reads back as the same f64: the figure as
        // it was written in the file (3.75e-06 -> "0.00000375").
        Value::Number(n) => match n.as_f64() {
            Some(f) => format!("{f}"),
            None => n.to_string(),
        },
        Value::String(s) => s.clone(),
        _ => return Err(field_err(model, field, "not a number")),
    };
    parse_scaled(&text, 12).map_err(|m| field_err(model, field, m))
}

/// One LiteLLM entry as a price valid from `valid_from`.
pub fn price_of_litellm(
    model: &str,
    entry: &Value,
    valid_from: DateTime<Utc>,
    source: &str,
) -> Result<Price, PriceError> {
    let get = |f: &str| entry.get(f).filter(|v| !v.is_null());
    let need = |f: &str| {
        get(f)
            .ok_or_else(|| field_err(model, f, "missing"))
            .and_then(|v| per_token(model, f, v))
    };
    let rates = Rates {
        input: need("input_cost_per_token")?,
        output: need("output_cost_per_token")?,
        cache_write_5m: need("cache_creation_input_token_cost")?,
        cache_write_1h: need("cache_creation_input_token_cost_above_1hr")?,
        cache_read: need("cache_read_input_token_cost")?,
    };
    // Long-context tier: `input_cost_per_token_above_<N>k_tokens` and its
    // siblings (a sibling absent keeps the base rate).
    let mut tier = None;
    if let Some(obj) = entry.as_object() {
        for key in obj.keys() {
            let Some(n) = key
                .strip_prefix("input_cost_per_token_above_")
                .and_then(|r| r.strip_suffix("k_tokens"))
            else {
                continue;
            };
            let threshold = n
                .parse::<i64>()
                .map_err(|_| field_err(model, key, "threshold is not a number"))?
                * 1000;
            if !CONTEXT_BANDS.contains(&threshold) {
                return Err(field_err(
                    model,
                    key,
                    format!(
                        "long-context threshold {threshold} is not one the rollup keeps ({CONTEXT_BANDS:?})"
                    ),
                ));
            }
            let or = |f: String, base: i64| match get(&f) {
                Some(v) => per_token(model, &f, v),
                None => Ok(base),
            };
            let rates = Rates {
                input: or(key.clone(), rates.input)?,
                output: or(
                    format!("output_cost_per_token_above_{n}k_tokens"),
                    rates.output,
                )?,
                cache_write_5m: or(
                    format!("cache_creation_input_token_cost_above_{n}k_tokens"),
                    rates.cache_write_5m,
                )?,
                cache_write_1h: or(
                    format!("cache_creation_input_token_cost_above_1hr_above_{n}k_tokens"),
                    rates.cache_write_1h,
                )?,
                cache_read: or(
                    format!("cache_read_input_token_cost_above_{n}k_tokens"),
                    rates.cache_read,
                )?,
            };
            // Of several tiers, the lowest threshold (one per price).
            if tier.as_ref().is_none_or(|t: &Tier| threshold < t.threshold) {
                tier = Some(Tier { threshold, rates });
            }
        }
    }
    Ok(Price {
        model: model.to_owned(),
        valid_from,
        source: source.to_owned(),
        rates,
        tier,
    })
}

/// A price file: the pinned table's shape (`{"source", "date", "models":
/// {...}}`) or LiteLLM's whole file (model → entry; only the entries with
/// `litellm_provider` "anthropic" are read). Returns the prices and the
/// file's own source text when it has one.
pub fn parse_price_file(
    json: &str,
    valid_from: DateTime<Utc>,
    source: &str,
) -> Result<(Vec<Price>, Option<String>), PriceError> {
    let v: Value = serde_json::from_str(json)?;
    let (models, own_source) = match v.get("models").and_then(Value::as_object) {
        Some(m) => (
            m.iter().collect::<Vec<_>>(),
            v.get("source").and_then(Value::as_str).map(|s| {
                match v.get("date").and_then(Value::as_str) {
                    Some(d) => format!("{s}; {d}"),
                    None => s.to_owned(),
                }
            }),
        ),
        None => (
            v.as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(_, e)| {
                            e.get("litellm_provider").and_then(Value::as_str) == Some("anthropic")
                        })
                        .collect()
                })
                .unwrap_or_default(),
            None,
        ),
    };
    if models.is_empty() {
        return Err(PriceError::Empty);
    }
    let src = own_source.clone().unwrap_or_else(|| source.to_owned());
    let prices = models
        .into_iter()
        .map(|(m, e)| price_of_litellm(m, e, valid_from, &src))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((prices, own_source))
}

/// The pinned table, valid from the Unix epoch.
pub fn pinned() -> Vec<Price> {
    // The file is ours and checked by a test; a broken one is a build bug.
    parse_price_file(PINNED_JSON, DateTime::UNIX_EPOCH, "pinned")
        .map(|(p, _)| p)
        .unwrap_or_default()
}

/// Start of the UTC hour of `t`: when an imported price takes effect.
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t)
}

/// The deployment's negotiated prices (the file `HOOKLINE_PRICES_FILE`,
/// TOML), USD per million tokens:
///
/// ```toml
/// [models."claude-opus-4-6"]
/// valid_from = "2026-01-01"        # optional; default: always
/// input = "4.00"
/// output = "20"
/// cache_write_5m = "5"
/// cache_write_1h = "8"
/// cache_read = "0.40"
/// # optional long-context tier
/// tier_threshold = 200000
/// tier_input = "8"                 # tier_* absent: the base rate
/// ```
pub fn parse_overrides(toml_text: &str, path: &str) -> Result<Vec<Price>, PriceError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        models: BTreeMap<String, Entry>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        valid_from: Option<String>,
        input: Num,
        output: Num,
        cache_write_5m: Num,
        cache_write_1h: Num,
        cache_read: Num,
        tier_threshold: Option<i64>,
        tier_input: Option<Num>,
        tier_output: Option<Num>,
        tier_cache_write_5m: Option<Num>,
        tier_cache_write_1h: Option<Num>,
        tier_cache_read: Option<Num>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Num {
        Text(String),
        Int(i64),
        Float(f64),
    }
    let file: File = toml::from_str(toml_text).map_err(|e| PriceError::Toml(e.to_string()))?;
    let mut out = Vec::new();
    for (model, e) in file.models {
        // USD per million tokens -> pico-dollars per token: x 10^6.
        let m = |f: &str, n: &Num| {
            let text = match n {
                Num::Text(s) => s.clone(),
                Num::Int(i) => i.to_string(),
                Num::Float(x) => format!("{x}"),
            };
            parse_scaled(&text, 6).map_err(|msg| field_err(&model, f, msg))
        };
        let rates = Rates {
            input: m("input", &e.input)?,
            output: m("output", &e.output)?,
            cache_write_5m: m("cache_write_5m", &e.cache_write_5m)?,
            cache_write_1h: m("cache_write_1h", &e.cache_write_1h)?,
            cache_read: m("cache_read", &e.cache_read)?,
        };
        let or = |f: &str, n: &Option<Num>, base: i64| n.as_ref().map_or(Ok(base), |n| m(f, n));
        let tier = match e.tier_threshold {
            None => None,
            Some(t) if !CONTEXT_BANDS.contains(&t) => {
                return Err(field_err(
                    &model,
                    "tier_threshold",
                    format!("must be one of {CONTEXT_BANDS:?}"),
                ));
            }
            Some(threshold) => Some(Tier {
                threshold,
                rates: Rates {
                    input: or("tier_input", &e.tier_input, rates.input)?,
                    output: or("tier_output", &e.tier_output, rates.output)?,
                    cache_write_5m: or(
                        "tier_cache_write_5m",
                        &e.tier_cache_write_5m,
                        rates.cache_write_5m,
                    )?,
                    cache_write_1h: or(
                        "tier_cache_write_1h",
                        &e.tier_cache_write_1h,
                        rates.cache_write_1h,
                    )?,
                    cache_read: or("tier_cache_read", &e.tier_cache_read, rates.cache_read)?,
                },
            }),
        };
        let valid_from = match e.valid_from.as_deref() {
            None => DateTime::UNIX_EPOCH,
            Some(s) => parse_day_or_time(s)
                .map(hour_of)
                .ok_or_else(|| field_err(&model, "valid_from", "not YYYY-MM-DD or RFC 3339"))?,
        };
        out.push(Price {
            model,
            valid_from,
            source: format!("override {path}"),
            rates,
            tier,
        });
    }
    Ok(out)
}

/// `2026-12-01`, `20261201` (midnight UTC) or an RFC 3339 time.
pub fn parse_day_or_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Which price each message pays: overrides, then stored (imported), then
/// pinned; within one layer the latest `valid_from` not after the time.
#[derive(Clone, Debug, Default)]
pub struct PriceBook {
    layers: [BTreeMap<String, Vec<Price>>; 3],
}

/// A model name as priced: `claude-opus-4-6` for `claude-opus-4-6`, and a
/// dated name falls back to its undated family (`claude-x-20250101` ->
/// `claude-x`) when only that is priced.
fn undated(model: &str) -> Option<&str> {
    let (head, tail) = model.rsplit_once('-')?;
    (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

impl PriceBook {
    pub fn new(pinned: Vec<Price>, stored: Vec<Price>, overrides: Vec<Price>) -> PriceBook {
        let layer = |ps: Vec<Price>| {
            let mut m: BTreeMap<String, Vec<Price>> = BTreeMap::new();
            for p in ps {
                m.entry(p.model.clone()).or_default().push(p);
            }
            for v in m.values_mut() {
                v.sort_by_key(|p| p.valid_from);
            }
            m
        };
        PriceBook {
            layers: [layer(overrides), layer(stored), layer(pinned)],
        }
    }

    /// The price `model` pays at `at`, if any.
    pub fn lookup(&self, model: &str, at: DateTime<Utc>) -> Option<&Price> {
        // Layer first: an override (or import) of a model family covers
        // its dated names over the pinned dated price.
        for layer in &self.layers {
            for name in std::iter::once(model).chain(undated(model)) {
                if let Some(p) = layer
                    .get(name)
                    .and_then(|v| v.iter().rev().find(|p| p.valid_from <= at))
                {
                    return Some(p);
                }
            }
        }
        None
    }

    /// Every price, layer by layer (overrides, stored, pinned).
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Price)> {
        ["override", "imported", "pinned"]
            .into_iter()
            .zip(self.layers.iter())
            .flat_map(|(name, l)| l.values().flatten().map(move |p| (name, p)))
    }
}

/// `pico` as dollars with all 12 decimals (`"12.345678901234"`).
pub fn usd_exact(pico: Pico) -> String {
    let sign = if pico < 0 { "-" } else { "" };
    let a = pico.unsigned_abs();
    format!(
        "{sign}{}.{:012}",
        a / PICO_PER_USD as u128,
        a % PICO_PER_USD as u128
    )
}

/// `pico` as dollars rounded half up to `places` decimals (`"12.35"`).
pub fn usd_rounded(pico: Pico, places: u32) -> String {
    let unit = 10i128.pow(12 - places.min(12));
    let r = (pico + unit / 2).div_euclid(unit);
    let scale = 10i128.pow(places.min(12));
    if places == 0 {
        return r.to_string();
    }
    format!(
        "{}.{:0width$}",
        r.div_euclid(scale),
        r.rem_euclid(scale),
        width = places as usize
    )
}

/// Pico-dollars per token as USD per million tokens (`3000000` -> `"3"`).
pub fn per_mtok(pico_per_token: i64) -> String {
    // pico-USD per token = micro-USD per million tokens.
    let s = format!(
        "{}.{:06}",
        pico_per_token / 1_000_000,
        pico_per_token % 1_000_000
    );
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn decimals_scale_exactly() -> anyhow::Result<()> {
        assert_eq!(parse_scaled("0.00000375", 12), Ok(3_750_000));
        assert_eq!(parse_scaled("3.75e-06", 12), Ok(3_750_000));
        assert_eq!(parse_scaled("1e-05", 12), Ok(10_000_000));
        assert_eq!(parse_scaled("4.00", 6), Ok(4_000_000));
        assert_eq!(parse_scaled("0.3", 6), Ok(300_000));
        assert!(parse_scaled("1e-13", 12).is_err());
        assert!(parse_scaled("-1", 12).is_err());
        assert!(parse_scaled("abc", 12).is_err());
        assert!(parse_scaled(".", 12).is_err());
        Ok(())
    }

    #[test]
    fn the_pinned_table_reads_and_prices_the_models_of_the_transcripts() -> anyhow::Result<()> {
        let (prices, source) =
            parse_price_file(PINNED_JSON, DateTime::UNIX_EPOCH, "x").context("pinned table")?;
        assert!(source.is_some_and(|s| s.contains("LiteLLM")));
        let book = PriceBook::new(prices, vec![], vec![]);
        let p = book
            .lookup("claude-opus-4-6", Utc::now())
            .context("opus 4.6 priced")?;
        // $5 / $25 per MTok, cache write 1.25x / 2x, read 0.1x.
        assert_eq!(
            p.rates,
            Rates {
                input: 5_000_000,
                output: 25_000_000,
                cache_write_5m: 6_250_000,
                cache_write_1h: 10_000_000,
                cache_read: 500_000
            }
        );
        assert!(
            book.lookup("claude-sonnet-4-5-20250929", Utc::now())
                .is_some()
        );
        assert!(book.lookup("gpt-4o", Utc::now()).is_none());
        Ok(())
    }

    #[test]
    fn long_context_tiers_are_read_and_apply_above_their_threshold() -> anyhow::Result<()> {
        let e = serde_json::json!({
            "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "cache_read_input_token_cost": 3e-07,
            "input_cost_per_token_above_200k_tokens": 6e-06,
            "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "cache_read_input_token_cost_above_200k_tokens": 6e-07,
        });
        let p = price_of_litellm("m", &e, DateTime::UNIX_EPOCH, "t").context("price")?;
        let t = p.tier.context("tier")?;
        assert_eq!(t.threshold, 200_000);
        assert_eq!(t.rates.input, 6_000_000);
        assert_eq!(t.rates.cache_write_5m, 3_750_000, "absent: the base rate");
        assert_eq!(p.rates_for(context_band(200_001)).input, 6_000_000);
        assert_eq!(p.rates_for(context_band(200_000)).input, 3_000_000);
        assert_eq!(context_band(150_000), 100_000);
        Ok(())
    }

    #[test]
    fn a_missing_field_is_named() -> anyhow::Result<()> {
        let e = serde_json::json!({"input_cost_per_token": 1e-06});
        let err = price_of_litellm("m", &e, DateTime::UNIX_EPOCH, "t")
            .err()
            .context("an error")?;
        assert_eq!(err.to_string(), "m: field output_cost_per_token: missing");
        Ok(())
    }

    #[test]
    fn later_prices_apply_from_their_hour_and_overrides_win() -> anyhow::Result<()> {
        let at = |s: &str| parse_day_or_time(s).unwrap_or(DateTime::UNIX_EPOCH);
        let p = |model: &str, from: &str, input: i64| Price {
            model: model.into(),
            valid_from: at(from),
            source: "t".into(),
            rates: Rates {
                input,
                ..Rates::default()
            },
            tier: None,
        };
        let book = PriceBook::new(
            vec![p("a", "1970-01-01", 1)],
            vec![p("a", "2026-06-01", 2)],
            vec![p("b", "2026-01-01", 9)],
        );
        let input = |m: &str, t: &str| book.lookup(m, at(t)).map(|p| p.rates.input);
        assert_eq!(input("a", "2026-05-31T23:59:59Z"), Some(1));
        assert_eq!(input("a", "2026-06-01T00:00:00Z"), Some(2));
        assert_eq!(input("a-20260101", "2026-07-01"), Some(2), "undated family");
        assert_eq!(input("b", "2025-12-31"), None);
        assert_eq!(input("b", "2026-01-02"), Some(9));
        Ok(())
    }

    #[test]
    fn overrides_are_usd_per_million_tokens() -> anyhow::Result<()> {
        let text = r#"
[models."claude-opus-4-6"]
valid_from = "2026-01-01"
input = "4.00"
output = 20
cache_write_5m = "5"
cache_write_1h = "8"
cache_read = 0.4
tier_threshold = 200000
tier_input = "8"
"#;
        let o = parse_overrides(text, "p.toml").context("overrides")?;
        assert_eq!(o[0].rates.input, 4_000_000);
        assert_eq!(o[0].rates.output, 20_000_000);
        assert_eq!(o[0].rates.cache_read, 400_000);
        assert_eq!(o[0].tier.map(|t| t.rates.input), Some(8_000_000));
        let bad = parse_overrides("[models.x]\ninput = \"a\"\n", "p.toml")
            .err()
            .context("an error")?;
        assert!(bad.to_string().contains("output") || bad.to_string().contains("input"));
        Ok(())
    }

    #[test]
    fn dollars_print_exactly_and_rounded() -> anyhow::Result<()> {
        assert_eq!(usd_exact(1_234_567_890_123_456), "1234.567890123456");
        assert_eq!(usd_rounded(1_234_567_890_123_456, 2), "1234.57");
        assert_eq!(usd_rounded(4_999_999_999, 2), "0.00");
        assert_eq!(usd_rounded(5_000_000_000, 2), "0.01");
        assert_eq!(per_mtok(3_750_000), "3.75");
        assert_eq!(per_mtok(5_000_000), "5");
        Ok(())
    }
}
