//! Lua 5.4's pattern matcher (lstrlib.c's `match` and friends), ported so that it counts its
//! steps: the C matcher runs inside one C call where the instruction hook cannot stop it, and
//! some patterns backtrack exponentially. Here every step is reported to a `tick` callback (the
//! sandbox charges them to the script's instruction budget and checks its deadline), so
//! backtracking ends like any loop. Same semantics and error messages as Lua 5.4.8; the Lua
//! bindings are in `strings.rs`. (The `lua-patterns` crate offers no way to count or stop.)

/// Lua's limit on nested matching calls ("pattern too complex").
const MAXCCALLS: usize = 200;
/// Lua's limit on captures per pattern.
pub const MAX_CAPTURES: usize = 32;
/// Steps are reported in batches of this many (a call into the host per step would cost more
/// than the step).
pub const TICK: u64 = 1024;
const ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// A capture: its start and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Not closed yet.
    Open(usize),
    /// `start..start + len`.
    Text(usize, usize),
    /// `()`: the position (0-based) it was at.
    Position(usize),
}

/// Why matching stopped: the pattern is malformed (Lua's message), or `tick` refused to go on
/// (its error, passed through).
#[derive(Debug)]
pub enum Stop<E> {
    Pattern(String),
    Tick(E),
}

/// One matching state over a subject and a pattern (the pattern without its `^` anchor).
pub struct Matcher<'a, E> {
    src: &'a [u8],
    pat: &'a [u8],
    depth: usize,
    pub captures: Vec<Capture>,
    pending: u64,
    tick: &'a mut dyn FnMut(u64) -> Result<(), E>,
}

type R<E> = Result<Option<usize>, Stop<E>>;

fn bad<T, E>(message: impl Into<String>) -> Result<T, Stop<E>> {
    Err(Stop::Pattern(message.into()))
}

/// Whether `c` is in the class `%cl` (C locale, as Lua's `match_class`).
fn class(c: u8, cl: u8) -> bool {
    let res = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        // Deprecated, but Lua 5.4 still has it.
        b'z' => c == 0,
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() { !res } else { res }
}

/// Whether the pattern has no special character (`find` then searches plainly).
pub fn no_specials(p: &[u8]) -> bool {
    !p.iter().any(|c| SPECIALS.contains(c))
}

/// Where `needle` first occurs in `hay`, counting one step per position tried and one per 32
/// bytes compared.
pub fn plain_find<E>(
    hay: &[u8],
    needle: &[u8],
    tick: &mut dyn FnMut(u64) -> Result<(), E>,
) -> Result<Option<usize>, E> {
    if needle.is_empty() {
        return Ok(Some(0));
    }
    if needle.len() > hay.len() {
        return Ok(None);
    }
    let per = 1 + needle.len() as u64 / 32;
    let mut pending = 0;
    for (i, w) in hay.windows(needle.len()).enumerate() {
        pending += per;
        if pending >= TICK {
            tick(pending)?;
            pending = 0;
        }
        if w == needle {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

impl<'a, E> Matcher<'a, E> {
    pub fn new(src: &'a [u8], pat: &'a [u8], tick: &'a mut dyn FnMut(u64) -> Result<(), E>) -> Self {
        Matcher { src, pat, depth: MAXCCALLS, captures: Vec::new(), pending: 0, tick }
    }

    /// Matches the pattern at `s`; the end of the match, if any. Captures start afresh.
    pub fn match_at(&mut self, s: usize) -> R<E> {
        self.captures.clear();
        self.depth = MAXCCALLS;
        let r = self.do_match(s, 0);
        self.flush()?;
        r
    }

    /// Reports the steps not yet reported.
    pub fn flush(&mut self) -> Result<(), Stop<E>> {
        let n = std::mem::take(&mut self.pending);
        if n > 0 { (self.tick)(n).map_err(Stop::Tick) } else { Ok(()) }
    }

    fn step(&mut self) -> Result<(), Stop<E>> {
        self.pending += 1;
        if self.pending >= TICK { self.flush() } else { Ok(()) }
    }

    /// The pattern byte at `p`, or 0 past its end (C's terminating NUL).
    fn p(&self, p: usize) -> u8 {
        self.pat.get(p).copied().unwrap_or(0)
    }

    fn s(&self, s: usize) -> u8 {
        self.src.get(s).copied().unwrap_or(0)
    }

    fn class_end(&self, mut p: usize) -> Result<usize, Stop<E>> {
        let c = self.p(p);
        p += 1;
        match c {
            ESC => {
                if p >= self.pat.len() {
                    return bad("malformed pattern (ends with '%')");
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.p(p) == b'^' {
                    p += 1;
                }
                loop {
                    if p >= self.pat.len() {
                        return bad("malformed pattern (missing ']')");
                    }
                    let c = self.pat[p];
                    p += 1;
                    if c == ESC && p < self.pat.len() {
                        p += 1;
                    }
                    if self.p(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    /// `[...]` from `p` (the `[`) to `ec` (its `]`).
    fn bracket(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut sig = true;
        if self.p(p + 1) == b'^' {
            sig = false;
            p += 1;
        }
        loop {
            p += 1;
            if p >= ec {
                return !sig;
            }
            if self.p(p) == ESC {
                p += 1;
                if class(c, self.p(p)) {
                    return sig;
                }
            } else if self.p(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                if self.p(p - 2) <= c && c <= self.p(p) {
                    return sig;
                }
            } else if self.p(p) == c {
                return sig;
            }
        }
    }

    fn single(&self, s: usize, p: usize, ep: usize) -> bool {
        if s >= self.src.len() {
            return false;
        }
        let c = self.src[s];
        match self.p(p) {
            b'.' => true,
            ESC => class(c, self.p(p + 1)),
            b'[' => self.bracket(c, p, ep - 1),
            pc => pc == c,
        }
    }

    fn do_match(&mut self, s: usize, p: usize) -> R<E> {
        if self.depth == 0 {
            return bad("pattern too complex");
        }
        self.depth -= 1;
        let r = self.match_inner(s, p);
        self.depth += 1;
        r
    }

    fn match_inner(&mut self, mut s: usize, mut p: usize) -> R<E> {
        loop {
            self.step()?;
            if p == self.pat.len() {
                return Ok(Some(s));
            }
            match self.pat[p] {
                b'(' => {
                    return if self.p(p + 1) == b')' {
                        self.start_capture(s, p + 2, Capture::Position(s))
                    } else {
                        self.start_capture(s, p + 1, Capture::Open(s))
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                ESC if self.p(p + 1) == b'b' => match self.balance(s, p + 2)? {
                    Some(e) => {
                        s = e;
                        p += 4;
                        continue;
                    }
                    None => return Ok(None),
                },
                ESC if self.p(p + 1) == b'f' => {
                    p += 2;
                    if self.p(p) != b'[' {
                        return bad("missing '[' after '%f' in pattern");
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.s(s - 1) };
                    if !self.bracket(previous, p, ep - 1) && self.bracket(self.s(s), p, ep - 1) {
                        p = ep;
                        continue;
                    }
                    return Ok(None);
                }
                ESC if self.p(p + 1).is_ascii_digit() => match self.match_capture(s, self.p(p + 1))? {
                    Some(e) => {
                        s = e;
                        p += 2;
                        continue;
                    }
                    None => return Ok(None),
                },
                _ => {
                    let ep = self.class_end(p)?;
                    let suffix = self.p(ep);
                    if !self.single(s, p, ep) {
                        if matches!(suffix, b'*' | b'?' | b'-') {
                            p = ep + 1;
                            continue;
                        }
                        return Ok(None);
                    }
                    match suffix {
                        b'?' => match self.do_match(s + 1, ep + 1)? {
                            Some(e) => return Ok(Some(e)),
                            None => {
                                p = ep + 1;
                                continue;
                            }
                        },
                        b'+' => return self.max_expand(s + 1, p, ep),
                        b'*' => return self.max_expand(s, p, ep),
                        b'-' => return self.min_expand(s, p, ep),
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> R<E> {
        let mut i = 0;
        while self.single(s + i, p, ep) {
            self.step()?;
            i += 1;
        }
        loop {
            if let Some(e) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(e));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> R<E> {
        loop {
            if let Some(e) = self.do_match(s, ep + 1)? {
                return Ok(Some(e));
            }
            if !self.single(s, p, ep) {
                return Ok(None);
            }
            s += 1;
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: Capture) -> R<E> {
        if self.captures.len() >= MAX_CAPTURES {
            return bad("too many captures");
        }
        self.captures.push(what);
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.captures.pop();
        }
        Ok(r)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> R<E> {
        let Some(l) = self.captures.iter().rposition(|c| matches!(c, Capture::Open(_))) else {
            return bad("invalid pattern capture");
        };
        let Capture::Open(start) = self.captures[l] else { unreachable!("found open above") };
        self.captures[l] = Capture::Text(start, s - start);
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.captures[l] = Capture::Open(start);
        }
        Ok(r)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> R<E> {
        let l = i32::from(digit) - i32::from(b'1');
        let cap = usize::try_from(l).ok().and_then(|l| self.captures.get(l).copied());
        match cap {
            Some(Capture::Text(start, len)) => {
                let want = &self.src[start..start + len];
                Ok(self.src.get(s..s + len).is_some_and(|got| got == want).then_some(s + len))
            }
            Some(Capture::Position(_)) => Ok(None),
            _ => bad(format!("invalid capture index %{}", l + 1)),
        }
    }

    fn balance(&mut self, s: usize, p: usize) -> R<E> {
        if p + 1 >= self.pat.len() {
            return bad("malformed pattern (missing arguments to '%b')");
        }
        if self.s(s) != self.pat[p] || s >= self.src.len() {
            return Ok(None);
        }
        let (b, e) = (self.pat[p], self.pat[p + 1]);
        let mut depth = 1;
        let mut i = s + 1;
        while i < self.src.len() {
            self.step()?;
            let c = self.src[i];
            if c == e {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i + 1));
                }
            } else if c == b {
                depth += 1;
            }
            i += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str, p: &str) -> Result<Option<(usize, usize)>, String> {
        let mut tick = |_| Ok::<(), ()>(());
        let mut m = Matcher::new(s.as_bytes(), p.as_bytes(), &mut tick);
        for i in 0..=s.len() {
            match m.match_at(i) {
                Ok(Some(e)) => return Ok(Some((i, e))),
                Ok(None) => {}
                Err(Stop::Pattern(e)) => return Err(e),
                Err(Stop::Tick(())) => return Err("tick".into()),
            }
        }
        Ok(None)
    }

    #[test]
    fn classes_anchors_and_repetitions_match_as_lua_does() {
        assert_eq!(find("hello world", "o w"), Ok(Some((4, 7))));
        assert_eq!(find("hello", "l+"), Ok(Some((2, 4))));
        assert_eq!(find("hello", "l-o"), Ok(Some((2, 5))));
        assert_eq!(find("THE (quick) fox", "%((%a+)%)"), Ok(Some((4, 11))));
        assert_eq!(find("x = [[a]]", "%b[]"), Ok(Some((4, 9))));
        assert_eq!(find("THE quick", "%f[%l]%a+"), Ok(Some((4, 9))));
        assert_eq!(find("abc", "c$"), Ok(Some((2, 3))));
        assert_eq!(find("abc", "[%a-]+"), Ok(Some((0, 3))));
    }

    #[test]
    fn malformed_patterns_get_lua_messages() {
        assert_eq!(find("a", "%"), Err("malformed pattern (ends with '%')".into()));
        assert_eq!(find("a", "[a"), Err("malformed pattern (missing ']')".into()));
        assert_eq!(find("a", "a)"), Err("invalid pattern capture".into()));
        assert_eq!(find("a", "%1"), Err("invalid capture index %1".into()));
        assert_eq!(find("a", "%f"), Err("missing '[' after '%f' in pattern".into()));
    }

    #[test]
    fn exponential_backtracking_is_stopped_by_the_tick() {
        let s = "a".repeat(25);
        let p = format!("{}b", "a-".repeat(25));
        let mut spent = 0u64;
        let mut tick = |n| {
            spent += n;
            if spent > 1_000_000 { Err("stop") } else { Ok(()) }
        };
        let mut m = Matcher::new(s.as_bytes(), p.as_bytes(), &mut tick);
        assert!(matches!(m.match_at(0), Err(Stop::Tick("stop"))));
    }
}
