//! Checking an export against its manifest: every listed file present with the same SHA-256
//! and size, nothing unlisted, no name twice, and the counts matching what the files hold.
//!
//! This proves integrity, not authenticity: it finds what changed by accident (a truncated
//! copy, a flipped bit, a file edited or dropped), but anyone can rewrite a zip together with
//! its manifest, and the check then passes. The manifest is not signed.
//!
//! Files are streamed (hashed and counted chunk by chunk), so a multi-gigabyte export with
//! videos is checked in constant memory; the manifest, which is read whole, is refused above
//! [`MAX_MANIFEST_BYTES`]. Every problem is collected, not just the first, so the user sees at
//! once what is wrong.
//!
//! A zip may hold two entries of one name. The zip reader keeps only one of them, and
//! unpackers differ in which one they keep, so what was checked need not be what the user
//! unpacks: the central directory's names are read on their own, and every repeated name is a
//! problem.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::result::ZipError;
use zip::ZipArchive;

use super::csv::RecordCounter;
use super::{Counts, ExportError, MANIFEST};
use crate::secret::SecretString;

/// What a check found. The export is intact when `problems` is empty.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub schema_version: u32,
    pub exported_at: String,
    pub encrypted: bool,
    pub counts: Counts,
    /// Files whose bytes were read and compared.
    pub files_checked: usize,
    pub problems: Vec<VerifyProblem>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One way an export differs from its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifyProblem {
    /// The bytes differ from what the manifest recorded.
    Changed { path: String },
    /// Listed in the manifest, absent from the zip.
    Missing { path: String },
    /// In the zip, not listed in the manifest.
    Unlisted { path: String },
    /// Two or more entries of the zip have this name.
    DuplicateName { path: String },
    /// A name that would escape the folder it is unpacked into.
    UnsafePath { path: String },
    /// The zip itself could not give the file back (damaged data, bad checksum).
    Unreadable { path: String, reason: String },
    /// A count in the manifest differs from what the files hold.
    Count {
        what: String,
        manifest: u64,
        found: u64,
    },
}

impl fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyProblem::Changed { path } => {
                write!(f, "{path}: its content differs from the manifest")
            }
            VerifyProblem::Missing { path } => write!(f, "{path}: listed but missing"),
            VerifyProblem::DuplicateName { path } => {
                write!(f, "{path}: more than one file has this name")
            }
            VerifyProblem::Unlisted { path } => {
                write!(f, "{path}: present but not listed in the manifest")
            }
            VerifyProblem::UnsafePath { path } => {
                write!(
                    f,
                    "{path}: this name would escape the folder it is unpacked into"
                )
            }
            VerifyProblem::Unreadable { path, reason } => {
                write!(f, "{path}: cannot be read ({reason})")
            }
            VerifyProblem::Count {
                what,
                manifest,
                found,
            } => write!(
                f,
                "{what}: the manifest says {manifest}, the files hold {found}"
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    exported_at: String,
    #[serde(default)]
    encrypted: bool,
    counts: Counts,
    files: Vec<ManifestFile>,
}

#[derive(Deserialize)]
struct ManifestFile {
    path: String,
    sha256: String,
    bytes: Option<u64>,
}

/// The largest manifest read, in bytes. A manifest lists each file in about 300 bytes (a
/// media name of at most about 150 bytes, its SHA-256 in hex, its size, the JSON around them),
/// so 128 MiB holds over 400,000 files: a thumbnail and a clip for each of 200,000
/// generations, twice the largest history the app is built for (docs/targets.md). It is read
/// whole, so a hostile export could otherwise make the check use any amount of memory.
pub const MAX_MANIFEST_BYTES: u64 = 128 << 20;

/// Checks the export at `path`. `password` is needed for a password-protected export.
/// Fails only when the file is not a readable Cleom export at all; differences are reported in
/// [`VerifyReport::problems`].
pub fn verify(path: &Path, password: Option<&SecretString>) -> Result<VerifyReport, ExportError> {
    let mut file = File::open(path)?;
    let names = central_directory_names(&mut file)
        .map_err(|e| ExportError::NotAnExport(format!("not a readable zip ({e})")))?;
    let mut zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| ExportError::NotAnExport(format!("not a readable zip ({e})")))?;
    let password = password.map(|p| p.expose().as_bytes());
    let manifest = read_manifest(&mut zip, password)?;
    let mut check = Check::new(manifest.files);
    check.problems.extend(
        repeated_names(names)
            .into_iter()
            .map(|path| VerifyProblem::DuplicateName { path }),
    );
    for index in 0..zip.len() {
        check.entry(&mut zip, index, password)?;
    }
    let files_checked = check.files_checked;
    let problems = check.finish(&manifest.counts);
    Ok(VerifyReport {
        schema_version: manifest.schema_version,
        exported_at: manifest.exported_at,
        encrypted: manifest.encrypted,
        counts: manifest.counts,
        files_checked,
        problems,
    })
}

/// The manifest, refused when its zip entry says it is larger than [`MAX_MANIFEST_BYTES`], and
/// read no further than that whatever it says.
fn read_manifest<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    password: Option<&[u8]>,
) -> Result<Manifest, ExportError> {
    let entry = open(zip, MANIFEST, password)?;
    if entry.size() > MAX_MANIFEST_BYTES {
        return Err(ExportError::ManifestTooLarge {
            bytes: entry.size(),
        });
    }
    serde_json::from_reader(entry.take(MAX_MANIFEST_BYTES))
        .map_err(|e| ExportError::NotAnExport(format!("{MANIFEST} is unreadable ({e})")))
}

/// The names that occur more than once in `names`, once each, in the order they repeat.
fn repeated_names(names: Vec<Vec<u8>>) -> Vec<String> {
    let mut seen = HashSet::with_capacity(names.len());
    let mut repeated = Vec::new();
    for name in names {
        let shown = String::from_utf8_lossy(&name).into_owned();
        if !seen.insert(name) && !repeated.contains(&shown) {
            repeated.push(shown);
        }
    }
    repeated
}

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY: u32 = 0x0606_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;

/// The name of every entry in the zip's central directory, as stored, repeats included (the
/// zip reader keeps one entry per name). Zip64 is understood; an export has no data before
/// the zip, so offsets are taken as they are written.
fn central_directory_names(file: &mut File) -> io::Result<Vec<Vec<u8>>> {
    let not_a_zip = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what);
    let len = file.metadata()?.len();
    // The end record is 22 bytes and a comment of at most 65,535.
    let tail_len = len.min(22 + 0xffff);
    let tail_start = len - tail_len;
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(tail_start))?;
    file.read_exact(&mut tail)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == END_OF_CENTRAL_DIRECTORY)
        .ok_or_else(|| not_a_zip("no end of central directory"))?;
    let end = &tail[at..];
    let (mut entries, mut offset) = (u64::from(u16_at(end, 10)), u64::from(u32_at(end, 16)));
    if entries == 0xffff || offset == 0xffff_ffff {
        let locator = at
            .checked_sub(20)
            .filter(|&l| u32_at(&tail, l) == ZIP64_LOCATOR)
            .ok_or_else(|| not_a_zip("no zip64 locator"))?;
        let mut record = [0u8; 56];
        file.seek(SeekFrom::Start(u64_at(&tail, locator + 8)))?;
        file.read_exact(&mut record)?;
        if u32_at(&record, 0) != ZIP64_END_OF_CENTRAL_DIRECTORY {
            return Err(not_a_zip("no zip64 end of central directory"));
        }
        (entries, offset) = (u64_at(&record, 32), u64_at(&record, 48));
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut directory = BufReader::new(&mut *file);
    let mut names = Vec::new();
    for _ in 0..entries {
        let mut header = [0u8; 46];
        directory.read_exact(&mut header)?;
        if u32_at(&header, 0) != CENTRAL_HEADER {
            return Err(not_a_zip("a damaged central directory"));
        }
        let mut name = vec![0u8; usize::from(u16_at(&header, 28))];
        directory.read_exact(&mut name)?;
        let rest = i64::from(u16_at(&header, 30)) + i64::from(u16_at(&header, 32));
        directory.seek_relative(rest)?;
        names.push(name);
    }
    Ok(names)
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

/// A check going through the zip's files: what the manifest lists and has not been seen yet,
/// what the files seen hold, and the problems found so far.
struct Check {
    /// SHA-256 (lowercase hex) and size by path.
    listed: BTreeMap<String, (String, Option<u64>)>,
    found: Found,
    files_checked: usize,
    problems: Vec<VerifyProblem>,
    /// Reused for reading every file.
    chunk: Vec<u8>,
}

impl Check {
    fn new(files: Vec<ManifestFile>) -> Check {
        let mut listed = BTreeMap::new();
        for f in files {
            listed.insert(f.path, (f.sha256.to_ascii_lowercase(), f.bytes));
        }
        Check {
            listed,
            found: Found::default(),
            files_checked: 0,
            problems: Vec::new(),
            chunk: vec![0u8; 1 << 16],
        }
    }

    /// Checks the zip's file at `index` against the manifest. Fails only when the password is
    /// missing or wrong: a file that cannot be read is a problem of this export.
    fn entry<R: Read + io::Seek>(
        &mut self,
        zip: &mut ZipArchive<R>,
        index: usize,
        password: Option<&[u8]>,
    ) -> Result<(), ExportError> {
        let name = zip
            .name_for_index(index)
            .map(str::to_string)
            .unwrap_or_default();
        if name == MANIFEST {
            return Ok(());
        }
        if !is_safe_path(&name) {
            self.problems
                .push(VerifyProblem::UnsafePath { path: name.clone() });
        }
        let Some((sha256, bytes)) = self.listed.remove(&name) else {
            self.problems.push(VerifyProblem::Unlisted { path: name });
            return Ok(());
        };
        self.files_checked += 1;
        let mut counter = Counter::for_file(&name);
        match hash(zip, index, &name, password, &mut self.chunk, &mut counter) {
            Ok((actual, size)) => {
                if actual != sha256 || bytes.is_some_and(|b| b != size) {
                    self.problems
                        .push(VerifyProblem::Changed { path: name.clone() });
                }
                self.found.add(&name, &counter);
            }
            Err(e @ (ExportError::PasswordRequired | ExportError::WrongPassword)) => return Err(e),
            Err(e) => self.problems.push(VerifyProblem::Unreadable {
                path: name,
                reason: e.to_string(),
            }),
        }
        Ok(())
    }

    /// The problems found: those of the files, then the listed files never seen, then the
    /// counts that differ from `counts`.
    fn finish(self, counts: &Counts) -> Vec<VerifyProblem> {
        let mut problems = self.problems;
        problems.extend(
            self.listed
                .into_keys()
                .map(|path| VerifyProblem::Missing { path }),
        );
        self.found.compare(counts, &mut problems);
        problems
    }
}

/// Reads the zip's file at `index` (named `name`) through, feeding `counter`: its SHA-256
/// (lowercase hex) and size.
fn hash<R: Read + io::Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    name: &str,
    password: Option<&[u8]>,
    chunk: &mut [u8],
    counter: &mut Counter,
) -> Result<(String, u64), ExportError> {
    let mut entry = match password {
        Some(p) => zip.by_index_decrypt(index, p),
        None => zip.by_index(index),
    }
    .map_err(|e| zip_error(name, e))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = match entry.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        hasher.update(&chunk[..n]);
        counter.feed(&chunk[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// A relative path of plain names: no `..`, no root, no drive, no backslash.
fn is_safe_path(name: &str) -> bool {
    !name.contains(['\\', ':', '\0'])
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

fn open<'a, R: Read + io::Seek>(
    zip: &'a mut ZipArchive<R>,
    name: &str,
    password: Option<&[u8]>,
) -> Result<zip::read::ZipFile<'a, R>, ExportError> {
    match password {
        Some(p) => zip.by_name_decrypt(name, p),
        None => zip.by_name(name),
    }
    .map_err(|e| match e {
        ZipError::FileNotFound => ExportError::NotAnExport(format!("it has no {name}")),
        e => zip_error(name, e),
    })
}

fn zip_error(name: &str, e: ZipError) -> ExportError {
    match e {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => ExportError::PasswordRequired,
        ZipError::InvalidPassword => ExportError::WrongPassword,
        e => ExportError::NotAnExport(format!("{name} cannot be read ({e})")),
    }
}

/// Counts the records a file holds, as it streams past.
enum Counter {
    /// Elements of the top-level JSON array.
    JsonArray(JsonArrayCounter),
    /// CSV records, the header included.
    Csv(RecordCounter),
    None,
}

impl Counter {
    fn for_file(name: &str) -> Counter {
        match name {
            "generations.json" => Counter::JsonArray(JsonArrayCounter::default()),
            "generations.csv" | "credit-ledger.csv" | "purchases.csv" => {
                Counter::Csv(RecordCounter::default())
            }
            _ => Counter::None,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        match self {
            Counter::JsonArray(c) => c.feed(bytes),
            Counter::Csv(c) => c.feed(bytes),
            Counter::None => {}
        }
    }

    /// Records found: array elements, or CSV rows without the header.
    fn records(&self) -> u64 {
        match self {
            Counter::JsonArray(c) => c.elements,
            Counter::Csv(c) => c.records().saturating_sub(1),
            Counter::None => 0,
        }
    }
}

/// What the files hold, to compare with the manifest's counts.
#[derive(Default)]
struct Found {
    generations_json: Option<u64>,
    generations_csv: Option<u64>,
    ledger: Option<u64>,
    purchases: Option<u64>,
    media_files: u64,
}

impl Found {
    fn add(&mut self, name: &str, counter: &Counter) {
        let records = Some(counter.records());
        match name {
            "generations.json" => self.generations_json = records,
            "generations.csv" => self.generations_csv = records,
            "credit-ledger.csv" => self.ledger = records,
            "purchases.csv" => self.purchases = records,
            _ if name.starts_with("media/") => self.media_files += 1,
            _ => {}
        }
    }

    fn compare(&self, counts: &Counts, problems: &mut Vec<VerifyProblem>) {
        let mut check = |what: &str, manifest: u64, found: Option<u64>| {
            if let Some(found) = found.filter(|f| *f != manifest) {
                problems.push(VerifyProblem::Count {
                    what: what.to_string(),
                    manifest,
                    found,
                });
            }
        };
        check(
            "generations in generations.json",
            counts.generations,
            self.generations_json,
        );
        check(
            "generations in generations.csv",
            counts.generations,
            self.generations_csv,
        );
        check(
            "entries in credit-ledger.csv",
            counts.credit_ledger_entries,
            self.ledger,
        );
        check(
            "purchases in purchases.csv",
            counts.purchases,
            self.purchases,
        );
        check(
            "files in media/",
            counts.media_files,
            Some(self.media_files),
        );
        check(
            "thumbnails and videos",
            counts.media_files,
            Some(counts.thumbnails + counts.videos),
        );
    }
}

/// Counts the elements of a JSON document's top-level array, fed in chunks.
#[derive(Debug, Default)]
struct JsonArrayCounter {
    elements: u64,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Whether the current top-level element has started.
    in_element: bool,
}

impl JsonArrayCounter {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => continue,
                b',' if self.depth == 1 => {
                    self.in_element = false;
                    continue;
                }
                _ => {}
            }
            if self.depth == 1 && !self.in_element && b != b']' {
                self.in_element = true;
                self.elements += 1;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(json: &str) -> u64 {
        let mut c = JsonArrayCounter::default();
        json.as_bytes().chunks(3).for_each(|b| c.feed(b));
        c.elements
    }

    #[test]
    fn only_plain_relative_paths_are_safe() {
        for ok in ["README.txt", "media/a-b.png", "media/東京-x.gif"] {
            assert!(is_safe_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "media/../../x",
            "a//b",
            "C:/x",
            "a\\b",
            "media/",
        ] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn repeated_names_are_found_once_each() {
        let names = ["a", "b", "a", "c", "a", "b"].map(|n| n.as_bytes().to_vec());
        assert_eq!(repeated_names(names.to_vec()), ["a", "b"]);
        assert!(repeated_names(vec![b"a".to_vec(), b"A".to_vec()]).is_empty());
    }

    #[test]
    fn json_array_elements_are_counted() {
        assert_eq!(count("[]"), 0);
        assert_eq!(count("[\n]\n"), 0);
        assert_eq!(count("[{\"a\":[1,2,{\"b\":\"],{\\\"\"}]}]"), 1);
        assert_eq!(count("[\n{\"p\":\"x,y\"},\n{\"p\":\"\\\\\"},\n{}\n]\n"), 3);
        assert_eq!(count("[1, \"two\", [3], null]"), 4);
    }
}
