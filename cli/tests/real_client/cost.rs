//! Exact cost (issue 19): for each session Claude Code wrote, the cost
//! `hookline usage session --json` reports equals the cost computed here
//! from the fake API's request log (the usage it sent per message id, and
//! the model the request asked for) at the prices this test reads itself:
//! the pinned table's JSON (`hookline_conformance::usage::pinned_prices`,
//! an independent reader; every model these releases ask for is in it) and
//! rates the test makes up for one model (and any model the table lacks),
//! handed to hookline in a price override file (`HOOKLINE_PRICES_FILE`, the
//! user's feature for negotiated prices), which wins over the pinned price.
//! Every message priced: no unpriced model.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hookline_conformance::usage::{self as want, ModelPrice, Msg};
use serde_json::Value;

use crate::harness::Run;
use crate::truth;

/// The made-up rates of a model without a pinned price, USD per million
/// tokens: input, output, cache write (5 minutes), cache write (1 hour),
/// cache read; as the override file says them and as pico-dollars.
const OVERRIDE_USD: [&str; 5] = ["7", "11", "9.5", "13", "0.7"];
const OVERRIDE_PICO: [i128; 5] = [7_000_000, 11_000_000, 9_500_000, 13_000_000, 700_000];

fn n(v: &Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or(0)
}

/// The model given a negotiated price in every run (the model-switch
/// scenario's second model; the others keep the pinned price).
const NEGOTIATED: &str = "claude-sonnet-4-5";

/// Writes the override file into `dir`: [`NEGOTIATED`] and any model of
/// `served` the pinned table lacks, at [`OVERRIDE_USD`]; returns its path
/// and the price list the test prices with.
fn prices(
    served: &BTreeMap<&str, &Value>,
    dir: &Path,
) -> anyhow::Result<(std::path::PathBuf, HashMap<String, ModelPrice>)> {
    let mut prices = want::pinned_prices()?;
    let mut models = vec![NEGOTIATED.to_owned()];
    for q in served.values() {
        let model = q["model"].as_str().unwrap_or_default();
        if want::cost(&msg(model, &Value::Null), &prices).is_none()
            && !models.iter().any(|m| m == model)
        {
            models.push(model.to_owned());
        }
    }
    let mut toml = String::from("# Written by the real-client cost check.\n");
    let [i, o, w5, w1, r] = OVERRIDE_USD;
    for model in models {
        toml += &format!(
            "[models.\"{model}\"]\ninput = \"{i}\"\noutput = \"{o}\"\ncache_write_5m = \"{w5}\"\ncache_write_1h = \"{w1}\"\ncache_read = \"{r}\"\n"
        );
        // Also replaces a dated name's fallback: an override wins by name.
        prices.insert(
            model,
            ModelPrice {
                base: OVERRIDE_PICO,
                tier: None,
            },
        );
    }
    let path = dir.join("prices.toml");
    std::fs::write(&path, toml)?;
    Ok((path, prices))
}

/// A message as the fake API served it (`usage` its log's object).
fn msg(model: &str, usage: &Value) -> Msg {
    Msg {
        id: String::new(),
        at: chrono::DateTime::UNIX_EPOCH,
        model: model.to_owned(),
        agent: None,
        input: n(usage, "input_tokens"),
        output: n(usage, "output_tokens"),
        cache_write: n(usage, "cache_creation_input_tokens"),
        cache_write_5m: n(&usage["cache_creation"], "ephemeral_5m_input_tokens"),
        cache_write_1h: n(&usage["cache_creation"], "ephemeral_1h_input_tokens"),
        cache_read: n(usage, "cache_read_input_tokens"),
        tools: Vec::new(),
    }
}

/// The check: per session of `truth` (which says which message ids are
/// whose), the sum over its messages of the served usage × price equals
/// `hookline usage session --json`'s `cost_usd_exact`, complete.
pub fn cost(
    truth: &BTreeMap<String, truth::Session>,
    runs: &[&Run],
    hookline: &hookline_test_support::cli::Hookline,
    data: &Path,
    dir: &Path,
) -> Vec<String> {
    match check(truth, runs, hookline, data, dir) {
        Ok(bad) => bad,
        Err(e) => vec![format!("{e:#}")],
    }
}

fn check(
    truth: &BTreeMap<String, truth::Session>,
    runs: &[&Run],
    hookline: &hookline_test_support::cli::Hookline,
    data: &Path,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let served: BTreeMap<&str, &Value> = runs
        .iter()
        .flat_map(|r| r.requests.iter())
        .filter(|q| q["usage"].is_object())
        .filter_map(|q| Some((q["id"].as_str()?, q)))
        .collect();
    let (file, prices) = prices(&served, dir)?;
    let out = hookline.run(
        &[("HOOKLINE_PRICES_FILE", file.display().to_string())],
        &[
            "usage",
            "session",
            "--json",
            "--data-dir",
            &data.display().to_string(),
        ],
    )?;
    let report: Value = serde_json::from_str(&out)?;
    let mut bad = Vec::new();
    for (sid, t) in truth {
        let mut want_pico: i128 = 0;
        for a in &t.assistant {
            let Some(q) = served.get(a.message_id.as_str()) else {
                continue; // reported by the usage check
            };
            let m = msg(q["model"].as_str().unwrap_or_default(), &q["usage"]);
            match want::cost(&m, &prices) {
                Some(c) => want_pico += c,
                None => bad.push(format!("{}: no price for {:?}", a.key, m.model)),
            }
        }
        let Some(row) = report["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["key"] == sid.as_str())
        else {
            bad.push(format!("{sid}: no row in hookline usage session"));
            continue;
        };
        let want_usd = usd(want_pico);
        let models: std::collections::BTreeSet<&str> =
            t.assistant.iter().map(|a| a.model.as_str()).collect();
        eprintln!(
            "real-client cost: {sid}: {} messages of {models:?}, the fake API's usage × prices ${want_usd}, hookline ${}",
            t.assistant.len(),
            row["cost_usd_exact"]
        );
        if row["cost_usd_exact"] != want_usd.as_str() {
            bad.push(format!(
                "{sid}: hookline usage says ${}, the fake API's usage × prices ${want_usd}",
                row["cost_usd_exact"]
            ));
        }
        if row["cost_complete"] != true || row["messages"] != t.assistant.len() as i64 {
            bad.push(format!(
                "{sid}: complete {}, {} messages, the transcript has {}",
                row["cost_complete"],
                row["messages"],
                t.assistant.len()
            ));
        }
    }
    Ok(bad)
}

/// Pico-dollars as the decimal string of `cost_usd_exact` (12 places).
fn usd(p: i128) -> String {
    let (whole, frac) = (p / 1_000_000_000_000, p % 1_000_000_000_000);
    format!("{whole}.{frac:012}")
}
