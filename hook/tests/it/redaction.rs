//! Redaction: the corpus of real-format fake secrets is masked by the
//! expected rule, the look-alikes are left alone, and through the real
//! binary no secret reaches the spool (event or transcript) while the
//! `hookline` object counts what was masked.

use std::path::Path;

use hookline_hook::redact::{Counts, Redactor, Settings};
use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult, event};

/// (rule, text) pairs of a corpus file; `\n` stands for a newline.
fn corpus(name: &str) -> Result<Vec<(String, String)>, std::io::Error> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/redaction")
        .join(name);
    Ok(std::fs::read_to_string(p)?
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (rule, text) = l.split_once('\t').unwrap_or(("", l));
            (rule.to_owned(), text.replace("\\n", "\n"))
        })
        .collect())
}

/// The secret part of a corpus line: what must not survive.
fn secret_of(rule: &str, text: &str) -> String {
    let after = |sep: char| text.rsplit_once(sep).map_or(text, |(_, s)| s);
    let s = match rule {
        "private_key" => text.lines().nth(1).unwrap_or(text),
        "password_pair" | "env_high_entropy" | "aws_secret_key" => after('='),
        _ => text,
    };
    s.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace())
        .to_owned()
}

#[test]
fn every_fake_secret_of_the_corpus_is_masked_by_its_rule() -> TestResult {
    let (r, problems) = Redactor::new(&Settings::default());
    assert!(problems.is_empty(), "{problems:?}");
    let cases = corpus("secrets.tsv")?;
    let mut masked = 0;
    let mut wrong = Vec::new();
    for (rule, text) in &cases {
        let mut c = Counts::new();
        let out = r.redact_str(text, &mut c).unwrap_or_else(|| text.clone());
        let secret = secret_of(rule, text);
        let gone = !secret.contains(':') || !out.contains(&secret);
        let tagged = out.contains(&format!("[REDACTED:{rule}]")) && c.contains_key(rule);
        if tagged && gone && !out.contains(&secret) {
            masked += 1;
        } else {
            wrong.push(format!("{rule}: {text:?} -> {out:?} {c:?}"));
        }
    }
    eprintln!("redaction corpus: {masked}/{} secrets masked", cases.len());
    assert!(
        wrong.is_empty(),
        "not masked as expected:\n{}",
        wrong.join("\n")
    );
    assert!(cases.len() >= 30);
    Ok(())
}

#[test]
fn no_look_alike_of_the_corpus_is_masked() -> TestResult {
    let (r, _) = Redactor::new(&Settings::default());
    let cases = corpus("lookalikes.tsv")?;
    let touched: Vec<String> = cases
        .iter()
        .filter_map(|(_, text)| {
            let mut c = Counts::new();
            r.redact_str(text, &mut c)
                .map(|o| format!("{text:?} -> {o:?}"))
        })
        .collect();
    eprintln!(
        "redaction corpus: {}/{} look-alikes left alone",
        cases.len() - touched.len(),
        cases.len()
    );
    assert!(touched.is_empty(), "masked:\n{}", touched.join("\n"));
    assert!(cases.len() >= 25);
    Ok(())
}

const AWS: &str = "AKIAIOSFODNN7EXAMPLE";
const GH: &str = "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R";
const PW: &str = "Sup3rS3cret!";

fn spooled(sb: &Sandbox) -> Result<Vec<(String, Value)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for name in sb.pending() {
        let text = std::fs::read_to_string(sb.spool().join("pending").join(&name))?;
        let v: Value = serde_json::from_str(&text)?;
        out.push((text, v));
    }
    Ok(out)
}

/// Nothing unmasked reaches the disk: not the spool, not the tail job the
/// Stop hook leaves its sender (read here while the test holds the
/// sender's lock), not the transcript part the sender spools.
#[test]
fn secrets_in_the_event_and_its_transcript_never_reach_the_spool() -> TestResult {
    let sb = Sandbox::new(None)?;
    let transcript = sb.root().join("t.jsonl");
    let line = json!({"type": "user", "uuid": "u-1", "sessionId": "s-red",
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
        "content": format!("     1→GITHUB_TOKEN={GH}\n     2→NODE_ENV=production\n")}]}});
    std::fs::write(&transcript, format!("{line}\n"))?;
    sb.hook(&event(
        "s-red",
        "PostToolUse",
        json!({"tool_name": "Bash", "tool_use_id": "toolu_1",
            "tool_input": {"command": format!("aws s3 ls # {AWS}"), "password": PW},
            "tool_response": {"stdout": format!("db password={PW}")}}),
    ))?;
    let lock = std::fs::File::create(sb.spool().join("state/tails.lock"))?;
    lock.lock()?;
    sb.hook(&event(
        "s-red",
        "Stop",
        json!({"transcript_path": transcript, "last_assistant_message": format!("done, key {AWS}")}),
    ))?;
    let jobs: Vec<String> = std::fs::read_dir(sb.spool().join("state/tails"))?
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert_eq!(jobs.len(), 1, "the tail job, waiting for the lock");
    let job: Value = serde_json::from_str(&jobs[0])?;
    assert!(
        job["event"]
            .as_str()
            .is_some_and(|e| e.contains("done, key [REDACTED:aws_access_key]")),
        "{job}"
    );
    drop(lock);
    sb.settled()?;
    let bodies = spooled(&sb)?;
    assert_eq!(bodies.len(), 3, "PostToolUse, Stop, Stop's transcript");
    for text in jobs.iter().chain(bodies.iter().map(|(t, _)| t)) {
        for secret in [AWS, GH, PW] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let tool = &bodies[0].1;
    assert_eq!(
        tool["tool_input"]["command"],
        "aws s3 ls # [REDACTED:aws_access_key]"
    );
    assert_eq!(tool["tool_input"]["password"], "[REDACTED:secret_field]");
    assert_eq!(
        tool["hookline"]["redactions"],
        json!({"aws_access_key": 1, "password_pair": 1, "secret_field": 1})
    );
    let stop = &bodies[1].1;
    assert_eq!(
        stop["last_assistant_message"],
        "done, key [REDACTED:aws_access_key]"
    );
    assert_eq!(stop["hookline"]["redactions"], json!({"aws_access_key": 1}));
    let part = &bodies[2].1;
    let content =
        &part["hookline"]["transcript"][0]["entries"][0]["message"]["content"][0]["content"];
    assert_eq!(
        content,
        "     1→GITHUB_TOKEN=[REDACTED:github_token]\n     2→NODE_ENV=production\n"
    );
    assert_eq!(part["hookline"]["redactions"], json!({"github_token": 1}));
    Ok(())
}

#[test]
fn the_config_file_adds_and_disables_rules_and_the_environment_turns_it_off() -> TestResult {
    let mut sb = Sandbox::new(None)?;
    std::fs::write(
        sb.root().join("config.toml"),
        "[redaction]\ndisable = [\"aws_access_key\"]\n\n[[redaction.rules]]\nname = \"acme_token\"\npattern = \"acme_[a-z0-9]{12}\"\n",
    )?;
    let prompt = format!("use {AWS} and acme_0123456789ab");
    sb.hook(&event(
        "s-cfg",
        "UserPromptSubmit",
        json!({"prompt": prompt}),
    ))?;
    sb.set("HOOKLINE_REDACT", "off");
    sb.hook(&event(
        "s-cfg",
        "UserPromptSubmit",
        json!({"prompt": prompt}),
    ))?;
    let bodies = spooled(&sb)?;
    assert_eq!(bodies.len(), 2);
    assert_eq!(
        bodies[0].1["prompt"],
        format!("use {AWS} and [REDACTED:acme_token]")
    );
    assert_eq!(
        bodies[0].1["hookline"]["redactions"],
        json!({"acme_token": 1})
    );
    assert_eq!(bodies[1].1["prompt"], prompt);
    assert!(bodies[1].1["hookline"].get("redactions").is_none());
    Ok(())
}
