//! The engine's core names no feature unit. Quality, restoration, routing and transparency
//! plug into the write path through hooks and depend on the core, never the other way
//! round, so each can move into a crate of its own. Only the units themselves and the module that composes the
//! standard rules may name them.

use std::path::{Path, PathBuf};

const FEATURE_UNITS: [&str; 4] = ["quality", "restoration", "routing", "transparency"];

/// Source files that may name the units: their own, and the composition of the standard
/// rules.
fn may_name_units(relative: &Path) -> bool {
    FEATURE_UNITS
        .iter()
        .any(|unit| relative.starts_with(unit) || relative == Path::new(&format!("{unit}.rs")))
        || relative == Path::new("standard.rs")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its comment lines and without whitespace, so a path split
/// over lines or spaced out still reads as one.
fn code_of(source: &str) -> String {
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The top-level items of every `{...}` group that follows `prefix` in `code`.
fn grouped_items<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut items = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let group = &rest[at + prefix.len()..];
        let (mut depth, mut start) = (1, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                    if c == '}' {
                        break;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        rest = group;
    }
    items
}

/// The feature units `source` names through a path.
fn units_named(source: &str) -> Vec<&'static str> {
    let code = code_of(source);
    let mut grouped = grouped_items(&code, "crate::{");
    grouped.extend(grouped_items(&code, "super::{"));
    FEATURE_UNITS
        .into_iter()
        .filter(|unit| {
            ["crate::", "super::", "redress_engine::"]
                .iter()
                .any(|root| code.contains(&format!("{root}{unit}")))
                || grouped
                    .iter()
                    .any(|item| *item == *unit || item.starts_with(&format!("{unit}::")))
        })
        .collect()
}

#[test]
fn no_core_module_names_a_feature_unit() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let core: Vec<PathBuf> = files
        .into_iter()
        .filter_map(|path| path.strip_prefix(&src).ok().map(Path::to_path_buf))
        .filter(|relative| !may_name_units(relative))
        .collect();
    for expected in [
        "engine.rs",
        "filing.rs",
        "commands.rs",
        "outbox.rs",
        "worker/batch.rs",
    ] {
        assert!(
            core.iter().any(|path| path == Path::new(expected)),
            "{expected} is among the core's files: {core:?}"
        );
    }
    let offenders: Vec<String> = core
        .iter()
        .filter_map(|relative| {
            let source = std::fs::read_to_string(src.join(relative)).expect("read a source file");
            let named = units_named(&source);
            (!named.is_empty())
                .then(|| format!("{} names {}", relative.display(), named.join(", ")))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "the core must not depend on a feature unit; register a hook instead:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_way_of_naming_a_unit_is_seen() {
    for source in [
        "use crate::restoration::bulk::DryRun;",
        "let x = crate::transparency::throttle::refusal_text(now);",
        "use crate::{\n    hooks::Hooks,\n    transparency::status,\n};",
        "use crate::{restoration, settings};",
        "use super::super::{engine::Engine, restoration::Selector};",
        "use super :: transparency;",
    ] {
        assert!(!units_named(source).is_empty(), "{source}");
    }
    for source in [
        "// crate::restoration is mentioned in a comment only",
        "use crate::entity::restoration;",
        "use crate::outbox::RequestRestoration;",
        "use crate::{entity::{restoration, appeal}, hooks::Hooks};",
        "let restoration_id = Uuid::now_v7();",
    ] {
        assert!(units_named(source).is_empty(), "{source}");
    }
}
