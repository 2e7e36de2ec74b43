//! The documentation's code blocks.

/// The fenced code blocks of a Markdown text in language `lang` (```` ```lua ````), each with
/// the 1-based line of its opening fence.
pub fn code_blocks(markdown: &str, lang: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    // The open block: its fence's line, its language, its text.
    let mut current: Option<(usize, String, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    current = Some((i + 1, info.trim().to_string(), String::new()));
                }
            }
            Some(_) if line.trim_end() == "```" => {
                let (start, info, text) = current.take().unwrap();
                if info == lang {
                    blocks.push((start, text));
                }
            }
            Some((_, _, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ``` block");
    blocks
}
