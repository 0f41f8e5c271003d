//! Old URLs keep working: twenty years of mailing-list posts, commit messages and papers link
//! to `jira.whamcloud.com/browse/LU-N` and `bugzilla.lustre.org/show_bug.cgi?id=N`.
//!
//! Once the archive is served where the old tracker was (or the old host name is pointed at
//! it), three mechanisms answer old addresses:
//!
//! - **Redirect stubs** where an old URL is a path: `browse/LU-1234/index.html`, a page that
//!   forwards (meta refresh, plus a plain link) to the issue. Static hosts serve a folder's
//!   `index.html` for `/browse/LU-1234`. These folders are the one exception to bucketing; the
//!   config's `redirect_stubs = false` turns them off.
//! - **A script shim** for query-string URLs, which no static file can match:
//!   `show_bug.cgi/index.html` and `attachment.cgi/index.html` read `?id=N` and forward (hosts
//!   redirect `/show_bug.cgi?id=N` to the folder `/show_bug.cgi/?id=N`, keeping the query).
//!   Attachment ids lead to the copied file, or to the attachment's entry on its issue page,
//!   through id tables written as scripts (`attachment.cgi/ids/<id / 1000>.js`).
//! - **Rewrite rules** for hosts that take them, which answer with real 301s and need no stubs:
//!   `_redirects` (Netlify, Cloudflare Pages), and `_hindsight/nginx.conf` and
//!   `_hindsight/apache.conf` to include in a server's configuration. The issue folder of
//!   `LU-123456` is `issues/LU/123/` — the number without its last three digits — so one
//!   regular expression per key shape covers every issue, whatever the archive's size.

use crate::text::escape;

/// The folder issue pages live under.
const ISSUES: &str = "issues";

/// A redirect stub for an old `browse/KEY` path, at `browse/KEY/index.html`.
///
/// With scripts, `static/redirect.js` forwards and keeps the comment the old URL named
/// (`?focusedCommentId=12345` or a `#comment-12345` fragment) as the issue page's anchor; without
/// them, a meta refresh (inside `<noscript>`, so that it cannot race the script) and a plain link
/// lead to the issue.
pub fn stub(key: &str, issue_path: &str) -> (String, String) {
    let path = stub_path(key);
    let root = super::root_of(&path);
    let target = format!("{root}{issue_path}.html");
    let t = escape(&target);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{k}</title><link rel=\"icon\" href=\"data:,\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; img-src 'self' data:\">\
<noscript><meta http-equiv=\"refresh\" content=\"0; url={t}\"></noscript><link rel=\"canonical\" href=\"{t}\">\
<meta name=\"robots\" content=\"noindex\"></head>\
<body data-root=\"{root}\" data-kind=\"browse\" data-target=\"{t}\"><p><a href=\"{t}\">{k} has moved here</a>.</p>\
<script src=\"{root}static/redirect.js\"></script></body></html>\n",
        k = escape(key),
    );
    (path, html)
}

/// Where the redirect stub of `key` is ([`stub`]).
pub fn stub_path(key: &str) -> String {
    format!("browse/{key}/index.html")
}

/// The shim page for a query-string URL such as `show_bug.cgi?id=N`, at `{name}/index.html`.
/// `prefix` is the key prefix of the tracker whose numbers the `id` is.
pub fn shim(name: &str, prefix: &str, kind: &str) -> (String, String) {
    let path = format!("{name}/index.html");
    let root = super::root_of(&path);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self'; img-src 'self' data:\">\
<meta name=\"robots\" content=\"noindex\"><title>Redirecting…</title><link rel=\"icon\" href=\"data:,\"></head>\
<body data-root=\"{root}\" data-prefix=\"{p}\" data-kind=\"{kind}\">\
<p id=\"redirect-message\">Looking up the old address… If nothing happens, <a href=\"{root}search.html\">search the archive</a>.</p>\
<script src=\"{root}static/redirect.js\"></script></body></html>\n",
        p = escape(prefix),
    );
    (path, html)
}

/// The shim's script.
///
/// Bug numbers map to issue pages by arithmetic. Attachment ids need a table: the build writes
/// it as scripts, `attachment.cgi/ids/<id / 1000>.js`, each calling `hindsightAttachments({…})`
/// with up to a thousand ids → site-relative targets (see [`attachment_shards`]). The shim
/// loads the one shard it needs with a `<script>` element, which works over `file://` where
/// `fetch` does not, and under the pages' `script-src 'self'`.
pub const SHIM_JS: &str = r#"// Forwards old URLs (browse/KEY stubs, show_bug.cgi?id=N, attachment.cgi?id=N) to their pages,
// keeping the comment an old URL pointed at: JIRA's ?focusedCommentId=N or #comment-N, and
// Bugzilla's #cN.
(function () {
  'use strict';
  var body = document.body;
  var root = body.getAttribute('data-root') || '';
  var prefix = body.getAttribute('data-prefix') || '';
  var kind = body.getAttribute('data-kind');
  // The old URL's fragment when it names a place on a page (#comment-12345, #c3), else ''.
  var fragment = /^#[A-Za-z][A-Za-z0-9_-]{0,80}$/.test(location.hash) ? location.hash : '';
  if (kind === 'browse') {
    var target = body.getAttribute('data-target');
    var focused = /[?&]focusedCommentId=([0-9]{1,18})(?:&|$)/.exec(location.search);
    if (!fragment && focused) fragment = '#comment-' + focused[1];
    if (target) location.replace(target + fragment);
    return;
  }
  var m = /[?&]id=([1-9][0-9]{0,17})(?:&|$)/.exec(location.search);
  var msg = document.getElementById('redirect-message');
  function say(text, id) {
    if (!msg) return;
    msg.textContent = text + ' ';
    if (id) {
      var a = document.createElement('a');
      a.href = root + 'search.html?q=' + encodeURIComponent('attachment ' + id);
      a.textContent = 'Search the archive for it';
      msg.appendChild(a);
      msg.appendChild(document.createTextNode('.'));
    }
  }
  if (!m) {
    say(kind === 'attachment' ? 'This old address names no attachment number.'
      : 'This old address names no bug number.');
    return;
  }
  var n = m[1];
  var bucket = n.length > 3 ? n.slice(0, n.length - 3) : '0';
  if (kind !== 'attachment') {
    location.replace(root + 'issues/' + prefix + '/' + bucket + '/' + prefix + '-' + n + '.html' +
      fragment);
    return;
  }
  var done = false;
  function missing() {
    if (done) return;
    done = true;
    say('Attachment ' + n + ' is not in this archive.', n);
  }
  window.hindsightAttachments = function (ids) {
    if (done) return;
    var target = Object.prototype.hasOwnProperty.call(ids, n) ? ids[n] : null;
    // Site-relative paths only: never another site, a scheme or a way out of the root.
    if (typeof target !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9._~\/#-]*$/.test(target) ||
        /(^|\/)\.\.(\/|#|$)/.test(target)) {
      missing();
      return;
    }
    done = true;
    location.replace(root + target);
  };
  var s = document.createElement('script');
  s.src = root + 'attachment.cgi/ids/' + bucket + '.js';
  s.onload = missing;
  s.onerror = missing;
  document.head.appendChild(s);
})();
"#;

/// Where `attachment.cgi?id=N` leads for each attachment id of the Bugzilla tracker: the
/// site-relative path of the copied file, or, for an attachment whose bytes are not in the
/// site, its entry on the issue page (`issues/BZ/12/BZ-12755.html#attachment-567`).
pub type AttachmentTargets = std::collections::BTreeMap<u64, String>;

/// Records `target` for attachment `id`; when two issues claim the same id, the copied file
/// wins over a page anchor, then the smaller path, so the outcome does not depend on the order
/// pages were rendered in.
pub fn record_attachment(targets: &mut AttachmentTargets, id: u64, target: String) {
    let is_file = |t: &str| !t.contains('#');
    match targets.get(&id) {
        Some(old)
            if (is_file(old), std::cmp::Reverse(old.as_str()))
                >= (is_file(&target), std::cmp::Reverse(target.as_str())) => {}
        _ => {
            targets.insert(id, target);
        }
    }
}

/// The id tables of the `attachment.cgi` shim: (site path, script) per thousand ids,
/// `attachment.cgi/ids/<id / 1000>.js`, in id order.
pub fn attachment_shards(targets: &AttachmentTargets) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<u64> = None;
    for (id, target) in targets {
        let shard = id / 1000;
        if current != Some(shard) {
            if let Some((_, text)) = out.last_mut() {
                text.push_str("\n});\n");
            }
            current = Some(shard);
            out.push((
                format!("attachment.cgi/ids/{shard}.js"),
                "// hindsight: attachment.cgi?id=N → this archive's copy (see static/redirect.js).\nhindsightAttachments({\n"
                    .to_string(),
            ));
        }
        let (_, text) = out.last_mut().expect("a shard was started");
        if !text.ends_with('\n') {
            text.push_str(",\n");
        }
        let quoted = serde_json::to_string(target).expect("a string serialises");
        text.push_str(&format!("\"{id}\":{quoted}"));
    }
    if let Some((_, text)) = out.last_mut() {
        text.push_str("\n});\n");
    }
    out
}

/// Rewrite rules for JIRA keys (`/browse/KEY`) and Bugzilla numbers (`show_bug.cgi?id=N`
/// under `bugzilla_prefix`), for a site served under `base` (`""` or `/lustre`). Returns
/// (site path, text) for `_redirects`, nginx and Apache.
///
/// Attachment ids follow no arithmetic, so nginx and Apache leave `attachment.cgi?id=N` to the
/// shim (the host's folder redirect keeps the query); `_redirects`, one line per target anyway,
/// also gets one line per attachment in `attachments`.
pub fn rules(
    base: &str,
    keys: &[(String, String)],
    bugzilla_prefix: Option<&str>,
    attachments: &AttachmentTargets,
) -> Vec<(String, String)> {
    let base = base.trim_end_matches('/');
    let mut nginx = String::from(
        "# hindsight: old tracker URLs → archive pages. Include inside the server { } block\n# that serves the site.\n",
    );
    nginx.push_str(&format!(
        "location ~ ^{b}/browse/([A-Za-z][A-Za-z0-9_]*)-([1-9][0-9]*)([0-9][0-9][0-9])$ {{ return 301 {b}/{i}/$1/$2/$1-$2$3.html$is_args$args; }}\n\
location ~ ^{b}/browse/([A-Za-z][A-Za-z0-9_]*)-([1-9][0-9]?[0-9]?)$ {{ return 301 {b}/{i}/$1/0/$1-$2.html$is_args$args; }}\n",
        b = base,
        i = ISSUES
    ));
    let mut apache = String::from(
        "# hindsight: old tracker URLs → archive pages. Include in the site's <VirtualHost>\n# or <Directory> (mod_rewrite).\nRewriteEngine On\n",
    );
    apache.push_str(&format!(
        "RewriteRule ^{b}/browse/([A-Za-z][A-Za-z0-9_]*)-([1-9][0-9]*)([0-9]{{3}})$ {b}/{i}/$1/$2/$1-$2$3.html [R=301,L]\n\
RewriteRule ^{b}/browse/([A-Za-z][A-Za-z0-9_]*)-([1-9][0-9]{{0,2}})$ {b}/{i}/$1/0/$1-$2.html [R=301,L]\n",
        b = base,
        i = ISSUES
    ));
    if let Some(p) = bugzilla_prefix {
        nginx.push_str(&format!(
            "location = {b}/show_bug.cgi {{\n  if ($arg_id ~ \"^([1-9][0-9]*)([0-9][0-9][0-9])$\") {{ return 301 {b}/{i}/{p}/$1/{p}-$1$2.html; }}\n  if ($arg_id ~ \"^([1-9][0-9]?[0-9]?)$\") {{ return 301 {b}/{i}/{p}/0/{p}-$1.html; }}\n  return 404;\n}}\n",
            b = base,
            i = ISSUES
        ));
        apache.push_str(&format!(
            "RewriteCond %{{QUERY_STRING}} (?:^|&)id=([1-9][0-9]*)([0-9]{{3}})(?:&|$)\nRewriteRule ^{b}/show_bug\\.cgi$ {b}/{i}/{p}/%1/{p}-%1%2.html? [R=301,L]\n\
RewriteCond %{{QUERY_STRING}} (?:^|&)id=([1-9][0-9]{{0,2}})(?:&|$)\nRewriteRule ^{b}/show_bug\\.cgi$ {b}/{i}/{p}/0/{p}-%1.html? [R=301,L]\n",
            b = base,
            i = ISSUES
        ));
    }
    // Netlify-style files take no regular expressions: one line per issue.
    let mut redirects = String::from("# hindsight: old tracker URLs → archive pages\n");
    for (key, path) in keys {
        redirects.push_str(&format!("{base}/browse/{key} {base}/{path}.html 301\n"));
    }
    if let Some(p) = bugzilla_prefix {
        let head = format!("{p}-");
        for (key, path) in keys {
            if let Some(n) = key.strip_prefix(&head) {
                redirects.push_str(&format!(
                    "{base}/show_bug.cgi id={n} {base}/{path}.html 301\n"
                ));
            }
        }
        for (id, target) in attachments {
            redirects.push_str(&format!(
                "{base}/attachment.cgi id={id} {base}/{target} 301\n"
            ));
        }
    }
    vec![
        ("_redirects".to_string(), redirects),
        ("_hindsight/nginx.conf".to_string(), nginx),
        ("_hindsight/apache.conf".to_string(), apache),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::issue_path;

    /// Applies the Apache rules' regular expressions the way mod_rewrite would, for a path and
    /// a query string.
    fn apache_target(conf: &str, path: &str, query: &str) -> Option<String> {
        let mut cond_ok = true;
        let mut query_caps: Vec<String> = Vec::new();
        for line in conf.lines() {
            if let Some(rest) = line.strip_prefix("RewriteCond %{QUERY_STRING} ") {
                let re = regex::Regex::new(rest).unwrap();
                let caps = re.captures(query);
                cond_ok = caps.is_some();
                query_caps = caps
                    .map(|c| {
                        c.iter()
                            .map(|m| m.map_or(String::new(), |m| m.as_str().into()))
                            .collect()
                    })
                    .unwrap_or_default();
                continue;
            }
            if let Some(rest) = line.strip_prefix("RewriteRule ") {
                let mut parts = rest.split(' ');
                let re = regex::Regex::new(parts.next().unwrap()).unwrap();
                let target = parts.next().unwrap();
                if cond_ok {
                    if let Some(c) = re.captures(path) {
                        let mut t = target.trim_end_matches('?').to_string();
                        for i in (1..c.len()).rev() {
                            t = t.replace(&format!("${i}"), &c[i]);
                        }
                        for (i, q) in query_caps.iter().enumerate().skip(1).rev() {
                            t = t.replace(&format!("%{i}"), q);
                        }
                        return Some(t);
                    }
                }
                cond_ok = true;
                query_caps.clear();
            }
        }
        None
    }

    #[test]
    fn apache_rules_reach_every_bucket() {
        let conf = &rules("", &[], Some("BZ"), &AttachmentTargets::new())[2].1;
        for key in ["LU-7", "LU-999", "LU-1000", "LU-20581", "LUDOC-123456"] {
            assert_eq!(
                apache_target(conf, &format!("/browse/{key}"), ""),
                Some(format!("/{}.html", issue_path(key))),
                "{key}"
            );
        }
        for n in ["5", "999", "1000", "24504"] {
            assert_eq!(
                apache_target(conf, "/show_bug.cgi", &format!("id={n}")),
                Some(format!("/{}.html", issue_path(&format!("BZ-{n}")))),
                "{n}"
            );
        }
        assert_eq!(apache_target(conf, "/browse/LU-0123", ""), None);
    }

    #[test]
    fn a_site_under_a_path_keeps_its_prefix() {
        let files = rules(
            "/lustre/",
            &[("LU-5".into(), issue_path("LU-5"))],
            None,
            &AttachmentTargets::new(),
        );
        assert_eq!(
            files[0].1.lines().nth(1),
            Some("/lustre/browse/LU-5 /lustre/issues/LU/0/LU-5.html 301")
        );
        assert!(files[1].1.contains("^/lustre/browse/"));
    }

    #[test]
    fn attachment_ids_are_sharded_by_thousands_in_id_order() {
        let mut t = AttachmentTargets::new();
        record_attachment(
            &mut t,
            21340,
            "attachments/BZ/21/21340/mds1_console.log".into(),
        );
        record_attachment(&mut t, 567, "attachments/BZ/0/567/a.patch".into());
        record_attachment(
            &mut t,
            999,
            "issues/BZ/12/BZ-12755.html#attachment-999".into(),
        );
        record_attachment(&mut t, 21999, "attachments/BZ/21/21999/x.txt".into());
        let shards = attachment_shards(&t);
        let paths: Vec<&str> = shards.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["attachment.cgi/ids/0.js", "attachment.cgi/ids/21.js"]
        );
        assert_eq!(
            shards[0].1,
            "// hindsight: attachment.cgi?id=N → this archive's copy (see static/redirect.js).\n\
hindsightAttachments({\n\
\"567\":\"attachments/BZ/0/567/a.patch\",\n\
\"999\":\"issues/BZ/12/BZ-12755.html#attachment-999\"\n});\n"
        );
        // Each shard is a call whose argument is JSON.
        for (_, text) in &shards {
            let start = text.find("hindsightAttachments(").unwrap() + "hindsightAttachments(".len();
            let json = text[start..].trim_end().strip_suffix(");").unwrap();
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(json).unwrap();
            for (id, target) in map {
                let n: u64 = id.parse().unwrap();
                assert_eq!(t[&n], target.as_str().unwrap());
            }
        }
        assert!(attachment_shards(&AttachmentTargets::new()).is_empty());
    }

    #[test]
    fn a_copied_file_wins_whatever_the_order() {
        let file = "attachments/BZ/0/5/b.txt".to_string();
        let other = "attachments/BZ/0/5/c.txt".to_string();
        let anchor = "issues/BZ/0/BZ-1.html#attachment-5".to_string();
        for order in [
            [&anchor, &other, &file],
            [&file, &anchor, &other],
            [&other, &file, &anchor],
        ] {
            let mut t = AttachmentTargets::new();
            for target in order {
                record_attachment(&mut t, 5, target.clone());
            }
            assert_eq!(t[&5], file);
        }
    }

    #[test]
    fn netlify_redirects_name_each_attachment() {
        let mut t = AttachmentTargets::new();
        record_attachment(&mut t, 567, "attachments/BZ/0/567/a.patch".into());
        let files = rules("", &[], Some("BZ"), &t);
        assert!(files[0]
            .1
            .contains("/attachment.cgi id=567 /attachments/BZ/0/567/a.patch 301\n"));
        // Without a Bugzilla tracker there is no attachment.cgi.
        assert!(!rules("", &[], None, &t)[0].1.contains("attachment.cgi"));
    }

    #[test]
    fn a_stub_forwards_with_its_script_and_without_it() {
        let (path, html) = stub("LU-1234", "issues/LU/1/LU-1234");
        assert_eq!(path, "browse/LU-1234/index.html");
        assert!(html.contains("data-target=\"../../issues/LU/1/LU-1234.html\""));
        assert!(html.contains("<script src=\"../../static/redirect.js\"></script>"));
        assert_eq!(html.matches("<script").count(), 1, "no inline script");
        // The meta refresh only acts without scripts, so it never races the script's redirect.
        assert!(html.contains(
            "<noscript><meta http-equiv=\"refresh\" content=\"0; url=../../issues/LU/1/LU-1234.html\"></noscript>"
        ));
        assert!(
            html.contains("<a href=\"../../issues/LU/1/LU-1234.html\">LU-1234 has moved here</a>")
        );
        assert!(SHIM_JS.contains("focusedCommentId"));
    }

    #[test]
    fn the_shim_page_loads_only_its_own_script() {
        let (path, html) = shim("attachment.cgi", "BZ", "attachment");
        assert_eq!(path, "attachment.cgi/index.html");
        assert!(html.contains("script-src 'self'"));
        assert!(html.contains("<script src=\"../static/redirect.js\"></script>"));
        assert_eq!(html.matches("<script").count(), 1, "no inline script");
        assert!(SHIM_JS.contains("'attachment.cgi/ids/' + bucket + '.js'"));
    }
}
