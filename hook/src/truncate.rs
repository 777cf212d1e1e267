//! Fitting one oversized transcript entry into a body: its largest string
//! values are cut (largest first) until it fits, and it is marked with
//! `"hookline_truncated": {"original_bytes": N}` (docs/wire-format.md).

use serde_json::{Value, json};

/// Room kept for the marker itself.
const MARKER_ROOM: usize = 64;
/// Appended to a cut string.
const ELLIPSIS: &str = "…";

enum Key {
    Index(usize),
    Name(String),
}

fn size(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// Cuts `value` to at most `budget` bytes of JSON. Returns false if it
/// already fit (and is unchanged).
pub fn fit(value: &mut Value, budget: usize) -> bool {
    let original = size(value);
    if original <= budget {
        return false;
    }
    let target = budget.saturating_sub(MARKER_ROOM);
    for _ in 0..256 {
        let now = size(value);
        if now <= target {
            break;
        }
        let mut best = (0, Vec::new());
        largest(value, &mut Vec::new(), &mut best);
        let Some(Value::String(s)) = (best.0 > ELLIPSIS.len())
            .then(|| get_mut(value, &best.1))
            .flatten()
        else {
            // Nothing left to cut: keep the entry's identity only.
            *value = skeleton(value);
            break;
        };
        let keep = s.len().saturating_sub(now - target + ELLIPSIS.len());
        let mut cut = keep.min(s.len() / 2 + s.len() / 4);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(ELLIPSIS);
    }
    if let Value::Object(map) = value {
        map.insert(
            "hookline_truncated".into(),
            json!({ "original_bytes": original }),
        );
    }
    true
}

fn skeleton(v: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in ["uuid", "type", "timestamp", "sessionId"] {
        if let Some(x) = v.get(k).filter(|x| !x.is_object() && !x.is_array()) {
            out.insert(k.into(), x.clone());
        }
    }
    Value::Object(out)
}

fn largest(v: &Value, path: &mut Vec<Key>, best: &mut (usize, Vec<Key>)) {
    match v {
        Value::String(s) if s.len() > best.0 => {
            let copy = path
                .iter()
                .map(|k| match k {
                    Key::Index(i) => Key::Index(*i),
                    Key::Name(n) => Key::Name(n.clone()),
                })
                .collect();
            *best = (s.len(), copy);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Key::Index(i));
                largest(item, path, best);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(Key::Name(k.clone()));
                largest(item, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Key]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match k {
        Key::Index(i) => v.get_mut(*i),
        Key::Name(n) => v.get_mut(n.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_largest_strings_and_marks_the_entry() {
        let big = "é".repeat(20_000);
        let mut v = json!({"uuid": "u1", "type": "user", "message": {"content": [{"text": big}, {"text": "small"}]}});
        let original = size(&v);
        assert!(fit(&mut v, 2_000));
        assert!(size(&v) <= 2_000, "{}", size(&v));
        assert_eq!(v["uuid"], "u1");
        assert_eq!(v["message"]["content"][1]["text"], "small");
        assert_eq!(v["hookline_truncated"]["original_bytes"], original);
    }

    #[test]
    fn an_entry_that_fits_is_untouched_and_one_without_strings_keeps_its_identity() {
        let mut v = json!({"uuid": "u", "n": [1, 2, 3]});
        assert!(!fit(&mut v, 1000));
        assert!(v.get("hookline_truncated").is_none());
        let mut v = json!({"uuid": "u", "n": vec![1; 10_000]});
        assert!(fit(&mut v, 500));
        assert_eq!(v["uuid"], "u");
        assert!(size(&v) <= 500);
    }
}
