//! The layers import one way: web → admin → oauth → store → port → model → error, and `edge`
//! (the Worker) above them all. This test reads every source file and fails on any path into
//! a higher layer, naming the file and line, so an upward import cannot land unnoticed: a
//! `crate::` path, each member of a grouped `use crate::{…}`, and `super::`/`self::` paths
//! resolved from the file's own module.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file may name its own layer and the ones before it.
const LAYERS: [&str; 8] = [
    "error", "model", "port", "store", "oauth", "admin", "web", "edge",
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// The layer of a source file: its first folder under `src/`, or its name for `src/error.rs`.
fn layer_of(relative: &Path) -> Option<&str> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    rank(first.trim_end_matches(".rs")).map(|r| LAYERS[r])
}

/// The module path of a source file: `oauth/grant/mod.rs` → `oauth::grant`,
/// `oauth/grant/password.rs` → `oauth::grant::password`, `lib.rs` → the crate root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// A token of source text with its line: an identifier, `::`, or one other character.
#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Path,
    Punct(char),
}

/// The tokens of `source`, without comments, strings and character literals.
fn tokens(source: &str) -> Vec<(usize, Token)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (at(i + 1) == '"' || (at(i + 1) == '#' && at(i + 2) == '"' || at(i + 2) == '#'))
            && !at(i.wrapping_sub(1)).is_alphanumeric()
        {
            // A raw string: r"…", r#"…"#, r##"…"##.
            let mut hashes = 0;
            i += 1;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                line += usize::from(chars[i] == '\n');
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), or else a lifetime's quote.
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((line, Token::Ident(chars[start..i].iter().collect())));
        } else if c == ':' && at(i + 1) == ':' {
            out.push((line, Token::Path));
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push((line, Token::Punct(c)));
            }
            i += 1;
        }
    }
    out
}

/// The paths that start at `tokens[i]`, each resolved against `module` to the absolute path's
/// first segment, with the line it is on; and where the path ends.
fn leaves(
    tokens: &[(usize, Token)],
    mut i: usize,
    base: Vec<String>,
    out: &mut Vec<(usize, String)>,
) -> usize {
    let mut path = base;
    loop {
        let Some((line, token)) = tokens.get(i) else {
            return i;
        };
        match token {
            Token::Ident(name) if name == "super" => {
                path.pop();
            }
            Token::Ident(name) if name == "self" || name == "crate" => {}
            Token::Ident(name) => {
                // The layer is the first segment from the crate's root: named once, where it
                // is pushed onto an empty path.
                if path.is_empty() {
                    out.push((*line, name.clone()));
                }
                path.push(name.clone());
                // Past the first named segment, the rest cannot change the layer.
                while matches!(tokens.get(i + 1), Some((_, Token::Path)))
                    && matches!(tokens.get(i + 2), Some((_, Token::Ident(_))))
                {
                    i += 2;
                }
                if matches!(tokens.get(i + 1), Some((_, Token::Ident(a))) if a == "as") {
                    return i + 3;
                }
                if !matches!(tokens.get(i + 1), Some((_, Token::Path))) {
                    return i + 1;
                }
            }
            Token::Punct('{') => {
                // A group: each member is a path from here.
                i += 1;
                loop {
                    i = leaves(tokens, i, path.clone(), out);
                    match tokens.get(i) {
                        Some((_, Token::Punct(','))) => i += 1,
                        Some((_, Token::Punct('}'))) => return i + 1,
                        _ => return i,
                    }
                    if matches!(tokens.get(i), Some((_, Token::Punct('}')))) {
                        return i + 1;
                    }
                }
            }
            Token::Punct('*') => return i + 1,
            _ => return i,
        }
        i += 1;
        match tokens.get(i) {
            Some((_, Token::Path)) => i += 1,
            _ => return i,
        }
    }
}

/// Every layer a source text of module `module` names, with its line number.
fn named_layers(module: &[String], source: &str) -> Vec<(usize, String)> {
    let tokens = tokens(source);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts = match &tokens[i] {
            (_, Token::Ident(name)) if name == "crate" => Some(Vec::new()),
            (_, Token::Ident(name)) if name == "super" || name == "self" => Some(module.to_vec()),
            _ => None,
        };
        let after_path = i > 0 && matches!(tokens[i - 1], (_, Token::Path));
        match starts {
            Some(base) if !after_path && matches!(tokens.get(i + 1), Some((_, Token::Path))) => {
                i = leaves(&tokens, i, base, &mut out).max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// The upward imports of one file of `layer`, module `module`.
fn upward(layer: &str, module: &[String], source: &str) -> Vec<(usize, String)> {
    let own = rank(layer).expect("a known layer");
    named_layers(module, source)
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
        for (line, named) in upward(layer, &module_of(relative), &text) {
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
    let port = module_of(Path::new("port/users.rs"));
    let text = "use crate::model::Client;\nuse crate::web::HttpRequest; // comment\n\
                fn f() -> crate::oauth::X;\n// crate::admin in a comment\n\
                use edge_crate::web;\nlet s = \"crate::web::X\";\n";
    assert_eq!(
        upward("port", &port, text),
        vec![(2, "web".to_string()), (3, "oauth".to_string())]
    );
    assert!(upward("web", &module_of(Path::new("web/mod.rs")), text).is_empty());
    assert_eq!(layer_of(Path::new("oauth/grant/mod.rs")), Some("oauth"));
    assert_eq!(layer_of(Path::new("error.rs")), Some("error"));
    assert_eq!(layer_of(Path::new("lib.rs")), None);
}

#[test]
fn grouped_imports_are_read_member_by_member() {
    let port = module_of(Path::new("port/users.rs"));
    let grouped =
        "use crate::{\n    model::User as U,\n    oauth::{token::X, keys},\n    web,\n};\n";
    assert_eq!(
        upward("port", &port, grouped),
        vec![(3, "oauth".to_string()), (4, "web".to_string())]
    );
    assert!(upward("port", &port, "use crate::{error::StoreError, model::*};").is_empty());
    assert_eq!(
        upward("port", &port, "use crate::{model::User as U, web::X as Y};"),
        vec![(1, "web".to_string())]
    );
}

#[test]
fn super_paths_are_resolved_from_the_file_s_module() {
    // src/store/users.rs is `store::users`: `super::` is `store`, `super::super::` the root.
    let users = module_of(Path::new("store/users.rs"));
    assert_eq!(users, ["store", "users"]);
    assert!(upward("store", &users, "use super::codec::int;").is_empty());
    assert_eq!(
        upward("store", &users, "use super::super::web::handle;"),
        vec![(1, "web".to_string())]
    );
    assert_eq!(
        upward("store", &users, "use super::{codec, super::oauth::X};"),
        vec![(1, "oauth".to_string())]
    );
    // A mod.rs is its folder: src/oauth/grant/mod.rs is `oauth::grant`.
    let grant = module_of(Path::new("oauth/grant/mod.rs"));
    assert_eq!(
        upward("oauth", &grant, "fn f(x: super::super::admin::Reply) {}"),
        vec![(1, "admin".to_string())]
    );
    assert!(upward(
        "oauth",
        &grant,
        "use super::super::model::User; use self::checked::C;"
    )
    .is_empty());
    // Raw strings, characters and lifetimes do not confuse the reader.
    let tricky =
        "let a = r#\"crate::web\"#; let c = '\\''; fn f<'a>(x: &'a str) {}\nuse crate::web::X;";
    assert_eq!(upward("port", &users, tricky), vec![(2, "web".to_string())]);
}

#[test]
fn the_worker_s_own_code_never_formats_with_debug() {
    // The Worker is built with `-Zfmt-debug=none` (scripts/build.sh): `{:?}` formats nothing
    // there, so a message written with it would lose its words. Tests (after `#[cfg(test)]`)
    // and the conformance suite's diagnostics (a test build's) may use it.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.to_string_lossy().contains("conformance"))
    {
        let text = fs::read_to_string(file).unwrap();
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(":?}") || code.contains(":#?}") || code.contains("dbg!(") {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(files.len() > 40, "only {} files read", files.len());
    assert!(
        found.is_empty(),
        "Debug formatting in the Worker:\n{}",
        found.join("\n")
    );
}
