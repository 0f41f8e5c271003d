//! E-mail addresses are not published: each address in tracker text, a person's name or
//! login, or any field of an issue is masked (`jdoe@example.com` → `jdoe@…`) unless the
//! config says to publish them.
//!
//! What counts as an address is decided for text as it is found in real archives: an address
//! may follow CJK text with no space (`履歷請寄至hr@example.com.tw`), sit inside `<>`, a
//! `mailto:`, a patch's `From:` or `Signed-off-by:` line or a quoted reply, be URL-encoded
//! (`a%40b.org`) or obfuscated (`a at b dot org`, `a [at] b.org`), and have an IDN domain
//! (`info@münchen.de`). Things that look like addresses but are not stay as written: retina
//! images (`image@2x.png`), file names (`dump@v2.tar.gz`), `user@host:~$` prompts, `@user`
//! mentions, npm specs (`foo@1.2.3`, `node@v18`), SSH remotes (`git@github.com:org/repo`) and
//! LNet NIDs (`10.0.0.1@o2ib1`). Display names are kept; the local part stays so a reader
//! can still tell people apart, and the domain becomes `…`.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::model::{Issue, Person};

mod strings;

/// The regex `pattern`, compiled once into `cell`.
fn compiled(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("the pattern compiles"))
}

/// A plain address: an ASCII local part, then a domain of labels (IDN labels allowed) with a
/// letter-only top-level label (or an `xn--` one). No `\b` at the start: a word boundary is
/// not seen between CJK text and a Latin letter, and the leftmost match already takes the
/// whole local part.
fn email_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    compiled(
        &RE,
        r"(?i)([a-z0-9!#$&'*+/=?^_`{|}~-][a-z0-9.!#$&'*+/=?^_`{|}~-]*)(@|%40)((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(?:xn--[a-z0-9-]{1,59}|[a-z]{2,63}|[\p{L}&&[^\x00-\x7F]]{2,63}))",
    )
}

/// [`email_pattern`] for a stretch of ASCII text, where it matches exactly what that pattern
/// matches: a letter or digit class there is `[a-z0-9]` (case folded), and the non-ASCII
/// top-level label can not occur. Without Unicode classes the regex runs on its fast engines;
/// the Unicode pattern's captures ran on a backtracker that clears a bit per state and byte
/// for each stretch, a tenth of the import's time on generated archives.
fn ascii_email_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    compiled(
        &RE,
        r"(?i)([a-z0-9!#$&'*+/=?^_`{|}~-][a-z0-9.!#$&'*+/=?^_`{|}~-]*)(@|%40)((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:xn--[a-z0-9-]{1,59}|[a-z]{2,63}))",
    )
}

/// The address pattern for a candidate stretch: the ASCII one where it is all ASCII (it matches
/// the same there, faster), else the Unicode one.
fn span_pattern(span: &str) -> &'static Regex {
    match span.is_ascii() {
        true => ascii_email_pattern(),
        false => email_pattern(),
    }
}

/// Obfuscated addresses: `a [at] b.org`, `a (at) b (dot) org`, `a AT b DOT org`,
/// `a at b dot org`. The spelt-out form without brackets needs ` dot ` and a well-known
/// top-level domain, so that prose (`look at this dot product`) is left alone.
fn obfuscated_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    compiled(
        &RE,
        r"(?i)\b([a-z0-9][a-z0-9._+-]*)(?:\s*[\[({<]\s*at\s*[\])}>]\s*([a-z0-9-]+(?:\s*(?:[\[({<]\s*dot\s*[\])}>]|\.)\s*[a-z0-9-]+)+)|\s+at\s+([a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+(?:com|org|net|edu|gov|mil|int|info|biz|io|de|uk|fr|jp|cn|tw|ru|ca|au|nl|se|no|fi|dk|ch|at|be|it|es|pl|cz|kr|in|br|us|eu))\b)",
    )
}

/// Top-level labels that are file extensions, never domains: `dump@v2.tar.gz` is a file.
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "tif", "tiff", "ico", "gz", "tgz", "xz",
    "tar", "txt", "log", "patch", "diff", "rpm", "deb", "iso", "img", "json", "yaml", "yml", "xml",
    "html", "htm", "lock", "tmp", "bak", "orig", "rej", "ko", "js", "ts", "css", "md", "rs", "py",
    "sh", "go", "java", "cpp", "hpp", "service", "socket", "timer", "mount", "target", "slice",
    "swap",
];

/// The stretches of `text` where a plain address may be: around each `@` (or `%40`), the run of
/// local-part characters before it and of domain characters after it, merged where they meet.
/// Every match of [`email_pattern`] lies inside one, and starts where it would in the whole
/// text (the pattern has no anchor or boundary), so the pattern only reads these: run over
/// whole texts it cost 2.6 s on Lustre's 51,752 commit messages (its Unicode classes keep
/// the fast engines out), most of the git stage.
fn candidate_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let local = |b: u8| b.is_ascii_alphanumeric() || b"!#$&'*+/=?^_`{|}~-.".contains(&b);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in memchr::memchr2_iter(b'@', b'%', bytes) {
        let sep = match bytes[i] {
            b'@' => 1,
            _ if bytes[i..].starts_with(b"%40") => 3,
            _ => continue,
        };
        let mut start = i;
        while start > 0 && local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = i + sep;
        for ch in text[end..].chars() {
            if ch.is_alphanumeric() || ch == '-' || ch == '.' {
                end += ch.len_utf8();
            } else {
                break;
            }
        }
        // No local part or no domain (a diff's `@@` hunk header): nothing the pattern can
        // match.
        if start == i || end == i + sep {
            continue;
        }
        match spans.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => spans.push((start, end)),
        }
    }
    spans
}

/// Whether a plain match ending at `end` in `text`, with this domain, is an address, judging
/// by what surrounds it.
fn is_address(text: &str, end: usize, domain: &str) -> bool {
    let after = &text[end..];
    // The domain ran into more of a word (`a@b.c2`, `a@b.org_x`): not an address.
    // (Only ASCII counts: `example.cn谢谢` is an address followed by Chinese text.)
    if after.starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
        return false;
    }
    // `git@github.com:org/repo.git`, `user@host.example:/path`: an SSH remote or scp target.
    if let Some(rest) = after.strip_prefix(':') {
        if rest.starts_with(|ch: char| !ch.is_whitespace()) {
            return false;
        }
    }
    let lower = domain.to_ascii_lowercase();
    let tld = lower.rsplit('.').next().unwrap_or("");
    // `image@2x.png`, `logo@1.5x.jpg`: retina image names; `dump@v2.tar.gz`: a file.
    if FILE_EXTENSIONS.contains(&tld) {
        return false;
    }
    // `@scope/name@1.2.3`-like specs never reach here (digit top-level label); a local part
    // that is only a scope (`@types`) has no `@` before it, so it is a mention.
    true
}

/// Replaces the domain of every e-mail address in `text` with `…`: `jdoe@example.com` →
/// `jdoe@…`, `a [at] b.org` → `a@…`. The local part stays so a reader can still tell
/// people apart.
pub fn mask_emails(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    if text.contains('@') || text.contains("%40") {
        let mut buf = String::with_capacity(text.len());
        let mut last = 0;
        let mut changed = false;
        for (from, to) in candidate_spans(text) {
            let span = &text[from..to];
            for c in span_pattern(span).captures_iter(span) {
                let whole = c.get(0).expect("a match has a whole");
                let (start, end) = (from + whole.start(), from + whole.end());
                if !is_address(text, end, &c[3]) {
                    continue;
                }
                buf.push_str(&text[last..start]);
                buf.push_str(&c[1]);
                buf.push_str("@…");
                last = end;
                changed = true;
            }
        }
        if changed {
            buf.push_str(&text[last..]);
            out = Some(buf);
        }
    }
    let current: &str = out.as_deref().unwrap_or(text);
    if may_be_obfuscated(current) {
        if let Cow::Owned(s) = obfuscated_pattern().replace_all(current, "$1@…") {
            out = Some(s);
        }
    }
    match out {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(text),
    }
}

/// A cheap test before the obfuscated pattern runs, true for every text the pattern can match:
/// an `at` between brackets (`[at]`, `( at )`), or an `at` and a `dot` each between
/// whitespace (the spelt-out form needs both). The pattern's own engine is a backtracker over
/// the whole text, and `at` between spaces alone is common English ("failed at mount").
fn may_be_obfuscated(text: &str) -> bool {
    let b = text.as_bytes();
    let word_at = |i: usize, word: &[u8]| {
        b.len() >= i + word.len() && b[i..i + word.len()].eq_ignore_ascii_case(word)
    };
    let spaced = |from: usize, to: usize| {
        text[..from]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace)
            && text[to..].chars().next().is_some_and(char::is_whitespace)
    };
    let mut spaced_at = false;
    for i in memchr::memchr2_iter(b'a', b'A', b) {
        if !word_at(i, b"at") {
            continue;
        }
        let before = text[..i].trim_end();
        let after = text[i + 2..].trim_start();
        if before.ends_with(['[', '(', '{', '<']) && after.starts_with([']', ')', '}', '>']) {
            return true;
        }
        spaced_at |= spaced(i, i + 2);
    }
    spaced_at && memchr::memchr2_iter(b'd', b'D', b).any(|i| word_at(i, b"dot") && spaced(i, i + 3))
}

/// Masks the addresses in `s`, leaving it untouched when there is none; true when it held one.
pub fn mask_in_place(s: &mut String) -> bool {
    match mask_emails(s) {
        Cow::Owned(masked) => {
            *s = masked;
            true
        }
        Cow::Borrowed(_) => false,
    }
}

/// Masks a person: the address field is removed, and a login or name that is an address is
/// masked.
pub fn mask_person(p: &mut Person) {
    p.email = None;
    mask_in_place(&mut p.login);
    mask_in_place(&mut p.display);
}

/// Masks every e-mail address anywhere in an issue: every string of it, and every name of a
/// map, whatever field holds it, so a field added to the model later is covered too.
pub fn mask_issue(issue: &mut Issue) {
    for p in issue.assignees.iter_mut() {
        p.email = None;
    }
    for p in issue.people_mut() {
        p.email = None;
    }
    // Most issues hold no address: asked of their strings where they are, they are not
    // turned into a JSON tree and back.
    if !strings::holds_address(&*issue) {
        return;
    }
    let Ok(mut value) = serde_json::to_value(&*issue) else {
        return;
    };
    if mask_value(&mut value) {
        // Masking changes text only, never a value's type, so the issue reads back.
        if let Ok(masked) = serde_json::from_value(value) {
            *issue = masked;
        }
    }
}

/// Masks every string and object key in a JSON value; true when anything changed. Nothing is
/// copied where nothing changes (most strings hold no address).
fn mask_value(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => mask_in_place(s),
        Value::Array(items) => items.iter_mut().fold(false, |acc, i| mask_value(i) | acc),
        Value::Object(map) => {
            let mut changed = map
                .values_mut()
                .fold(false, |acc, item| mask_value(item) | acc);
            let keys: Vec<(String, String)> = map
                .keys()
                .filter_map(|k| match mask_emails(k) {
                    Cow::Owned(masked) => Some((k.clone(), masked)),
                    Cow::Borrowed(_) => None,
                })
                .collect();
            for (key, masked) in keys {
                if let Some(item) = map.remove(&key) {
                    map.insert(masked, item);
                    changed = true;
                }
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real-world text and what must be published: addresses masked, look-alikes kept.
    const CASES: &[(&str, &str)] = &[
        // Plain addresses in prose.
        ("mail john.doe@whamcloud.com today", "mail john.doe@… today"),
        ("JD@Example.CO.UK", "JD@…"),
        ("a@b.org", "a@…"),
        ("first.last+tag@sub.example.org.", "first.last+tag@…."),
        ("o'brien@example.ie", "o'brien@…"),
        ("x_y-z@mail-server.example.com,", "x_y-z@…,"),
        ("(contact: ops@example.net)", "(contact: ops@…)"),
        ("\"quoted\" <q@example.com>", "\"quoted\" <q@…>"),
        ("email: a@b.museum", "email: a@…"),
        ("a@b.technology", "a@…"),
        ("UPPER@EXAMPLE.COM", "UPPER@…"),
        ("1234@numbers.example.com", "1234@…"),
        ("x@sub-domain.example.co.jp", "x@…"),
        ("see bob@example.com's note", "see bob@…'s note"),
        ("two: a@x.org, b@y.org", "two: a@…, b@…"),
        ("trailing dot: c@x.org.", "trailing dot: c@…."),
        ("in [brackets] a@x.org]", "in [brackets] a@…]"),
        ("tab\tt@x.org\t", "tab\tt@…\t"),
        ("newline\nn@x.org\n", "newline\nn@…\n"),
        ("semicolon;s@x.org;", "semicolon;s@…;"),
        // Straight after CJK and other scripts, with no space.
        ("履歷請寄至hr@example.com.tw", "履歷請寄至hr@…"),
        ("请联系support@example.cn谢谢", "请联系support@…谢谢"),
        ("連絡先：info@example.co.jp まで", "連絡先：info@… まで"),
        ("문의는admin@example.kr로", "문의는admin@…로"),
        ("пишите:ivan@example.ru", "пишите:ivan@…"),
        ("（邮箱：wang@example.com）", "（邮箱：wang@…）"),
        ("メールはtaro@example.jpへ", "メールはtaro@…へ"),
        // Inside angle brackets, HTML and entities.
        ("John Doe <jdoe@example.com>", "John Doe <jdoe@…>"),
        ("&lt;jdoe@example.com&gt;", "&lt;jdoe@…&gt;"),
        (
            "<a href=\"mailto:x@example.com\">x</a>",
            "<a href=\"mailto:x@…\">x</a>",
        ),
        ("<p>x@example.com</p>", "<p>x@…</p>"),
        ("&quot;q@example.com&quot;", "&quot;q@…&quot;"),
        // mailto: and URL-encoded forms.
        ("mailto:jdoe@example.com", "mailto:jdoe@…"),
        ("MAILTO:JDOE@EXAMPLE.COM", "MAILTO:JDOE@…"),
        ("mailto:jdoe%40example.com", "mailto:jdoe@…"),
        ("mailto:a@b.org?subject=hi", "mailto:a@…?subject=hi"),
        (
            "https://lists.example.org/?to=list%40example.org",
            "https://lists.example.org/?to=list@…",
        ),
        // Patches and commit trailers.
        (
            "From: Jane Roe <jane@example.com>",
            "From: Jane Roe <jane@…>",
        ),
        (
            "Signed-off-by: Jane Roe <jane@example.com>",
            "Signed-off-by: Jane Roe <jane@…>",
        ),
        (
            "Reviewed-by: A B <ab@whamcloud.com>",
            "Reviewed-by: A B <ab@…>",
        ),
        (
            "Tested-by: Maloo <maloo@whamcloud.com>",
            "Tested-by: Maloo <maloo@…>",
        ),
        ("Cc: stable@vger.kernel.org # 5.10", "Cc: stable@… # 5.10"),
        ("Reported-by: x@y.com", "Reported-by: x@…"),
        (
            "From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: a@b.org",
            "From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: a@…",
        ),
        (
            "Co-authored-by: Bot <12345+bot@users.noreply.github.com>",
            "Co-authored-by: Bot <12345+bot@…>",
        ),
        // Quoted replies.
        ("> a@b.org wrote:", "> a@… wrote:"),
        (
            "On Mon, 1 Jan 2020, Jane <jane@x.org> wrote:",
            "On Mon, 1 Jan 2020, Jane <jane@…> wrote:",
        ),
        (">> From: old@x.org", ">> From: old@…"),
        (
            "-----Original Message-----\nFrom: m@corp.example.com",
            "-----Original Message-----\nFrom: m@…",
        ),
        // Obfuscated.
        ("a at b dot org", "a@…"),
        (
            "write to john at example dot com please",
            "write to john@… please",
        ),
        ("a [at] b.org", "a@…"),
        ("a [at] b [dot] org", "a@…"),
        ("a (at) b (dot) org", "a@…"),
        ("a{at}b{dot}org", "a@…"),
        ("a AT b DOT org", "a@…"),
        ("jane.doe [AT] example [DOT] co [DOT] uk", "jane.doe@…"),
        ("x <at> y.com", "x@…"),
        // IDN domains.
        ("info@münchen.de", "info@…"),
        ("a@例子.中国", "a@…"),
        ("admin@пример.рф", "admin@…"),
        ("x@xn--mnchen-3ya.de", "x@…"),
        ("y@example.xn--p1ai", "y@…"),
        // Not addresses: kept as written.
        ("image@2x.png", "image@2x.png"),
        (
            "icon@3x.jpg and logo@1.5x.webp",
            "icon@3x.jpg and logo@1.5x.webp",
        ),
        ("dump@v2.tar.gz", "dump@v2.tar.gz"),
        ("user@host:~$ ls", "user@host:~$ ls"),
        ("root@oss1 # lctl dl", "root@oss1 # lctl dl"),
        ("@user thanks", "@user thanks"),
        ("cc @alice and @bob-2", "cc @alice and @bob-2"),
        ("npm i foo@1.2.3", "npm i foo@1.2.3"),
        ("@scope/pkg@2.0.0-beta.1", "@scope/pkg@2.0.0-beta.1"),
        ("node@v18", "node@v18"),
        ("node@18.17.1", "node@18.17.1"),
        (
            "git@github.com:lustre/lustre-release.git",
            "git@github.com:lustre/lustre-release.git",
        ),
        (
            "git clone git@gitlab.example.org:group/proj",
            "git clone git@gitlab.example.org:group/proj",
        ),
        ("10.0.0.1@o2ib1", "10.0.0.1@o2ib1"),
        ("nid 192.168.1.7@tcp", "nid 192.168.1.7@tcp"),
        (
            "192.168.1.7@tcp1,10.0.0.2@o2ib3",
            "192.168.1.7@tcp1,10.0.0.2@o2ib3",
        ),
        ("0@lo", "0@lo"),
        (
            "lustre-OST0000_UUID@10.0.0.1",
            "lustre-OST0000_UUID@10.0.0.1",
        ),
        (
            "systemd unit foo@bar.service",
            "systemd unit foo@bar.service",
        ),
        ("x@y", "x@y"),
        ("a@b.c2", "a@b.c2"),
        ("sha256@sha256:abcdef", "sha256@sha256:abcdef"),
        ("look at this dot product", "look at this dot product"),
        ("meet at noon dot", "meet at noon dot"),
        ("data at rest", "data at rest"),
        ("@2x.png", "@2x.png"),
        (
            "rsync -a user@host.example.org:/srv/x .",
            "rsync -a user@host.example.org:/srv/x .",
        ),
        ("printf(\"%s@%s\", a, b)", "printf(\"%s@%s\", a, b)"),
        (
            "ssh://git@review.whamcloud.com:29418/fs/lustre",
            "ssh://git@review.whamcloud.com:29418/fs/lustre",
        ),
        ("", ""),
    ];

    #[test]
    fn the_ascii_pattern_matches_what_the_unicode_one_does_on_ascii_text() {
        let matches = |re: &Regex, text: &str| -> Vec<Vec<Option<(usize, usize)>>> {
            re.captures_iter(text)
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect()
        };
        // Every ASCII case, and strings made of the characters the patterns care about.
        let mut texts: Vec<String> = CASES
            .iter()
            .map(|(text, _)| text.to_string())
            .filter(|t| t.is_ascii())
            .collect();
        let alphabet = b"aZ9.-_@%40x+n-~ :KkSs\t";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let len = 1 + (seed >> 58) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize] as char
                })
                .collect();
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(
                matches(ascii_email_pattern(), text),
                matches(email_pattern(), text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_table_of_real_world_cases() {
        assert!(CASES.len() >= 80, "{}", CASES.len());
        let mut failures = Vec::new();
        for (input, want) in CASES {
            let got = mask_emails(input);
            if got != *want {
                failures.push(format!("{input:?}\n   got  {got:?}\n   want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The plain addresses the pattern finds and accepts when run over the whole text, as
    /// `(start, end)`: what reading only [`candidate_spans`] must find too.
    fn whole_text_matches(text: &str) -> Vec<(usize, usize)> {
        email_pattern()
            .captures_iter(text)
            .filter_map(|c| {
                let w = c.get(0).unwrap();
                is_address(text, w.end(), &c[3]).then_some((w.start(), w.end()))
            })
            .collect()
    }

    fn span_matches(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (from, to) in candidate_spans(text) {
            let span = &text[from..to];
            for c in span_pattern(span).captures_iter(span) {
                let w = c.get(0).unwrap();
                if is_address(text, from + w.end(), &c[3]) {
                    out.push((from + w.start(), from + w.end()));
                }
            }
        }
        out
    }

    #[test]
    fn reading_around_each_separator_finds_what_the_whole_text_holds() {
        let tricky = [
            "a@b.c@d.org",
            ".x@y.org and ..z@w.net.",
            "x%40y.org, a%40b%40c.org",
            "é@ü.de ü@é.de",
            "履歷請寄至hr@example.com.tw谢谢",
            "image@2x.png user@host:~$ git@github.com:a/b.git",
            "@@@ a@ @b.org a@@b.org",
            "@@ -1,3 +1,4 @@ x@y.org\n@@ -9 +9 @@\n-a%40@b.org %40c.org",
            "Signed-off-by: A <a@b.org>\nReviewed-by: C <c.d+e@f-g.example.co.uk>",
            "",
            "no separator here",
        ];
        let mut n = 0;
        for text in CASES.iter().map(|(i, _)| *i).chain(tricky) {
            assert_eq!(span_matches(text), whole_text_matches(text), "{text:?}");
            n += whole_text_matches(text).len();
        }
        assert!(n > 50, "{n} addresses in the cases");
    }

    #[test]
    fn the_cheap_test_passes_every_text_the_obfuscated_pattern_matches() {
        let texts = [
            "a [at] b.org",
            "a [ AT ] b [dot] org",
            "a(at)b(dot)org",
            "a {At}\tb.org",
            "a <at> b.org",
            "reach me: jdoe at example dot com",
            "JDOE AT EXAMPLE DOT COM",
            "jdoe\u{a0}at\u{a0}example\u{3000}dot\u{2003}org",
            "jdoe\r\nat\r\nexample dot net",
            "x at y dot z dot edu.",
        ];
        for text in texts {
            assert!(obfuscated_pattern().is_match(text), "{text:?}");
            assert!(may_be_obfuscated(text), "{text:?}");
        }
        // Common English is not sent to the pattern.
        for text in [
            "failed at mount",
            "look at this dot",
            "data at rest",
            "at",
            "dot at",
        ] {
            assert!(!may_be_obfuscated(text), "{text:?}");
        }
        // Texts the pattern leaves alone may pass the cheap test; they are never changed.
        for text in ["a [at] b", "cat at dot"] {
            assert_eq!(mask_emails(text), text);
        }
    }

    #[test]
    fn every_string_of_an_issue_is_masked() {
        use crate::model::{Comment, CustomField, Markup, Text};
        let mut issue = Issue {
            summary: "from a@b.org".into(),
            parent: Some("x@y.org".into()),
            labels: vec!["owner:c@d.org".into()],
            label_colors: [("owner:c@d.org".to_string(), "ffffff".to_string())]
                .into_iter()
                .collect(),
            custom_fields: vec![CustomField {
                id: "customfield_1".into(),
                name: "Contact e@f.org".into(),
                values: vec!["g@h.org".into()],
                ..Default::default()
            }],
            comments: vec![Comment {
                body: Text::new(Markup::Plain, "履歷請寄至hr@example.com.tw"),
                author: Some(Person {
                    login: "i@j.org".into(),
                    display: "I J".into(),
                    email: Some("i@j.org".into()),
                    id: None,
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        mask_issue(&mut issue);
        let json = serde_json::to_string(&issue).unwrap();
        for domain in [
            "b.org",
            "y.org",
            "d.org",
            "f.org",
            "h.org",
            "j.org",
            "example.com.tw",
        ] {
            assert!(!json.contains(domain), "{domain} in {json}");
        }
        assert_eq!(issue.comments[0].author.as_ref().unwrap().display, "I J");
    }
}
