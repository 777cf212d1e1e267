//! Synthetic history for the scale bench (issue 22): sessions shaped like
//! the real transcripts of `../shared/transcripts/spotter/`, as the hook
//! sends them (hook events with their transcript chunks), enveloped as
//! ingest queues them, for the worker's own path (`process_batch`).
//!
//! Seeded and deterministic: the same seed and size give the same events,
//! byte for byte. Each session draws from its own generator (seed and
//! session number), so a session does not depend on the ones before it.
//!
//! The shape, measured on the spotter files (5 sessions, 4 subagents; the
//! script is in docs/performance.md, "Scale"):
//!
//! | what | spotter | here |
//! | --- | --- | --- |
//! | prompts per session | 2, 3, 4, 6, 6 | 2..=6, uniform |
//! | assistant messages per prompt | 0.5 to 35 (median 4) | log-uniform 1..40 |
//! | tool calls per message | 1.1 to 1.5 | 0.8 (one call, 10 % two), none in a turn's last |
//! | content blocks per message | median 2, p90 3 | text 60 %, plus the calls |
//! | prompt length (chars) | median 121, p90 8,669 | log-normal, same median and p90 |
//! | reply text | median 85, p90 229 | same |
//! | tool input (JSON) | median 117, p90 1,135 | same |
//! | tool result | median 227, p90 8,928 (max 81k) | same, capped at 80k |
//! | tools | Bash 40 %, Read 23, Edit 17, Write 5, Glob 5, Grep 4, Web* 2.5, Task 0.8 | same |
//! | subagents | 2 of 5 sessions | Task starts one (a turn of its own) |
//!
//! Spread: 20 users (skewed, the first ones busiest), two hosts each,
//! 12 projects, start times evenly over the year before `end`.

use chrono::{DateTime, Duration, Utc};
use hookline_core::worker::QueueRecord;
use serde_json::{Value, json};

use crate::fixtures::record_at;

/// splitmix64: tiny, seedable, good enough for data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }

    /// Log-normal with this median and 90th percentile, at most `max`.
    pub fn size(&mut self, median: f64, p90: f64, max: usize) -> usize {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let sigma = (p90 / median).ln() / 1.2816;
        ((median * (z * sigma).exp()) as usize).clamp(1, max)
    }

    fn uuid(&mut self) -> String {
        let h = format!("{:016x}{:016x}", self.next_u64(), self.next_u64());
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

const TOOLS: &[(&str, f64)] = &[
    ("Bash", 0.40),
    ("Read", 0.23),
    ("Edit", 0.17),
    ("Write", 0.053),
    ("Glob", 0.053),
    ("Grep", 0.043),
    ("WebSearch", 0.015),
    ("TaskOutput", 0.01),
    ("WebFetch", 0.01),
    ("Task", 0.008),
];

const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "fix",
    "test",
    "error",
    "file",
    "function",
    "return",
    "value",
    "config",
    "build",
    "run",
    "cargo",
    "rust",
    "query",
    "index",
    "store",
    "session",
    "worker",
    "queue",
    "hook",
    "event",
    "request",
    "response",
    "update",
    "change",
    "migration",
    "schema",
    "parse",
    "check",
    "deploy",
    "page",
    "table",
    "import",
];

const USERS: usize = 20;
const PROJECTS: &[&str] = &[
    "api", "web", "infra", "mobile", "billing", "search", "auth", "docs", "data", "cli", "sdk",
    "ops",
];

/// About `chars` characters of text: common words and a long tail.
fn text(r: &mut Rng, chars: usize) -> String {
    let mut out = String::with_capacity(chars + 12);
    while out.len() < chars {
        if !out.is_empty() {
            out.push(' ');
        }
        if r.unit() < 0.6 {
            out.push_str(WORDS[r.below(WORDS.len())]);
        } else {
            out.push_str(&format!("w{}", (r.unit().powi(3) * 5000.0) as usize));
        }
    }
    out
}

/// Text of a log-normal length ([`Rng::size`]).
fn sized(r: &mut Rng, median: f64, p90: f64, max: usize) -> String {
    let n = r.size(median, p90, max);
    text(r, n)
}

/// What a generated session should leave in the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub events: usize,
    /// User messages: the prompts, and each subagent's task.
    pub prompts: usize,
    pub assistant: usize,
    pub tool_uses: usize,
    pub subagents: usize,
}

/// One session as the hook sends it, in order.
#[derive(Clone, Debug)]
pub struct Session {
    pub session_id: String,
    pub records: Vec<QueueRecord>,
    /// Bytes of hook JSON received (the bodies, as POSTed).
    pub raw_bytes: usize,
    pub expect: Expect,
}

/// Sessions for about `events` hook events (the last session may overshoot),
/// over the year before `end`: a session starts at the share of the year
/// that the events made before it are of `events`.
pub fn sessions(
    seed: u64,
    events: usize,
    end: DateTime<Utc>,
) -> impl Iterator<Item = anyhow::Result<Session>> {
    let year = 365 * 86_400;
    let start = end - Duration::seconds(year);
    let mut made = 0;
    (0u64..).map_while(move |k| {
        if made >= events {
            return None;
        }
        let at = start + Duration::seconds(year * made as i64 / events.max(1) as i64);
        let s = session(seed, k, at);
        made += s.as_ref().map_or(events, |s| s.records.len());
        Some(s)
    })
}

struct Ctx {
    sid: String,
    seed: u64,
    k: u64,
    cwd: String,
    transcript: String,
    user: String,
    host: String,
    at: DateTime<Utc>,
    n: usize,
    raw: usize,
    records: Vec<QueueRecord>,
    expect: Expect,
    model: &'static str,
}

impl Ctx {
    /// Sends a hook event `name` with `fields`, a few seconds after the last.
    /// `chunk`: transcript lines the hook attaches (`hookline.transcript`).
    fn send(
        &mut self,
        r: &mut Rng,
        name: &str,
        fields: Value,
        chunk: Option<Value>,
    ) -> anyhow::Result<()> {
        self.at += Duration::milliseconds(500 + r.below(8_000) as i64);
        let rid = format!("gen-{}-{}-{}", self.seed, self.k, self.n);
        self.n += 1;
        let mut body = json!({
            "session_id": self.sid, "transcript_path": self.transcript, "cwd": self.cwd,
            "permission_mode": "default", "hook_event_name": name,
        });
        if let (Some(b), Value::Object(f)) = (body.as_object_mut(), fields) {
            b.extend(f);
        }
        body["hookline"] = json!({
            "v": 1, "request_id": rid, "captured_at": self.at.to_rfc3339(),
            "client": {"name": "hookline-hook", "version": "gen"},
            "host": self.host, "user": self.user,
        });
        if let Some(t) = chunk {
            body["hookline"]["transcript"] = json!([t]);
        }
        self.raw += body.to_string().len();
        self.records.push(record_at(&rid, body, self.at)?);
        self.expect.events += 1;
        Ok(())
    }

    fn line(&self, kind: &str, uuid: String, parent: &Option<String>, message: Value) -> Value {
        json!({"parentUuid": parent, "isSidechain": false, "userType": "external",
               "cwd": self.cwd, "sessionId": self.sid, "version": "2.1.39", "uuid": uuid,
               "timestamp": self.at.to_rfc3339(), "type": kind, "message": message})
    }
}

fn tool_input(r: &mut Rng, name: &str, cwd: &str) -> Value {
    let size = r.size(117.0, 1135.0, 22_000);
    match name {
        "Bash" => json!({"command": text(r, size.min(400)), "description": text(r, 30)}),
        "Read" | "Glob" | "Grep" => json!({"file_path": format!("{cwd}/src/{}.rs", text(r, 8))}),
        "Edit" => {
            json!({"file_path": format!("{cwd}/src/m.rs"), "old_string": text(r, size / 2), "new_string": text(r, size / 2)})
        }
        _ => json!({"content": text(r, size)}),
    }
}

/// One turn: the prompt, replies and tool calls, then Stop (or, for a
/// subagent, SubagentStop) carrying the turn's transcript lines.
fn turn(r: &mut Rng, c: &mut Ctx, prompt: String, agent: Option<&str>) -> anyhow::Result<()> {
    let agent_fields = |f: Value| match (agent, f) {
        (Some(a), Value::Object(mut m)) => {
            m.insert("agent_id".into(), json!(a));
            m.insert("agent_type".into(), json!("general-purpose"));
            Value::Object(m)
        }
        (_, f) => f,
    };
    if agent.is_none() {
        c.send(r, "UserPromptSubmit", json!({"prompt": prompt}), None)?;
    }
    let mut lines = Vec::new();
    let mut parent = None;
    let uuid = r.uuid();
    lines.push(c.line(
        "user",
        uuid.clone(),
        &parent,
        json!({"role": "user", "content": prompt}),
    ));
    parent = Some(uuid);
    c.expect.prompts += 1;
    let messages = (40f64.powf(r.unit()) as usize).max(1);
    let mut subagents = Vec::new();
    for m in 0..messages {
        let last = m + 1 == messages;
        let mut blocks = Vec::new();
        if last || r.unit() < 0.6 {
            let n = r.size(85.0, 229.0, 16_000);
            blocks.push(json!({"type": "text", "text": text(r, n)}));
        }
        let calls = match (last, r.unit()) {
            (true, _) => 0,
            (false, u) if u < 0.1 => 2,
            (false, u) if u < 0.8 => 1,
            _ => 0,
        };
        let mut calls_made = Vec::new();
        for _ in 0..calls {
            let mut u = r.unit();
            let name = TOOLS
                .iter()
                .find(|(_, p)| {
                    u -= p;
                    u < 0.0
                })
                .map_or("Bash", |t| t.0);
            let name = if agent.is_some() && name == "Task" {
                "Read"
            } else {
                name
            };
            let id = format!("toolu_{}", &r.uuid().replace('-', "")[..24]);
            let input = tool_input(r, name, &c.cwd);
            blocks.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
            calls_made.push((id, name, input));
        }
        if blocks.is_empty() {
            let n = r.size(85.0, 229.0, 16_000);
            blocks.push(json!({"type": "text", "text": text(r, n)}));
        }
        let msg_id = format!("msg_{}", &r.uuid().replace('-', "")[..24]);
        let req_id = format!("req_{}", &r.uuid().replace('-', "")[..24]);
        let (input_tokens, cache_read) = (3 + r.below(50), 5_000 + r.below(80_000));
        let out_tokens = 20 + r.below(800);
        let n_blocks = blocks.len();
        for (i, b) in blocks.into_iter().enumerate() {
            c.at += Duration::milliseconds(200 + r.below(2_000) as i64);
            let uuid = r.uuid();
            let mut l = c.line(
                "assistant",
                uuid.clone(),
                &parent,
                json!({"id": msg_id, "type": "message", "role": "assistant", "model": c.model,
                       "content": [b], "stop_reason": if i + 1 == n_blocks { json!(if calls > 0 { "tool_use" } else { "end_turn" }) } else { Value::Null },
                       "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": r.below(3_000),
                                 "cache_read_input_tokens": cache_read,
                                 "output_tokens": out_tokens * (i + 1) / n_blocks, "service_tier": "standard"}}),
            );
            l["requestId"] = json!(req_id);
            lines.push(l);
            parent = Some(uuid);
        }
        c.expect.assistant += 1;
        for (id, name, input) in calls_made {
            let common = json!({"tool_name": name, "tool_input": input, "tool_use_id": id});
            c.send(r, "PreToolUse", agent_fields(common.clone()), None)?;
            if name == "Task" {
                subagents.push(r.uuid()[..7].to_owned());
            }
            let result = sized(r, 227.0, 8928.0, 80_000);
            let failed = r.unit() < 0.05;
            let mut post = common;
            if failed {
                post["error"] = json!(result.chars().take(300).collect::<String>());
                c.send(r, "PostToolUseFailure", agent_fields(post), None)?;
            } else {
                post["tool_response"] = json!({"stdout": result, "stderr": ""});
                post["duration_ms"] = json!(10 + r.below(5_000));
                c.send(r, "PostToolUse", agent_fields(post), None)?;
            }
            c.expect.tool_uses += 1;
            let uuid = r.uuid();
            lines.push(c.line(
                "user",
                uuid.clone(),
                &parent,
                json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id,
                        "content": result, "is_error": failed}]}),
            ));
            parent = Some(uuid);
        }
    }
    let last = lines
        .iter()
        .rev()
        .find_map(|l| {
            l["message"]["content"][0]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let end = lines.len();
    let (source, path, event) = match agent {
        Some(a) => (
            "agent",
            c.transcript
                .replace(".jsonl", &format!("/subagents/agent-{a}.jsonl")),
            "SubagentStop",
        ),
        None => ("main", c.transcript.clone(), "Stop"),
    };
    let mut stop = agent_fields(json!({"stop_hook_active": false, "last_assistant_message": last}));
    if agent.is_some() {
        stop["agent_transcript_path"] = json!(path);
        c.expect.subagents += 1;
    }
    let chunk = json!({"source": source, "path": path, "agent_id": agent,
                       "start_offset": 0, "end_offset": end, "entries": lines});
    c.send(r, event, stop, Some(chunk))?;
    for a in subagents {
        c.send(
            r,
            "SubagentStart",
            json!({"agent_id": a, "agent_type": "general-purpose"}),
            None,
        )?;
        let p = sized(r, 121.0, 2000.0, 16_000);
        turn(r, c, p, Some(&a))?;
    }
    Ok(())
}

/// Session `k` of `seed`, starting at `at`.
pub fn session(seed: u64, k: u64, at: DateTime<Utc>) -> anyhow::Result<Session> {
    let mut r = Rng::new(seed ^ k.wrapping_mul(0x2545_f491_4f6c_dd1d));
    // Skewed: the first users are the busiest.
    let user_n = (r.unit().powi(2) * USERS as f64) as usize;
    let user = format!("user{user_n:02}");
    let project = PROJECTS[(user_n + r.below(3)) % PROJECTS.len()];
    let cwd = format!("/home/{user}/src/{project}");
    let sid = r.uuid();
    let mut c = Ctx {
        transcript: format!("/home/{user}/.claude/projects/-home-{user}-src-{project}/{sid}.jsonl"),
        sid,
        seed,
        k,
        cwd,
        host: format!("{user}-{}", ["laptop", "devbox"][r.below(2)]),
        user,
        at,
        n: 0,
        raw: 0,
        records: Vec::new(),
        expect: Expect::default(),
        model: ["claude-sonnet-5", "claude-opus-5", "claude-haiku-5"][r.below(3)],
    };
    let model = c.model;
    c.send(
        &mut r,
        "SessionStart",
        json!({"source": "startup", "model": model}),
        None,
    )?;
    for _ in 0..2 + r.below(5) {
        let p = sized(&mut r, 121.0, 8669.0, 16_000);
        turn(&mut r, &mut c, p, None)?;
    }
    c.send(
        &mut r,
        "SessionEnd",
        json!({"reason": "prompt_input_exit"}),
        None,
    )?;
    Ok(Session {
        session_id: c.sid,
        records: c.records,
        raw_bytes: c.raw,
        expect: c.expect,
    })
}
