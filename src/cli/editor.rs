//! The terminal side of the REPL: line editing, history kept between runs, and completion.
//!
//! Completion knows the CLI's grammar (the clap command tree: commands, subcommands, flags and
//! their fixed values) and the tenant (role names, principal names, request ids, ...). The part
//! that decides what to offer is the pure function [`complete`], tested below without a terminal.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

use clap::{Arg, CommandFactory};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::CliError;
use super::args::Cli;
use super::line::{self, Step};
use super::shell::Shell;
use crate::engine::RequestFilter;
use crate::model::{PrincipalKind, Status};

/// Where history is kept: `$PIMLAB_HISTORY` when set (set but empty: keep no history), else
/// `~/.pimlab_history`.
fn history_path() -> Option<PathBuf> {
    history_path_from(std::env::var_os("PIMLAB_HISTORY"), std::env::var_os("HOME"))
}

fn history_path_from(setting: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    match setting {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => home.filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".pimlab_history")),
    }
}

pub fn interactive(
    shell: &mut Shell,
    _cli: &Cli,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    // List completion, as in bash: Tab extends to the longest common prefix, a second Tab lists.
    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).build();
    let mut editor: Editor<Completion, DefaultHistory> =
        Editor::with_config(config).map_err(|e| CliError::Usage(format!("cannot open the terminal: {e}")))?;
    editor.set_helper(Some(Completion::default()));
    let history = history_path();
    if let Some(path) = &history {
        // A missing file is the first run, not an error.
        let _ = editor.load_history(path);
    }
    writeln!(out, "pimlab: type `help` for help, Tab to complete, `exit` to leave")?;
    loop {
        // The helper is owned by the editor, and the shell is borrowed mutably by every line we
        // run, so the completer cannot hold the shell. Instead it holds a snapshot of the names
        // it offers, refreshed here before each line. Only the lines run in between change the
        // tenant, so the snapshot is always current while the user edits; and no `RefCell`
        // borrow can ever clash with a running command.
        if let Some(helper) = editor.helper_mut() {
            helper.data = Candidates::gather(shell);
        }
        let prompt = prompt(shell);
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.trim_end());
                }
                if matches!(line::run_line(shell, &line, out, err), Step::Exit) {
                    break;
                }
            }
            // Ctrl-C drops the line being edited, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Usage(format!("terminal error: {e}"))),
        }
    }
    if let Some(path) = &history {
        // Nothing typed, nothing written: an empty session leaves no (empty) file behind.
        // Appending (rather than rewriting) keeps the lines of sessions running side by side.
        if !editor.history().is_empty() {
            if let Err(e) = editor.append_history(path) {
                writeln!(err, "pimlab: cannot save the history to {}: {e}", path.display())?;
            }
        }
    }
    Ok(0)
}

/// `pimlab 2025-01-06T09:00:00Z alice@contoso.example> `: the simulated time and the caller.
fn prompt(shell: &mut Shell) -> String {
    if !shell.engine().is_initialized().unwrap_or(true) {
        return "pimlab (no tenant yet: `init --help`)> ".to_string();
    }
    format!("pimlab {}> ", shell.status_line())
}

// ---------------------------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------------------------

/// The tenant's names completion offers, read from the store before each line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    /// Role display names.
    pub roles: Vec<String>,
    /// User principal names and display names of users.
    pub users: Vec<String>,
    /// Group display names.
    pub groups: Vec<String>,
    /// Service principal display names.
    pub service_principals: Vec<String>,
    /// Administrative unit display names (scopes).
    pub units: Vec<String>,
    /// Every request id.
    pub requests: Vec<String>,
    /// Ids of the requests waiting for a decision (what `approve` and `deny` take).
    pub awaiting_decision: Vec<String>,
    /// Hook names.
    pub hooks: Vec<String>,
}

impl Candidates {
    /// Reads the names from the shell's store. A store without a tenant yet (or one that cannot
    /// be read) has none, and completion then offers the grammar only.
    pub fn gather(shell: &mut Shell) -> Candidates {
        let engine = shell.engine();
        let mut names = |kind: PrincipalKind| -> Vec<String> {
            engine
                .objects(kind)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|o| o.user_principal_name.into_iter().chain([o.display_name]))
                .collect()
        };
        let users = names(PrincipalKind::User);
        let groups = names(PrincipalKind::Group);
        let service_principals = names(PrincipalKind::ServicePrincipal);
        let units = names(PrincipalKind::AdministrativeUnit);
        let requests = engine.requests(&RequestFilter::default()).unwrap_or_default();
        Candidates {
            roles: engine.roles().unwrap_or_default().into_iter().map(|r| r.display_name).collect(),
            users,
            groups,
            service_principals,
            units,
            awaiting_decision: requests
                .iter()
                .filter(|r| matches!(r.status, Status::PendingApproval | Status::PendingAdminDecision))
                .map(|r| r.id.clone())
                .collect(),
            requests: requests.into_iter().map(|r| r.id).collect(),
            hooks: engine.hooks().unwrap_or_default().into_iter().map(|h| h.name).collect(),
        }
    }
}

/// What a word is, for the names it can be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Role,
    Principal,
    User,
    Group,
    ServicePrincipal,
    Unit,
    Scope,
    Request,
    Decision,
    Hook,
}

impl Kind {
    /// The kind of value a flag takes, by its long name; `None`: clap's own fixed values, if any.
    fn of_flag(long: &str) -> Option<Kind> {
        Some(match long {
            "role" => Kind::Role,
            "principal" | "as" | "to" | "approver" => Kind::Principal,
            "for-group" => Kind::Group,
            "scope" => Kind::Scope,
            _ => return None,
        })
    }

    /// The kind of the `index`th positional argument of a command, by its path of subcommands.
    fn of_positional(path: &[&str], index: usize) -> Option<Kind> {
        Some(match (path, index) {
            (["request", "show" | "cancel" | "explain"], 0) => Kind::Request,
            (["approve" | "deny"], 0) => Kind::Decision,
            (["role", "show" | "delete"] | ["policy", "show" | "set"], 0) => Kind::Role,
            (["hook", "show" | "remove" | "test"], 0) => Kind::Hook,
            (["user", "show"], 0) => Kind::User,
            (["group", "show" | "members" | "add-member"], 0) => Kind::Group,
            (["sp", "show"], 0) => Kind::ServicePrincipal,
            (["au", "show" | "members" | "add-member"], 0) => Kind::Unit,
            (["group" | "au", "add-member"], 1) => Kind::Principal,
            _ => return None,
        })
    }

    fn values(self, data: &Candidates) -> Vec<&str> {
        fn all<'a>(lists: &[&'a Vec<String>]) -> Vec<&'a str> {
            lists.iter().flat_map(|l| l.iter().map(String::as_str)).collect()
        }
        match self {
            Kind::Role => all(&[&data.roles]),
            Kind::Principal => all(&[&data.users, &data.groups, &data.service_principals]),
            Kind::User => all(&[&data.users]),
            Kind::Group => all(&[&data.groups]),
            Kind::ServicePrincipal => all(&[&data.service_principals]),
            Kind::Unit => all(&[&data.units]),
            Kind::Scope => std::iter::once("/").chain(all(&[&data.units])).collect(),
            Kind::Request => all(&[&data.requests]),
            // Only the requests one can decide; all of them when none waits (the command's error
            // then says why).
            Kind::Decision if !data.awaiting_decision.is_empty() => all(&[&data.awaiting_decision]),
            Kind::Decision => all(&[&data.requests]),
            Kind::Hook => all(&[&data.hooks]),
        }
    }
}

/// The REPL's own words, offered with the commands at the start of a line.
const REPL_WORDS: [&str; 5] = ["as", "lua", "help", "exit", "quit"];

/// The grammar, built once: `build` adds `help` and `--help` and gives every subcommand the global
/// flags, as parsing does.
static GRAMMAR: LazyLock<clap::Command> = LazyLock::new(|| {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
});

/// The completions of the word before `pos` in `line`: where that word starts (a byte offset)
/// and what may replace it. Candidates are quoted when the REPL's parser needs it
/// (`"Global Administrator"`); a lone candidate ends with a space, so the next word can follow.
pub fn complete(line: &str, pos: usize, data: &Candidates) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let (words, start, current) = lex(&line[..pos]);
    let mut found = candidates(&words, &current, data);
    // In alphabetical order, ignoring case and quotes.
    let key = |c: &String| c.trim_start_matches('"').to_lowercase();
    found.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.cmp(b)));
    found.dedup();
    if let [only] = found.as_mut_slice() {
        only.push(' ');
    }
    (start, found)
}

/// The candidates for `current` after the finished `words`, quoted as needed.
fn candidates(words: &[String], current: &str, data: &Candidates) -> Vec<String> {
    let first = words.first().map(String::as_str);
    if first.is_some_and(|w| w.starts_with('#') || w.starts_with('=') || w == "lua") {
        return Vec::new(); // A comment, or Lua.
    }
    if first == Some("as") {
        return if words.len() == 1 { matching(Kind::Principal.values(data), current) } else { Vec::new() };
    }
    // `pimlab eligible list` runs as `eligible list` does.
    let words = if first == Some("pimlab") { &words[1..] } else { words };

    // Walk the command tree along the words typed: subcommands descend, flags are skipped with
    // their values, anything else is a positional argument of the deepest command.
    let mut cmd: &clap::Command = &GRAMMAR;
    let mut path: Vec<&str> = Vec::new();
    let mut positionals = 0;
    let mut awaiting: Option<&Arg> = None;
    for word in words {
        if awaiting.take().is_some() {
            continue;
        }
        if word.starts_with('-') && word.len() > 1 {
            if let Some(arg) = find_flag(cmd, word) {
                if takes_value(arg) && !word.contains('=') && !is_short_with_value(word) {
                    awaiting = Some(arg);
                }
            }
            continue;
        }
        if positionals == 0 {
            if let Some(sub) = cmd.find_subcommand(word) {
                path.push(sub.get_name());
                cmd = sub;
                continue;
            }
        }
        positionals += 1;
    }

    if let Some(arg) = awaiting {
        return values_of(arg, data, current, "");
    }
    if current.starts_with('-') {
        if let Some((flag, value)) = current.split_once('=') {
            return match find_flag(cmd, flag) {
                Some(arg) if flag.starts_with("--") => values_of(arg, data, value, &format!("{flag}=")),
                _ => Vec::new(),
            };
        }
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "db")
            .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
            .map(|long| format!("--{long}"));
        return matching_owned(flags, current);
    }
    if words.is_empty() && first != Some("pimlab") {
        let commands = visible_subcommands(cmd).chain(REPL_WORDS.iter().map(|w| w.to_string()));
        return matching_owned(commands, current);
    }
    if positionals == 0 && cmd.has_subcommands() {
        return matching_owned(visible_subcommands(cmd), current);
    }
    match Kind::of_positional(&path, positionals) {
        Some(kind) => matching(kind.values(data), current),
        None => Vec::new(),
    }
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = String> + '_ {
    cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name().to_string())
}

/// The flag a word names: `--role`, `--role=X`, `-r` or `-rX`.
fn find_flag<'a>(cmd: &'a clap::Command, word: &str) -> Option<&'a Arg> {
    if let Some(long) = word.strip_prefix("--") {
        let long = long.split_once('=').map_or(long, |(name, _)| name);
        return cmd
            .get_arguments()
            .find(|a| a.get_all_aliases().unwrap_or_default().contains(&long) || a.get_long() == Some(long));
    }
    let short = word.strip_prefix('-')?.chars().next()?;
    cmd.get_arguments().find(|a| a.get_short() == Some(short))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// `-rX`: a short flag with its value attached.
fn is_short_with_value(word: &str) -> bool {
    !word.starts_with("--") && word.chars().count() > 2
}

/// The values a flag takes that start with `current`, each after `prefix` (`--role=`).
fn values_of(arg: &Arg, data: &Candidates, current: &str, prefix: &str) -> Vec<String> {
    let names: Vec<String> = match arg.get_long().and_then(Kind::of_flag) {
        Some(kind) => matching(kind.values(data), current),
        None => matching_owned(
            arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()),
            current,
        ),
    };
    names.into_iter().map(|n| format!("{prefix}{n}")).collect()
}

/// The names starting with `current` (ignoring case), quoted for the REPL's parser.
fn matching(names: Vec<&str>, current: &str) -> Vec<String> {
    let current = current.to_lowercase();
    names.into_iter().filter(|n| n.to_lowercase().starts_with(&current)).map(quote).collect()
}

fn matching_owned(names: impl Iterator<Item = String>, current: &str) -> Vec<String> {
    names.filter(|n| n.starts_with(current)).collect()
}

/// A name as one word for the REPL's (shell-like) parser: bare when it can be, else in double
/// quotes.
fn quote(name: &str) -> String {
    let bare = |c: char| c.is_alphanumeric() || "@._-:/+=,%".contains(c);
    if !name.is_empty() && name.chars().all(bare) {
        return name.to_string();
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Splits the text before the cursor as the REPL's parser does (shell words, quotes): the
/// finished words, and where the word being typed starts with its text so far, unquoted.
fn lex(text: &str) -> (Vec<String>, usize, String) {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('\'') if c == '\'' => quote = None,
            Some('\'') => current.push(c),
            Some(_) if c == '"' => quote = None,
            Some(_)
                if c == '\\' && chars.peek().is_some_and(|&(_, n)| matches!(n, '"' | '\\' | '$' | '`')) =>
            {
                current.push(chars.next().map_or(c, |(_, n)| n));
            }
            Some(_) => current.push(c),
            None if c.is_whitespace() => {
                if start.take().is_some() {
                    words.push(std::mem::take(&mut current));
                }
            }
            None => {
                start.get_or_insert(i);
                match c {
                    '\'' | '"' => quote = Some(c),
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            current.push(n);
                        }
                    }
                    _ => current.push(c),
                }
            }
        }
    }
    (words, start.unwrap_or(text.len()), current)
}

/// The REPL's rustyline helper: completion from a snapshot of the tenant's names (see
/// `interactive` for why a snapshot); no hints, highlighting or multi-line validation.
#[derive(Default)]
struct Completion {
    data: Candidates,
}

impl Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos, &self.data))
    }
}

impl Hinter for Completion {
    type Hint = String;
}

impl Highlighter for Completion {}

impl Validator for Completion {}

impl Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Candidates {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Candidates {
            roles: owned(&[
                "Global Administrator",
                "Global Reader",
                "Helpdesk Administrator",
                "User Administrator",
            ]),
            users: owned(&["alice@contoso.example", "Alice Andersen", "ben@contoso.example", "Ben Bakker"]),
            groups: owned(&["Helpdesk Tier 1", "Tier-0 Admins"]),
            service_principals: owned(&["Nightly Sync Automation"]),
            units: owned(&["Europe"]),
            requests: owned(&["d85c71ce-06da-4f52", "d7457f6d-786d-476c", "0931aaaa-0000-0000"]),
            awaiting_decision: owned(&["0931aaaa-0000-0000"]),
            hooks: owned(&["weekend-freeze", "sod"]),
        }
    }

    /// The completions with the cursor at the end of the line.
    fn at_end(line: &str) -> (usize, Vec<String>) {
        complete(line, line.len(), &data())
    }

    fn words(line: &str) -> Vec<String> {
        at_end(line).1
    }

    #[test]
    fn commands_at_the_start_of_a_line() {
        assert_eq!(at_end("eli"), (0, vec!["eligible ".to_string()]));
        assert_eq!(
            words("a"),
            [
                "access",
                "activate",
                "active",
                "alerts",
                "app",
                "apply",
                "approvals",
                "approve",
                "arm",
                "as",
                "au",
                "audit"
            ]
        );
        let all = words("");
        for w in ["init", "eligible", "request", "clock", "graph", "lua", "as", "exit", "help"] {
            assert!(all.contains(&w.to_string()), "{w} missing from {all:?}");
        }
        assert_eq!(words("  cl"), ["clock "]);
        assert_eq!(at_end("  cl").0, 2);
    }

    #[test]
    fn subcommands_follow_the_words_typed() {
        assert_eq!(at_end("eligible li"), (9, vec!["list ".to_string()]));
        assert_eq!(words("eligible "), ["assign", "extend", "help", "list", "remove", "renew", "update"]);
        assert_eq!(words("request "), ["cancel", "explain", "help", "show"]);
        assert_eq!(words("clock a"), ["advance "]);
        assert_eq!(words("pimlab eligible li"), ["list "]);
        // Flags before the subcommand are skipped with their values.
        assert_eq!(words("--as alice eligible li"), ["list "]);
        assert_eq!(words("--json clock s"), ["set", "show"]);
        // No command takes a subcommand after a positional.
        assert!(words("user show alice ").is_empty());
    }

    #[test]
    fn flags_of_the_command_typed() {
        assert_eq!(words("eligible assign --ro"), ["--role "]);
        assert_eq!(words("activate --j"), ["--json", "--justification"]);
        let flags = words("eligible assign -");
        for f in ["--principal", "--role", "--scope", "--duration", "--permanent", "--as", "--help"] {
            assert!(flags.contains(&f.to_string()), "{f} missing from {flags:?}");
        }
        // The store of an open session cannot change.
        assert!(!flags.contains(&"--db".to_string()));
        assert_eq!(words("--n"), ["--no-mfa "]);
    }

    #[test]
    fn role_names_after_role_flags_quoted() {
        assert_eq!(
            at_end("activate --role Glo"),
            (16, vec!["\"Global Administrator\"".to_string(), "\"Global Reader\"".to_string()])
        );
        assert_eq!(words("activate -r glo"), ["\"Global Administrator\"", "\"Global Reader\""]);
        assert_eq!(words("activate -r \"Global A"), ["\"Global Administrator\" "]);
        assert_eq!(words("activate -r 'global a"), ["\"Global Administrator\" "]);
        assert_eq!(words("eligible list --role U"), ["\"User Administrator\" "]);
        assert_eq!(
            words("activate --role=Glo"),
            ["--role=\"Global Administrator\"", "--role=\"Global Reader\""]
        );
        // The start of the quoted word, quote included.
        assert_eq!(at_end("activate -r \"Global A").0, 12);
        assert_eq!(words("policy show Help"), ["\"Helpdesk Administrator\" "]);
        assert_eq!(words("role show "), data().roles.iter().map(|r| quote(r)).collect::<Vec<_>>());
    }

    #[test]
    fn principal_names_after_principal_flags_and_as() {
        assert_eq!(words("eligible assign -p al"), ["\"Alice Andersen\"", "alice@contoso.example"]);
        assert_eq!(words("eligible assign --principal Tier"), ["\"Tier-0 Admins\" "]);
        assert_eq!(words("--as b"), ["\"Ben Bakker\"", "ben@contoso.example"]);
        assert_eq!(words("eligible list --as ben@"), ["ben@contoso.example "]);
        assert_eq!(words("as al"), ["\"Alice Andersen\"", "alice@contoso.example"]);
        assert_eq!(words("as Nightly"), ["\"Nightly Sync Automation\" "]);
        assert!(words("as alice x").is_empty());
        assert_eq!(words("group add-member \"Tier-0 Admins\" be"), ["\"Ben Bakker\"", "ben@contoso.example"]);
        assert_eq!(words("activate --for-group H"), ["\"Helpdesk Tier 1\" "]);
        assert_eq!(words("eligible assign --scope "), ["/", "Europe"]);
    }

    #[test]
    fn request_ids_where_a_request_is_named() {
        assert_eq!(words("request show d"), ["d7457f6d-786d-476c", "d85c71ce-06da-4f52"]);
        assert_eq!(words("request explain d8"), ["d85c71ce-06da-4f52 "]);
        assert_eq!(words("request cancel --json 0"), ["0931aaaa-0000-0000 "]);
        // approve and deny offer the requests waiting for a decision.
        assert_eq!(words("approve "), ["0931aaaa-0000-0000 "]);
        assert_eq!(words("deny -j no "), ["0931aaaa-0000-0000 "]);
        // One id only.
        assert!(words("request show d85c71ce-06da-4f52 ").is_empty());
    }

    #[test]
    fn fixed_values_from_the_grammar() {
        assert_eq!(words("requests --kind "), ["active", "eligible"]);
        assert_eq!(words("policy set X --require-mfa t"), ["true "]);
        assert_eq!(words("hook show w"), ["weekend-freeze "]);
    }

    #[test]
    fn nothing_for_lua_comments_and_free_text() {
        assert!(words("lua pim.").is_empty());
        assert!(words("= pim.clock").is_empty());
        assert!(words("# eli").is_empty());
        assert!(words("activate -r X -j ").is_empty());
        assert!(words("clock advance ").is_empty());
        assert!(words("bogus ").is_empty());
    }

    #[test]
    fn the_cursor_need_not_be_at_the_end() {
        let line = "eligible li --role Global";
        assert_eq!(complete(line, 11, &data()), (9, vec!["list ".to_string()]));
        // Past the end, or inside a character, is clamped.
        assert_eq!(complete("eli", 99, &data()).1, ["eligible "]);
        assert_eq!(complete("as é", 4, &data()).0, 3);
    }

    #[test]
    fn lexing_follows_the_parser() {
        assert_eq!(
            lex("a 'b c' \"d\\\"e\" f"),
            (vec!["a".into(), "b c".into(), "d\"e".into()], 15, "f".into())
        );
        assert_eq!(lex("a b "), (vec!["a".into(), "b".into()], 4, String::new()));
        assert_eq!(lex("a \"b c"), (vec!["a".into()], 2, "b c".into()));
        assert_eq!(lex(""), (vec![], 0, String::new()));
        for line in ["activate -r \"Global Administrator\" -j 'why not'", "as \"O'Brien\"", "x a\\ b"] {
            let (mut words, _, current) = lex(line);
            words.push(current);
            assert_eq!(Some(words), shlex::split(line), "{line}");
        }
    }

    #[test]
    fn quoting_round_trips_through_the_parser() {
        for name in
            ["alice@contoso.example", "Global Administrator", "O'Brien", "say \"hi\"", "a\\b", "$x", "#1"]
        {
            let quoted = quote(name);
            assert_eq!(shlex::split(&quoted), Some(vec![name.to_string()]), "{name} -> {quoted}");
        }
        assert_eq!(quote("alice@contoso.example"), "alice@contoso.example");
        assert_eq!(quote("Tier-0 Admins"), "\"Tier-0 Admins\"");
    }

    #[test]
    fn history_path_setting() {
        let p = |s: Option<&str>, h: Option<&str>| history_path_from(s.map(Into::into), h.map(Into::into));
        assert_eq!(p(None, Some("/home/u")), Some(PathBuf::from("/home/u/.pimlab_history")));
        assert_eq!(p(Some("/tmp/h"), Some("/home/u")), Some(PathBuf::from("/tmp/h")));
        assert_eq!(p(Some(""), Some("/home/u")), None);
        assert_eq!(p(None, None), None);
    }
}
