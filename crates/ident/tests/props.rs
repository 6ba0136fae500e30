//! No panic on any input: ID numbers (every kind), their masking, mobile
//! numbers and credit codes on arbitrary strings, and near-valid ones.

use gonghui_ident::{credit_code::CreditCode, mask_id, mask_phone, parse_mobile, IdKind, IdNumber};
use proptest::prelude::*;

const KINDS: [IdKind; 4] = [
    IdKind::ResidentId,
    IdKind::HkMacaoTwResidence,
    IdKind::Passport,
    IdKind::Other,
];

/// Digits, X, full-width forms, spaces and other scripts: where parsers slip.
fn near_id() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('0', '9'),
            1 => Just('X'),
            1 => Just('x'),
            1 => proptest::char::range('０', '９'),
            1 => Just('Ｘ'),
            1 => Just(' '),
            1 => Just('\u{3000}'),
            1 => any::<char>(),
        ],
        0..24,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn id_numbers_never_panic(raw in any::<String>(), near in near_id()) {
        for s in [&raw, &near] {
            for kind in KINDS {
                if let Ok(p) = IdNumber::parse(kind, s) {
                    // What parses masks, and the mask hides the middle.
                    let m = p.masked();
                    prop_assert_eq!(m.chars().count(), p.as_str().chars().count());
                    let _ = p.region_name();
                }
            }
            let _ = mask_id(s);
            let _ = mask_phone(s);
            let _ = parse_mobile(s);
        }
    }

    #[test]
    fn credit_codes_never_panic(raw in any::<String>(), near in "[0-9A-Z ]{0,22}") {
        for s in [&raw, &near] {
            if let Ok(c) = CreditCode::parse(s) {
                prop_assert_eq!(c.as_str().len(), 18);
            }
        }
    }
}
