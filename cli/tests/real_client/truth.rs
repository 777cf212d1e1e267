//! An independent reading of the transcripts Claude Code wrote (none of
//! hookline's code): per session, the prompts (the inputs print mode
//! enqueued), the assistant messages (the
//! entries of one `message.id`/`requestId` merged in file order, the usage
//! of the last entry) and the tool calls with their results.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Assistant {
    /// `<message.id>/<requestId>`.
    pub key: String,
    pub message_id: String,
    pub agent: Option<String>,
    pub blocks: Vec<Value>,
    pub model: String,
    /// The usage of the message's last entry (the final counts).
    pub usage: Value,
}

#[derive(Debug, Clone)]
pub struct ToolCall {
    pub name: String,
    pub input: Value,
    pub agent: Option<String>,
    /// The `tool_result` block, when one was written.
    pub result: Option<Value>,
}

#[derive(Debug, Default)]
pub struct Session {
    pub prompts: Vec<String>,
    pub assistant: Vec<Assistant>,
    pub tools: BTreeMap<String, ToolCall>,
    /// The model of the session's latest assistant entry (main transcript).
    pub last_model: Option<String>,
    /// Subagent id → its transcript file.
    pub agents: BTreeMap<String, PathBuf>,
}

/// Reads every transcript under `projects` (a HOME's `.claude/projects`).
/// An entry copied into a fork's file (same uuid as in an older file) is
/// the older session's, not counted again.
pub fn read(projects: &Path) -> anyhow::Result<BTreeMap<String, Session>> {
    let mut mains: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for dir in std::fs::read_dir(projects)?.flatten() {
        for f in std::fs::read_dir(dir.path())?.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "jsonl") {
                let md = f.metadata()?;
                mains.push((md.created().or_else(|_| md.modified())?, p));
            }
        }
    }
    mains.sort();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = BTreeMap::new();
    for (_, main) in mains {
        let Some(session_id) = main
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let mut s = Session::default();
        read_file(&main, None, &mut seen, &mut s)?;
        // Print mode records every input given, typed prompt or slash
        // command, once, as a `queue-operation` `enqueue` line of the
        // session's own file (a fork's file holds only its own): those are
        // the session's prompts. Without such lines, the prompts are the
        // user entries read above.
        let queued = enqueued(&main)?;
        if !queued.is_empty() {
            s.prompts = queued;
        }
        let subagents = main.with_extension("").join("subagents");
        if let Ok(rd) = std::fs::read_dir(&subagents) {
            let mut files: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            files.sort();
            for f in files {
                let agent = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(|s| s.trim_start_matches("agent-").to_string());
                if let Some(a) = &agent {
                    s.agents.insert(a.clone(), f.clone());
                }
                read_file(&f, agent, &mut seen, &mut s)?;
            }
        }
        out.insert(session_id, s);
    }
    Ok(out)
}

fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks)
            if blocks.iter().all(|b| b["type"] == "text") && !blocks.is_empty() =>
        {
            Some(
                blocks
                    .iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        _ => None,
    }
}

fn enqueued(path: &Path) -> anyhow::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "queue-operation" && e["operation"] == "enqueue")
        .filter_map(|e| text_of(&e["content"]))
        .collect())
}

/// Text Claude Code writes as a user entry that no one typed as a prompt:
/// a slash command's echo and its output.
fn is_command_echo(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("<command-name>")
        || t.starts_with("<command-message>")
        || t.starts_with("<local-command-")
}

fn read_file(
    path: &Path,
    agent: Option<String>,
    seen: &mut HashSet<String>,
    s: &mut Session,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(uuid) = e["uuid"].as_str() else {
            continue;
        };
        if !seen.insert(uuid.to_string()) {
            continue;
        }
        let message = &e["message"];
        match e["type"].as_str() {
            Some("user") => {
                if let Some(blocks) = message["content"].as_array() {
                    for b in blocks.iter().filter(|b| b["type"] == "tool_result") {
                        if let Some(id) = b["tool_use_id"].as_str() {
                            let call = s.tools.entry(id.to_string()).or_insert(ToolCall {
                                name: String::new(),
                                input: Value::Null,
                                agent: agent.clone(),
                                result: None,
                            });
                            call.result = Some(b.clone());
                        }
                    }
                }
                let prompt = agent.is_none()
                    && e["isMeta"] != true
                    && e["isCompactSummary"] != true
                    && e["isSidechain"] != true;
                if let Some(t) =
                    text_of(&message["content"]).filter(|t| prompt && !is_command_echo(t))
                {
                    s.prompts.push(t);
                }
            }
            Some("assistant") => {
                let (Some(id), Some(model)) = (message["id"].as_str(), message["model"].as_str())
                else {
                    continue;
                };
                if model == "<synthetic>" {
                    continue;
                }
                let key = format!("{id}/{}", e["requestId"].as_str().unwrap_or(""));
                let i = *index.entry(key.clone()).or_insert_with(|| {
                    s.assistant.push(Assistant {
                        key: key.clone(),
                        message_id: id.to_string(),
                        agent: agent.clone(),
                        blocks: Vec::new(),
                        model: model.to_string(),
                        usage: Value::Null,
                    });
                    s.assistant.len() - 1
                });
                let m = &mut s.assistant[i];
                m.usage = message["usage"].clone();
                m.model = model.to_string();
                for b in message["content"].as_array().into_iter().flatten() {
                    if b["type"] == "tool_use"
                        && let Some(tid) = b["id"].as_str()
                    {
                        let call = s.tools.entry(tid.to_string()).or_insert(ToolCall {
                            name: String::new(),
                            input: Value::Null,
                            agent: agent.clone(),
                            result: None,
                        });
                        call.name = b["name"].as_str().unwrap_or("").to_string();
                        call.input = b["input"].clone();
                    }
                    m.blocks.push(b.clone());
                }
                if agent.is_none() {
                    s.last_model = Some(model.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}
