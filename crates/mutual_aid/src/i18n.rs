//! The mutual-aid module's interface strings (sorted by key, namespaced).

/// (key, 中文, English)
pub static CATALOG: &[(&str, &str, &str)] = &[
    ("aid.amount", "申请金额", "Amount claimed"),
    ("aid.category", "类别", "Category"),
    ("aid.claims", "赔付申请", "Claims"),
    ("aid.contribution", "每人缴费", "Contribution per person"),
    ("aid.contributions", "参保额", "Contributions"),
    ("aid.days", "住院天数", "Days"),
    ("aid.docs", "所需材料", "Required documents"),
    ("aid.event_date", "发生日期", "Event date"),
    ("aid.insured", "参保人数", "Persons insured"),
    ("aid.name", "姓名", "Name"),
    ("aid.none", "暂无", "None yet"),
    ("aid.payout", "赔付金额", "Paid"),
    ("aid.period", "保障期", "Period"),
    ("aid.plan", "计划", "Plan"),
    ("aid.plans", "互助计划", "Plans"),
    (
        "aid.reviews",
        "审批请到“审批”页办理",
        "Decide claims on the Reviews page",
    ),
    ("aid.rules", "赔付规则", "Benefit rules"),
    ("aid.status_approved", "已赔付", "Paid"),
    ("aid.status_draft", "待提交", "Draft"),
    ("aid.status_rejected", "未通过", "Rejected"),
    ("aid.status_submitted", "审批中", "Under review"),
    ("aid.title", "职工互助保障", "Mutual aid for workers"),
    ("aid.union", "工会", "Union"),
    ("nav.mutual_aid", "互助保障", "Mutual aid"),
];
