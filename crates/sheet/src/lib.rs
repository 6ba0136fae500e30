//! Spreadsheet import and export: the one place that knows how Excel, WPS
//! and LibreOffice files really look.
//!
//! Union staff move data in and out of the platform with spreadsheets, and
//! the files they upload are whatever their desktop produced: `.xlsx` from
//! Excel or WPS, legacy `.xls` from old templates and government systems,
//! and `.csv` saved by Excel on Chinese Windows (GBK/GB18030, no BOM), by
//! newer Excel ("CSV UTF-8", with BOM) or by scripts (UTF-8 or UTF-16 tab
//! text). File names lie — a `.xls` is often an `.xlsx` renamed, or an HTML
//! page exported by another system — so the format is detected from the
//! content, never from the extension.
//!
//! Every value is handed to callers as the string a person would read in
//! the cell. Importers therefore validate one representation no matter which
//! program saved the file: whole numbers without ".0" or exponent, dates as
//! `YYYY-MM-DD`, booleans as 是/否. Row numbers are the ones shown in the
//! spreadsheet's margin so that a rejection like "第5行证件号码有误" points the
//! user at the right line, even when blank lines, title rows or multi-line
//! quoted cells sit above it.
//!
//! Every failure is a [`SheetError`] whose [`SheetError::message`] tells the
//! user in Chinese and English what is wrong *and what to do about it*,
//! because the people uploading are not technical and "invalid zip header"
//! helps nobody.
//!
//! Memory: `.xlsx`/`.xls` have to be parsed whole (the formats are random
//! access, and calamine loads the first sheet into memory), so
//! [`read_table`] is meant for uploads bounded by the HTTP body limit. Very
//! large imports should come as CSV through [`CsvRows`] /
//! [`for_each_csv_row`], which decode GBK/UTF-16 on the fly in 64 KiB
//! chunks and hold one record at a time. Exports are built in memory by
//! rust_xlsxwriter (roughly a few hundred bytes per cell), which is fine for
//! the tens of thousands of rows a reject list or a roster has.
//!
//! What calamine allocates is sized by what a workbook *declares*, so every
//! workbook first passes [`check_xlsx`] / [`check_xls`] (the `guard`
//! module, [`Limits`]): a bomb — one cell at XFD1048576, a lying
//! `<dimension>`, a zip that inflates to gigabytes — is refused from the zip
//! directory and the streamed sheet XML before calamine sees it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::ops::ControlFlow;

use calamine::{Data, Reader};
use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

mod guard;
pub use guard::{check_xls, check_xlsx, Limits};

/// Everything that can go wrong reading or writing a spreadsheet.
///
/// `Display` is a short English text for logs; show users [`Self::message`].
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// The bytes are not a workbook or text table (an image, a PDF, a Word
    /// document, random bytes renamed `.xlsx`, …).
    #[error("file is not a spreadsheet (unrecognised content)")]
    NotASpreadsheet,
    /// An HTML or XML page with a spreadsheet extension — what many
    /// government and HR systems produce when they "export to Excel".
    #[error("file is a web page or XML document saved with a spreadsheet extension")]
    WebPage,
    /// The workbook has an opening password, so its content is encrypted.
    #[error("workbook is password protected")]
    Encrypted,
    /// A streaming import was given an Excel workbook; only CSV streams.
    #[error("streaming import accepts CSV only")]
    CsvRequired,
    /// No header row, or a header row without any data rows.
    #[error("spreadsheet has no data rows")]
    Empty,
    /// More data rows than the caller allows (or than Excel can hold, when
    /// writing).
    #[error("spreadsheet has more than {limit} data rows")]
    TooLarge {
        /// The maximum number of data rows.
        limit: usize,
    },
    /// Text that is neither valid UTF-8/UTF-16 nor valid GB18030.
    #[error("text encoding could not be decoded")]
    Encoding,
    /// Required columns are missing; holds their Chinese names.
    #[error("missing required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The file looks like a spreadsheet but could not be parsed.
    #[error("could not read spreadsheet: {0}")]
    Read(String),
    /// Building an export failed.
    #[error("could not write spreadsheet: {0}")]
    Write(String),
    /// The workbook declares or holds more than can be read safely (a
    /// workbook bomb, or a sheet far beyond the import limits); refused
    /// before anything is allocated for it. Holds the full messages.
    #[error("workbook too large to read safely: {en}")]
    Oversized {
        /// What is too large and what to do, in Chinese.
        zh: String,
        /// The same in English.
        en: String,
    },
}

impl SheetError {
    /// User-facing `(Chinese, English)` messages: what is wrong and how to fix it.
    pub fn message(&self) -> (String, String) {
        match self {
            SheetError::NotASpreadsheet => (
                "文件不是有效的Excel或CSV表格,请用Excel/WPS打开后另存为.xlsx再重新上传".into(),
                "The file is not a valid Excel or CSV spreadsheet. Open it in Excel/WPS, save it as .xlsx and upload again.".into(),
            ),
            SheetError::WebPage => (
                "文件实际是网页/XML格式(常见于其他系统导出的“Excel”),请用Excel/WPS打开后“另存为”Excel工作簿(.xlsx)再重新上传".into(),
                "The file is really a web page/XML document (common for \"Excel\" exports from other systems). Open it in Excel/WPS, use Save As → Excel Workbook (.xlsx) and upload again.".into(),
            ),
            SheetError::Encrypted => (
                "文件设置了打开密码,无法读取。请在Excel/WPS中取消密码(文件→信息→保护工作簿)后另存为.xlsx再上传".into(),
                "The file is password protected and cannot be read. Remove the password in Excel/WPS (File → Info → Protect Workbook), save as .xlsx and upload again.".into(),
            ),
            SheetError::CsvRequired => (
                "大批量导入仅支持CSV格式,请在Excel中“另存为”→“CSV UTF-8(逗号分隔)”后重新上传".into(),
                "Bulk import accepts CSV only. In Excel use Save As → \"CSV UTF-8 (Comma delimited)\" and upload again.".into(),
            ),
            SheetError::Empty => (
                "表格中没有数据:请确认数据在第一个工作表中,第一行是表头,从第二行开始填写数据".into(),
                "The spreadsheet has no data. Make sure the data is on the first sheet, the first row is the header and data starts on the second row.".into(),
            ),
            SheetError::TooLarge { limit } => (
                format!("表格数据超过{limit}行,请拆分为多个文件(每个不超过{limit}行)后分批上传"),
                format!("The spreadsheet has more than {limit} data rows. Split it into several files of at most {limit} rows and upload them one by one."),
            ),
            SheetError::Encoding => (
                "无法识别文件的文字编码(可能出现乱码),请用Excel打开后“另存为”→“CSV UTF-8(逗号分隔)”或.xlsx格式再上传".into(),
                "The file's text encoding could not be recognised (text would be garbled). Open it in Excel and Save As \"CSV UTF-8 (Comma delimited)\" or .xlsx, then upload again.".into(),
            ),
            SheetError::MissingColumns(cols) => {
                let zh: Vec<String> = cols.iter().map(|c| format!("「{c}」")).collect();
                (
                    format!(
                        "表格缺少必填列:{}。请确认第一行是表头且列名与导入模板一致,或下载最新导入模板重新填写",
                        zh.join("")
                    ),
                    format!(
                        "Required columns are missing: {}. Make sure the first row is the header with the column names of the import template, or download the latest template and fill it in again.",
                        cols.join(", ")
                    ),
                )
            }
            SheetError::Read(detail) => (
                format!("读取表格时出错({detail}),文件可能已损坏。请用Excel/WPS打开确认内容完好,另存为.xlsx后重新上传"),
                format!("The spreadsheet could not be read ({detail}); it may be damaged. Open it in Excel/WPS to check it, save as .xlsx and upload again."),
            ),
            SheetError::Oversized { zh, en } => (zh.clone(), en.clone()),
            SheetError::Write(detail) => (
                format!("生成表格文件失败({detail}),请稍后重试;如仍失败请联系管理员"),
                format!("Generating the spreadsheet failed ({detail}). Please try again later, and contact the administrator if it keeps failing."),
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

/// One non-empty data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based row number as shown by Excel/WPS (the header is usually row 1).
    pub line: usize,
    /// Trimmed cell texts, at least as many as there are headers.
    pub cells: Vec<String>,
}

/// The first sheet of a workbook, or a whole CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Header texts with all whitespace removed; empty for blank header cells.
    pub headers: Vec<String>,
    /// Non-empty data rows in sheet order.
    pub rows: Vec<Row>,
}

/// Container format found by [`detect_format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A zip container: `.xlsx`/`.xlsm`, and also `.xlsb` and `.ods`.
    Xlsx,
    /// An OLE compound document: legacy `.xls` (Excel 97–2003, WPS `.et`).
    Xls,
    /// Delimited text.
    Csv,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// How much of a text file is inspected to decide encoding and delimiter.
pub const SNIFF_LEN: usize = 64 * 1024;
/// Non-ASCII bytes wanted before choosing between UTF-8 and GB18030.
const LOOKAHEAD: usize = 4096;
/// Rows with a single filled cell above the real header (titles, notes).
const MAX_TITLE_ROWS: usize = 5;

/// Identifies the container by its magic bytes, and for text, checks that it
/// is plausible delimited text in a supported encoding.
pub fn detect_format(bytes: &[u8]) -> Result<Format, SheetError> {
    if bytes.is_empty() {
        return Err(SheetError::Empty);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return Ok(Format::Xlsx);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Ok(Format::Xls);
    }
    let eof = bytes.len() <= SNIFF_LEN;
    sniff_text(&bytes[..bytes.len().min(SNIFF_LEN)], eof)?;
    Ok(Format::Csv)
}

/// Reads the first sheet of an `.xlsx`/`.xls`/`.ods` workbook or a CSV file.
///
/// Title rows above the header (rows with a single filled cell, such as
/// "2024年会员信息采集表") are skipped; fully blank rows are skipped but keep
/// their row numbers. Fails with [`SheetError::TooLarge`] when there are more
/// than `max_rows` data rows and with [`SheetError::Empty`] when there are
/// none.
///
/// Never panics: a damaged workbook that trips the reader (calamine indexes
/// shared strings unchecked) is a [`SheetError::Read`].
pub fn read_table(bytes: &[u8], max_rows: usize) -> Result<Table, SheetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_table_unguarded(bytes, max_rows)
    }))
    .unwrap_or_else(|_| {
        Err(SheetError::Read(
            "the workbook is damaged (its parts do not fit together)".into(),
        ))
    })
}

fn read_table_unguarded(bytes: &[u8], max_rows: usize) -> Result<Table, SheetError> {
    match detect_format(bytes)? {
        Format::Xlsx => {
            check_xlsx(Cursor::new(bytes), &Limits::default())?;
            let book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
                // Part names are stored in clear in the zip: xlsx parts live
                // under "xl/", an ods names its MIME type.
                if contains(bytes, b"xl/") || contains(bytes, b"opendocument.spreadsheet") {
                    SheetError::Read(e.to_string())
                } else {
                    // A zip, but not a workbook: .docx, .pptx, an archive …
                    SheetError::NotASpreadsheet
                }
            })?;
            read_workbook(book, max_rows)
        }
        Format::Xls => {
            if contains(bytes, &utf16le("EncryptionInfo")) {
                // Password-protected .xlsx files are OLE containers too.
                return Err(SheetError::Encrypted);
            }
            check_xls(Cursor::new(bytes), &Limits::default())?;
            let book = calamine::Xls::new(Cursor::new(bytes)).map_err(|e| match e {
                calamine::XlsError::Password => SheetError::Encrypted,
                _ if contains(bytes, &utf16le("Workbook")) || contains(bytes, &utf16le("Book")) => {
                    SheetError::Read(e.to_string())
                }
                // An OLE file without a workbook stream: .doc, .ppt, .msg …
                _ => SheetError::NotASpreadsheet,
            })?;
            read_workbook(book, max_rows)
        }
        Format::Csv => {
            let mut rows = CsvRows::new(bytes)?;
            let headers = std::mem::take(&mut rows.headers);
            let mut out = Vec::new();
            for row in rows {
                let row = row?;
                if out.len() >= max_rows {
                    return Err(SheetError::TooLarge { limit: max_rows });
                }
                out.push(row);
            }
            if out.is_empty() {
                return Err(SheetError::Empty);
            }
            Ok(Table { headers, rows: out })
        }
    }
}

/// Checks a workbook against the default [`Limits`] without reading it
/// into memory (see [`check_xlsx`], [`check_xls`]); CSV and anything else
/// pass, since they are streamed or refused later. Meant for an upload
/// saved to disk, so the uploader hears at once that a bomb is refused.
pub fn check_workbook<R: Read + io::Seek>(mut r: R) -> Result<(), SheetError> {
    let mut magic = [0u8; 8];
    let mut n = 0;
    while n < magic.len() {
        match r.read(&mut magic[n..]).map_err(read_err)? {
            0 => break,
            k => n += k,
        }
    }
    r.seek(io::SeekFrom::Start(0)).map_err(read_err)?;
    if magic[..n].starts_with(ZIP_MAGIC) {
        check_xlsx(r, &Limits::default())
    } else if magic[..n].starts_with(OLE_MAGIC) {
        check_xls(r, &Limits::default())
    } else {
        Ok(())
    }
}

fn read_workbook<RS, W>(mut book: W, max_rows: usize) -> Result<Table, SheetError>
where
    RS: Read + io::Seek,
    W: Reader<RS>,
    W::Error: fmt::Display,
{
    let range = match book.worksheet_range_at(0) {
        None => return Err(SheetError::Empty),
        Some(r) => r.map_err(|e| {
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("password") {
                SheetError::Encrypted
            } else {
                SheetError::Read(msg)
            }
        })?,
    };
    let first_line = range.start().map_or(1, |(r, _)| r as usize + 1);
    let mut raw = range
        .rows()
        .enumerate()
        .map(|(i, cells)| Row {
            line: first_line + i,
            cells: cells.iter().map(cell_text).collect(),
        })
        .filter(|r| !is_blank(&r.cells));
    let mut next = || -> Result<Option<Row>, SheetError> { Ok(raw.next()) };
    let (headers, mut pending) = locate_header(&mut next)?;
    let mut rows = Vec::new();
    while let Some(row) = match pending.pop_front() {
        Some(r) => Some(r),
        None => next()?,
    } {
        if rows.len() >= max_rows {
            return Err(SheetError::TooLarge { limit: max_rows });
        }
        rows.push(fit_row(row, headers.len()));
    }
    if rows.is_empty() {
        return Err(SheetError::Empty);
    }
    Ok(Table { headers, rows })
}

/// Finds the header among the first non-blank rows: the first row with more
/// than one filled cell, unless none of the first few has, in which case
/// the sheet is single-column and its first row is the header. Returns the
/// cleaned headers and the rows read past the header.
fn locate_header(
    next: &mut dyn FnMut() -> Result<Option<Row>, SheetError>,
) -> Result<(Vec<String>, VecDeque<Row>), SheetError> {
    let mut seen = VecDeque::new();
    while seen.len() <= MAX_TITLE_ROWS {
        match next()? {
            None => break,
            Some(row) => {
                let wide = filled(&row.cells) > 1;
                seen.push_back(row);
                if wide {
                    break;
                }
            }
        }
    }
    let idx = seen.iter().position(|r| filled(&r.cells) > 1).unwrap_or(0);
    seen.drain(..idx);
    let header = seen.pop_front().ok_or(SheetError::Empty)?;
    let mut headers: Vec<String> = header.cells.iter().map(|h| clean_header(h)).collect();
    while headers.last().is_some_and(|h| h.is_empty()) {
        headers.pop();
    }
    if headers.is_empty() {
        return Err(SheetError::Empty);
    }
    let width = headers.len();
    let pending = seen.into_iter().map(|r| fit_row(r, width)).collect();
    Ok((headers, pending))
}

/// Pads a row to the header width; keeps extra cells only up to the last
/// filled one so stray formatting far to the right does not widen rows.
fn fit_row(mut row: Row, width: usize) -> Row {
    if row.cells.len() < width {
        row.cells.resize(width, String::new());
    } else {
        while row.cells.len() > width && row.cells.last().is_some_and(|c| c.is_empty()) {
            row.cells.pop();
        }
    }
    row
}

fn filled(cells: &[String]) -> usize {
    cells.iter().filter(|c| !c.is_empty()).count()
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.is_empty())
}

fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// Trims whitespace, including full-width spaces, NBSP and the zero-width
/// characters that come along when IDs are pasted from web pages.
fn clean_cell(s: &str) -> String {
    s.trim_matches(is_invisible).to_string()
}

/// Headers lose all whitespace, also inside (“证件 号码”, Alt+Enter breaks).
fn clean_header(s: &str) -> String {
    s.chars().filter(|&c| !is_invisible(c)).collect()
}

/// The text a user sees in a workbook cell.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => clean_cell(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(true) => "是".into(),
        Data::Bool(false) => "否".into(),
        Data::DateTime(dt) => format_excel_datetime(dt),
        Data::DateTimeIso(s) => {
            let s = s.trim();
            match s.strip_suffix("T00:00:00") {
                Some(date) => date.to_string(),
                None => s.replacen('T', " ", 1),
            }
        }
        Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => e.to_string(),
    }
}

fn format_excel_datetime(dt: &calamine::ExcelDateTime) -> String {
    let value = dt.as_f64();
    if dt.is_duration() {
        let secs = (value * 86_400.0).round() as i64;
        let sign = if secs < 0 { "-" } else { "" };
        let secs = secs.abs();
        return format!(
            "{sign}{}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    // Serial times are binary fractions: 08:30:00 may come back as
    // 08:29:59.999. Round to the second, without rolling into the next day.
    let secs = (u32::from(h) * 3600 + u32::from(mi) * 60 + u32::from(s) + u32::from(ms >= 500))
        .min(86_399);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if (0.0..1.0).contains(&value) {
        format!("{h:02}:{mi:02}:{s:02}")
    } else if h == 0 && mi == 0 && s == 0 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// Formats a number the way Excel displays it in a wide "General" cell:
/// 15 significant digits, never an exponent, no trailing ".0". An 18-digit
/// ID typed as a number thus reads "110105199001011000" — wrong in its last
/// digits (Excel itself kept only 15), which the ID checksum then rejects,
/// rather than "1.10105E+17".
fn format_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f == 0.0 {
        return "0".into();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return (f as i64).to_string();
    }
    let sci = format!("{:.14e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1;
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    if out.contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

// ---------------------------------------------------------------------------
// Text decoding
// ---------------------------------------------------------------------------

enum Mode {
    /// Only ASCII seen so far: UTF-8 and GB18030 agree, the choice can wait.
    Undecided,
    Utf8,
    Legacy(encoding_rs::Decoder),
}

fn gb18030() -> Mode {
    Mode::Legacy(GB18030.new_decoder_without_bom_handling())
}

/// UTF-8 unless the first non-ASCII stretch is not UTF-8. GB18030 is the
/// superset of GBK/GB2312 that Excel and WPS write on Chinese Windows.
fn decide(non_ascii: &[u8], eof: bool) -> Mode {
    match std::str::from_utf8(non_ascii) {
        Ok(_) => Mode::Utf8,
        // Cut in the middle of a character at the end of the chunk.
        Err(e) if e.error_len().is_none() && !eof => Mode::Utf8,
        Err(_) => gb18030(),
    }
}

/// Checks that `prefix` (the first bytes of a file, all of it when `eof`) is
/// text, and returns the decoding mode and the BOM length to skip.
fn sniff_text(prefix: &[u8], eof: bool) -> Result<(Mode, usize), SheetError> {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((Mode::Utf8, 3));
    }
    if prefix.starts_with(&[0xFF, 0xFE]) {
        return Ok((Mode::Legacy(UTF_16LE.new_decoder_without_bom_handling()), 2));
    }
    if prefix.starts_with(&[0xFE, 0xFF]) {
        return Ok((Mode::Legacy(UTF_16BE.new_decoder_without_bom_handling()), 2));
    }
    // Control characters never occur in typed text (0x1A is a DOS EOF mark).
    let binary = prefix
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
        .count();
    if prefix.contains(&0) || binary * 100 > prefix.len() {
        return Err(SheetError::NotASpreadsheet);
    }
    let head: Vec<u8> = prefix
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(512)
        .map(u8::to_ascii_lowercase)
        .collect();
    if head.starts_with(b"mime-version:")
        || (head.starts_with(b"<")
            && [&b"<html"[..], b"<table", b"<?xml", b"<!doctype"]
                .iter()
                .any(|tag| contains(&head, tag)))
    {
        return Err(SheetError::WebPage);
    }
    let Some(first) = prefix.iter().position(|b| !b.is_ascii()) else {
        return Ok((Mode::Undecided, 0));
    };
    match decide(&prefix[first..], eof) {
        Mode::Legacy(mut dec) => {
            let mut dst = String::with_capacity(
                dec.max_utf8_buffer_length(prefix.len())
                    .unwrap_or(prefix.len() * 3),
            );
            let (res, _) = dec.decode_to_string_without_replacement(prefix, &mut dst, eof);
            if matches!(res, encoding_rs::DecoderResult::Malformed(..)) {
                // Neither UTF-8 nor GB18030. Text that starts out as UTF-8
                // (a few characters at least) has mixed encodings; anything
                // else is not text at all.
                let utf8_run = match std::str::from_utf8(&prefix[first..]) {
                    Ok(_) => usize::MAX,
                    Err(e) => e.valid_up_to(),
                };
                return Err(if utf8_run >= 6 {
                    SheetError::Encoding
                } else {
                    SheetError::NotASpreadsheet
                });
            }
            Ok((gb18030(), 0))
        }
        mode => Ok((mode, 0)),
    }
}

/// Marker carried through `io::Error` so that csv errors caused by
/// undecodable bytes become [`SheetError::Encoding`].
#[derive(Debug)]
struct MalformedText;

impl fmt::Display for MalformedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed text")
    }
}

impl std::error::Error for MalformedText {}

/// Transcodes a byte stream to UTF-8 for the csv parser, chunk by chunk.
///
/// Line ends are normalised to LF on the way (inside quoted cells too,
/// which is how Excel stores Alt+Enter breaks), and the bytes handed to the
/// csv parser are followed by [`RowTracker`] so every record learns the row
/// number Excel would show.
struct Decoding<R> {
    inner: R,
    raw: Vec<u8>,
    eof: bool,
    out: Vec<u8>,
    pos: usize,
    mode: Mode,
    finished: bool,
    after_cr: bool,
    rows: RowTracker,
}

impl<R: Read> Decoding<R> {
    fn new(mut inner: R) -> Result<Self, SheetError> {
        let mut raw = Vec::with_capacity(SNIFF_LEN);
        let eof = read_up_to(&mut inner, &mut raw, SNIFF_LEN).map_err(read_err)?;
        if raw.is_empty() {
            return Err(SheetError::Empty);
        }
        if raw.starts_with(ZIP_MAGIC) || raw.starts_with(OLE_MAGIC) {
            return Err(SheetError::CsvRequired);
        }
        let (mode, bom) = sniff_text(&raw, eof)?;
        raw.drain(..bom);
        let mut this = Decoding {
            inner,
            raw,
            eof,
            out: Vec::new(),
            pos: 0,
            mode,
            finished: false,
            after_cr: false,
            rows: RowTracker::new(b','),
        };
        this.fill(SNIFF_LEN).map_err(io_to_sheet)?;
        Ok(this)
    }

    /// Decoded bytes not yet consumed.
    fn peek(&self) -> &[u8] {
        &self.out[self.pos..]
    }

    fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.out.len());
    }

    /// Decodes until at least `min` bytes are buffered or input ends.
    fn fill(&mut self, min: usize) -> io::Result<()> {
        while self.out.len() - self.pos < min && !self.finished {
            if self.raw.len() < SNIFF_LEN && !self.eof {
                self.eof = read_up_to(&mut self.inner, &mut self.raw, SNIFF_LEN)?;
            }
            self.decode_available()?;
        }
        Ok(())
    }

    fn decode_available(&mut self) -> io::Result<()> {
        if let Mode::Undecided = self.mode {
            match self.raw.iter().position(|b| !b.is_ascii()) {
                None => {
                    let start = self.out.len();
                    self.out.append(&mut self.raw);
                    self.normalize_newlines(start);
                    self.finished = self.eof;
                    return Ok(());
                }
                Some(i) if !self.eof && self.raw.len() - i < LOOKAHEAD => {
                    // Pass the ASCII on; decide once more bytes are in.
                    let start = self.out.len();
                    self.out.extend(self.raw.drain(..i));
                    self.normalize_newlines(start);
                    return Ok(());
                }
                Some(i) => self.mode = decide(&self.raw[i..], self.eof),
            }
        }
        match &mut self.mode {
            Mode::Undecided => unreachable!("decided above"),
            Mode::Utf8 => {
                let start = self.out.len();
                self.out.append(&mut self.raw);
                self.normalize_newlines(start);
                self.finished = self.eof;
            }
            Mode::Legacy(dec) => {
                let start = self.out.len();
                let room = dec
                    .max_utf8_buffer_length(self.raw.len())
                    .unwrap_or(self.raw.len() * 3 + 16);
                self.out.resize(start + room, 0);
                let (res, read, written) = dec.decode_to_utf8_without_replacement(
                    &self.raw,
                    &mut self.out[start..],
                    self.eof,
                );
                self.out.truncate(start + written);
                self.raw.drain(..read);
                self.normalize_newlines(start);
                match res {
                    encoding_rs::DecoderResult::Malformed(..) => {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, MalformedText));
                    }
                    encoding_rs::DecoderResult::InputEmpty => self.finished = self.eof,
                    encoding_rs::DecoderResult::OutputFull => {}
                }
            }
        }
        Ok(())
    }
}

impl<R> Decoding<R> {
    /// Rewrites CRLF and lone CR in `out[start..]` to LF, in place.
    fn normalize_newlines(&mut self, start: usize) {
        let mut w = start;
        for r in start..self.out.len() {
            let b = self.out[r];
            if self.after_cr && b == b'\n' {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            self.out[w] = if b == b'\r' { b'\n' } else { b };
            w += 1;
        }
        self.out.truncate(w);
    }
}

#[derive(Clone, Copy)]
enum Lexer {
    LineStart,
    FieldStart,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// Mirrors csv-core's quoting rules to know on which spreadsheet row each
/// record starts. The csv crate's own positions cannot be used: they count
/// newlines inside quoted cells and attribute skipped blank lines to the
/// following record, whereas Excel shows a multi-line cell as one row and
/// a blank line as an (empty) row.
struct RowTracker {
    state: Lexer,
    delimiter: u8,
    row: usize,
    /// Rows of records the parser has been given bytes for but not yet
    /// returned; bounded by the parser's buffer.
    starts: VecDeque<usize>,
}

impl RowTracker {
    fn new(delimiter: u8) -> Self {
        RowTracker {
            state: Lexer::LineStart,
            delimiter,
            row: 1,
            starts: VecDeque::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let d = self.delimiter;
            self.state = match (self.state, b) {
                (Lexer::LineStart, b'\n') => {
                    self.row += 1;
                    Lexer::LineStart
                }
                (Lexer::LineStart, _) => {
                    self.starts.push_back(self.row);
                    Self::field_start(b, d)
                }
                (Lexer::FieldStart, b'\n')
                | (Lexer::InField, b'\n')
                | (Lexer::QuoteInQuoted, b'\n') => {
                    self.row += 1;
                    Lexer::LineStart
                }
                (Lexer::FieldStart, _) => Self::field_start(b, d),
                (Lexer::InField, _) if b == d => Lexer::FieldStart,
                (Lexer::InField, _) => Lexer::InField,
                (Lexer::InQuoted, b'"') => Lexer::QuoteInQuoted,
                (Lexer::InQuoted, _) => Lexer::InQuoted,
                (Lexer::QuoteInQuoted, b'"') => Lexer::InQuoted,
                (Lexer::QuoteInQuoted, _) if b == d => Lexer::FieldStart,
                (Lexer::QuoteInQuoted, _) => Lexer::InField,
            };
        }
    }

    fn field_start(b: u8, delimiter: u8) -> Lexer {
        match b {
            b'"' => Lexer::InQuoted,
            _ if b == delimiter => Lexer::FieldStart,
            _ => Lexer::InField,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.out.clear();
            self.pos = 0;
            self.fill(1)?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.rows.feed(&buf[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// Appends from `r` until `buf` holds `target` bytes; true at end of input.
fn read_up_to(r: &mut impl Read, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    while buf.len() < target {
        let want = chunk.len().min(target - buf.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => return Ok(true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

fn is_malformed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<MalformedText>())
}

fn io_to_sheet(e: io::Error) -> SheetError {
    if is_malformed(&e) {
        SheetError::Encoding
    } else {
        read_err(e)
    }
}

fn read_err(e: impl fmt::Display) -> SheetError {
    SheetError::Read(e.to_string())
}

fn csv_to_sheet(e: csv::Error) -> SheetError {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => SheetError::Encoding,
        csv::ErrorKind::Io(io) if is_malformed(io) => SheetError::Encoding,
        _ => read_err(e),
    }
}

/// Picks the delimiter used most on the first line that has any of them,
/// ignoring quoted text; comma when there is no evidence.
fn detect_delimiter(text: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b'\t', b';'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let mut lines = 0;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
                if counts[best] > 0 {
                    return CANDIDATES[best];
                }
                lines += 1;
                if lines >= 10 {
                    break;
                }
            }
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    CANDIDATES[best]
}

// ---------------------------------------------------------------------------
// Streaming CSV
// ---------------------------------------------------------------------------

/// Streams the data rows of a CSV file, decoding UTF-8/GBK/GB18030/UTF-16 on
/// the fly, so a million-row file never has to be in memory.
///
/// The header is located when the reader is created ([`Self::headers`]), so
/// a [`HeaderMap`] can be built before the first row is read. Rows come out
/// like [`read_table`]'s: trimmed, padded to the header width, blank rows
/// skipped, `line` counted the way Excel numbers rows (blank lines count,
/// the inner lines of a quoted multi-line cell do not). Cells written as
/// `="0123"` (the trick other systems use to keep leading zeros) are
/// unwrapped.
pub struct CsvRows<R: Read> {
    csv: csv::Reader<Decoding<R>>,
    headers: Vec<String>,
    pending: VecDeque<Row>,
    record: csv::StringRecord,
    last_line: usize,
    failed: bool,
}

impl<R: Read> CsvRows<R> {
    /// Sniffs encoding and delimiter and reads up to the header row.
    ///
    /// Fails with [`SheetError::CsvRequired`] for Excel workbooks,
    /// [`SheetError::NotASpreadsheet`]/[`SheetError::WebPage`] for other
    /// content and [`SheetError::Empty`] when there is no header.
    pub fn new(reader: R) -> Result<Self, SheetError> {
        let mut decoding = Decoding::new(reader)?;
        let mut delimiter = None;
        // Excel writes and honours a "sep=;" first line; it is not a row.
        let head = decoding.peek();
        if head.len() >= 5 && head[..4].eq_ignore_ascii_case(b"sep=") {
            let rest = &head[5..];
            let eol = if rest.starts_with(b"\r\n") {
                Some(2)
            } else if rest.is_empty() || rest[0] == b'\n' || rest[0] == b'\r' {
                Some(rest.len().min(1))
            } else {
                None
            };
            if let Some(eol) = eol {
                delimiter = Some(head[4]);
                decoding.skip(5 + eol);
            }
        }
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(decoding.peek()));
        decoding.rows.delimiter = delimiter;
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(decoding);
        let mut this = CsvRows {
            csv,
            headers: Vec::new(),
            pending: VecDeque::new(),
            record: csv::StringRecord::new(),
            last_line: 0,
            failed: false,
        };
        let (headers, pending) = locate_header(&mut || this.next_raw())?;
        this.headers = headers;
        this.pending = pending;
        Ok(this)
    }

    /// Cleaned header texts (see [`Table::headers`]).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next non-blank record, unfitted.
    fn next_raw(&mut self) -> Result<Option<Row>, SheetError> {
        loop {
            if !self
                .csv
                .read_record(&mut self.record)
                .map_err(csv_to_sheet)?
            {
                return Ok(None);
            }
            let line = match self.csv.get_mut().rows.starts.pop_front() {
                Some(line) => line,
                None => self.last_line + 1,
            };
            self.last_line = line;
            let cells: Vec<String> = self.record.iter().map(clean_csv_cell).collect();
            if !is_blank(&cells) {
                return Ok(Some(Row { line, cells }));
            }
        }
    }
}

fn clean_csv_cell(s: &str) -> String {
    let t = s.trim_matches(is_invisible);
    match t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        Some(inner) => clean_cell(&inner.replace("\"\"", "\"")),
        None => t.to_string(),
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(row) = self.pending.pop_front() {
            return Some(Ok(row));
        }
        if self.failed {
            return None;
        }
        match self.next_raw() {
            Ok(row) => row.map(|r| Ok(fit_row(r, self.headers.len()))),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Calls `f(headers, row)` for every data row of a CSV stream until it
/// returns `Break`; returns how many rows were passed to `f`.
///
/// Memory stays at a few 64 KiB buffers plus one row whatever the file size.
/// Fails with [`SheetError::Empty`] when there is no data row at all.
pub fn for_each_csv_row<R: Read>(
    reader: R,
    mut f: impl FnMut(&[String], Row) -> ControlFlow<()>,
) -> Result<usize, SheetError> {
    let mut rows = CsvRows::new(reader)?;
    let headers = std::mem::take(&mut rows.headers);
    let mut count = 0;
    for row in rows {
        count += 1;
        if f(&headers, row?).is_break() {
            break;
        }
    }
    if count == 0 {
        return Err(SheetError::Empty);
    }
    Ok(count)
}

// ---------------------------------------------------------------------------
// Header mapping
// ---------------------------------------------------------------------------

/// Maps logical field keys to column positions, tolerating how people
/// actually edit templates: reordered columns, stray spaces, full-width
/// parentheses, "*"/"(必填)" markers, and notes such as "出生日期(yyyy-mm-dd)".
#[derive(Debug, Clone)]
pub struct HeaderMap {
    columns: Vec<(&'static str, Option<usize>)>,
}

impl HeaderMap {
    /// `wanted` lists `(key, accepted header spellings, required)`; the first
    /// spelling is the template's name and is what
    /// [`SheetError::MissingColumns`] reports.
    pub fn new(
        headers: &[String],
        wanted: &[(&'static str, &[&str], bool)],
    ) -> Result<HeaderMap, SheetError> {
        let norm: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let loose: Vec<String> = norm.iter().map(|h| strip_note(h).to_string()).collect();
        let mut columns = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        for &(key, spellings, required) in wanted {
            let accepted: Vec<String> = spellings.iter().map(|s| normalize_header(s)).collect();
            let mut found = norm
                .iter()
                .position(|h| !h.is_empty() && accepted.contains(h));
            if found.is_none() {
                // "移动电话(11位)" for "移动电话" — only when unambiguous.
                let accepted: Vec<&str> = accepted.iter().map(|s| strip_note(s)).collect();
                let hits: Vec<usize> = loose
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| !h.is_empty() && accepted.contains(&h.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                if hits.len() == 1 {
                    found = Some(hits[0]);
                }
            }
            if found.is_none() && required {
                missing.push(spellings.first().copied().unwrap_or(key).to_string());
            }
            columns.push((key, found));
        }
        if missing.is_empty() {
            Ok(HeaderMap { columns })
        } else {
            Err(SheetError::MissingColumns(missing))
        }
    }

    /// The cell of `key` in `row`; "" when the column is absent or the row
    /// is short.
    pub fn get<'a>(&self, row: &'a Row, key: &str) -> &'a str {
        self.column(key)
            .and_then(|i| row.cells.get(i))
            .map_or("", String::as_str)
    }

    /// The 0-based column index of `key`, if present in the sheet.
    pub fn column(&self, key: &str) -> Option<usize> {
        let entry = self.columns.iter().find(|(k, _)| *k == key);
        debug_assert!(entry.is_some(), "HeaderMap: unknown key {key:?}");
        entry.and_then(|(_, c)| *c)
    }

    /// Whether the (optional) column of `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.column(key).is_some()
    }
}

/// Canonical header form: full-width ASCII folded to half-width, brackets
/// unified to "()", whitespace removed, ASCII lower-cased, required/optional
/// markers dropped.
fn normalize_header(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|&c| !is_invisible(c))
        .map(|c| match c {
            '【' | '〔' | '[' | '［' => '(',
            '】' | '〕' | ']' | '］' => ')',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '※' => '*',
            _ => c,
        })
        .map(|c| c.to_ascii_lowercase())
        .collect();
    loop {
        let before = out.len();
        for marker in [
            "(必填)",
            "(必填项)",
            "(必选)",
            "(选填)",
            "(非必填)",
            "(可选)",
            "(可不填)",
        ] {
            if let Some(n) = out.strip_suffix(marker).map(str::len) {
                out.truncate(n);
            }
        }
        let lead = out.len() - out.trim_start_matches('*').len();
        out.drain(..lead);
        out.truncate(out.trim_end_matches('*').len());
        if out.len() == before {
            return out;
        }
    }
}

/// Drops one trailing "(…)" note from a normalized header.
fn strip_note(s: &str) -> &str {
    if s.ends_with(')') {
        if let Some(open) = s.rfind('(') {
            if open > 0 {
                return &s[..open];
            }
        }
    }
    s
}

/// Lenient date parsing for imported cells: `2024-03-01`, `2024/3/1`,
/// `2024.3.1`, `2024年3月1日`, `20240301`, with an optional time part.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim_matches(is_invisible);
    let date = s.split([' ', 'T']).next().unwrap_or(s);
    if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| date[r].parse::<u32>().ok();
        return chrono::NaiveDate::from_ymd_opt(n(0..4)? as i32, n(4..6)?, n(6..8)?);
    }
    let parts: Vec<&str> = date
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// A cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum CellOut {
    /// Written as text, so IDs, phones and codes keep every digit and
    /// leading zeros.
    Text(String),
    /// A number; beyond 15 digits it is written as text since Excel would
    /// round it.
    Int(i64),
    /// A number.
    Num(f64),
    /// A blank cell.
    Empty,
}

impl From<&str> for CellOut {
    fn from(s: &str) -> Self {
        CellOut::Text(s.to_string())
    }
}

impl From<String> for CellOut {
    fn from(s: String) -> Self {
        CellOut::Text(s)
    }
}

impl From<i64> for CellOut {
    fn from(n: i64) -> Self {
        CellOut::Int(n)
    }
}

impl From<f64> for CellOut {
    fn from(n: f64) -> Self {
        CellOut::Num(n)
    }
}

impl<T: Into<CellOut>> From<Option<T>> for CellOut {
    fn from(v: Option<T>) -> Self {
        v.map_or(CellOut::Empty, Into::into)
    }
}

/// One worksheet of an export.
#[derive(Debug, Clone, Default)]
pub struct SheetOut {
    /// Sheet tab name; made valid and unique for Excel if needed.
    pub name: String,
    /// Header row (bold, frozen, with filter buttons).
    pub headers: Vec<String>,
    /// Data rows.
    pub rows: Vec<Vec<CellOut>>,
    /// Column widths in characters; computed from the content when `None`.
    pub col_widths: Option<Vec<f64>>,
}

/// Excel's row limit, header included.
const XLSX_MAX_ROWS: usize = 1_048_576;
const XLSX_MAX_COLS: usize = 16_384;
const XLSX_MAX_TEXT: usize = 32_767;
/// Rows sampled when computing column widths.
const WIDTH_SAMPLE: usize = 2_000;

/// Builds an `.xlsx` workbook with one worksheet per [`SheetOut`].
pub fn write_xlsx(sheets: &[SheetOut]) -> Result<Vec<u8>, SheetError> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, IgnoreError, Workbook};

    let werr = |e: rust_xlsxwriter::XlsxError| SheetError::Write(e.to_string());
    let header_fmt = Format::new()
        .set_bold()
        .set_num_format("@")
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border_bottom(FormatBorder::Thin);
    let text_fmt = Format::new().set_num_format("@");

    let mut book = Workbook::new();
    let mut used_names: Vec<String> = Vec::new();
    for (index, sheet) in sheets.iter().enumerate() {
        if sheet.rows.len() >= XLSX_MAX_ROWS {
            return Err(SheetError::TooLarge {
                limit: XLSX_MAX_ROWS - 1,
            });
        }
        let ncols = sheet
            .rows
            .iter()
            .map(Vec::len)
            .chain([sheet.headers.len()])
            .max()
            .unwrap_or(0);
        if ncols > XLSX_MAX_COLS {
            return Err(SheetError::Write(format!(
                "{ncols} columns exceed Excel's {XLSX_MAX_COLS}"
            )));
        }
        let name = sheet_name(&sheet.name, index, &used_names);
        used_names.push(name.clone());
        let ws = book.add_worksheet();
        ws.set_name(&name).map_err(werr)?;
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, excel_text(h).as_ref(), &header_fmt)
                .map_err(werr)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    CellOut::Text(s) => {
                        ws.write_string_with_format(r, c, excel_text(s).as_ref(), &text_fmt)
                            .map_err(werr)?;
                    }
                    CellOut::Int(n) if n.unsigned_abs() > 999_999_999_999_999 => {
                        ws.write_string_with_format(r, c, n.to_string(), &text_fmt)
                            .map_err(werr)?;
                    }
                    CellOut::Int(n) => {
                        ws.write_number(r, c, *n as f64).map_err(werr)?;
                    }
                    CellOut::Num(x) if x.is_finite() => {
                        ws.write_number(r, c, *x).map_err(werr)?;
                    }
                    CellOut::Num(x) => {
                        ws.write_string(r, c, x.to_string()).map_err(werr)?;
                    }
                    CellOut::Empty => {}
                }
            }
        }
        let widths = match &sheet.col_widths {
            Some(w) => w.clone(),
            None => auto_widths(sheet, ncols),
        };
        for (c, w) in widths.iter().enumerate().take(XLSX_MAX_COLS) {
            ws.set_column_width(c as u16, *w).map_err(werr)?;
        }
        if !sheet.headers.is_empty() {
            ws.set_freeze_panes(1, 0).map_err(werr)?;
            let last_col = sheet.headers.len().max(1) as u16 - 1;
            ws.autofilter(0, 0, sheet.rows.len() as u32, last_col)
                .map_err(werr)?;
        }
        if !sheet.rows.is_empty() && ncols > 0 {
            // IDs and phones are deliberately text: hide Excel's green triangles.
            ws.ignore_error_range(
                1,
                0,
                sheet.rows.len() as u32,
                ncols as u16 - 1,
                IgnoreError::NumberStoredAsText,
            )
            .map_err(werr)?;
        }
    }
    book.save_to_buffer().map_err(werr)
}

/// Excel refuses longer cell texts; exports must not fail over one remark.
fn excel_text(s: &str) -> Cow<'_, str> {
    if s.chars().count() <= XLSX_MAX_TEXT {
        Cow::Borrowed(s)
    } else {
        let mut t: String = s.chars().take(XLSX_MAX_TEXT - 1).collect();
        t.push('…');
        Cow::Owned(t)
    }
}

/// A valid, unique (case-insensitively) Excel sheet name.
fn sheet_name(wanted: &str, index: usize, used: &[String]) -> String {
    let mut base: String = wanted
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    base = base.trim().trim_matches('\'').to_string();
    if base.is_empty() || base.eq_ignore_ascii_case("history") {
        base = format!("Sheet{}", index + 1);
    }
    let taken = |n: &str| used.iter().any(|u| u.to_lowercase() == n.to_lowercase());
    let mut name: String = base.chars().take(31).collect();
    let mut n = 2;
    while taken(&name) {
        let suffix = format!("({n})");
        let keep = 31 - suffix.chars().count();
        name = base.chars().take(keep).collect::<String>() + &suffix;
        n += 1;
    }
    name
}

fn auto_widths(sheet: &SheetOut, ncols: usize) -> Vec<f64> {
    let mut widths = vec![0usize; ncols];
    for (c, h) in sheet.headers.iter().enumerate() {
        // Room for the filter button.
        widths[c] = display_width(h) + 3;
    }
    for row in sheet.rows.iter().take(WIDTH_SAMPLE) {
        for (c, cell) in row.iter().enumerate() {
            let w = match cell {
                CellOut::Text(s) => display_width(s),
                CellOut::Int(n) => n.to_string().len(),
                CellOut::Num(x) => format_number(*x).len(),
                CellOut::Empty => 0,
            };
            widths[c] = widths[c].max(w);
        }
    }
    widths
        .into_iter()
        .map(|w| (w as f64 + 1.0).clamp(6.0, 60.0))
        .collect()
}

/// Width in Excel character units: CJK and full-width characters take two.
fn display_width(s: &str) -> usize {
    s.lines()
        .map(|line| {
            line.chars()
                .map(|c| match c as u32 {
                    0x1100..=0x115F
                    | 0x2E80..=0x303E
                    | 0x3041..=0x33FF
                    | 0x3400..=0x4DBF
                    | 0x4E00..=0x9FFF
                    | 0xA000..=0xA4CF
                    | 0xAC00..=0xD7A3
                    | 0xF900..=0xFAFF
                    | 0xFE30..=0xFE4F
                    | 0xFF00..=0xFF60
                    | 0xFFE0..=0xFFE6
                    | 0x20000..=0x3FFFD => 2,
                    _ => 1,
                })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// A UTF-8 CSV with BOM (so Excel shows Chinese correctly) and CRLF line
/// ends. Text that Excel would run as a formula (`=…`, `@…`, `+`/`-` not
/// followed by a number) is prefixed with `'` to defuse CSV injection.
pub fn write_csv_utf8_bom(headers: &[String], rows: &[Vec<CellOut>]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let text = |s: &str| -> String {
            let risky = match s.chars().next() {
                Some('=' | '@') => true,
                Some('+' | '-') => s[1..].trim().parse::<f64>().is_err(),
                _ => false,
            };
            if risky {
                format!("'{s}")
            } else {
                s.to_string()
            }
        };
        let records = std::iter::once(headers.iter().map(|h| text(h)).collect::<Vec<_>>()).chain(
            rows.iter().map(|row| {
                row.iter()
                    .map(|c| match c {
                        CellOut::Text(s) => text(s),
                        CellOut::Int(n) => n.to_string(),
                        CellOut::Num(x) => format_number(*x),
                        CellOut::Empty => String::new(),
                    })
                    .collect()
            }),
        );
        for record in records {
            w.write_record(&record)
                .expect("writing CSV into memory cannot fail");
        }
        w.flush().expect("writing CSV into memory cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMBER_HEADERS: [&str; 18] = [
        "姓名",
        "性别",
        "出生日期",
        "民族",
        "证件类型",
        "证件号码",
        "学历",
        "技术等级",
        "移动电话",
        "户籍类型",
        "户籍所在地",
        "政治面貌",
        "工作单位",
        "是否农民工",
        "新就业形态群体",
        "会籍变化类型",
        "会籍变化日期",
        "所属工会编码",
    ];

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn gbk(s: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
        assert!(!unmappable);
        bytes.into_owned()
    }

    /// Deterministic noise without a rand dependency.
    fn noise(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn err(bytes: &[u8]) -> SheetError {
        read_table(bytes, 100).expect_err("should fail")
    }

    #[test]
    fn xlsx_round_trip_keeps_text_and_numbers() {
        let sheet = SheetOut {
            name: "会员".into(),
            headers: strings(&["姓名", "证件号码", "编码", "年龄", "会费", "备注"]),
            rows: vec![
                vec![
                    "张伟".into(),
                    "110105200101200044".into(),
                    "0101".into(),
                    CellOut::Int(34),
                    CellOut::Num(12.5),
                    CellOut::Empty,
                ],
                vec![
                    "  李娜 ".into(),
                    "61040219780918102X".into(),
                    "007".into(),
                    CellOut::Int(1_234_567_890_123_456_789),
                    CellOut::Num(0.1 + 0.2),
                    "多行\n备注".into(),
                ],
            ],
            col_widths: None,
        };
        let bytes = write_xlsx(&[sheet]).unwrap();
        assert_eq!(detect_format(&bytes).unwrap(), Format::Xlsx);
        let t = read_table(&bytes, 10).unwrap();
        assert_eq!(
            t.headers,
            strings(&["姓名", "证件号码", "编码", "年龄", "会费", "备注"])
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(
            t.rows[0].cells,
            strings(&["张伟", "110105200101200044", "0101", "34", "12.5", ""])
        );
        assert_eq!(t.rows[1].line, 3);
        assert_eq!(
            t.rows[1].cells,
            strings(&[
                "李娜",
                "61040219780918102X",
                "007",
                "1234567890123456789",
                "0.3",
                "多行\n备注"
            ])
        );
    }

    #[test]
    fn xlsx_dates_booleans_numbers_and_true_line_numbers() {
        use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        let date = XFormat::new().set_num_format("yyyy/m/d");
        let stamp = XFormat::new().set_num_format("yyyy-mm-dd hh:mm");
        ws.write_string(0, 0, "2024年会员信息采集表").unwrap();
        // Row 2 blank; header on row 3; title row must be skipped.
        for (c, h) in [
            " 姓 名 ",
            "入会日期",
            "是否农民工",
            "移动电话",
            "证件号码",
            "时间",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        ws.write_string(3, 0, "王芳").unwrap();
        ws.write_datetime_with_format(3, 1, ExcelDateTime::from_ymd(2024, 3, 1).unwrap(), &date)
            .unwrap();
        ws.write_boolean(3, 2, true).unwrap();
        ws.write_number(3, 3, 13_800_138_000.0).unwrap();
        ws.write_number(3, 4, 110_105_199_001_011_234.0).unwrap();
        let t = ExcelDateTime::parse_from_str("2024-03-01 08:30:00").unwrap();
        ws.write_datetime_with_format(3, 5, t, &stamp).unwrap();
        // Row 5 blank, row 6 data.
        ws.write_string(5, 0, "赵六").unwrap();
        ws.write_boolean(5, 2, false).unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let t = read_table(&bytes, 10).unwrap();
        assert_eq!(t.headers[0], "姓名");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 4);
        assert_eq!(
            t.rows[0].cells,
            strings(&[
                "王芳",
                "2024-03-01",
                "是",
                "13800138000",
                "110105199001011000",
                "2024-03-01 08:30:00"
            ])
        );
        assert_eq!(t.rows[1].line, 6);
        assert_eq!(t.rows[1].cells, strings(&["赵六", "", "否", "", "", ""]));
    }

    #[test]
    fn gbk_csv_with_chinese_headers() {
        let text = "姓名,证件号码,工作单位\r\n张伟,610402199005121231,咸阳示范机械有限公司\r\n李娜,610102198511030024,\"西安示例物流有限公司(一分厂,二车间)\"\r\n";
        let bytes = gbk(text);
        assert!(std::str::from_utf8(&bytes).is_err());
        let t = read_table(&bytes, 10).unwrap();
        assert_eq!(t.headers, strings(&["姓名", "证件号码", "工作单位"]));
        assert_eq!(t.rows[1].cells[2], "西安示例物流有限公司(一分厂,二车间)");
        assert_eq!(t.rows[1].line, 3);
    }

    #[test]
    fn utf8_bom_csv_and_delimiters() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("姓名,移动电话\n张伟,13800138000\n".as_bytes());
        let t = read_table(&bytes, 10).unwrap();
        assert_eq!(t.headers, strings(&["姓名", "移动电话"]));
        assert_eq!(t.rows[0].cells, strings(&["张伟", "13800138000"]));

        let t = read_table("姓名\t备注\n张伟\t有,逗号\n".as_bytes(), 10).unwrap();
        assert_eq!(t.rows[0].cells, strings(&["张伟", "有,逗号"]));
        let t = read_table("姓名;金额\n张伟;1,5\n".as_bytes(), 10).unwrap();
        assert_eq!(t.rows[0].cells, strings(&["张伟", "1,5"]));
        let t = read_table("sep=;\r\n姓名;金额,备注\r\n张伟;3\r\n".as_bytes(), 10).unwrap();
        assert_eq!(t.headers, strings(&["姓名", "金额,备注"]));
        assert_eq!(t.rows[0].line, 2);
    }

    #[test]
    fn utf16_tab_text_as_excel_unicode_text() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(utf16le("姓名\t证件号码\r\n王芳\t110105200101200044\r\n"));
        let t = read_table(&bytes, 10).unwrap();
        assert_eq!(t.rows[0].cells, strings(&["王芳", "110105200101200044"]));
    }

    #[test]
    fn csv_quoted_newline_blank_lines_and_line_numbers() {
        let text = "姓名,备注\n张伟,\"第一行\n第二行\"\n\n,\n李娜,ok\n";
        let t = read_table(text.as_bytes(), 10).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[1], "第一行\n第二行");
        assert_eq!(t.rows[0].line, 2);
        // Excel: row 3 blank, row 4 only a comma, row 5 李娜.
        assert_eq!(t.rows[1].line, 5);

        // Same with Windows line ends, a quote inside an unquoted cell and
        // an escaped quote inside a quoted one.
        let text = "姓名,备注\r\n张\"伟,\"说\"\"明\r\n第二行\r\n\r\n第四行\"\r\n\r\n\r\n李娜,ok";
        let t = read_table(text.as_bytes(), 10).unwrap();
        assert_eq!(
            t.rows[0].cells,
            strings(&["张\"伟", "说\"明\n第二行\n\n第四行"])
        );
        assert_eq!((t.rows[0].line, t.rows[1].line), (2, 5));
    }

    #[test]
    fn csv_cells_trimmed_and_excel_text_trick_unwrapped() {
        let text = "姓名,编码,证件号码\n\u{3000}张伟\u{200B} ,=\"0101\",\t110105200101200044\n";
        let t = read_table(text.as_bytes(), 10).unwrap();
        assert_eq!(
            t.rows[0].cells,
            strings(&["张伟", "0101", "110105200101200044"])
        );
    }

    #[test]
    fn rejects_non_spreadsheets() {
        assert!(matches!(err(&noise(4096)), SheetError::NotASpreadsheet));
        assert!(matches!(err(&noise(40)), SheetError::NotASpreadsheet));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(noise(500));
        assert!(matches!(err(&png), SheetError::NotASpreadsheet));
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend(noise(500));
        assert!(matches!(err(&zip), SheetError::NotASpreadsheet));
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend(noise(600));
        assert!(matches!(err(&ole), SheetError::NotASpreadsheet));
        let html = b"\r\n<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><table><tr><td>1</td></tr></table></html>";
        assert!(matches!(err(html), SheetError::WebPage));
        let mut encrypted = OLE_MAGIC.to_vec();
        encrypted.extend(vec![0; 200]);
        encrypted.extend(utf16le("EncryptionInfo"));
        assert!(matches!(err(&encrypted), SheetError::Encrypted));
    }

    #[test]
    fn damaged_workbook_is_a_read_error() {
        let sheet = SheetOut {
            name: "a".into(),
            headers: strings(&["姓名"]),
            rows: vec![vec!["王芳".into()]; 50],
            col_widths: None,
        };
        let bytes = write_xlsx(&[sheet]).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        assert!(contains(cut, b"xl/"));
        assert!(matches!(err(cut), SheetError::Read(_)));
    }

    #[test]
    fn empty_and_header_only() {
        assert!(matches!(err(b""), SheetError::Empty));
        assert!(matches!(err(b"\r\n \r\n"), SheetError::Empty));
        assert!(matches!(
            err("姓名,证件号码\r\n".as_bytes()),
            SheetError::Empty
        ));
        assert!(matches!(
            err("姓名,证件号码\r\n,\r\n\r\n".as_bytes()),
            SheetError::Empty
        ));
        let header_only = write_xlsx(&[SheetOut {
            name: "x".into(),
            headers: strings(&["姓名", "证件号码"]),
            ..Default::default()
        }])
        .unwrap();
        assert!(matches!(err(&header_only), SheetError::Empty));
        let blank = write_xlsx(&[SheetOut::default()]).unwrap();
        assert!(matches!(err(&blank), SheetError::Empty));
    }

    #[test]
    fn too_large() {
        let text = "姓名\n甲\n乙\n丙\n";
        assert!(read_table(text.as_bytes(), 3).is_ok());
        assert!(matches!(
            read_table(text.as_bytes(), 2),
            Err(SheetError::TooLarge { limit: 2 })
        ));
    }

    #[test]
    fn header_map_is_tolerant_and_reports_missing() {
        const WANTED: &[(&str, &[&str], bool)] = &[
            ("name", &["姓名"], true),
            ("id_no", &["证件号码", "身份证号码", "身份证号"], true),
            ("phone", &["移动电话", "手机号码"], false),
            (
                "union",
                &["所属工会编码(统一社会信用代码)", "所属工会编码"],
                true,
            ),
            ("email", &["电子邮箱"], false),
        ];
        let headers = strings(&[
            "移动电话(11位)",
            "备注",
            "身份证 号码＊",
            "* 姓　名（必填）",
            "所属工会编码（统一社会信用代码）",
        ]);
        let map = HeaderMap::new(&headers, WANTED).unwrap();
        let row = Row {
            line: 2,
            cells: strings(&[
                "13800138000",
                "",
                "110105200101200044",
                "王芳",
                "SF-0101-001",
            ]),
        };
        assert_eq!(map.get(&row, "name"), "王芳");
        assert_eq!(map.get(&row, "id_no"), "110105200101200044");
        assert_eq!(map.get(&row, "phone"), "13800138000");
        assert_eq!(map.get(&row, "union"), "SF-0101-001");
        assert_eq!(map.get(&row, "email"), "");
        assert!(!map.has("email"));
        assert_eq!(map.column("name"), Some(3));

        let short = Row {
            line: 3,
            cells: strings(&["1"]),
        };
        assert_eq!(map.get(&short, "name"), "");

        let e = HeaderMap::new(&strings(&["姓名", "电话"]), WANTED).unwrap_err();
        match &e {
            SheetError::MissingColumns(cols) => {
                assert_eq!(
                    cols,
                    &strings(&["证件号码", "所属工会编码(统一社会信用代码)"])
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.message().0.contains("「证件号码」"));
    }

    #[test]
    fn header_map_ambiguous_notes_do_not_match() {
        const WANTED: &[(&str, &[&str], bool)] = &[("phone", &["电话"], true)];
        let headers = strings(&["电话(手机)", "电话(座机)"]);
        assert!(HeaderMap::new(&headers, WANTED).is_err());
        let headers = strings(&["电话(座机)", "电话"]);
        assert_eq!(
            HeaderMap::new(&headers, WANTED).unwrap().column("phone"),
            Some(1)
        );
    }

    #[test]
    fn long_digit_strings_survive_every_path() {
        let ids = [
            "110105200101200044",
            "000123456789012345678",
            "61040219780918102X",
        ];
        let rows: Vec<Vec<CellOut>> = ids.iter().map(|id| vec![CellOut::from(*id)]).collect();
        let headers = strings(&["证件号码"]);
        let xlsx = write_xlsx(&[SheetOut {
            name: "ids".into(),
            headers: headers.clone(),
            rows: rows.clone(),
            col_widths: Some(vec![30.0]),
        }])
        .unwrap();
        let csv = write_csv_utf8_bom(&headers, &rows);
        for bytes in [xlsx, csv] {
            let t = read_table(&bytes, 10).unwrap();
            let got: Vec<&str> = t.rows.iter().map(|r| r.cells[0].as_str()).collect();
            assert_eq!(got, ids);
        }
        assert_eq!(
            format_number(1.101_051_990_010_112_3e17),
            "110105199001011000"
        );
        assert_eq!(format_number(13_800_138_000.0), "13800138000");
        assert_eq!(format_number(-2.5), "-2.5");
        assert_eq!(format_number(1e-7), "0.0000001");
    }

    #[test]
    fn csv_export_has_bom_crlf_and_defuses_formulas() {
        let rows = vec![vec![
            CellOut::from("=HYPERLINK(\"x\")"),
            CellOut::from("-5"),
            CellOut::from("+86 138"),
            CellOut::Int(7),
            CellOut::Num(2.5),
            CellOut::Empty,
        ]];
        let out = write_csv_utf8_bom(&strings(&["a", "b", "c", "d", "e", "f"]), &rows);
        assert!(out.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = std::str::from_utf8(&out[3..]).unwrap();
        assert_eq!(
            text,
            "a,b,c,d,e,f\r\n\"'=HYPERLINK(\"\"x\"\")\",-5,'+86 138,7,2.5,\r\n"
        );
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let sheet = |name: &str| SheetOut {
            name: name.into(),
            headers: strings(&["a"]),
            ..Default::default()
        };
        let bytes = write_xlsx(&[
            sheet("错误/明细"),
            sheet("错误/明细"),
            sheet(""),
            sheet(&"长".repeat(40)),
        ])
        .unwrap();
        let book = calamine::open_workbook_auto_from_rs(Cursor::new(&bytes[..])).unwrap();
        assert_eq!(
            book.sheet_names(),
            vec![
                "错误_明细".to_string(),
                "错误_明细(2)".to_string(),
                "Sheet3".to_string(),
                "长".repeat(31)
            ]
        );
    }

    /// Hands out at most 7 bytes per read, so multi-byte characters and the
    /// CRLF pairs straddle every buffer boundary.
    struct Dribble<'a>(&'a [u8]);

    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn streaming_gbk_csv_row_by_row() {
        let mut text = String::from("姓名,证件号码,备注\r\n");
        for i in 0..30_000 {
            text.push_str(&format!("会员{i},{:018},\"说明\r\n第{i}条\"\r\n", i));
        }
        let bytes = gbk(&text);
        let mut seen = 0;
        let mut last_line = 0;
        let n = for_each_csv_row(Dribble(&bytes), |headers, row| {
            assert_eq!(headers[1], "证件号码");
            assert_eq!(row.cells[0], format!("会员{seen}"));
            assert_eq!(row.cells[1], format!("{seen:018}"));
            // Line breaks inside cells come back as LF, like Excel's Alt+Enter.
            assert_eq!(row.cells[2], format!("说明\n第{seen}条"));
            last_line = row.line;
            seen += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!((n, seen, last_line), (30_000, 30_000, 30_001));

        let mut firsts = Vec::new();
        let n = for_each_csv_row(&bytes[..], |_, row| {
            firsts.push(row.line);
            if firsts.len() == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!((n, firsts), (3, vec![2, 3, 4]));
    }

    #[test]
    fn streaming_decides_encoding_late_when_the_start_is_ascii() {
        let mut text = String::from("name,id\r\n");
        for i in 0..20_000 {
            text.push_str(&format!("m{i},{i}\r\n"));
        }
        text.push_str("王芳,1\r\n");
        for (bytes, label) in [(gbk(&text), "gbk"), (text.clone().into_bytes(), "utf8")] {
            let rows: Vec<Row> = CsvRows::new(&bytes[..])
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), 20_001, "{label}");
            assert_eq!(rows[20_000].cells[0], "王芳", "{label}");
        }
    }

    #[test]
    fn streaming_refuses_workbooks_and_reports_bad_bytes() {
        let xlsx = write_xlsx(&[SheetOut {
            name: "a".into(),
            headers: strings(&["a"]),
            rows: vec![vec![CellOut::Int(1)]],
            col_widths: None,
        }])
        .unwrap();
        assert!(matches!(
            CsvRows::new(&xlsx[..]),
            Err(SheetError::CsvRequired)
        ));
        // Valid UTF-8 start, then a GBK line: mixed files must not import garbled.
        let mut bytes = "姓名,备注\n王芳,好\n".as_bytes().to_vec();
        bytes.extend(gbk("李娜,坏\n"));
        assert!(matches!(
            CsvRows::new(&bytes[..]),
            Err(SheetError::Encoding)
        ));
        // The same past the sniffed start surfaces while streaming.
        let mut bytes = "姓名,备注\n".as_bytes().to_vec();
        for i in 0..10_000 {
            bytes.extend(format!("王芳{i},好\n").as_bytes());
        }
        bytes.extend(gbk("李娜,坏\n"));
        let result: Result<Vec<Row>, _> = CsvRows::new(&bytes[..]).unwrap().collect();
        assert!(matches!(result, Err(SheetError::Encoding)));
    }

    #[test]
    fn parse_date_accepts_common_spellings() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 3, 1);
        for s in [
            "2024-03-01",
            "2024/3/1",
            "2024.3.1",
            "2024年3月1日",
            "20240301",
            "2024-03-01 00:00:00",
        ] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("3/1/2024"), None);
    }

    #[test]
    fn every_error_explains_itself_in_both_languages() {
        let all = [
            SheetError::NotASpreadsheet,
            SheetError::WebPage,
            SheetError::Encrypted,
            SheetError::CsvRequired,
            SheetError::Empty,
            SheetError::TooLarge { limit: 5000 },
            SheetError::Encoding,
            SheetError::MissingColumns(strings(&["姓名"])),
            SheetError::Read("bad".into()),
            SheetError::Write("bad".into()),
            guard::check_xlsx(Cursor::new(guard::tests::build_bomb()), &Limits::default())
                .unwrap_err(),
        ];
        for e in all {
            let (zh, en) = e.message();
            assert!(
                zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{e}"
            );
            assert!(zh.contains('请'), "zh message must say what to do: {zh}");
            assert!(en.len() > 40, "{en}");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn reads_uploaded_file_from_disk() {
        let bytes = write_csv_utf8_bom(&strings(&["姓名"]), &[vec!["王芳".into()]]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.xlsx"); // misleading name on purpose
        std::fs::write(&path, &bytes).unwrap();
        let t = read_table(&std::fs::read(&path).unwrap(), 10).unwrap();
        assert_eq!(t.rows[0].cells, strings(&["王芳"]));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../gonghui/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn fixtures_from_libreoffice_excel97_and_gbk_read_identically() {
        let xlsx = read_table(&fixture("members_libreoffice.xlsx"), 100).unwrap();
        let xls = read_table(&fixture("members_legacy.xls"), 100).unwrap();
        let csv_bytes = fixture("members_gbk.csv");
        assert!(
            std::str::from_utf8(&csv_bytes).is_err(),
            "fixture must be GBK"
        );
        let csv = read_table(&csv_bytes, 100).unwrap();

        assert_eq!(xlsx.headers, strings(&MEMBER_HEADERS));
        assert_eq!(xlsx, xls, "xlsx vs xls");
        assert_eq!(xlsx, csv, "xlsx vs gbk csv");
        assert_eq!(xlsx.rows.len(), 4);
        assert_eq!(
            xlsx.rows[0].cells,
            strings(&[
                "张伟",
                "男",
                "1990-05-12",
                "汉族",
                "居民身份证",
                "610402199005121231",
                "本科",
                "无",
                "13800138000",
                "非农业户口",
                "陕西省咸阳市秦都区",
                "中共党员",
                "咸阳示范机械有限公司",
                "否",
                "",
                "入会",
                "2024-03-01",
                "SF-01-S1-001",
            ])
        );
        let map = HeaderMap::new(
            &xlsx.headers,
            &[
                ("id", &["证件号码"], true),
                ("org", &["工作单位"], true),
                ("joined", &["会籍变化日期"], true),
            ],
        )
        .unwrap();
        let last = &xlsx.rows[3];
        assert_eq!(last.line, 5);
        assert_eq!(map.get(last, "id"), "61040219780918102X");
        assert_eq!(map.get(last, "org"), "咸阳示范机械有限公司(一分厂,二车间)");
        assert_eq!(
            parse_date(map.get(last, "joined")),
            chrono::NaiveDate::from_ymd_opt(2024, 5, 20)
        );
    }
}
