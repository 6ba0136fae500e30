//! The orgs module's interface strings, registered with the platform's
//! i18n mechanism by the module (`Module::i18n`). Sorted by key (a test
//! checks); every key is namespaced to this module.

/// (key, 中文, English)
pub static CATALOG: &[(&str, &str, &str)] = &[
    ("nav.orgs", "组织", "Organisations"),
    ("org.cert_changed", "已变更", "Changed"),
    ("org.cert_none", "未取得", "None"),
    ("org.cert_revoked", "已注销", "Revoked"),
    ("org.cert_valid", "有效", "Valid"),
    ("org.children", "下级组织", "Child organisations"),
    ("org.close", "撤销组织", "Close organisation"),
    ("org.closed", "已撤销", "Closed"),
    ("org.code", "组织编码", "Org code"),
    ("org.create", "新建下级组织", "New child organisation"),
    (
        "org.credit_code",
        "统一社会信用代码",
        "Unified social credit code",
    ),
    ("org.founded_on", "成立日期", "Founded on"),
    ("org.grassroots", "基层工会", "Grassroots unions"),
    ("org.history", "变更记录", "History"),
    (
        "org.legal_cert_no",
        "法人资格证书号",
        "Legal-person certificate no.",
    ),
    (
        "org.legal_cert_on",
        "法人资格取得/变更日期",
        "Certificate obtained/changed on",
    ),
    (
        "org.legal_cert_status",
        "法人资格状态",
        "Legal-person status",
    ),
    ("org.level", "层级", "Level"),
    ("org.move", "移动到", "Move under"),
    ("org.name", "全称", "Full name"),
    ("org.parent", "上级组织", "Parent"),
    ("org.region_code", "行政区划代码", "Region code"),
    ("org.short_name", "简称", "Short name"),
    (
        "org.subtree_count",
        "下属组织总数",
        "Organisations in subtree",
    ),
    ("org.term", "届次", "Term"),
    ("org.term_end", "届期结束", "Term ends"),
    ("org.term_start", "届期开始", "Term starts"),
    ("org.title", "组织", "Organisations"),
    ("org.type", "组织类型", "Type"),
    ("org.workforce", "职工人数", "Workforce"),
    ("org.workforce_as_of", "截至日期", "As of"),
    ("org.workforce_migrant", "农民工人数", "Migrant workers"),
    ("org.workforce_none", "尚未填报职工人数", "No workforce recorded yet"),
    ("org.workforce_record", "填报", "Record"),
    ("org.workforce_sum_note", "职工人数由基层工会填报,本级数字为下级汇总(见统计)", "The workforce is recorded by grassroots unions; this org's figure is the sum of its subtree (see Statistics)"),
    ("org.workforce_total", "职工人数", "Workers"),
    ("org.workforce_women", "女职工人数", "Women workers"),
];
