//! The shape of `src/`, measured by the code itself: no import from a lower layer up to a
//! higher one (the layers are listed in `src/main.rs`), no function longer than 80 lines outside
//! tests, no file longer than 600 lines before its tests. Each rule names its exceptions, with
//! why they stand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The crate's top modules, lowest layer first: a module imports only from its own layer or
/// lower ones. `runner` and `model` import nothing of the crate (but each other's peers).
const LAYERS: &[&[&str]] = &[
    &["runner", "model"],
    &["plan"],
    &["github"],
    &["registry"],
    &["settings"],
    &["outcome"],
    &["run"],
    &["report"],
    &["main"],
];

const LONGEST_FUNCTION: usize = 80;
const LONGEST_FILE: usize = 600;

/// Functions allowed to be longer, and why.
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[];

/// Files allowed to be longer (before their tests), and why.
const LONG_FILES: &[(&str, &str)] = &[];

/// Every source file of the binary (its own test folders aside), by path under `src/`.
fn sources() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ reads") {
            let path = entry.expect("src/ entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "tests") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                found.insert(name, std::fs::read_to_string(&path).expect("source reads"));
            }
        }
    }
    found
}

/// The code before the file's tests (its `#[cfg(test)]` module at the start of a line).
fn before_tests(source: &str) -> &str {
    match source.find("\n#[cfg(test)]\nmod ") {
        Some(at) => &source[..at + 1],
        None => source,
    }
}

/// The source with comments, string and character literals blanked (newlines kept), so that
/// braces and `crate::` count only in code.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |out: &mut String, text: &[u8]| {
        for &b in text {
            out.push(if b == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let end = source[i + 2..].find("*/").map_or(rest.len(), |e| e + 4);
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"r#") || rest.starts_with(b"r\"") {
            let hashes = rest[1..].iter().take_while(|&&b| b == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let start = 2 + hashes;
            let end = source[i + start..]
                .find(&close)
                .map_or(rest.len(), |e| start + e + close.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'"' {
            let mut end = 1;
            while end < rest.len() && rest[end] != b'"' {
                end += if rest[end] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, &rest[..(end + 1).min(rest.len())]);
            i += end + 1;
        } else if rest[0] == b'\'' && (rest.get(2) == Some(&b'\'') || rest.get(1) == Some(&b'\\')) {
            // A character literal ('x', '\n', '\''), not a lifetime.
            let end = rest[2..]
                .iter()
                .position(|&b| b == b'\'')
                .map_or(1, |e| e + 3);
            blank(&mut out, &rest[..end]);
            i += end;
        } else {
            let len = source[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&source[i..i + len]);
            i += len;
        }
    }
    out
}

/// The functions of `code` (blanked by [`code_only`]), as (name, first line, lines long).
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    let mut open: Vec<(String, usize, usize)> = Vec::new();
    let mut pending: Option<(String, usize, usize)> = None;
    let mut depth = 0;
    for (number, line) in code.lines().enumerate() {
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        if let Some(at) = words.iter().position(|w| *w == "fn") {
            if let Some(name) = words[at + 1..].iter().find(|w| !w.is_empty()) {
                pending = Some((name.to_string(), number + 1, depth));
            }
        }
        for c in line.chars() {
            match c {
                '{' => {
                    if let Some(function) = pending.take_if(|f| f.2 == depth) {
                        open.push(function);
                    }
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if let Some(function) = open.pop_if(|f| f.2 == depth) {
                        found.push((function.0, function.1, number + 1 - function.1 + 1));
                    }
                }
                ';' => {
                    pending.take_if(|f| f.2 == depth);
                }
                _ => {}
            }
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// `runner/commands.rs` → `runner`; `main.rs` → `main`.
fn top_module(path: &str) -> &str {
    path.split('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".rs")
}

#[test]
fn no_module_imports_from_a_higher_layer() {
    let mut problems = Vec::new();
    for (path, source) in sources() {
        let module = top_module(&path);
        let Some(own) = layer_of(module) else {
            problems.push(format!("{path}: module `{module}` is in no layer"));
            continue;
        };
        let code = code_only(before_tests(&source));
        for (at, _) in code.match_indices("crate::") {
            let used: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            match layer_of(&used) {
                Some(layer) if layer > own => problems.push(format!(
                    "{path}: `{module}` imports `crate::{used}`, a higher layer"
                )),
                Some(_) => {}
                None => problems.push(format!("{path}: `crate::{used}` is in no layer")),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut problems = Vec::new();
    for (path, source) in sources() {
        for (name, line, length) in functions(&code_only(before_tests(&source))) {
            let allowed = LONG_FUNCTIONS
                .iter()
                .any(|(file, function, _)| *file == path && *function == name);
            if length > LONGEST_FUNCTION && !allowed {
                problems.push(format!("{path}:{line}: `{name}` is {length} lines"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn no_file_is_longer_than_600_lines_before_its_tests() {
    let mut problems = Vec::new();
    for (path, source) in sources() {
        let length = before_tests(&source).lines().count();
        let allowed = LONG_FILES.iter().any(|(file, _)| *file == path);
        if length > LONGEST_FILE && !allowed {
            problems.push(format!("{path}: {length} lines before its tests"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_measures_measure() {
    let code = code_only(
        "fn a() {\n    let s = \"}\";\n    // }\n    let c = '{';\n}\nfn b<'x>(v: &'x str) -> &'x str {\n    v\n}\nfn c();\n",
    );
    assert_eq!(
        functions(&code),
        vec![("a".to_string(), 1, 5), ("b".to_string(), 6, 3)]
    );
    assert_eq!(before_tests("a\n#[cfg(test)]\nmod tests {}\n"), "a\n");
    assert_eq!(
        before_tests("a\n#[cfg(test)]\nuse b;\n"),
        "a\n#[cfg(test)]\nuse b;\n"
    );
    assert_eq!(top_module("runner/commands.rs"), "runner");
    assert_eq!(top_module("main.rs"), "main");
}
