//! The `config` input: YAML (inline, or a file read with care) with a list of rules, each a map
//! from per-rule input names (the catalogue's) to values. Errors never echo the content.

use super::catalogue::{self, Scope};
use super::InputError;
use std::collections::BTreeMap;

/// The largest `config` file read.
pub const CONFIG_FILE_LIMIT: u64 = 1 << 20;

/// Reads a `config` path: a regular file (not a FIFO, a device or a directory) under
/// [`CONFIG_FILE_LIMIT`], read no further than the limit. The error says why, never what is in it.
pub fn read_config_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let too_big = || {
        format!(
            "is over the {} MiB limit of a config file",
            CONFIG_FILE_LIMIT >> 20
        )
    };
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot be read: {error}"))?;
    if !metadata.is_file() {
        return Err("is not a regular file (a FIFO, device or directory is refused)".into());
    }
    if metadata.len() > CONFIG_FILE_LIMIT {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|error| format!("cannot be read: {error}"))?;
    let mut bytes = Vec::new();
    file.take(CONFIG_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot be read: {error}"))?;
    if bytes.len() as u64 > CONFIG_FILE_LIMIT {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".into())
}

/// A key of the `config` YAML as it may be shown: a name shaped like an input, or nothing (a
/// key could be anything from a file that is not a config at all).
fn shown_key(key: &str) -> String {
    let input_like = !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if input_like {
        format!("`{key}`")
    } else {
        "(not shown: not the name of an input)".to_string()
    }
}

/// The `config` YAML: `rules:` (or a bare list) of maps from input names to values. Errors
/// show `shown` (the path, or that it was inline) and a line number, never the content.
pub fn config_rules(text: &str, shown: &str) -> Result<Vec<BTreeMap<String, String>>, InputError> {
    let bad = |problem: String| InputError::new("config", shown, problem);
    if nests_deeper_than(text, MAX_DEPTH) {
        return Err(bad(format!(
            "nests deeper than {MAX_DEPTH} levels: a config of rules needs a few"
        )));
    }
    let document: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| {
        bad(match error.location() {
            Some(at) => format!("line {}: is not valid YAML", at.line()),
            None => "is not valid YAML".to_string(),
        })
    })?;
    let rules = match document {
        serde_yaml::Value::Sequence(rules) => rules,
        serde_yaml::Value::Mapping(mut top) => {
            if let Some(key) = top.keys().find(|k| k.as_str() != Some("rules")) {
                return Err(bad(format!(
                    "unknown top-level key {}; expected `rules`",
                    shown_key(key.as_str().unwrap_or(""))
                )));
            }
            match top.remove("rules") {
                Some(serde_yaml::Value::Sequence(rules)) => rules,
                _ => return Err(bad("`rules` must be a list of rules".into())),
            }
        }
        _ => return Err(bad("must be a map with `rules:`, a list of rules".into())),
    };
    if rules.is_empty() {
        return Err(bad("`rules` is empty".into()));
    }
    rules
        .into_iter()
        .enumerate()
        .map(|(index, rule)| {
            let serde_yaml::Value::Mapping(map) = rule else {
                return Err(bad(format!("rules[{index}] must be a map of inputs")));
            };
            map.into_iter()
                .map(|(key, value)| {
                    let key = key
                        .as_str()
                        .ok_or_else(|| bad(format!("rules[{index}] has a key that is not text")))?
                        .to_string();
                    let Some(input) = catalogue::input(&key) else {
                        return Err(bad(format!(
                            "rules[{index}] has an unknown key {}",
                            shown_key(&key)
                        )));
                    };
                    if input.scope == Scope::Run {
                        return Err(bad(format!(
                            "rules[{index}] sets `{key}`, which holds for the whole run: give it as an input"
                        )));
                    }
                    let value = match value {
                        serde_yaml::Value::Sequence(items) => {
                            items.iter().map(yaml_text).collect::<Vec<_>>().join(",")
                        }
                        other => yaml_text(&other),
                    };
                    Ok((key, value))
                })
                .collect()
        })
        .collect()
}

fn yaml_text(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::String(text) => text.clone(),
        serde_yaml::Value::Number(number) => number.to_string(),
        serde_yaml::Value::Bool(flag) => flag.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The deepest `config` accepted: rules need 4 levels; a parser descending once per level
/// takes minutes (and its stack) on a text nested 200,000 deep, so depth is checked first.
const MAX_DEPTH: usize = 64;

/// The text nests deeper than `limit`, found by a scan of its characters before any parser
/// sees it: the deepest nesting is deeper than `limit`: flow collections (`[`, `{`) and block
/// collections (indentation, `- ` items) counted together, as a parser would descend.
fn nests_deeper_than(text: &str, limit: usize) -> bool {
    let mut block: Vec<usize> = Vec::new(); // indentation of the open block collections
    let mut flow = 0usize;
    for line in text.lines() {
        let mut rest = line;
        if flow == 0 {
            let indent = rest.len() - rest.trim_start_matches(' ').len();
            rest = &rest[indent..];
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            while block.last().is_some_and(|&open| open > indent) {
                block.pop();
            }
            let mut column = indent;
            if block.last() != Some(&column) {
                block.push(column);
            }
            // Each `- ` opens one more level on the same line (`- - - x`).
            while let Some(after) = rest.strip_prefix("- ").or(rest.strip_prefix("-\t")) {
                let skipped = rest.len() - after.trim_start().len();
                column += skipped;
                rest = after.trim_start();
                block.push(column);
            }
            if block.len() + flow > limit {
                return true;
            }
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for c in rest.chars() {
            match (quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') if previous != '\\' => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') if previous == ' ' => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if block.len() + flow > limit {
                        return true;
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_and_block_nesting_are_counted() {
        let rules = "rules:\n  - packages: [web, api]\n    keep-latest: 3\n  - tags: {a: [1]}\n";
        assert!(!nests_deeper_than(rules, 64));
        assert!(nests_deeper_than(rules, 3));
        let deep = |n: usize| format!("rules: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert!(!nests_deeper_than(&deep(63), 64));
        assert!(nests_deeper_than(&deep(64), 64));
        let maps = format!("{}1{}", "{a: ".repeat(200_000), "}".repeat(200_000));
        let started = std::time::Instant::now();
        assert!(nests_deeper_than(&maps, 64));
        assert!(started.elapsed().as_millis() < 1000);
        let dashes = format!("rules:\n{}x\n", "- ".repeat(100));
        assert!(nests_deeper_than(&dashes, 64));
        let indented: String = (0..70)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(nests_deeper_than(&indented, 64));
        assert!(!nests_deeper_than("a: '[[[[[['\nb: \"{{{{\"  # [[[[\n", 2));
    }
}
