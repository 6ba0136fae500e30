//! Workbook bombs: refused before calamine allocates.
//!
//! calamine sizes its cell buffers from what a workbook *says*: an `.xlsx`
//! with one header cell and one cell at `XFD1048576` (1.5 KB on disk) makes
//! it reserve and fill a 1,048,576 × 16,384 grid, and a `.xls` whose
//! DIMENSIONS record claims a huge range makes `Xls::new` reserve it for
//! every sheet. So before a workbook reaches calamine, [`check_xlsx`] and
//! [`check_xls`] read only the container's index and stream the parts in
//! constant memory:
//!
//! - `.xlsx`/`.ods` (zip): the end-of-central-directory record (entry count
//!   and directory size), then every entry's declared sizes and compression
//!   ratio from the central directory, then each worksheet's XML — its
//!   `<dimension ref=…>` and the real extent of the cells that hold a value —
//!   and the shared strings (declared `uniqueCount` and real `<si>` count).
//!   Decompressed bytes are counted while streaming, so a central directory
//!   that lies about sizes gains nothing.
//! - `.xls` (OLE): the `Workbook`/`Book` stream record by record — every
//!   sheet's DIMENSIONS record as calamine reads it, and the real extent of
//!   its cell records.
//!
//! Every refusal is [`SheetError::Oversized`], which says in Chinese and
//! English what is too large and what to do.

use std::io::{self, Read, Seek, SeekFrom};

use crate::SheetError;

/// The most a workbook may declare or hold before it is refused unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows a sheet's range may span (data rows plus header and title rows).
    pub max_rows: u64,
    /// Columns a sheet's range may span.
    pub max_cols: u64,
    /// Cells a sheet's range may span (rows × columns): what calamine
    /// allocates, about 32 bytes each.
    pub max_cells: u64,
    /// Decompressed bytes of any one zip entry (a worksheet's XML).
    pub max_part_bytes: u64,
    /// Decompressed bytes of all zip entries together.
    pub max_total_bytes: u64,
    /// Largest decompressed/compressed ratio accepted for an entry bigger
    /// than [`Self::ratio_floor`] (deflate's own ceiling is about 1,032).
    pub max_ratio: u64,
    /// Entries below this many decompressed bytes are not ratio-checked.
    pub ratio_floor: u64,
    /// Entries in the zip (a workbook has tens).
    pub max_entries: u64,
    /// Bytes of the zip's central directory.
    pub max_directory_bytes: u64,
    /// Shared strings, declared or real.
    pub max_strings: u64,
}

/// Rows beyond 300,000 data rows left for the header, title and blank rows.
const HEADER_ROOM: u64 = 1_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rows: 300_000 + HEADER_ROOM,
            max_cols: 200,
            // 300,000 rows of a 40-column form; ~400 MB of calamine cells.
            max_cells: 12_000_000,
            max_part_bytes: 512 << 20,
            max_total_bytes: 1 << 30,
            max_ratio: 400,
            ratio_floor: 8 << 20,
            max_entries: 10_000,
            max_directory_bytes: 8 << 20,
            max_strings: 10_000_000,
        }
    }
}

fn oversized(zh: String, en: String) -> SheetError {
    SheetError::Oversized { zh, en }
}

fn io_err(e: io::Error) -> SheetError {
    SheetError::Read(e.to_string())
}

/// Checks the extent of a sheet's range against the limits. `rows`/`cols`
/// are spans (last − first + 1), already known to be positive.
fn check_span(
    limits: &Limits,
    what_zh: &str,
    what_en: &str,
    rows: u64,
    cols: u64,
) -> Result<(), SheetError> {
    if rows > limits.max_rows
        || cols > limits.max_cols
        || rows.saturating_mul(cols) > limits.max_cells
    {
        return Err(oversized(
            format!(
                "{what_zh}达{rows}行×{cols}列,超出导入上限(最多{}行、{}列、共{}个单元格)。常见原因是在很远的行列(如XFD1048576)留有内容或格式。请只把有数据的区域复制到新工作簿,另存为.xlsx后重新上传",
                limits.max_rows, limits.max_cols, limits.max_cells
            ),
            format!(
                "{what_en} spans {rows} rows × {cols} columns, beyond the import limit (at most {} rows, {} columns, {} cells). Usually something was left in a far-away cell (such as XFD1048576). Copy only the cells with data into a new workbook, save it as .xlsx and upload again.",
                limits.max_rows, limits.max_cols, limits.max_cells
            ),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------- xlsx

/// Checks a zip workbook (`.xlsx`, `.xlsm`, `.ods`) against `limits`
/// without decompressing more than one buffer at a time.
pub fn check_xlsx<R: Read + Seek>(mut r: R, limits: &Limits) -> Result<(), SheetError> {
    check_eocd(&mut r, limits)?;
    r.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let Ok(mut zip) = zip::ZipArchive::new(r) else {
        // Not a zip the checker can read; calamine will say what it is.
        return Ok(());
    };
    let mut total = 0u64;
    let mut parts = Vec::new();
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| SheetError::Read(e.to_string()))?;
        let (size, packed) = (f.size(), f.compressed_size());
        let name = f.name().to_string();
        check_entry_size(limits, &name, size, packed)?;
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(too_many_bytes(limits.max_total_bytes));
        }
        let lower = name.to_ascii_lowercase();
        let kind = if lower.starts_with("xl/worksheets/") && lower.ends_with(".xml") {
            Some(Part::Sheet)
        } else if lower == "xl/sharedstrings.xml" {
            Some(Part::Strings)
        } else {
            None
        };
        if let Some(kind) = kind {
            parts.push((i, name, kind));
        }
    }
    let mut streamed = 0u64;
    for (i, name, kind) in parts {
        let f = zip
            .by_index(i)
            .map_err(|e| SheetError::Read(e.to_string()))?;
        let mut scan = Scan::new(kind);
        let budget = limits
            .max_part_bytes
            .min(limits.max_total_bytes - streamed.min(limits.max_total_bytes));
        let n = feed(f, &mut scan, limits, budget, &name)?;
        streamed += n;
        scan.finish(limits, &name)?;
    }
    Ok(())
}

/// The end-of-central-directory record: entry count and directory size,
/// read before the zip crate builds its index of the entries.
fn check_eocd<R: Read + Seek>(r: &mut R, limits: &Limits) -> Result<(), SheetError> {
    let len = r.seek(SeekFrom::End(0)).map_err(io_err)?;
    let tail_len = len.min(22 + 65_535);
    r.seek(SeekFrom::Start(len - tail_len)).map_err(io_err)?;
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail).map_err(io_err)?;
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
    else {
        // Not a zip the zip crate could open either; let it say so.
        return Ok(());
    };
    let rec = &tail[at..];
    let entries = u64::from(u16::from_le_bytes([rec[10], rec[11]]));
    let dir_bytes = u64::from(u32::from_le_bytes([rec[12], rec[13], rec[14], rec[15]]));
    // Zip64 markers (0xFFFF, 0xFFFFFFFF) exceed the limits too: no workbook
    // needs more than 65,535 entries or a 4 GiB directory.
    if entries > limits.max_entries || dir_bytes > limits.max_directory_bytes {
        return Err(oversized(
            format!(
                "文件包含{entries}个压缩条目(目录{dir_bytes}字节),不像正常的Excel工作簿(通常只有几十个)。请用Excel/WPS打开后另存为.xlsx再重新上传"
            ),
            format!(
                "The file holds {entries} compressed entries ({dir_bytes} bytes of directory), unlike a normal Excel workbook (a few dozen). Open it in Excel/WPS, save it as .xlsx and upload again."
            ),
        ));
    }
    Ok(())
}

fn check_entry_size(limits: &Limits, name: &str, size: u64, packed: u64) -> Result<(), SheetError> {
    if size > limits.max_part_bytes {
        return Err(oversized(
            format!(
                "工作簿中的“{name}”解压后有{}MB,超过单个部件{}MB的上限。请把数据拆分为多个文件,或另存为CSV后上传",
                size >> 20,
                limits.max_part_bytes >> 20
            ),
            format!(
                "The workbook part \"{name}\" is {} MB uncompressed, beyond the {} MB limit for one part. Split the data into several files, or save it as CSV and upload that.",
                size >> 20,
                limits.max_part_bytes >> 20
            ),
        ));
    }
    if size > limits.ratio_floor && size / packed.max(1) > limits.max_ratio {
        return Err(oversized(
            format!(
                "工作簿中的“{name}”压缩比异常({}:1),疑似压缩炸弹,已拒绝读取。请用Excel/WPS打开后另存为.xlsx再重新上传",
                size / packed.max(1)
            ),
            format!(
                "The workbook part \"{name}\" has an absurd compression ratio ({}:1) and looks like a zip bomb; it was not read. Open the file in Excel/WPS, save it as .xlsx and upload again.",
                size / packed.max(1)
            ),
        ));
    }
    Ok(())
}

fn too_many_bytes(limit: u64) -> SheetError {
    oversized(
        format!(
            "工作簿解压后超过{}MB的上限。请把数据拆分为多个文件,或另存为CSV后上传",
            limit >> 20
        ),
        format!(
            "The workbook is larger than {} MB uncompressed. Split the data into several files, or save it as CSV and upload that.",
            limit >> 20
        ),
    )
}

/// Streams `r` through `scan` in 64 KiB chunks, at most `budget` bytes
/// (counted as they come, whatever the directory declared).
fn feed(
    mut r: impl Read,
    scan: &mut Scan,
    limits: &Limits,
    budget: u64,
    name: &str,
) -> Result<u64, SheetError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        };
        n += k as u64;
        if n > budget {
            return Err(if budget < limits.max_part_bytes {
                too_many_bytes(limits.max_total_bytes)
            } else {
                check_entry_size(limits, name, n, u64::MAX)
                    .err()
                    .unwrap_or_else(|| too_many_bytes(budget))
            });
        }
        scan.bytes(&buf[..k]);
        scan.check(limits, name)?;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Sheet,
    Strings,
}

/// Longest tag kept for inspection; longer tags are skipped (cells and
/// dimensions are short).
const MAX_TAG: usize = 512;

/// A constant-memory XML tag scanner: text is skipped, only the few tags
/// that matter are looked at.
struct Scan {
    part: Part,
    in_tag: bool,
    quote: u8,
    tag: Vec<u8>,
    overflow: bool,
    /// `<dimension ref>` as (first row, first col, last row, last col), 1-based.
    dimension: Option<(u64, u64, u64, u64)>,
    row: u64,
    col: u64,
    /// Real extent of cells with content: (min row, min col, max row, max col).
    extent: Option<(u64, u64, u64, u64)>,
    declared_strings: u64,
    strings: u64,
}

impl Scan {
    fn new(part: Part) -> Scan {
        Scan {
            part,
            in_tag: false,
            quote: 0,
            tag: Vec::with_capacity(MAX_TAG),
            overflow: false,
            dimension: None,
            row: 0,
            col: 0,
            extent: None,
            declared_strings: 0,
            strings: 0,
        }
    }

    /// Feeds a chunk: text between tags is skipped a slice at a time, tags
    /// go byte by byte.
    fn bytes(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            if !self.in_tag {
                match chunk.iter().position(|b| *b == b'<') {
                    Some(i) => chunk = &chunk[i..],
                    None => return,
                }
            }
            self.byte(chunk[0]);
            chunk = &chunk[1..];
        }
    }

    fn byte(&mut self, b: u8) {
        if !self.in_tag {
            if b == b'<' {
                self.in_tag = true;
                self.quote = 0;
                self.tag.clear();
                self.overflow = false;
            }
            return;
        }
        if self.quote != 0 {
            if b == self.quote {
                self.quote = 0;
            }
        } else if b == b'"' || b == b'\'' {
            self.quote = b;
        } else if b == b'>' {
            self.in_tag = false;
            if !self.overflow {
                let tag = std::mem::take(&mut self.tag);
                self.tag_done(&tag);
                self.tag = tag;
            }
            return;
        }
        if self.tag.len() < MAX_TAG {
            self.tag.push(b);
        } else {
            self.overflow = true;
        }
    }

    fn tag_done(&mut self, tag: &[u8]) {
        if tag.first().is_some_and(|b| matches!(b, b'/' | b'?' | b'!')) {
            return;
        }
        let end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len());
        let full = &tag[..end];
        let local = full.rsplit(|b| *b == b':').next().unwrap_or(full);
        let self_closing = tag.last() == Some(&b'/');
        match (self.part, local) {
            (Part::Sheet, b"dimension") => {
                if let Some(r) = attr(tag, b"ref") {
                    self.dimension = parse_range(r);
                }
            }
            (Part::Sheet, b"row") => {
                self.row = attr(tag, b"r").and_then(parse_u64).unwrap_or(self.row + 1);
                self.col = 0;
            }
            (Part::Sheet, b"c") => {
                match attr(tag, b"r").and_then(parse_cell) {
                    Some((r, c)) => {
                        self.row = r;
                        self.col = c;
                    }
                    None => self.col += 1,
                }
                // A self-closing cell has no value: calamine skips it.
                if !self_closing {
                    let (r, c) = (self.row.max(1), self.col.max(1));
                    self.extent = Some(match self.extent {
                        None => (r, c, r, c),
                        Some((r0, c0, r1, c1)) => (r0.min(r), c0.min(c), r1.max(r), c1.max(c)),
                    });
                }
            }
            (Part::Strings, b"sst") => {
                self.declared_strings = attr(tag, b"uniqueCount")
                    .or_else(|| attr(tag, b"count"))
                    .and_then(parse_u64)
                    .unwrap_or(0);
            }
            (Part::Strings, b"si") => self.strings += 1,
            _ => {}
        }
    }

    /// Checks what has been seen so far (called after every chunk, so a
    /// bomb is refused at its first offending cell).
    fn check(&self, limits: &Limits, name: &str) -> Result<(), SheetError> {
        if let Some((r0, c0, r1, c1)) = self.dimension {
            let zh = format!("工作表“{name}”声明的范围");
            let en = format!("The declared range of worksheet \"{name}\"");
            check_span(limits, &zh, &en, r1 - r0 + 1, c1 - c0 + 1)?;
        }
        if let Some((r0, c0, r1, c1)) = self.extent {
            let zh = format!("工作表“{name}”中有内容的单元格范围");
            let en = format!("The filled cells of worksheet \"{name}\"");
            check_span(limits, &zh, &en, r1 - r0 + 1, c1 - c0 + 1)?;
        }
        let strings = self.declared_strings.max(self.strings);
        if strings > limits.max_strings {
            return Err(oversized(
                format!(
                    "工作簿含有{strings}个不同的文字单元格,超过{}个的上限。请把数据拆分为多个文件,或另存为CSV后上传",
                    limits.max_strings
                ),
                format!(
                    "The workbook holds {strings} distinct text cells, beyond the limit of {}. Split the data into several files, or save it as CSV and upload that.",
                    limits.max_strings
                ),
            ));
        }
        Ok(())
    }

    fn finish(&self, limits: &Limits, name: &str) -> Result<(), SheetError> {
        self.check(limits, name)
    }
}

/// The value of attribute `name` in a tag's bytes (no entity decoding:
/// the attributes read here are plain ASCII).
fn attr<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < tag.len() {
        // An attribute name starts after whitespace.
        if tag[i].is_ascii_whitespace() {
            let start = i + 1;
            if tag[start..].starts_with(name) {
                let mut j = start + name.len();
                while j < tag.len() && tag[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < tag.len() && tag[j] == b'=' {
                    j += 1;
                    while j < tag.len() && tag[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j < tag.len() && (tag[j] == b'"' || tag[j] == b'\'') {
                        let q = tag[j];
                        let v = j + 1;
                        let e = tag[v..].iter().position(|b| *b == q)? + v;
                        return Some(&tag[v..e]);
                    }
                }
            }
        } else if tag[i] == b'"' || tag[i] == b'\'' {
            // Skip quoted values so `x="a r='1'"` does not match.
            let q = tag[i];
            i += 1;
            while i < tag.len() && tag[i] != q {
                i += 1;
            }
        }
        i += 1;
    }
    None
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}

/// "XFD1048576" → (row 1048576, column 16384); `$` signs are allowed.
fn parse_cell(s: &[u8]) -> Option<(u64, u64)> {
    let s: Vec<u8> = s.iter().copied().filter(|b| *b != b'$').collect();
    let letters = s.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 7 {
        return None;
    }
    let col = s[..letters].iter().fold(0u64, |acc, b| {
        acc * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row = parse_u64(&s[letters..])?;
    (row >= 1).then_some((row, col))
}

/// "A1:XFD1048576" or "B2" → (first row, first col, last row, last col).
fn parse_range(s: &[u8]) -> Option<(u64, u64, u64, u64)> {
    let mut it = s.split(|b| *b == b':');
    let (r0, c0) = parse_cell(it.next()?)?;
    let (r1, c1) = match it.next() {
        Some(end) => parse_cell(end)?,
        None => (r0, c0),
    };
    Some((r0.min(r1), c0.min(c1), r0.max(r1), c0.max(c1)))
}

// -------------------------------------------------------------------- xls

/// Checks a legacy `.xls` (OLE) workbook against `limits`: each sheet's
/// DIMENSIONS record, read as calamine reads it (which reserves
/// rows × columns cells for it), and the real extent of its cell records.
pub fn check_xls<R: Read + Seek>(r: R, limits: &Limits) -> Result<(), SheetError> {
    let mut cfb = match cfb::CompoundFile::open(r) {
        Ok(c) => c,
        // Not an OLE file the checker can read; calamine will say what it is.
        Err(_) => return Ok(()),
    };
    let name = if cfb.is_stream("/Workbook") {
        "/Workbook"
    } else if cfb.is_stream("/Book") {
        "/Book"
    } else {
        return Ok(());
    };
    let stream = cfb.open_stream(name).map_err(io_err)?;
    scan_biff(io::BufReader::with_capacity(64 * 1024, stream), limits)
}

/// Walks BIFF records (type u16, length u16, data) in constant memory.
fn scan_biff(mut r: impl Read, limits: &Limits) -> Result<(), SheetError> {
    let mut head = [0u8; 4];
    let mut data = [0u8; 16];
    let mut sheet = 0u32;
    let mut extent: Option<(u64, u64, u64, u64)> = None;
    loop {
        match r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io_err(e)),
        }
        let typ = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        let keep = len.min(data.len());
        if r.read_exact(&mut data[..keep]).is_err() {
            break;
        }
        if len > keep {
            io::copy(&mut (&mut r).take((len - keep) as u64), &mut io::sink()).map_err(io_err)?;
        }
        let d = &data[..keep];
        let u16_at = |i: usize| u64::from(u16::from_le_bytes([d[i], d[i + 1]]));
        let u32_at = |i: usize| u64::from(u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]));
        match typ {
            // BOF: a new substream (globals, then one per sheet).
            0x0809 => {
                sheet += 1;
                extent = None;
            }
            // DIMENSIONS, as calamine's parse_dimensions reads it.
            0x0200 if len == 10 || len == 14 => {
                let (rf, rl, mut cf, cl) = if len == 10 {
                    (u16_at(0), u16_at(2), u16_at(4), u16_at(6))
                } else {
                    (u32_at(0), u32_at(4), u16_at(8), u16_at(10))
                };
                if cf > 0xFF || cl < cf {
                    cf = 0;
                }
                if rl >= 1 && cl >= 1 {
                    let (zh, en) = (
                        format!("第{}个工作表声明的范围", sheet.saturating_sub(1).max(1)),
                        format!(
                            "The declared range of sheet {}",
                            sheet.saturating_sub(1).max(1)
                        ),
                    );
                    // calamine computes (last − first + 1) and would
                    // underflow when the first row is past the last.
                    let rows = (rl - 1).checked_sub(rf).map_or(u64::MAX, |n| n + 1);
                    let cols = (cl - 1).checked_sub(cf).map_or(u64::MAX, |n| n + 1);
                    check_span(limits, &zh, &en, rows, cols)?;
                }
            }
            // Cell records: row u16, column u16 first.
            0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x00BD | 0x0006 | 0x0201 | 0x00BE
                if keep >= 4 =>
            {
                if typ == 0x0201 || typ == 0x00BE {
                    // Blanks are not cells to calamine.
                    continue;
                }
                let (row, col) = (u16_at(0) + 1, u16_at(2) + 1);
                // MULRK: first column, then the last column in its last 2 bytes.
                let last_col = if typ == 0x00BD && len >= 6 {
                    // The last column is at the end of the record, which may
                    // lie beyond `data`: the span is bounded by the record
                    // length anyway (6 bytes per cell).
                    col + ((len as u64).saturating_sub(6)) / 6
                } else {
                    col
                };
                extent = Some(match extent {
                    None => (row, col, row, last_col),
                    Some((r0, c0, r1, c1)) => {
                        (r0.min(row), c0.min(col), r1.max(row), c1.max(last_col))
                    }
                });
                let (r0, c0, r1, c1) = extent.expect("just set");
                let n = sheet.saturating_sub(1).max(1);
                check_span(
                    limits,
                    &format!("第{n}个工作表中有内容的单元格范围"),
                    &format!("The filled cells of sheet {n}"),
                    r1 - r0 + 1,
                    c1 - c0 + 1,
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn cell_and_range_references() {
        assert_eq!(parse_cell(b"A1"), Some((1, 1)));
        assert_eq!(parse_cell(b"XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(parse_cell(b"$B$3"), Some((3, 2)));
        assert_eq!(parse_cell(b"A0"), None);
        assert_eq!(
            parse_range(b"A1:XFD1048576"),
            Some((1, 1, 1_048_576, 16_384))
        );
        assert_eq!(parse_range(b"C5"), Some((5, 3, 5, 3)));
    }

    #[test]
    fn attributes_skip_quoted_text() {
        let tag = br#"c x="a r='9'" r="B2" t="s""#;
        assert_eq!(attr(tag, b"r"), Some(&b"B2"[..]));
        assert_eq!(attr(tag, b"t"), Some(&b"s"[..]));
        assert_eq!(attr(tag, b"s"), None);
    }

    #[test]
    fn scanner_tracks_dimension_extent_and_strings() {
        let mut s = Scan::new(Part::Sheet);
        let xml = br#"<?xml version="1.0"?><worksheet><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/></row><row r="7"><c t="n"><v>1</v></c><c><v>2</v></c></row></sheetData></worksheet>"#;
        for &b in xml.iter() {
            s.byte(b);
        }
        assert_eq!(s.dimension, Some((1, 1, 3, 3)));
        // B1 is empty (self-closing); row 7's cells have no r: A7, B7.
        assert_eq!(s.extent, Some((1, 1, 7, 2)));
        let mut s = Scan::new(Part::Strings);
        for &b in
            br#"<sst count="9" uniqueCount="3"><si><t>a</t></si><si><t>b</t></si></sst>"#.iter()
        {
            s.byte(b);
        }
        assert_eq!((s.declared_strings, s.strings), (3, 2));
    }

    use crate::{read_table, write_xlsx, CellOut, SheetOut};
    use std::io::{Cursor, Write};
    use std::time::{Duration, Instant};

    /// The committed bomb: A1 and XFD1048576 (about 5 KB).
    fn bomb_fixture() -> Vec<u8> {
        let path = format!(
            "{}/../gonghui/tests/fixtures/bomb_xfd1048576.xlsx",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Builds the bomb as Excel would save it: a header in A1 and one
    /// value in the very last cell, XFD1048576.
    pub(crate) fn build_bomb() -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "姓名").unwrap();
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    /// Regenerates the fixture: `GONGHUI_WRITE_FIXTURES=1 cargo test -p
    /// gonghui-sheet write_bomb_fixture -- --ignored`.
    #[test]
    #[ignore = "writes the committed fixture"]
    fn write_bomb_fixture() {
        if std::env::var_os("GONGHUI_WRITE_FIXTURES").is_none() {
            return;
        }
        let path = format!(
            "{}/../gonghui/tests/fixtures/bomb_xfd1048576.xlsx",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::write(path, build_bomb()).unwrap();
    }

    /// Rewrites one zip entry of a workbook (to forge what a generator
    /// would not write).
    fn patch(xlsx: &[u8], part: &str, f: impl Fn(String) -> String) -> Vec<u8> {
        let mut src = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..src.len() {
            let mut e = src.by_index(i).unwrap();
            let name = e.name().to_string();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            if name == part {
                body = f(String::from_utf8(body).unwrap()).into_bytes();
            }
            out.start_file(name, opts).unwrap();
            out.write_all(&body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn small_roster() -> Vec<u8> {
        write_xlsx(&[SheetOut {
            name: "名册".into(),
            headers: vec!["姓名".into(), "证件号码".into()],
            rows: vec![vec![
                CellOut::Text("张伟".into()),
                CellOut::Text("110105200101200044".into()),
            ]],
            col_widths: None,
        }])
        .unwrap()
    }

    fn refused(bytes: &[u8]) -> (String, String) {
        match read_table(bytes, 300_000) {
            Err(e @ SheetError::Oversized { .. }) => e.message(),
            other => panic!("expected Oversized, got {other:?}"),
        }
    }

    #[test]
    fn xfd1048576_bomb_is_refused_in_under_a_second() {
        let bytes = bomb_fixture();
        assert!(bytes.len() < 8192, "the fixture is tiny: {}", bytes.len());
        let t = Instant::now();
        let (zh, en) = refused(&bytes);
        let took = t.elapsed();
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert!(
            zh.contains("1048576行×16384列") && zh.contains('请'),
            "{zh}"
        );
        assert!(en.contains("1048576 rows × 16384 columns"), "{en}");
        // The same from a freshly built bomb, and through the file check.
        refused(&build_bomb());
        assert!(matches!(
            crate::check_workbook(Cursor::new(&bytes)),
            Err(SheetError::Oversized { .. })
        ));
    }

    #[test]
    fn a_lying_dimension_is_refused_and_so_are_real_far_cells() {
        let ok = small_roster();
        assert_eq!(read_table(&ok, 10).unwrap().rows.len(), 1);
        // Declared A1:XFD1048576 with only two filled cells.
        let lying = patch(&ok, "xl/worksheets/sheet1.xml", |x| {
            let at = x.find("<dimension ref=\"").unwrap() + 16;
            let end = at + x[at..].find('"').unwrap();
            format!("{}A1:XFD1048576{}", &x[..at], &x[end..])
        });
        let (zh, _) = refused(&lying);
        assert!(zh.contains("声明的范围"), "{zh}");
        // No dimension at all, but a value in column 201.
        let wide = patch(&ok, "xl/worksheets/sheet1.xml", |x| {
            let x = x.replace("<dimension ref=\"A1:B2\"/>", "");
            x.replace(
                "</row></sheetData>",
                "<c r=\"GS2\" t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData>",
            )
        });
        assert!(!wide.windows(9).any(|w| w == b"dimension"));
        let (zh, en) = refused(&wide);
        assert!(
            zh.contains("有内容的单元格") && en.contains("201 columns"),
            "{zh} / {en}"
        );
        // A far cell without a value (formatting only) is not a cell to calamine.
        let styled = patch(&ok, "xl/worksheets/sheet1.xml", |x| {
            x.replace(
                "</row></sheetData>",
                "<c r=\"GS2\" s=\"0\"/></row></sheetData>",
            )
        });
        assert_eq!(read_table(&styled, 10).unwrap().rows.len(), 1);
    }

    #[test]
    fn shared_strings_and_zip_sizes_are_capped() {
        let ok = small_roster();
        let strings = patch(&ok, "xl/sharedStrings.xml", |x| {
            x.replacen("uniqueCount=\"", "uniqueCount=\"9999999999", 1)
        });
        let (zh, _) = refused(&strings);
        assert!(zh.contains("不同的文字单元格"), "{zh}");
        // A highly compressible 2 MiB part against small limits: refused
        // by size, then by ratio, then by real bytes streamed.
        let padded = patch(&ok, "xl/worksheets/sheet1.xml", |x| {
            x.replacen(
                "<sheetData>",
                &format!("<sheetData>{}", " ".repeat(2 << 20)),
                1,
            )
        });
        let tight = Limits {
            max_part_bytes: 1 << 20,
            ..Limits::default()
        };
        let e = check_xlsx(Cursor::new(&padded), &tight).unwrap_err();
        assert!(e.message().0.contains("解压后有2MB"), "{:?}", e.message());
        let ratio = Limits {
            ratio_floor: 1 << 20,
            max_ratio: 50,
            ..Limits::default()
        };
        let e = check_xlsx(Cursor::new(&padded), &ratio).unwrap_err();
        assert!(e.message().0.contains("压缩比异常"), "{:?}", e.message());
        let total = Limits {
            max_total_bytes: 1 << 20,
            ..Limits::default()
        };
        let e = check_xlsx(Cursor::new(&padded), &total).unwrap_err();
        assert!(e.message().0.contains("解压后超过"), "{:?}", e.message());
        check_xlsx(Cursor::new(&padded), &Limits::default()).unwrap();
        // A zip claiming 65,535 entries (a zip64 marker) in its directory end.
        let mut forged = ok.clone();
        let at = forged.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
        forged[at + 10] = 0xFF;
        forged[at + 11] = 0xFF;
        let e = check_xlsx(Cursor::new(&forged), &Limits::default()).unwrap_err();
        assert!(e.message().0.contains("压缩条目"), "{:?}", e.message());
    }

    fn legacy_xls() -> Vec<u8> {
        let path = format!(
            "{}/../gonghui/tests/fixtures/members_legacy.xls",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    /// Overwrites the first sheet's DIMENSIONS record (BIFF8: first row,
    /// last row + 1, first column, last column + 1).
    fn with_dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut b = legacy_xls();
        let at = b
            .windows(4)
            .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
            .expect("the fixture has a DIMENSIONS record")
            + 4;
        b[at..at + 4].copy_from_slice(&rf.to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&rl.to_le_bytes());
        b[at + 8..at + 10].copy_from_slice(&cf.to_le_bytes());
        b[at + 10..at + 12].copy_from_slice(&cl.to_le_bytes());
        b
    }

    #[test]
    fn xls_declared_dimensions_are_capped() {
        let ok = legacy_xls();
        check_xls(Cursor::new(&ok), &Limits::default()).unwrap();
        assert!(read_table(&ok, 10).is_ok());
        // IV65536: every cell of an Excel 97 sheet (256 columns).
        let t = Instant::now();
        let (zh, en) = refused(&with_dimensions(0, 65_536, 0, 256));
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(
            zh.contains("声明的范围") && en.contains("256 columns"),
            "{zh} / {en}"
        );
        // A BIFF8 row count far past Excel's (calamine would reserve
        // rows × columns) and a first row past the last (an underflow).
        refused(&with_dimensions(0, 4_000_000_000, 0, 20));
        refused(&with_dimensions(70_000, 10, 0, 20));
        // Within limits: read as before.
        assert!(read_table(&with_dimensions(0, 1_000, 0, 30), 10).is_ok());
    }

    /// What the check costs on a legitimate large workbook, next to the read
    /// itself: `cargo test -p gonghui-sheet check_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn check_cost_on_a_large_roster() {
        let rows: Vec<Vec<CellOut>> = (0..100_000)
            .map(|i| {
                (0..18)
                    .map(|c| CellOut::Text(format!("r{i}c{c}")))
                    .collect()
            })
            .collect();
        let bytes = write_xlsx(&[SheetOut {
            name: "名册".into(),
            headers: (0..18).map(|c| format!("列{c}")).collect(),
            rows,
            col_widths: None,
        }])
        .unwrap();
        let t = Instant::now();
        check_xlsx(Cursor::new(&bytes), &Limits::default()).unwrap();
        let check = t.elapsed();
        let t = Instant::now();
        let table = read_table(&bytes, 300_000).unwrap();
        let read = t.elapsed();
        assert_eq!(table.rows.len(), 100_000);
        eprintln!(
            "{} KB xlsx, 100,000 rows × 18: check {check:?}, read_table (check included) {read:?}",
            bytes.len() / 1024
        );
    }
}
