//! Custom fields that change at every export ("Rank", "Days since reply: 5 minutes ago") are
//! removed at admission, so two exports of an unchanged tracker give byte-identical sites.

use crate::model::Issue;

/// Whether a custom field's value is a function of the export's time rather than of the issue:
/// JIRA's "Rank" (rewritten by every re-ordering) and relative ages ("56 minutes ago").
fn is_volatile(name: &str, values: &[String]) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "rank"
        || lower.starts_with("rank ")
        || lower.starts_with("days since")
        || lower.contains("time in status")
        || values.iter().any(|v| {
            let v = v.trim_end().to_ascii_lowercase();
            v.ends_with(" ago") || v == "just now"
        })
}

/// Removes custom fields whose values change at every export.
pub fn drop_volatile_fields(issue: &mut Issue) {
    issue
        .custom_fields
        .retain(|f| !is_volatile(&f.name, &f.values));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_fields_are_dropped() {
        assert!(is_volatile("Rank", &["0|i00abc:".into()]));
        assert!(is_volatile("Days since reply", &["3".into()]));
        assert!(is_volatile("Last reply", &["56 minutes ago".into()]));
        assert!(!is_volatile("Severity", &["3".into()]));
    }
}
