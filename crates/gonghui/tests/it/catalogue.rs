//! The indicator catalogue every registered module contributes to: codes
//! unique and well-formed, every definition matching its kind, ratios over
//! counted parts, breakdown groups inside one section.

use gonghui::platform::indicator::{find, Aggregation, Definition, Indicator, Kind, Measure};

/// Every indicator of the binary's modules.
fn catalogue() -> Vec<Indicator> {
    gonghui::modules::registry().indicators()
}

#[test]
fn catalogue_is_consistent() {
    let all = catalogue();
    assert!(all.len() > 30, "{}", all.len());
    let mut codes: Vec<&str> = all.iter().map(|i| i.code).collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(before, codes.len(), "indicator codes are unique");
    for i in &all {
        assert!(
            i.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{}",
            i.code
        );
        assert!(
            !i.about_zh.is_empty() && !i.about_en.is_empty(),
            "{}",
            i.code
        );
        match (i.kind, i.definition) {
            (
                Kind::PointInTime | Kind::Flow,
                Definition::Records {
                    when,
                    measure,
                    source,
                },
            ) => {
                assert!(!when.trim().is_empty(), "{}", i.code);
                // A distinct count lists one row per (org, value): the
                // source must say how to group its drill-down.
                if let Measure::Distinct(_) = measure {
                    assert!(source.drill_group.is_some(), "{}", i.code);
                }
                if i.kind == Kind::Flow {
                    assert!(
                        when.contains("{start}"),
                        "a flow is bounded by the period: {}",
                        i.code
                    );
                }
            }
            (Kind::Ratio { num, den }, Definition::Derived) => {
                for part in [num, den] {
                    let p = all
                        .iter()
                        .find(|x| x.code == part)
                        .expect("ratio part exists");
                    assert!(p.source().is_some(), "ratio parts are counted: {}", i.code);
                }
                assert_eq!(i.aggregation, Aggregation::Ratio);
            }
            (Kind::Manual, Definition::Entered) => {}
            (k, d) => panic!("{}: kind {k:?} does not match definition {d:?}", i.code),
        }
    }
    assert!(find(&all, "members_total").is_ok());
    assert!(matches!(
        find(&all, "no_such_thing"),
        Err(gonghui::platform::error::AppError::Invalid(m)) if m.zh.contains("no_such_thing")
    ));
}

#[test]
fn groups_stay_inside_one_section() {
    let all = catalogue();
    for i in &all {
        if let Some(g) = i.group {
            assert!(all
                .iter()
                .filter(|x| x.group == Some(g))
                .all(|x| x.section == i.section && x.unit == i.unit));
        }
    }
}
