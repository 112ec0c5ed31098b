//! What the examples share: their `--out DIR` argument.

use std::path::PathBuf;

/// `--out DIR` (or `-o DIR`) among the arguments, else `default`; and the
/// other arguments, in order.
pub fn out_arg(default: &str) -> (PathBuf, Vec<String>) {
    let (mut out, mut rest) = (None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" | "-o" => out = Some(args.next().expect("--out takes a folder")),
            _ => match a.strip_prefix("--out=") {
                Some(dir) => out = Some(dir.to_string()),
                None => rest.push(a),
            },
        }
    }
    (PathBuf::from(out.unwrap_or_else(|| default.into())), rest)
}
