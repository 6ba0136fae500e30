//! No panic on any input: `read_table` on arbitrary small files, on files
//! that start like a workbook (zip, OLE) and on damaged real workbooks.

use gonghui_sheet::{read_table, write_xlsx, CellOut, SheetOut};
use proptest::prelude::*;

fn workbook() -> Vec<u8> {
    write_xlsx(&[SheetOut {
        name: "名单".into(),
        headers: vec!["姓名".into(), "身份证号".into(), "入会日期".into()],
        rows: vec![
            vec![
                CellOut::Text("张三".into()),
                CellOut::Text("11010519491231002X".into()),
                CellOut::Text("2020-01-02".into()),
            ],
            vec![
                CellOut::Int(7),
                CellOut::Num(1.5),
                CellOut::Text(String::new()),
            ],
        ],
        col_widths: None,
    }])
    .unwrap()
}

/// Regression: a workbook with one byte zeroed made calamine index its
/// shared strings out of bounds, a panic in the import; every position is
/// tried, the damage is refused as unreadable.
#[test]
fn zeroing_any_byte_of_a_workbook_is_an_error_not_a_panic() {
    let good = workbook();
    assert!(read_table(&good, 100).is_ok());
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] = 0;
        let _ = read_table(&b, 100);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        magic in prop_oneof![
            Just(&b""[..]),
            Just(&b"PK\x03\x04"[..]),
            Just(&b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"[..]),
            Just(&b"\xEF\xBB\xBF"[..]),
            Just(&b"\xFF\xFE"[..]),
            Just(&b"<html>"[..]),
        ],
    ) {
        let mut input = magic.to_vec();
        input.extend_from_slice(&bytes);
        let _ = read_table(&input, 100);
    }

    #[test]
    fn csv_like_text_never_panics(text in "([^\\x00]{0,12}[,\\t\\n\\r\"]){0,40}", max_rows in 0usize..5) {
        let _ = read_table(text.as_bytes(), max_rows);
    }

    #[test]
    fn damaged_workbooks_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = workbook();
        for (at, v) in edits {
            let i = at.index(b.len());
            b[i] = v;
        }
        let _ = read_table(&b, 100);
        let n = cut.index(b.len());
        let _ = read_table(&b[..n], 100);
    }
}
