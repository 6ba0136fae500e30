//! The hook for the annual work summary (工作综述): a module declares the
//! paragraphs that report its work, over its own indicators, the way it
//! declares the indicators themselves. The generator that writes a draft from
//! them (choosing which paragraphs have records, comparing with last year,
//! rounding through numfmt, keeping every figure bound to its indicator) is
//! the summary issue's; this is the contract it reads.

/// The summary's default sections, in the seeds' order and words. A
/// federation may rename, reorder and add its own.
pub const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "ideology",
        "思想政治引领",
        "Political and ideological guidance",
    ),
    ("achievement", "建功立业", "Work achievements"),
    ("rights", "维权服务", "Rights and services"),
    ("assistance", "帮扶救助", "Hardship assistance"),
    (
        "organisation",
        "基层组织建设",
        "Building grassroots organisations",
    ),
    ("digital", "智慧工会", "Digital union"),
    ("self", "自身建设", "The federation's own work"),
];

/// One paragraph of the summary, as its module writes it.
#[derive(Clone, Copy, Debug)]
pub struct Paragraph {
    /// Stable key (module-prefixed): drafts keep their edits under it.
    pub key: &'static str,
    /// One of [`SECTIONS`] (or a federation's own).
    pub section: &'static str,
    /// The indicators its sentences use; the paragraph appears only when
    /// they have records for the org subtree and period.
    pub indicators: &'static [&'static str],
    /// The sentence patterns: `{code}` stands for an indicator's figure.
    pub zh: &'static str,
    pub en: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_keys_are_unique() {
        let mut keys: Vec<&str> = SECTIONS.iter().map(|s| s.0).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SECTIONS.len());
    }
}
