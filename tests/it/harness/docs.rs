//! The documentation's code blocks, and a runner for its shell examples, so that the docs cannot
//! drift from what pimlab does.
//!
//! A ```` ```sh ```` block is a list of commands. A command runs on over the next lines while its
//! quotes are open (or a line ends with `\`); a `# ...` comment at the end of a line is a remark,
//! but comment lines directly after a command are the output the docs show for it: stdout
//! followed by stderr, one line each, without the `# `. In shown output, a line that ends with
//! `...` stands for any line that starts with what comes before the `...`, and a line that is
//! only `...` stands for any number of lines.

use std::path::PathBuf;

use super::cli::{Run, Workspace};
use super::root;

/// README.md and every `docs/*.md`, as paths relative to the repository.
pub fn markdown_files() -> Vec<String> {
    let mut files = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| format!("docs/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The text of a file of the repository.
pub fn read(file: &str) -> String {
    let path: PathBuf = root().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One fenced code block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The 1-based line of the opening fence.
    pub line: usize,
    /// The language after the fence (`sh`, `lua`, `text`, or empty).
    pub lang: String,
    pub text: String,
    /// The lines of prose between the block before it (or the start) and its fence, trimmed,
    /// blank ones left out.
    pub prose_before: Vec<String>,
}

/// Every fenced code block of a Markdown text, in order.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None => match line.strip_prefix("```") {
                Some(info) => {
                    let prose_before = std::mem::take(&mut prose);
                    current = Some(Block {
                        line: i + 1,
                        lang: info.trim().to_string(),
                        text: String::new(),
                        prose_before,
                    });
                }
                None if line.trim().is_empty() => {}
                None => prose.push(line.trim().to_string()),
            },
            Some(_) if line.trim_end() == "```" => blocks.push(current.take().unwrap()),
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ``` block");
    blocks
}

/// The fenced code blocks of a Markdown text in language `lang` (```` ```lua ````), each with
/// the 1-based line of its opening fence.
pub fn code_blocks(markdown: &str, lang: &str) -> Vec<(usize, String)> {
    blocks(markdown).into_iter().filter(|b| b.lang == lang).map(|b| (b.line, b.text)).collect()
}

/// One command of a shell example and the output the example shows for it.
#[derive(Debug, Clone)]
pub struct Example {
    /// The 1-based line of the file the command starts on.
    pub line: usize,
    /// The command as written (its lines joined by newlines), remarks included.
    pub command: String,
    /// The words of the command, split as a shell splits them, remarks left out.
    pub words: Vec<String>,
    /// The output shown after it, without the `# ` of each line.
    pub shown: Vec<String>,
}

/// The commands of a ```` ```sh ```` block.
#[track_caller]
pub fn examples(block: &Block) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in block.text.lines().enumerate() {
        let at = block.line + 1 + i;
        if let Some((start, mut command)) = pending.take() {
            command.push('\n');
            command.push_str(line);
            pending = Some((start, command));
        } else if let Some(comment) = line.trim_start().strip_prefix('#') {
            let last = out.last_mut().unwrap_or_else(|| panic!("line {at}: output shown before any command"));
            last.shown.push(comment.strip_prefix(' ').unwrap_or(comment).to_string());
            continue;
        } else if line.trim().is_empty() {
            continue;
        } else {
            pending = Some((at, line.to_string()));
        }
        let (start, command) = pending.take().unwrap();
        let continued = command.trim_end().ends_with('\\');
        match shlex::split(&command.replace("\\\n", " ")) {
            Some(words) if !continued => out.push(Example { line: start, command, words, shown: Vec::new() }),
            _ => pending = Some((start, command)),
        }
    }
    if let Some((start, command)) = pending {
        panic!("line {start}: a command that never ends: {command}");
    }
    out
}

/// The text `printf FORMAT` prints: `\n`, `\t`, `\\` and `%%` are understood.
pub fn printf(format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => out.push('\n'),
            ('\\', Some('t')) => out.push('\t'),
            ('\\', Some('\\')) => out.push('\\'),
            ('%', Some('%')) => out.push('%'),
            _ => {
                out.push(c);
                continue;
            }
        }
        chars.next();
    }
    out
}

/// Whether `printed` (stdout, then stderr) is what `shown` shows, by the rules of the module
/// header; trailing spaces are ignored. The error says where they part.
pub fn compare(shown: &[String], printed: &str) -> Result<(), String> {
    let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
    if matches(shown, &printed) {
        return Ok(());
    }
    // Say where: the first shown line that cannot be matched in order.
    let mut at = 0;
    for (n, want) in shown.iter().enumerate() {
        if want == "..." {
            continue;
        }
        match printed[at.min(printed.len())..].iter().position(|got| line_matches(want, got)) {
            Some(p) => at += p + 1,
            None => {
                return Err(format!(
                    "shown line {} is not printed (in order): {want:?}\n--- shown ---\n{}\n--- printed ---\n{}",
                    n + 1,
                    shown.join("\n"),
                    printed.join("\n")
                ));
            }
        }
    }
    Err(format!(
        "the command printed other lines than shown\n--- shown ---\n{}\n--- printed ---\n{}",
        shown.join("\n"),
        printed.join("\n")
    ))
}

fn matches(shown: &[String], printed: &[&str]) -> bool {
    match shown.split_first() {
        None => printed.is_empty(),
        Some((any, rest)) if any == "..." => (0..=printed.len()).any(|skip| matches(rest, &printed[skip..])),
        Some((want, rest)) => {
            printed.split_first().is_some_and(|(got, more)| line_matches(want, got) && matches(rest, more))
        }
    }
}

fn line_matches(want: &str, got: &str) -> bool {
    match want.trim_end().strip_suffix("...") {
        Some(prefix) => got.starts_with(prefix),
        None => want.trim_end() == got,
    }
}

/// A store in a fresh [`Workspace`], on which the examples of a doc run one after another, each
/// command as a user would type it (`pimlab` is the binary cargo built for the tests).
pub struct Session {
    pub workspace: Workspace,
}

impl Session {
    pub fn new() -> Session {
        Session { workspace: Workspace::new() }
    }

    /// `pimlab ARGS`.
    pub fn run(&self, args: &[String]) -> Run {
        self.workspace.run(args)
    }

    /// `... | pimlab ARGS`: `input` on standard input.
    pub fn pipe(&self, args: &[String], input: &str) -> Run {
        self.workspace.pipe(args, input)
    }

    /// The id of the request made last (`<id>` in the docs), if there is one.
    pub fn newest_request_id(&self) -> Option<String> {
        let requests = self.run(&["--json".to_string(), "requests".to_string()]).ok().listing();
        // The listing is in the order requests were made; the last of the newest is the newest.
        let newest = requests.iter().max_by_key(|r| r["createdDateTime"].as_str().map(str::to_string))?;
        newest["id"].as_str().map(str::to_string)
    }
}
