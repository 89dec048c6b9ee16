//! From what the user types to an FTS5 query, and from an FTS5 snippet to text the UI can show.
//!
//! The search box is fed one keystroke at a time, so its text is half-typed most of the time and
//! may hold anything: quotes, `AND`, `NEAR(`, `*`, `-`, column names, emoji, control characters.
//! None of it may ever reach FTS5 as syntax (an FTS5 syntax error would show the user an error
//! for typing a quote). So the text is cut into terms here and every term is sent as a quoted
//! FTS5 string, which FTS5 only tokenizes: a term can only ever mean "this text".
//!
//! - Words are separated by white space and ASCII punctuation; every word must appear (AND), in
//!   the prompt or the voice-over script, in any order.
//! - Text between double quotes is a phrase: its words must appear together, in order. An
//!   unclosed quote is a phrase being typed.
//! - The last word (or open phrase) is a prefix while it is being typed: "fox at da" finds
//!   "fox at dawn". A trailing space or punctuation ends the word.
//!
//! Snippets come back from FTS5 with private-use marker characters around the matched words;
//! [`segments`] turns them into `{text, highlighted}` parts, so the UI renders text, never HTML.

use serde::Serialize;

/// At most this many terms are searched for; the rest of the text is ignored.
const MAX_TERMS: usize = 16;
/// A term is cut to this many characters.
const MAX_TERM_CHARS: usize = 64;

/// Put by `snippet()` before and after each matched word. Private-use characters: a prompt that
/// contains them can at worst be highlighted oddly.
pub(crate) const MARK_OPEN: char = '\u{E000}';
pub(crate) const MARK_CLOSE: char = '\u{E001}';

/// One piece of a search snippet: matched words have `highlighted` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

/// The FTS5 query for what the user typed, or `None` when it holds nothing to search for (then
/// the Library is not filtered by text at all).
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_phrase = false;
    // Whether the text ends inside a term, i.e. the user is still typing it.
    let mut open = false;
    for c in text.chars() {
        open = true;
        if in_phrase {
            if c == '"' {
                push_term(&mut terms, &mut current);
                in_phrase = false;
                open = false;
            } else if c.is_control() {
                current.push(' ');
            } else {
                current.push(c);
            }
        } else if c == '"' {
            push_term(&mut terms, &mut current);
            in_phrase = true;
        } else if c.is_whitespace() || c.is_control() || c.is_ascii_punctuation() {
            push_term(&mut terms, &mut current);
            open = false;
        } else {
            current.push(c);
        }
    }
    let before = terms.len();
    push_term(&mut terms, &mut current);
    let prefix_last = open && terms.len() > before && terms.len() <= MAX_TERMS;
    terms.truncate(MAX_TERMS);
    if terms.is_empty() {
        return None;
    }
    let mut query = String::new();
    let count = terms.len();
    for (i, term) in terms.into_iter().enumerate() {
        if i > 0 {
            query.push(' ');
        }
        query.push('"');
        // A term holds no quote (quotes delimit terms), but doubling is FTS5's escape anyway.
        query.push_str(&term.replace('"', "\"\""));
        query.push('"');
        if prefix_last && i + 1 == count {
            query.push('*');
        }
    }
    Some(query)
}

/// Ends the term being collected; keeps it if it could match anything.
fn push_term(terms: &mut Vec<String>, current: &mut String) {
    let term = current.trim();
    // ASCII punctuation and spaces alone make no token: such a term would match nothing.
    if term.chars().any(|c| c.is_alphanumeric() || !c.is_ascii()) {
        terms.push(term.chars().take(MAX_TERM_CHARS).collect());
    }
    current.clear();
}

/// Splits a snippet made with [`MARK_OPEN`]/[`MARK_CLOSE`] into plain and highlighted parts.
/// Empty parts are dropped and neighbours of the same kind are merged; unbalanced markers
/// (from a prompt that contains them) cannot produce anything but text.
pub(crate) fn segments(snippet: &str) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut highlighted = false;
    let mut text = String::new();
    let flush = |text: &mut String, highlighted: bool, parts: &mut Vec<SnippetPart>| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.highlighted == highlighted => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.clone(),
                highlighted,
            }),
        }
        text.clear();
    };
    for c in snippet.chars() {
        match c {
            MARK_OPEN => {
                flush(&mut text, highlighted, &mut parts);
                highlighted = true;
            }
            MARK_CLOSE => {
                flush(&mut text, highlighted, &mut parts);
                highlighted = false;
            }
            _ => text.push(c),
        }
    }
    flush(&mut text, highlighted, &mut parts);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_terms_and_the_last_one_a_prefix() {
        assert_eq!(fts_query("fox"), Some(r#""fox"*"#.into()));
        assert_eq!(fts_query("fox at da"), Some(r#""fox" "at" "da"*"#.into()));
        assert_eq!(
            fts_query("fox at dawn "),
            Some(r#""fox" "at" "dawn""#.into())
        );
        assert_eq!(fts_query("  fox,dawn."), Some(r#""fox" "dawn""#.into()));
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query("-*()\"\" ^:"), None);
    }

    #[test]
    fn operators_and_syntax_are_only_text() {
        assert_eq!(
            fts_query("fox AND NOT dog OR NEAR(cat"),
            Some(r#""fox" "AND" "NOT" "dog" "OR" "NEAR" "cat"*"#.into())
        );
        assert_eq!(
            fts_query("prompt:fox ^dawn"),
            Some(r#""prompt" "fox" "dawn"*"#.into())
        );
        assert_eq!(fts_query("a\0b\u{7}"), Some(r#""a" "b""#.into()));
    }

    #[test]
    fn quotes_make_phrases_and_an_open_quote_is_a_phrase_being_typed() {
        assert_eq!(
            fts_query(r#"fox "golden hour" x"#),
            Some(r#""fox" "golden hour" "x"*"#.into())
        );
        assert_eq!(
            fts_query(r#""golden hour""#),
            Some(r#""golden hour""#.into())
        );
        assert_eq!(
            fts_query(r#"fox "golden ho"#),
            Some(r#""fox" "golden ho"*"#.into())
        );
        assert_eq!(fts_query(r#"fox ""#), Some(r#""fox""#.into()));
    }

    #[test]
    fn non_ascii_text_is_kept_for_the_tokenizer() {
        assert_eq!(fts_query("café"), Some("\"café\"*".into()));
        assert_eq!(fts_query("🦊 "), Some("\"🦊\"".into()));
        assert_eq!(fts_query("夜の街"), Some("\"夜の街\"*".into()));
    }

    #[test]
    fn long_input_is_bounded() {
        let many = "word ".repeat(100);
        let query = fts_query(&many).unwrap();
        assert_eq!(query.matches('"').count(), 2 * MAX_TERMS);
        let long = "x".repeat(1000);
        assert_eq!(
            fts_query(&long).unwrap(),
            format!("\"{}\"*", "x".repeat(MAX_TERM_CHARS))
        );
        // The 17th word is dropped, so the 16th is not a prefix.
        let seventeen = "w ".repeat(16) + "last";
        assert!(!fts_query(&seventeen).unwrap().ends_with('*'));
    }

    fn part(text: &str, highlighted: bool) -> SnippetPart {
        SnippetPart {
            text: text.into(),
            highlighted,
        }
    }

    #[test]
    fn snippets_split_into_highlighted_parts() {
        let s = format!("a {MARK_OPEN}fox{MARK_CLOSE} at {MARK_OPEN}dawn{MARK_CLOSE}…");
        assert_eq!(
            segments(&s),
            vec![
                part("a ", false),
                part("fox", true),
                part(" at ", false),
                part("dawn", true),
                part("…", false)
            ]
        );
        assert_eq!(segments(""), vec![]);
        assert_eq!(
            segments(&format!("{MARK_OPEN}<b>x</b>{MARK_CLOSE}")),
            vec![part("<b>x</b>", true)]
        );
        // Adjacent matches merge; stray markers only switch highlighting.
        assert_eq!(
            segments(&format!(
                "{MARK_OPEN}a{MARK_CLOSE}{MARK_OPEN}b{MARK_CLOSE}{MARK_CLOSE}c"
            )),
            vec![part("ab", true), part("c", false)]
        );
    }
}
