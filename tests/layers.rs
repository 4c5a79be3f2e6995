//! The layers import one way: web → admin → oauth → port → model → error, and `edge` (the
//! Worker) above them all. This test reads every source file and fails on any path into a
//! higher layer, naming the file and line, so an upward import cannot land unnoticed.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file may name its own layer and the ones before it.
const LAYERS: [&str; 7] = ["error", "model", "port", "oauth", "admin", "web", "edge"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// The layer of a source file: its first folder under `src/`, or its name for `src/error.rs`.
fn layer_of(relative: &Path) -> Option<&str> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    rank(first.trim_end_matches(".rs")).map(|r| LAYERS[r])
}

/// Every `crate::<layer>` a source text names outside comments and strings' doc lines, with
/// its line number.
fn named_layers(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let preceded_by_ident = rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if !preceded_by_ident {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// The upward imports of one file of `layer`.
fn upward(layer: &str, source: &str) -> Vec<(usize, String)> {
    let own = rank(layer).expect("a known layer");
    named_layers(source)
        .into_iter()
        .filter(|(_, named)| rank(named).is_some_and(|r| r > own))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_import_runs_against_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    let mut placed = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(layer) = layer_of(relative) else {
            assert_eq!(relative, Path::new("lib.rs"), "a file outside every layer");
            continue;
        };
        placed += 1;
        let text = fs::read_to_string(file).unwrap();
        for (line, named) in upward(layer, &text) {
            found.push(format!(
                "src/{}:{line}: {layer} imports {named}",
                relative.display()
            ));
        }
    }
    assert!(placed > 40, "the walk found only {placed} source files");
    assert!(
        found.is_empty(),
        "imports against the layers:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_protocol_flow_takes_the_whole_issuer() {
    // The composition root is for the endpoints; a flow takes the ports it uses.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in ["model", "port", "oauth"] {
        sources(&src.join(layer), &mut files);
    }
    let takers: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("oauth/issuer.rs"))
        .filter(|f| {
            let text = fs::read_to_string(f).unwrap();
            text.lines()
                .any(|l| !l.trim_start().starts_with("//") && l.contains("Issuer<"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(files.len() > 30, "only {} files read", files.len());
    assert!(takers.is_empty(), "flows that take the Issuer: {takers:?}");
}

#[test]
fn the_check_sees_upward_paths_and_only_those() {
    let text = "use crate::model::Client;\nuse crate::web::HttpRequest; // comment\n\
                fn f() -> crate::oauth::X;\n// crate::admin in a comment\n\
                use edge_crate::web;\n";
    assert_eq!(
        upward("port", text),
        vec![(2, "web".to_string()), (3, "oauth".to_string())]
    );
    assert!(upward("web", text).is_empty());
    assert_eq!(layer_of(Path::new("oauth/grant/mod.rs")), Some("oauth"));
    assert_eq!(layer_of(Path::new("error.rs")), Some("error"));
    assert_eq!(layer_of(Path::new("lib.rs")), None);
}
