//! RFC 4180 CSV, written and counted without holding a file in memory.

use std::io::{self, Write};

/// One RFC 4180 record: fields with a comma, quote or line break are quoted, quotes doubled,
/// records end with CRLF. Text is written as given (UTF-8).
pub(crate) fn write_row(w: &mut impl Write, fields: &[&str]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        if field.contains([',', '"', '\r', '\n']) {
            w.write_all(b"\"")?;
            let mut parts = field.split('"');
            if let Some(first) = parts.next() {
                w.write_all(first.as_bytes())?;
            }
            for part in parts {
                w.write_all(b"\"\"")?;
                w.write_all(part.as_bytes())?;
            }
            w.write_all(b"\"")?;
        } else {
            w.write_all(field.as_bytes())?;
        }
    }
    w.write_all(b"\r\n")
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
        write_row(&mut out, fields).unwrap();
        String::from_utf8(out).unwrap()
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
        write_row(&mut text, &["h1", "h2"]).unwrap();
        write_row(&mut text, &["two\r\nlines", "\"q\""]).unwrap();
        write_row(&mut text, &["", ""]).unwrap();
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
