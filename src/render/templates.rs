//! The theme: templates and static files built into the binary, each overridable by a file of
//! the same name in the site's own `themes/` folder (`themes/templates/issue.html`,
//! `themes/static/style.css`), so a site can change one page without copying the theme.

use std::path::Path;

use crate::error::{Error, Result};

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
];

/// Loads the templates, preferring the site's theme folder over the built-ins.
pub fn load(theme: &Path) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html"]);
    // Tera's default also escapes `/`, which makes every relative href unreadable.
    tera.set_escape_fn(super::html::escape);
    let mut sources = Vec::new();
    for (name, builtin) in TEMPLATES {
        let own = theme.join("templates").join(name);
        let text = match std::fs::read_to_string(&own) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => builtin.to_string(),
            Err(e) => return Err(Error::io(own, e)),
        };
        sources.push((name.to_string(), text));
    }
    tera.add_raw_templates(sources)
        .map_err(|e| template_error("theme", &e))?;
    Ok(tera)
}

/// The static files, preferring the site's theme folder over the built-ins.
pub fn static_files(theme: &Path) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    for (path, builtin) in STATIC {
        let own = theme.join(path);
        let bytes = match std::fs::read(&own) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => builtin.to_vec(),
            Err(e) => return Err(Error::io(own, e)),
        };
        out.push((*path, bytes));
    }
    Ok(out)
}

/// A template error with Tera's whole cause chain (Tera puts the useful part in `source`).
pub fn template_error(name: &str, e: &tera::Error) -> Error {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Template {
        name: name.to_string(),
        message,
    }
}
