// Shared by the renderer targets: what no rendered text may hold, whatever its input — an
// element that runs or embeds script, an event handler, or a script scheme in a link.
pub fn check(what: &str, input: &str, out: &str) {
    let lower = out.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<object", "<embed", "<base", "<form"] {
        assert!(
            !lower.contains(bad),
            "{what} let {bad} through for {input:?}: {out}"
        );
    }
    // Inside tags: no event handler, no script scheme in an attribute.
    for tag in lower
        .split('<')
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(t, _)| t))
    {
        if !tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        for attr in [" href=\"", " src=\"", " action=\"", " formaction=\""] {
            for scheme in ["javascript:", "vbscript:", "data:text"] {
                let bad = format!("{attr}{scheme}");
                assert!(
                    !tag.contains(&bad),
                    "{what} let {bad} through for {input:?}: {out}"
                );
            }
        }
        let has_handler = tag
            .split_whitespace()
            .skip(1)
            .any(|a| a.starts_with("on") && a.contains('=') && !a.starts_with("on="));
        assert!(
            !has_handler,
            "{what} let an event handler through for {input:?}: {out}"
        );
    }
}
