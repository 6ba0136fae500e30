//! No panic on any input: money amounts and dates typed by users.

use gonghui_platform::{money::Fen, time::parse_date};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn money_never_panics(raw in any::<String>(), near in "[-+]?[0-9０-９,，]{0,25}([.．][0-9]{0,4})?[元 ]?") {
        for s in [&raw, &near] {
            if let Ok(f) = Fen::parse(s) {
                // What parses prints and parses back to itself.
                prop_assert_eq!(Fen::parse(&f.yuan_text()).ok(), Some(f));
                let _ = f.display();
            }
            let _ = Fen::parse_signed(s);
        }
    }

    #[test]
    fn dates_never_panic(raw in any::<String>(), near in "[0-9０-９]{0,9}[-/.年]?[0-9]{0,3}[-/.月]?[0-9]{0,3}日?") {
        for s in [&raw, &near] {
            let _ = parse_date(s);
        }
    }
}
