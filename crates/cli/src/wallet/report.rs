//! Output of the wallet commands: `key  value` lines for people, or one JSON
//! object with `--json`, built from the same fields so the two never
//! disagree.

use serde_json::{Map, Value};
use std::io::Write;

/// Fields of a command's answer, printed as they are added (text) or all
/// at the end (JSON).
pub struct Report {
    json: bool,
    fields: Map<String, Value>,
}

impl Report {
    /// An empty report; `json` selects the output form.
    pub fn new(json: bool) -> Self {
        Self { json, fields: Map::new() }
    }

    /// Whether the report prints JSON (progress lines then stay off the
    /// terminal too, for scripts).
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Adds a field: `text` is shown to people under `key`, `value` goes
    /// into the JSON under `key` in snake case (`gas used` → `gas_used`).
    pub fn field(&mut self, key: &str, text: impl std::fmt::Display, value: impl Into<Value>) {
        if !self.json {
            let mut out = std::io::stdout().lock();
            // Progress output is best effort: a closed pipe must not turn
            // a submitted transaction into an error.
            let _ = writeln!(out, "{:<13}{text}", format!("{key}:"));
            let _ = out.flush();
        }
        self.fields.insert(key.replace(' ', "_"), value.into());
    }

    /// Adds a string field shown as is.
    pub fn text(&mut self, key: &str, text: impl Into<String>) {
        let text = text.into();
        self.field(key, &text, text.clone());
    }

    /// Adds a field only to the JSON (structured data the text already
    /// shows in another form).
    pub fn json_only(&mut self, key: &str, value: impl Into<Value>) {
        self.fields.insert(key.to_owned(), value.into());
    }

    /// A line for people only (hints, warnings go to stderr instead).
    pub fn note(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Prints the JSON object (JSON mode); text was printed already.
    pub fn finish(self) {
        if self.json {
            println!("{}", Value::Object(self.fields));
        }
    }
}
