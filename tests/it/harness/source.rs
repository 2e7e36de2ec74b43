//! The crate's own Rust source, read as tokens, for the checks of `architecture.rs`: which
//! modules each file names (through `use` trees and `crate::`/`super::`/`self::` paths, resolved
//! to paths from the crate root), which identifiers its code uses, and its string literals.
//!
//! Comments are not code, and test code is left out: `#[cfg(test)] mod x { ... }` is skipped, and
//! the files of a `#[cfg(test)] mod x;` are test files ([`Src::is_test_file`]). `#[cfg(test)]` on
//! anything but a module is refused, so that no production code can hide behind it.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::root;

/// One lexical token of Rust source. Literals other than strings, and lifetimes, are `Other`.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// One punctuation character, or `::`.
    Punct(&'static str),
    /// A string literal's text (escapes resolved), of any kind: `"..."`, `r#"..."#`, `b"..."`.
    Str(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// 1-based.
    pub line: usize,
}

/// A path from the crate root (`["engine", "records", "record"]`) named on a line of a file.
#[derive(Debug, Clone)]
pub struct Named {
    pub path: Vec<String>,
    pub line: usize,
}

/// One file of `src/`.
#[derive(Debug)]
pub struct File {
    /// Relative to the repository, with `/`: `src/engine/lifecycle/admin.rs`.
    pub path: String,
    pub text: String,
    /// Its module path from the crate root: `["engine", "lifecycle", "admin"]`; `[]` for
    /// `lib.rs` and `main.rs`.
    pub module: Vec<String>,
    /// Its code outside test modules, without comments.
    pub tokens: Vec<Token>,
    /// The names of its `#[cfg(test)] mod x;` declarations.
    test_modules: Vec<String>,
}

impl File {
    pub fn in_dir(&self, dir: &str) -> bool {
        self.path.starts_with(&format!("src/{dir}/"))
    }

    /// The identifiers of its code, with their lines.
    pub fn idents(&self) -> impl Iterator<Item = (&str, usize)> {
        self.tokens.iter().filter_map(|t| match &t.tok {
            Tok::Ident(i) => Some((i.as_str(), t.line)),
            _ => None,
        })
    }

    /// Its string literals, with the lines they start on.
    pub fn strings(&self) -> impl Iterator<Item = (&str, usize)> {
        self.tokens.iter().filter_map(|t| match &t.tok {
            Tok::Str(s) => Some((s.as_str(), t.line)),
            _ => None,
        })
    }

    /// Line `n` of the file, trimmed, for messages.
    pub fn line(&self, n: usize) -> &str {
        self.text.lines().nth(n - 1).unwrap_or_default().trim()
    }
}

/// Every `.rs` file of `src/`, read and tokenised.
pub struct Src {
    pub files: Vec<File>,
    /// Every module path of the crate (from files and inline `mod x { ... }`).
    modules: BTreeSet<Vec<String>>,
}

impl Src {
    pub fn read() -> Src {
        let base = root();
        let mut paths = Vec::new();
        collect_rs(&base.join("src"), &mut paths);
        paths.sort();
        let mut files = Vec::new();
        let mut modules = BTreeSet::new();
        for p in paths {
            let rel = p.strip_prefix(&base).unwrap().to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
            let module = module_of(&rel);
            let (tokens, test_modules, inline) = code_tokens(&rel, &text);
            for m in inline {
                let mut full = module.clone();
                full.extend(m);
                modules.insert(full);
            }
            modules.insert(module.clone());
            files.push(File { path: rel, text, module, tokens, test_modules });
        }
        Src { files, modules }
    }

    /// The files of `src/DIR/`, test files left out.
    pub fn layer(&self, dir: &str) -> Vec<&File> {
        self.files.iter().filter(|f| f.in_dir(dir) && !self.is_test_file(f)).collect()
    }

    /// Whether a file belongs to a `#[cfg(test)] mod x;` (or to a module inside one).
    pub fn is_test_file(&self, file: &File) -> bool {
        self.files.iter().any(|parent| {
            parent.test_modules.iter().any(|name| {
                let mut m = parent.module.clone();
                m.push(name.clone());
                file.module.starts_with(&m)
            })
        })
    }

    /// Every path from the crate root that `file` names: the leaves of its `use` trees, and the
    /// paths of its code that start with `crate`, `super` or `self`. Paths to other crates are
    /// left out.
    pub fn named(&self, file: &File) -> Vec<Named> {
        let toks = &file.tokens;
        let mut out = Vec::new();
        // The module each token is in: the file's, or an inline `mod x { ... }` inside it.
        let mut scope: Vec<(usize, Vec<String>)> = vec![(0, file.module.clone())];
        let mut depth = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let here = scope.last().unwrap().1.clone();
            match &toks[i].tok {
                Tok::Punct("{") => depth += 1,
                Tok::Punct("}") => {
                    depth -= 1;
                    if scope.len() > 1 && scope.last().unwrap().0 > depth {
                        scope.pop();
                    }
                }
                Tok::Ident(kw) if kw == "mod" => {
                    if let (Some(Tok::Ident(name)), Some(Tok::Punct("{"))) =
                        (toks.get(i + 1).map(|t| &t.tok), toks.get(i + 2).map(|t| &t.tok))
                    {
                        let mut m = here.clone();
                        m.push(name.clone());
                        depth += 1;
                        scope.push((depth, m));
                        i += 3;
                        continue;
                    }
                }
                Tok::Ident(kw) if kw == "use" => {
                    let mut leaves = Vec::new();
                    i = use_tree(toks, i + 1, Vec::new(), &mut leaves);
                    for (path, line) in leaves {
                        if let Some(path) = self.resolve(&here, &path, true) {
                            out.push(Named { path, line });
                        }
                    }
                    continue;
                }
                Tok::Ident(first)
                    if matches!(first.as_str(), "crate" | "super" | "self")
                        && !(i > 0 && toks[i - 1].tok == Tok::Punct("::"))
                        && toks.get(i + 1).is_some_and(|t| t.tok == Tok::Punct("::")) =>
                {
                    let line = toks[i].line;
                    let mut path = vec![first.clone()];
                    let mut j = i + 1;
                    while toks.get(j).is_some_and(|t| t.tok == Tok::Punct("::")) {
                        match toks.get(j + 1).map(|t| &t.tok) {
                            Some(Tok::Ident(seg)) => path.push(seg.clone()),
                            _ => break,
                        }
                        j += 2;
                    }
                    if let Some(path) = self.resolve(&here, &path, false) {
                        out.push(Named { path, line });
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        out
    }

    /// `path` as written in module `here`, from the crate root; `None` for another crate's.
    fn resolve(&self, here: &[String], path: &[String], in_use: bool) -> Option<Vec<String>> {
        let mut abs: Vec<String> = here.to_vec();
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                abs.clear();
                rest = &path[1..];
            }
            Some("super") | Some("self") => {
                while let Some(seg) = rest.first() {
                    match seg.as_str() {
                        "super" => {
                            abs.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
            }
            // A `use` path may start at a module declared here (`use records::record;`).
            Some(first) if in_use => {
                let mut child = here.to_vec();
                child.push(first.to_string());
                if !self.modules.contains(&child) {
                    return None;
                }
            }
            _ => return None,
        }
        abs.extend(rest.iter().filter(|s| *s != "self").cloned());
        Some(abs)
    }
}

/// Reads one use tree at `toks[i]` (after `use`, or inside braces): its leaves, each the whole
/// path with `prefix`, go to `out`. Returns the index after the tree (after the `;` at the top).
fn use_tree(
    toks: &[Token],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let top = prefix.is_empty();
    loop {
        let Some(t) = toks.get(i) else { return i };
        match &t.tok {
            Tok::Punct("::") => i += 1,
            Tok::Ident(seg) if seg == "as" => i += 2, // `x as y`: the path is x's
            Tok::Ident(seg) => {
                prefix.push(seg.clone());
                out.push((prefix.clone(), t.line));
                i += 1;
                // A leaf is a whole path: drop the shorter one just pushed when more follows.
                if toks.get(i).is_some_and(|t| t.tok == Tok::Punct("::")) {
                    out.pop();
                }
            }
            Tok::Punct("*") => {
                out.push((prefix.clone(), t.line));
                i += 1;
            }
            Tok::Punct("{") => {
                i += 1;
                while !matches!(toks.get(i).map(|t| &t.tok), Some(Tok::Punct("}")) | None) {
                    i = use_tree(toks, i, prefix.clone(), out);
                    if toks.get(i).is_some_and(|t| t.tok == Tok::Punct(",")) {
                        i += 1;
                    }
                }
                i += 1;
            }
            Tok::Punct(";") if top => return i + 1,
            Tok::Punct(",") | Tok::Punct("}") | Tok::Punct(";") => return i,
            _ => i += 1,
        }
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/engine/lifecycle/mod.rs` is `engine::lifecycle`; `src/engine/audit.rs` is `engine::audit`.
fn module_of(rel: &str) -> Vec<String> {
    let inner = rel.strip_prefix("src/").unwrap().strip_suffix(".rs").unwrap();
    let mut parts: Vec<String> = inner.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The tokens of a file's code with test modules taken out; the names of its `#[cfg(test)] mod
/// x;` declarations; the relative paths of its inline non-test modules.
fn code_tokens(rel: &str, text: &str) -> (Vec<Token>, Vec<String>, Vec<Vec<String>>) {
    let all = lex(rel, text);
    let is = |i: usize, want: &Tok| all.get(i).is_some_and(|t| &t.tok == want);
    let ident = |s: &str| Tok::Ident(s.to_string());
    let mut out = Vec::new();
    let mut test_modules = Vec::new();
    let mut inline = Vec::new();
    let mut open: Vec<(usize, String)> = Vec::new(); // inline modules: depth at open, name
    let mut depth = 0;
    let mut i = 0;
    while i < all.len() {
        let cfg_test = is(i, &Tok::Punct("#"))
            && is(i + 1, &Tok::Punct("["))
            && is(i + 2, &ident("cfg"))
            && is(i + 3, &Tok::Punct("("))
            && is(i + 4, &ident("test"))
            && is(i + 5, &Tok::Punct(")"))
            && is(i + 6, &Tok::Punct("]"));
        if cfg_test {
            let line = all[i].line;
            let mut j = i + 7;
            if is(j, &ident("pub")) {
                j += 1;
            }
            let name = match all.get(j + 1).map(|t| &t.tok) {
                Some(Tok::Ident(n)) if is(j, &ident("mod")) => n.clone(),
                _ => panic!("{rel}:{line}: #[cfg(test)] on something other than a module"),
            };
            if is(j + 2, &Tok::Punct(";")) {
                test_modules.push(name);
                i = j + 3;
            } else {
                // Skip the module's body to its matching brace.
                let mut k = j + 3;
                let mut d = 1;
                while d > 0 {
                    match all.get(k).map(|t| &t.tok) {
                        Some(Tok::Punct("{")) => d += 1,
                        Some(Tok::Punct("}")) => d -= 1,
                        None => panic!("{rel}:{line}: unclosed test module"),
                        _ => {}
                    }
                    k += 1;
                }
                i = k;
            }
            continue;
        }
        match &all[i].tok {
            Tok::Punct("{") => {
                depth += 1;
                if i >= 2 && is(i - 2, &ident("mod")) {
                    if let Tok::Ident(n) = &all[i - 1].tok {
                        open.push((depth, n.clone()));
                        inline.push(open.iter().map(|(_, n)| n.clone()).collect());
                    }
                }
            }
            Tok::Punct("}") => {
                if open.last().is_some_and(|(d, _)| *d == depth) {
                    open.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        out.push(all[i].clone());
        i += 1;
    }
    (out, test_modules, inline)
}

/// Rust source as tokens: identifiers, punctuation, string literals; comments dropped.
pub fn lex(rel: &str, text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        let start = line;
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut d = 0;
            loop {
                if i >= c.len() {
                    panic!("{rel}:{start}: unclosed block comment");
                }
                if c[i] == '/' && at(i + 1) == '*' {
                    d += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    d -= 1;
                    i += 2;
                    if d == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            let (s, next) = quoted(&c, i + 1, &mut line, rel);
            out.push(Token { tok: Tok::Str(s), line: start });
            i = next;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if at(i + 1) == '\\' {
                let mut j = i + 3;
                while at(j) != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
            out.push(Token { tok: Tok::Other, line: start });
        } else if ch.is_alphabetic() || ch == '_' {
            let mut j = i;
            while at(j).is_alphanumeric() || at(j) == '_' {
                j += 1;
            }
            let word: String = c[i..j].iter().collect();
            let raw = matches!(word.as_str(), "r" | "br" | "cr") && (at(j) == '"' || at(j) == '#');
            if word == "r" && at(j) == '#' && (at(j + 1).is_alphabetic() || at(j + 1) == '_') {
                // A raw identifier: r#type.
                let mut k = j + 1;
                while at(k).is_alphanumeric() || at(k) == '_' {
                    k += 1;
                }
                out.push(Token { tok: Tok::Ident(c[j + 1..k].iter().collect()), line: start });
                i = k;
            } else if raw {
                let mut hashes = 0;
                while at(j + hashes) == '#' {
                    hashes += 1;
                }
                assert_eq!(at(j + hashes), '"', "{rel}:{start}: a raw string");
                let mut k = j + hashes + 1;
                let mut s = String::new();
                loop {
                    if k >= c.len() {
                        panic!("{rel}:{start}: unclosed raw string");
                    }
                    if c[k] == '"' && (0..hashes).all(|h| at(k + 1 + h) == '#') {
                        break;
                    }
                    if c[k] == '\n' {
                        line += 1;
                    }
                    s.push(c[k]);
                    k += 1;
                }
                out.push(Token { tok: Tok::Str(s), line: start });
                i = k + 1 + hashes;
            } else if matches!(word.as_str(), "b" | "c") && at(j) == '"' {
                let (s, next) = quoted(&c, j + 1, &mut line, rel);
                out.push(Token { tok: Tok::Str(s), line: start });
                i = next;
            } else if word == "b" && at(j) == '\'' {
                let mut k = j + 1;
                if at(k) == '\\' {
                    k += 1;
                }
                k += 1;
                while at(k) != '\'' {
                    k += 1;
                }
                out.push(Token { tok: Tok::Other, line: start });
                i = k + 1;
            } else {
                out.push(Token { tok: Tok::Ident(word), line: start });
                i = j;
            }
        } else if ch.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' || (at(i) == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
            out.push(Token { tok: Tok::Other, line: start });
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Token { tok: Tok::Punct("::"), line: start });
            i += 2;
        } else {
            const PUNCT: &[&str] = &[
                "#", "[", "]", "(", ")", "{", "}", "<", ">", ",", ";", ":", ".", "=", "!", "&", "|", "+",
                "-", "*", "/", "%", "^", "?", "@", "$", "~",
            ];
            let p = PUNCT
                .iter()
                .find(|p| p.starts_with(ch))
                .unwrap_or_else(|| panic!("{rel}:{start}: unexpected character {ch:?}"));
            out.push(Token { tok: Tok::Punct(p), line: start });
            i += 1;
        }
    }
    out
}

/// The text of a `"..."` literal whose body starts at `i`, escapes resolved; and the index after
/// its closing quote.
fn quoted(c: &[char], mut i: usize, line: &mut usize, rel: &str) -> (String, usize) {
    let mut s = String::new();
    loop {
        let Some(&ch) = c.get(i) else { panic!("{rel}:{line}: unclosed string") };
        match ch {
            '"' => return (s, i + 1),
            '\\' => {
                let e = c.get(i + 1).copied().unwrap_or('\0');
                i += 2;
                match e {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    '0' => s.push('\0'),
                    '\n' => {
                        // A line continuation: the newline and the next line's indentation go.
                        *line += 1;
                        while c.get(i).is_some_and(|c| c.is_whitespace()) {
                            if c[i] == '\n' {
                                *line += 1;
                            }
                            i += 1;
                        }
                    }
                    'u' => {
                        let close = (i..c.len()).find(|&k| c[k] == '}').expect("\\u{...}");
                        let hex: String = c[i + 1..close].iter().collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap_or('?'));
                        i = close + 1;
                    }
                    'x' => {
                        let hex: String = c[i..i + 2].iter().collect();
                        s.push(u8::from_str_radix(&hex, 16).unwrap() as char);
                        i += 2;
                    }
                    other => s.push(other),
                }
            }
            '\n' => {
                *line += 1;
                s.push('\n');
                i += 1;
            }
            _ => {
                s.push(ch);
                i += 1;
            }
        }
    }
}
