//! The direction of dependency between our crates (ARCHITECTURE.md, "Crate
//! map"): leaf crates name none of ours but numfmt (charts), the platform no
//! business crate, and no business crate the binary. Cargo refuses circles;
//! this refuses an edge pointing the wrong way before it becomes one.

use std::collections::BTreeMap;

/// Our crates each crate names under `[dependencies]` (not dev-dependencies).
fn our_dependencies() -> BTreeMap<String, Vec<String>> {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ours = [
        "sheet", "ident", "numfmt", "charts", "platform", "orgs", "members", "reports", "gonghui",
    ];
    let mut out = BTreeMap::new();
    for name in ours {
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
            if ours.contains(&key) {
                deps.push(key.to_string());
            }
        }
        out.insert(name.to_string(), deps);
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
        ("charts", &["numfmt"]),
        ("platform", &["numfmt"]),
        ("orgs", &["platform", "ident", "numfmt"]),
        ("members", &["platform", "orgs", "ident", "sheet", "numfmt"]),
        (
            "reports",
            &["platform", "orgs", "ident", "numfmt", "charts", "sheet"],
        ),
    ];
    for (name, may) in allowed {
        for d in &deps[*name] {
            assert!(
                may.contains(&d.as_str()),
                "{name} must not depend on {d} (see ARCHITECTURE.md, crate map)"
            );
        }
    }
    assert!(
        deps.values().all(|d| !d.contains(&"gonghui".to_string())),
        "nothing depends on the binary crate"
    );
    assert!(deps["gonghui"].contains(&"platform".to_string()));
}
