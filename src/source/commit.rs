//! One commit object read from its raw bytes: header, message (decoded as its `encoding`
//! header says), signatures through `.mailmap`, and the trailer block.

use super::*;

/// A commit object, parsed leniently: whatever git accepted, this accepts.
pub(super) struct RawCommit<'a> {
    pub(super) tree: Option<ObjectId>,
    pub(super) parents: Vec<ObjectId>,
    author: &'a [u8],
    committer: &'a [u8],
    encoding: Option<&'a [u8]>,
    message: &'a [u8],
}

impl<'a> RawCommit<'a> {
    pub(super) fn parse(data: &'a [u8]) -> Self {
        let mut c = RawCommit {
            tree: None,
            parents: Vec::new(),
            author: b"",
            committer: b"",
            encoding: None,
            message: b"",
        };
        let mut rest = data;
        loop {
            let (line, after) = match rest.find_byte(b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = after;
            if line.is_empty() {
                break;
            }
            if line[0] == b' ' {
                continue; // continuation of a multi-line header (gpgsig, mergetag)
            }
            let (key, value) = match line.find_byte(b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &line[line.len()..]),
            };
            match key {
                b"tree" => c.tree = ObjectId::from_hex(value.trim()).ok(),
                b"parent" => {
                    if let Ok(p) = ObjectId::from_hex(value.trim()) {
                        c.parents.push(p);
                    }
                }
                b"author" => c.author = value,
                b"committer" => c.committer = value,
                b"encoding" => c.encoding = Some(value),
                _ => {}
            }
            if rest.is_empty() {
                break;
            }
        }
        c.message = rest;
        c
    }

    pub(super) fn committer_seconds(&self) -> i64 {
        let (_, _, t) = parse_signature(self.committer);
        let (_, _, a) = parse_signature(self.author);
        t.or(a).map(|t| t.unix()).unwrap_or(0)
    }

    /// The commit in the neutral model (without diffstat).
    pub(super) fn to_model(
        &self,
        id: &str,
        mailmap: &gix::mailmap::Snapshot,
        show_emails: bool,
    ) -> Commit {
        let message = decode_message(self.message, self.encoding);
        let message = message.trim_end_matches(['\n', '\r', ' ', '\t']);
        let message = message.trim_start_matches(['\n', '\r']);
        let (subject, body) = match message.split_once('\n') {
            Some((s, b)) => (
                s.trim_end().to_string(),
                b.trim_start_matches(['\n', '\r']).to_string(),
            ),
            None => (message.trim_end().to_string(), String::new()),
        };
        let (_, trailers) = split_trailers(&body);
        let mut commit = Commit {
            id: id.to_string(),
            parents: self.parents.iter().map(|p| p.to_string()).collect(),
            author: signature(self.author, mailmap),
            committer: signature(self.committer, mailmap),
            subject,
            body,
            trailers,
            diffstat: Vec::new(),
        };
        if !show_emails {
            let mask = crate::text::email::mask_in_place;
            for sig in [&mut commit.author, &mut commit.committer] {
                // The address field is masked whatever its shape (`user@host` too).
                if let Some((local, _)) = sig.email.split_once('@') {
                    sig.email = format!("{local}@…");
                }
                mask(&mut sig.name);
            }
            mask(&mut commit.subject);
            mask(&mut commit.body);
            for t in &mut commit.trailers {
                mask(&mut t.value);
            }
        }
        commit
    }
}

/// Message bytes as text: UTF-8, or Latin-1 when the commit says so, else with replacement
/// characters.
pub(super) fn decode_message(bytes: &[u8], encoding: Option<&[u8]>) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    // The commit's `encoding` header, by its WHATWG label (`ISO-8859-1` reads as Windows-1252,
    // as browsers and git's own consumers do); without one, lossy UTF-8.
    match encoding.and_then(|e| encoding_rs::Encoding::for_label(e.trim())) {
        Some(enc) => enc.decode_without_bom_handling(bytes).0.into_owned(),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `Name <email> 1234567890 +0100` → (name, email, time), leniently.
pub(super) fn parse_signature(raw: &[u8]) -> (String, String, Option<Timestamp>) {
    let text = raw.to_str_lossy();
    let (who, when) = match text.rfind('>') {
        Some(i) => (&text[..=i], text[i + 1..].trim()),
        None => (text.as_ref(), ""),
    };
    let (name, email) = match who.rfind('<') {
        Some(i) => (who[..i].trim(), who[i + 1..].trim_end_matches('>').trim()),
        None => (who.trim(), ""),
    };
    let mut parts = when.split_whitespace();
    let seconds = parts.next().and_then(|s| s.parse::<i64>().ok());
    let offset = parts.next().and_then(parse_offset).unwrap_or(0);
    let time = seconds.and_then(|s| {
        let tz = FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
        DateTime::from_timestamp(s, 0).map(|t| Timestamp(t.with_timezone(&tz)))
    });
    (name.to_string(), email.to_string(), time)
}

pub(super) fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => (1, tz),
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

pub(super) fn signature(raw: &[u8], mailmap: &gix::mailmap::Snapshot) -> Signature {
    let (mut name, mut email, time) = parse_signature(raw);
    let sig = gix::actor::SignatureRef {
        name: BStr::new(name.as_bytes()),
        email: BStr::new(email.as_bytes()),
        time: "",
    };
    if let Some(r) = mailmap.try_resolve_ref(sig) {
        let (n, e) = (
            r.name.map(|n| n.to_str_lossy().into_owned()),
            r.email.map(|e| e.to_str_lossy().into_owned()),
        );
        if let Some(n) = n {
            name = n;
        }
        if let Some(e) = e {
            email = e;
        }
    }
    Signature { name, email, time }
}

/// Splits a commit body into its text and its trailers: the last paragraph is a trailer block
/// when all its lines are `Token: value` (or continuation) lines, or when a quarter of them are
/// and one is a `Signed-off-by:`, as git decides. Returns the byte offset where the block starts
/// (`body.len()` when there is none).
pub fn split_trailers(body: &str) -> (usize, Vec<Trailer>) {
    let trimmed = body.trim_end();
    // The last paragraph starts after the last blank (or whitespace-only) line.
    let mut start = 0;
    let mut pos = 0;
    for line in trimmed.split('\n') {
        if line.trim().is_empty() {
            start = pos + line.len() + 1;
        }
        pos += line.len() + 1;
    }
    let block = &trimmed[start.min(trimmed.len())..];
    if block.trim().is_empty() {
        return (body.len(), Vec::new());
    }
    let mut trailers: Vec<Trailer> = Vec::new();
    let (mut lines, mut trailer_lines, mut signed) = (0, 0, false);
    for line in block.lines() {
        lines += 1;
        if line.starts_with([' ', '\t']) {
            if let Some(last) = trailers.last_mut() {
                last.value.push(' ');
                last.value.push_str(line.trim());
                trailer_lines += 1;
            }
            continue;
        }
        if let Some((k, v)) = trailer_line(line) {
            trailer_lines += 1;
            if k.eq_ignore_ascii_case("Signed-off-by") {
                signed = true;
            }
            trailers.push(Trailer {
                key: k.to_string(),
                value: v.to_string(),
            });
        }
    }
    let is_block = trailer_lines == lines || (signed && trailer_lines * 4 >= lines);
    if !is_block || trailers.is_empty() {
        return (body.len(), Vec::new());
    }
    (start, trailers)
}

pub(super) fn trailer_line(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let key = &line[..colon];
    if key.is_empty()
        || key.len() > 64
        || !key.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let value = line[colon + 1..].trim();
    // `http://…` is not a trailer key; a trailer needs a space (or nothing) after the colon.
    if line[colon + 1..].starts_with("//") {
        return None;
    }
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_leniently() {
        let (n, e, t) = parse_signature(b"Andreas Dilger <adilger@whamcloud.com> 1690502400 -0600");
        assert_eq!(
            (n.as_str(), e.as_str()),
            ("Andreas Dilger", "adilger@whamcloud.com")
        );
        assert_eq!(t.unwrap().original_display(), "2023-07-27 18:00:00 -0600");
        let (n, e, t) = parse_signature(b"pschwan 1022000000 +0000");
        assert_eq!((n.as_str(), e.as_str()), ("pschwan 1022000000 +0000", ""));
        assert!(t.is_none());
        let (_, _, t) = parse_signature(b"x <x@y> 1022000000 +9999");
        assert_eq!(t.unwrap().original_display(), "2002-05-21 16:53:20 +0000");
    }

    #[test]
    fn raw_commits_and_odd_messages() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0123456789012345678901234567890123456789\nauthor A <a@b.c> 1 +0000\ncommitter C <c@d.e> 2 +0100\nencoding ISO-8859-1\n\nSubject caf\xe9\n\nbody\n";
        let c = RawCommit::parse(raw);
        assert_eq!(c.parents.len(), 1);
        let m = c.to_model("x", &Default::default(), true);
        assert_eq!(m.subject, "Subject café");
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b.c> 1 +0000\ncommitter C <c@d.e> 2 +0100\n\nbad \xff\xfe bytes";
        let m = RawCommit::parse(raw).to_model("x", &Default::default(), false);
        assert_eq!(m.subject, "bad \u{fffd}\u{fffd} bytes");
        assert_eq!(m.author.email, "a@…");
    }

    #[test]
    fn trailers_and_identities_are_masked_as_text_is() {
        let raw = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor 王小明 <wang@example.com.tw> 1 +0800\ncommitter C <c@d.org> 2 +0100\n\nLU-1 llite: 履歷請寄至hr@example.com.tw\n\nSee image@2x.png and git@github.com:a/b.git.\n\nSigned-off-by: 王小明 <wang@example.com.tw>\nReviewed-by: Jane [at] example [dot] org\n";
        let m = RawCommit::parse(raw.as_bytes()).to_model("x", &Default::default(), false);
        let all = serde_json::to_string(&m).unwrap();
        for leaked in ["example.com.tw", "d.org", "example [dot] org"] {
            assert!(!all.contains(leaked), "{leaked} in {all}");
        }
        assert_eq!(m.author.name, "王小明");
        assert_eq!(m.trailers[0].value, "王小明 <wang@…>");
        assert!(
            m.body.contains("image@2x.png and git@github.com:a/b.git"),
            "{}",
            m.body
        );
    }

    #[test]
    fn trailers_are_the_last_paragraph() {
        let body = "Some text.\n\nMore: not a trailer block\nbecause of this line\n\nSigned-off-by: A <a@b>\nChange-Id: I0123\nReviewed-on: https://review.whamcloud.com/c/fs/lustre-release/+/12345\nTested-by: Maloo <maloo@x>\n";
        let (start, t) = split_trailers(body);
        assert_eq!(t.len(), 4);
        assert_eq!(t[1].key, "Change-Id");
        assert_eq!(
            t[2].value,
            "https://review.whamcloud.com/c/fs/lustre-release/+/12345"
        );
        assert!(body[start..].starts_with("Signed-off-by"));
        let (start, t) = split_trailers("b=12345\ni=adilger\nr=green\n");
        assert!(t.is_empty());
        assert_eq!(start, "b=12345\ni=adilger\nr=green\n".len());
    }
}
