//! The layers of ARCHITECTURE.md hold: dependencies point down (web → services → db/domain),
//! and nothing below `web/` reaches up. Reads the sources, so a new back-edge fails here.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Lines of code in `layer` (a folder or a file under src/) that name any of `forbidden`.
fn back_edges(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let path = root.join(layer);
    if path.is_dir() {
        sources(&path, &mut files);
    } else {
        files.push(path);
    }
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for bad in forbidden {
                if code.contains(bad) {
                    found.push(format!("{}:{}: {}", f.strip_prefix(&root).unwrap().display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

const UPWARD_FROM_SERVICES: &[&str] =
    &["crate::web", "crate::auth", "crate::state", "crate::cli", "rocket::http", "rocket::request", "rocket::response"];

#[test]
fn domain_knows_no_storage_no_http_and_no_layer_above() {
    let edges = back_edges(
        "domain",
        &["crate::db", "crate::services", "crate::web", "crate::auth", "crate::state", "crate::error", "diesel", "rocket"],
    );
    assert!(edges.is_empty(), "domain/ reaches out:\n{}", edges.join("\n"));
}

#[test]
fn storage_does_not_reach_up() {
    let edges = back_edges("db", &["crate::services", "crate::web", "crate::auth", "crate::state", "crate::cli", "rocket"]);
    assert!(edges.is_empty(), "db/ reaches up:\n{}", edges.join("\n"));
}

#[test]
fn services_do_not_reach_up() {
    let edges = back_edges("services", UPWARD_FROM_SERVICES);
    assert!(edges.is_empty(), "services/ reach up:\n{}", edges.join("\n"));
}

#[test]
fn routes_read_through_services_not_the_storage_layer() {
    // web/ is guard → service → page or JSON: the models and the schema are the services' own
    let edges = back_edges("web", &["db::models", "db::schema", "diesel"]);
    assert!(edges.is_empty(), "web/ reaches past the services into db/:\n{}", edges.join("\n"));
}

#[test]
fn shared_modules_below_web_do_not_reach_up() {
    for module in ["error.rs", "render.rs", "config.rs", "timefmt.rs", "clock.rs"] {
        let edges = back_edges(module, UPWARD_FROM_SERVICES);
        assert!(edges.is_empty(), "{module} reaches up:\n{}", edges.join("\n"));
        let edges = back_edges(module, &["crate::services"]);
        assert!(edges.is_empty(), "{module} depends on services:\n{}", edges.join("\n"));
    }
}

#[test]
fn the_readme_map_names_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("\nsrc/main.rs").expect("the README has its code map");
    let map = &readme[start..start + readme[start..].find("```").expect("map ends")];
    let words: std::collections::HashSet<&str> =
        map.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).filter(|w| !w.is_empty()).collect();
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let stem = f.file_stem()?.to_str()?;
            let named = stem == "mod" || words.contains(stem);
            (!named).then(|| f.strip_prefix(root).unwrap().display().to_string())
        })
        .collect();
    assert!(missing.is_empty(), "README.md's code map does not name: {}", missing.join(", "));
}
