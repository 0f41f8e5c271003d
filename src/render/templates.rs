//! The theme: templates and static files built into the binary, each overridable by a file of
//! the same name in the site's own `themes/` folder (`themes/templates/issue.html`,
//! `themes/static/style.css`), so a site can change one page without copying the theme.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::inputs::Theme;

/// Built-in templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "macros.html",
        include_str!("../../themes/default/templates/macros.html"),
    ),
    (
        "index.html",
        include_str!("../../themes/default/templates/index.html"),
    ),
    (
        "issue.html",
        include_str!("../../themes/default/templates/issue.html"),
    ),
    (
        "listing.html",
        include_str!("../../themes/default/templates/listing.html"),
    ),
    (
        "facets.html",
        include_str!("../../themes/default/templates/facets.html"),
    ),
    (
        "browse.html",
        include_str!("../../themes/default/templates/browse.html"),
    ),
    (
        "page.html",
        include_str!("../../themes/default/templates/page.html"),
    ),
    (
        "search.html",
        include_str!("../../themes/default/templates/search.html"),
    ),
    (
        "commit.html",
        include_str!("../../themes/default/templates/commit.html"),
    ),
    (
        "commits.html",
        include_str!("../../themes/default/templates/commits.html"),
    ),
    (
        "release.html",
        include_str!("../../themes/default/templates/release.html"),
    ),
    (
        "releases.html",
        include_str!("../../themes/default/templates/releases.html"),
    ),
    (
        "compare.html",
        include_str!("../../themes/default/templates/compare.html"),
    ),
    (
        "people.html",
        include_str!("../../themes/default/templates/people.html"),
    ),
    (
        "person.html",
        include_str!("../../themes/default/templates/person.html"),
    ),
];

/// Built-in static files, by site path.
pub const STATIC: &[(&str, &[u8])] = &[
    (
        "static/style.css",
        include_bytes!("../../themes/default/static/style.css"),
    ),
    (
        "static/site.js",
        include_bytes!("../../themes/default/static/site.js"),
    ),
    (
        "static/search.js",
        include_bytes!("../../themes/default/static/search.js"),
    ),
    (
        "static/listing.js",
        include_bytes!("../../themes/default/static/listing.js"),
    ),
];

/// Builds the templates, preferring the site's theme over the built-ins.
pub fn load(theme: &Theme) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html"]);
    // Tera's default also escapes `/`, which makes every relative href unreadable.
    tera.set_escape_fn(crate::text::escape);
    let mut sources = Vec::new();
    for (name, builtin) in TEMPLATES {
        let text = match theme.file(&format!("templates/{name}")) {
            Some(bytes) => String::from_utf8(bytes.to_vec()).map_err(|e| Error::Template {
                name: theme
                    .root
                    .join("templates")
                    .join(name)
                    .display()
                    .to_string(),
                source: e.into(),
            })?,
            None => builtin.to_string(),
        };
        sources.push((name.to_string(), text));
    }
    tera.add_raw_templates(sources)
        .map_err(|e| template_error("theme", e))?;
    Ok(tera)
}

/// The static files, preferring the site's theme over the built-ins. The built-in scripts are
/// published [`lean`]: the search page's budget counts every byte of `search.js` loaded before
/// the first query, and its comments are for the source, not the reader. A theme's own files
/// are published as they are.
pub fn static_files(theme: &Theme) -> Vec<(&'static str, Cow<'_, [u8]>)> {
    STATIC
        .iter()
        .map(|(path, builtin)| match theme.file(path) {
            Some(own) => (*path, Cow::Borrowed(own)),
            None if path.ends_with(".js") => {
                let src = std::str::from_utf8(builtin).expect("built-in scripts are UTF-8");
                (*path, Cow::Owned(lean(src).into_bytes()))
            }
            None => (*path, Cow::Borrowed(*builtin)),
        })
        .collect()
}

/// A built-in script without its comment lines, blank lines and indentation. Line-based, so
/// it is only for scripts with no template literal and no line continuation, where a line
/// that starts with `//` or `/*` can only be a comment: the built-ins
/// (`built_in_scripts_lean_safely`).
fn lean(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut keep = |rest: &str| {
        if !rest.is_empty() {
            out.push_str(rest);
            out.push('\n');
        }
    };
    let mut in_block = false;
    for line in src.lines() {
        let t = line.trim_start();
        if in_block {
            if let Some(i) = t.find("*/") {
                in_block = false;
                keep(t[i + 2..].trim_start());
            }
        } else if t.starts_with("//") {
        } else if let Some(body) = t.strip_prefix("/*") {
            match body.find("*/") {
                Some(i) => keep(body[i + 2..].trim_start()),
                None => in_block = true,
            }
        } else {
            keep(t);
        }
    }
    out
}

/// A template error, with Tera's own cause chain (where Tera puts the useful part) as its
/// source.
pub fn template_error(name: &str, e: tera::Error) -> Error {
    Error::Template {
        name: name.to_string(),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_drops_comments_blank_lines_and_indentation_only() {
        let src = "/* head\n * more */\n(function () {\n  // a comment\n\n  var a = 'x // y'; // kept\n  /* one */ var b = 2;\n  return a + b;\n})();\n";
        assert_eq!(
            lean(src),
            "(function () {\nvar a = 'x // y'; // kept\nvar b = 2;\nreturn a + b;\n})();\n"
        );
        assert_eq!(lean(&lean(src)), lean(src));
    }

    /// `lean` reads lines, not JavaScript: it is right only for scripts with no template
    /// literal (a backtick outside a quoted string) and no line continuation.
    #[test]
    fn built_in_scripts_lean_safely() {
        let quoted = regex::Regex::new(r#"'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*""#).unwrap();
        for (path, bytes) in STATIC.iter().filter(|(p, _)| p.ends_with(".js")) {
            let src = std::str::from_utf8(bytes).unwrap();
            for (n, line) in src.lines().enumerate() {
                let t = line.trim_start();
                if t.starts_with("//") || t.starts_with('*') || t.starts_with("/*") {
                    continue;
                }
                let code = t.split(" // ").next().unwrap();
                assert!(
                    !quoted.replace_all(code, "''").contains('`'),
                    "{path}:{}: a template literal",
                    n + 1
                );
                assert!(
                    !line.ends_with('\\'),
                    "{path}:{}: a line continuation",
                    n + 1
                );
            }
            let lean = lean(src);
            assert!(lean.len() < src.len() * 9 / 10, "{path}");
            assert!(!lean.lines().any(|l| l.starts_with("//")), "{path}");
        }
    }
}
