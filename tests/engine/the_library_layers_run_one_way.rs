//! The library's layers run one way: the engine uses streams, streams use shard logs, and a lower
//! layer never names a higher one (issue 13, item 1). What a stream needs from the engine it gets
//! through its own types (`stream::ledger`), so a change to the engine cannot break a stream.
//!
//! Checked on the source text of `src/`: each file belongs to the top-level module it sits in
//! (`src/stream/put.rs` to `stream`), and a module depends on every top-level module its code
//! names with a `crate::` path (a name the crate root re-exports, such as `crate::Engine`, counts
//! for the module it comes from). Unit-test modules (`#[cfg(test)] mod …`) are left out: they may
//! assemble the whole stack to test one part of it, and are not part of the library.
//!
//! - `stream/` and `log/` never mention `crate::engine`, in code or in documentation links;
//! - `log/` never mentions `crate::stream`;
//! - the dependencies between top-level modules form no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("listing src/") {
        let path = entry.expect("listing src/").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file of `src/` belongs to (`None` for the crate root).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).expect("a file below src/");
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(module) => Some(module.to_owned()),
        None => Some(first.to_owned()),
    }
}

/// The file's code without its unit-test modules and without comments.
fn library_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break; // unit tests sit at the end of a file
        }
        if !trimmed.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// The first path segments named after `crate::` in `code`, groups (`crate::{a, b::C}`) included.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for character in group.chars() {
                match character {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        named.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(character);
            }
            named.insert(first_segment(&item));
        } else {
            named.insert(first_segment(rest));
        }
    }
    named.remove("");
    named
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|character| character.is_alphanumeric() || *character == '_')
        .collect()
}

/// The names the crate root re-exports (`pub use crate::stream::{Stream, …}`), and the module each
/// comes from.
fn root_reexports(src: &Path) -> BTreeMap<String, String> {
    let root = fs::read_to_string(src.join("lib.rs")).expect("reading src/lib.rs");
    let mut reexports = BTreeMap::new();
    for statement in root.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use crate::") else {
            continue;
        };
        let module = first_segment(path);
        let names = path.rsplit(['{', ':']).next().unwrap_or_default();
        for name in names.split([',', '}']) {
            let name = first_segment(name);
            if !name.is_empty() {
                reexports.insert(name, module.clone());
            }
        }
    }
    reexports
}

/// For each top-level module, the other top-level modules it names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = src_dir();
    let reexports = root_reexports(&src);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = fs::read_to_string(&file).expect("reading a source file");
        let named = graph.entry(module.clone()).or_default();
        for segment in crate_paths(&library_code(&text)) {
            let target = reexports.get(&segment).cloned().unwrap_or(segment);
            if target != module {
                named.insert(target);
            }
        }
    }
    graph
}

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|on_path| on_path == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_stream_and_the_log_never_name_the_engine_and_the_log_never_names_the_stream() {
    let src = src_dir();
    let mut offences = Vec::new();
    for file in rust_files(&src) {
        let module = module_of(&src, &file);
        let forbidden: &[&str] = match module.as_deref() {
            Some("stream") => &["crate::engine"],
            Some("log") => &["crate::engine", "crate::stream"],
            _ => continue,
        };
        let text = fs::read_to_string(&file).expect("reading a source file");
        for (number, line) in text.lines().enumerate() {
            for name in forbidden.iter().filter(|name| line.contains(*name)) {
                offences.push(format!("{}:{}: {name}", file.display(), number + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "a lower layer names a higher one:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_library_modules_form_no_circle() {
    let graph = dependencies();
    // The check sees the layers at all: the engine names the stream, the stream the log.
    assert!(graph["engine"].contains("stream"), "{graph:?}");
    assert!(graph["stream"].contains("log"), "{graph:?}");
    assert_eq!(find_circle(&graph), None, "module dependencies: {graph:?}");
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("engine", vec!["stream"]),
        ("stream", vec!["log", "engine"]),
        ("log", vec![]),
    ]
    .into_iter()
    .map(|(module, named)| {
        (
            module.to_owned(),
            named.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(
        find_circle(&graph),
        Some(vec![
            "engine".to_owned(),
            "stream".to_owned(),
            "engine".to_owned()
        ])
    );
    assert_eq!(
        crate_paths("use crate::{clock::Clock, log::{A, B}};\nlet x = crate::Engine::open();"),
        ["Engine", "clock", "log"].map(str::to_owned).into()
    );
}
