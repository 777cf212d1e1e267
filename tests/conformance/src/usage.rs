//! What the usage reports of the spotter transcripts must say, computed
//! here from the JSONL alone (no hookline code): each assistant message
//! once per `message.id`, with the usage of its last line (the final one:
//! `output_tokens` grows while a reply streams), at the time of its first
//! line; priced from the pinned table's JSON read here with
//! `serde_json::Value`, USD per token times 10^12 rounded to an integer.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;

use crate::spotter::Session;

/// One assistant message as the transcript says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub id: String,
    pub at: DateTime<Utc>,
    pub model: String,
    pub agent: Option<String>,
    pub input: i64,
    pub output: i64,
    pub cache_write: i64,
    pub cache_write_5m: i64,
    pub cache_write_1h: i64,
    pub cache_read: i64,
    /// The names of its tool_use blocks, in the order of its lines, each
    /// block (by its id) once.
    pub tools: Vec<(String, String)>,
}

fn n(v: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The session's assistant messages (main transcript and subagents').
pub fn messages(s: &Session) -> Vec<Msg> {
    let mut by_id: HashMap<String, Msg> = HashMap::new();
    // The lines of each file, and the agent entries its `agent_progress`
    // lines carry (`data.message`, agent `data.agentId`): billed calls of
    // the agent, counted once per message.id with its own file's.
    let lines = s.files.iter().flat_map(|f| {
        f.lines.iter().flat_map(move |l| {
            let d = &l["data"];
            let carried = (l["type"] == "progress" && d["type"] == "agent_progress")
                .then(|| (&d["message"], d["agentId"].as_str().map(str::to_owned)));
            std::iter::once((l, f.agent_id.clone())).chain(carried)
        })
    });
    {
        for (l, agent) in lines {
            if l["type"] != "assistant" {
                continue;
            }
            let m = &l["message"];
            let (Some(id), Some(ts)) = (m["id"].as_str(), l["timestamp"].as_str()) else {
                continue;
            };
            let Ok(at) = DateTime::parse_from_rfc3339(ts) else {
                continue;
            };
            let at = at.with_timezone(&Utc);
            let u = &m["usage"];
            let e = by_id.entry(id.to_owned()).or_insert_with(|| Msg {
                id: id.to_owned(),
                at,
                model: String::new(),
                agent: agent.clone(),
                input: 0,
                output: 0,
                cache_write: 0,
                cache_write_5m: 0,
                cache_write_1h: 0,
                cache_read: 0,
                tools: Vec::new(),
            });
            e.at = e.at.min(at);
            for b in m["content"].as_array().into_iter().flatten() {
                if b["type"] == "tool_use"
                    && let Some(tid) = b["id"].as_str()
                    && !e.tools.iter().any(|(t, _)| t == tid)
                {
                    let name = b["name"].as_str().unwrap_or("?");
                    e.tools.push((tid.to_owned(), name.to_owned()));
                }
            }
            if let Some(model) = m["model"].as_str() {
                e.model = model.to_owned();
            }
            if u.is_object() {
                e.input = n(u, &["input_tokens"]);
                e.output = n(u, &["output_tokens"]);
                e.cache_write = n(u, &["cache_creation_input_tokens"]);
                e.cache_write_5m = n(u, &["cache_creation", "ephemeral_5m_input_tokens"]);
                e.cache_write_1h = n(u, &["cache_creation", "ephemeral_1h_input_tokens"]);
                e.cache_read = n(u, &["cache_read_input_tokens"]);
            }
        }
    }
    let mut v: Vec<Msg> = by_id.into_values().collect();
    v.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    v
}

/// Pico-dollars per token of one model: input, output, cache write 5m,
/// cache write 1h, cache read; and the long-context tier (threshold, same
/// five) when the model has one.
#[derive(Clone, Debug)]
pub struct ModelPrice {
    pub base: [i128; 5],
    pub tier: Option<(i64, [i128; 5])>,
}

/// The pinned table (`core/prices/anthropic.json`), read independently.
pub fn pinned_prices() -> anyhow::Result<HashMap<String, ModelPrice>> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../core/prices/anthropic.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let pico = |e: &Value, k: &str| e[k].as_f64().map(|x| (x * 1e12).round() as i128);
    let mut out = HashMap::new();
    for (model, e) in v["models"].as_object().into_iter().flatten() {
        let base = [
            "input_cost_per_token",
            "output_cost_per_token",
            "cache_creation_input_token_cost",
            "cache_creation_input_token_cost_above_1hr",
            "cache_read_input_token_cost",
        ]
        .map(|k| pico(e, k).unwrap_or(0));
        let mut tier = None;
        for t in [100, 200] {
            if let Some(input) = pico(e, &format!("input_cost_per_token_above_{t}k_tokens")) {
                let or = |k: String, b: i128| pico(e, &k).unwrap_or(b);
                tier = tier.or(Some((
                    t * 1000,
                    [
                        input,
                        or(format!("output_cost_per_token_above_{t}k_tokens"), base[1]),
                        or(
                            format!("cache_creation_input_token_cost_above_{t}k_tokens"),
                            base[2],
                        ),
                        or(
                            format!("cache_creation_input_token_cost_above_1hr_above_{t}k_tokens"),
                            base[3],
                        ),
                        or(
                            format!("cache_read_input_token_cost_above_{t}k_tokens"),
                            base[4],
                        ),
                    ],
                )));
            }
        }
        out.insert(model.clone(), ModelPrice { base, tier });
    }
    Ok(out)
}

/// The rates (pico-dollars per token: input, output, cache write 5m, 1h,
/// cache read) message `m` pays, `None` when its model has no price.
pub fn rates(m: &Msg, prices: &HashMap<String, ModelPrice>) -> Option<[i128; 5]> {
    let p = prices.get(&m.model).or_else(|| {
        let (head, tail) = m.model.rsplit_once('-')?;
        (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit()))
            .then(|| prices.get(head))
            .flatten()
    })?;
    let context = m.input + m.cache_write + m.cache_read;
    Some(match p.tier {
        Some((t, r)) if context > t => r,
        _ => p.base,
    })
}

fn tokens_cost(m: &Msg, r: [i128; 5]) -> i128 {
    let unsplit = (m.cache_write - m.cache_write_5m - m.cache_write_1h).max(0);
    let t = |n: i64| i128::from(n);
    t(m.input) * r[0]
        + t(m.output) * r[1]
        + t(m.cache_write_5m + unsplit) * r[2]
        + t(m.cache_write_1h) * r[3]
        + t(m.cache_read) * r[4]
}

/// A message's cost in pico-dollars at `prices`, `None` when unpriced.
pub fn cost(m: &Msg, prices: &HashMap<String, ModelPrice>) -> Option<i128> {
    rates(m, prices).map(|r| tokens_cost(m, r))
}

/// `--by tool`: each tool's share of each message (its tokens divided
/// equally over its tool_use blocks, the remainders to the first block;
/// the message itself counted under its first tool) with its cost at the
/// whole message's rates; "(none)" for a message without a tool_use.
pub fn by_tool(msgs: &[Msg], prices: &HashMap<String, ModelPrice>) -> BTreeMap<String, Sums> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for m in msgs {
        let r = rates(m, prices);
        let names: Vec<&str> = if m.tools.is_empty() {
            vec!["(none)"]
        } else {
            m.tools.iter().map(|(_, n)| n.as_str()).collect()
        };
        let k = names.len() as i64;
        for (i, name) in names.iter().enumerate() {
            let share = |x: i64| x / k + if i == 0 { x % k } else { 0 };
            let part = Msg {
                input: share(m.input),
                output: share(m.output),
                cache_write: share(m.cache_write),
                cache_write_5m: share(m.cache_write_5m),
                cache_write_1h: share(m.cache_write_1h),
                cache_read: share(m.cache_read),
                ..m.clone()
            };
            let e = out.entry((*name).to_owned()).or_default();
            e.add(&part, r.map(|r| tokens_cost(&part, r)));
            // The message once, under its first tool.
            e.messages += share(1) - 1;
            if r.is_none() {
                e.unpriced += share(1) - 1;
            }
        }
    }
    out
}

/// Sums of some messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub messages: i64,
    pub input: i64,
    pub output: i64,
    pub cache_write: i64,
    pub cache_read: i64,
    /// Of the priced messages.
    pub cost: i128,
    pub unpriced: i64,
}

impl Sums {
    pub fn add(&mut self, m: &Msg, cost: Option<i128>) {
        self.messages += 1;
        self.input += m.input;
        self.output += m.output;
        self.cache_write += m.cache_write;
        self.cache_read += m.cache_read;
        match cost {
            Some(c) => self.cost += c,
            None => self.unpriced += 1,
        }
    }
}

/// Sums per key.
pub fn sums_by<K: Ord>(
    msgs: &[Msg],
    prices: &HashMap<String, ModelPrice>,
    key: impl Fn(&Msg) -> K,
) -> BTreeMap<K, Sums> {
    let mut out: BTreeMap<K, Sums> = BTreeMap::new();
    for m in msgs {
        out.entry(key(m)).or_default().add(m, cost(m, prices));
    }
    out
}

/// The 5-hour blocks of `msgs` (any order): start hour → sums. A block
/// starts at the hour of a message after the previous block's end (or the
/// first message) and ends 5 hours later.
pub fn blocks(msgs: &[Msg], prices: &HashMap<String, ModelPrice>) -> BTreeMap<DateTime<Utc>, Sums> {
    let mut sorted: Vec<&Msg> = msgs.iter().collect();
    sorted.sort_by_key(|m| m.at);
    let mut out: BTreeMap<DateTime<Utc>, Sums> = BTreeMap::new();
    let mut start: Option<DateTime<Utc>> = None;
    let mut last: Option<DateTime<Utc>> = None;
    for m in sorted {
        let s = match (start, last) {
            (Some(s), Some(l))
                if m.at < s + TimeDelta::hours(5) && m.at - l <= TimeDelta::hours(5) =>
            {
                s
            }
            _ => m.at.duration_trunc(TimeDelta::hours(1)).unwrap_or(m.at),
        };
        start = Some(s);
        last = Some(m.at);
        out.entry(s).or_default().add(m, cost(m, prices));
    }
    out
}
