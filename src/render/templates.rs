//! The theme: templates and static files built into the binary, each overridable by a file of
//! the same name in the site's own `themes/` folder (`themes/templates/issue.html`,
//! `themes/static/style.css`), so a site can change one page without copying the theme.

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

/// The static files, preferring the site's theme over the built-ins.
pub fn static_files(theme: &Theme) -> Vec<(&'static str, &[u8])> {
    STATIC
        .iter()
        .map(|(path, builtin)| (*path, theme.file(path).unwrap_or(builtin)))
        .collect()
}

/// A template error, with Tera's own cause chain (where Tera puts the useful part) as its
/// source.
pub fn template_error(name: &str, e: tera::Error) -> Error {
    Error::Template {
        name: name.to_string(),
        source: e.into(),
    }
}
