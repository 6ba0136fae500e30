//! The direction of dependency between our crates (ARCHITECTURE.md, "Crate
//! map"): leaf crates name none of ours but numfmt (charts), the platform no
//! business crate, and no business crate the binary. Cargo refuses circles;
//! this refuses an edge pointing the wrong way before it becomes one.

use std::collections::BTreeMap;

/// Our crates each crate names under `[dependencies]` (not dev-dependencies).
fn our_dependencies() -> BTreeMap<String, Vec<String>> {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Every crate of the workspace, so a new module is checked the day it lands.
    let ours: Vec<String> = std::fs::read_dir(&crates)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut out = BTreeMap::new();
    for name in &ours {
        let text = std::fs::read_to_string(crates.join(name).join("Cargo.toml")).unwrap();
        let mut in_deps = false;
        let mut deps = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_deps = line == "[dependencies]";
                continue;
            }
            if !in_deps {
                continue;
            }
            let key = line.split(['.', ' ', '=']).next().unwrap_or_default();
            if ours.iter().any(|o| o == key) {
                deps.push(key.to_string());
            }
        }
        out.insert(name.clone(), deps);
    }
    out
}

#[test]
fn dependencies_point_from_the_binary_down_to_the_leaves() {
    let deps = our_dependencies();
    let allowed: &[(&str, &[&str])] = &[
        ("sheet", &[]),
        ("ident", &[]),
        ("numfmt", &[]),
        ("geo", &[]),
        ("charts", &["numfmt"]),
        ("platform", &["numfmt", "ident"]),
        // sheet: the workforce import (职工人数).
        ("orgs", &["platform", "ident", "numfmt", "sheet"]),
        ("members", &["platform", "orgs", "ident", "sheet", "numfmt"]),
        (
            "reports",
            &["platform", "orgs", "ident", "numfmt", "charts", "sheet"],
        ),
        ("summary", &["platform", "reports", "numfmt", "charts"]),
    ];
    // A business module builds on the platform, the leaf crates, and the
    // org tree, the roster and the figures engine when it reads them; never
    // on another business module or the binary.
    let module: &[&str] = &[
        "platform", "ident", "numfmt", "charts", "sheet", "geo", "orgs", "members", "reports",
    ];
    for (name, list) in &deps {
        if name == "gonghui" {
            continue;
        }
        let may = allowed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| *m)
            .unwrap_or(module);
        for d in list {
            assert!(
                may.contains(&d.as_str()),
                "{name} must not depend on {d} (see ARCHITECTURE.md, crate map)"
            );
        }
    }
    assert!(deps.contains_key("summary") && deps.contains_key("members"));
    assert!(
        deps.values().all(|d| !d.contains(&"gonghui".to_string())),
        "nothing depends on the binary crate"
    );
    assert!(deps["gonghui"].contains(&"platform".to_string()));
}

/// Every JSON route of every module is in the API document: they are
/// registered through `routes!`, which takes the path from the handler's
/// documentation; pages cannot take an `/api/` path.
#[test]
fn every_api_route_is_documented() {
    let r = gonghui::modules::registry();
    let doc = r.openapi();
    let api: Vec<&str> = r
        .paths()
        .iter()
        .filter(|p| p.api)
        .map(|p| p.path.as_str())
        .collect();
    assert!(api.len() >= 25, "{api:?}");
    for p in r.paths() {
        if p.path.starts_with("/api/") {
            assert!(p.api, "{} is an API route", p.path);
        }
        if p.api {
            assert!(
                doc.paths.paths.contains_key(&p.path),
                "{} documented",
                p.path
            );
        }
    }
    for documented in doc.paths.paths.keys() {
        assert!(api.contains(&documented.as_str()), "{documented} is routed");
    }
}

#[test]
#[should_panic(expected = "registered with Routes::api")]
fn an_api_path_cannot_be_a_page() {
    let _ = gonghui::platform::web::Routes::new()
        .page("/api/v1/undocumented", axum::routing::get(|| async { "x" }));
}
