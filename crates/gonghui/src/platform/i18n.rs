//! The one i18n mechanism. Fixed interface strings live in the catalogue
//! below, keyed; messages built at run time (errors with a value in them) are
//! [`Msg`] pairs. Both are resolved through a [`Lang`], chosen per request
//! from the `lang` cookie (Chinese unless the user switched).

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn from_code(s: &str) -> Lang {
        if s.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// A message in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Msg {
    pub zh: String,
    pub en: String,
}

impl Msg {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}

/// Looks up a catalogue string; an unknown key shows itself so it is noticed
/// (and a test walks the templates so none ship).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match CATALOG.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
        Ok(i) => match lang {
            Lang::Zh => CATALOG[i].1,
            Lang::En => CATALOG[i].2,
        },
        Err(_) => {
            tracing::warn!(key, "missing i18n key");
            "⟨?⟩"
        }
    }
}

/// Handed to every template as `tr`.
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.0, key)
    }
    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
    pub fn is_en(&self) -> bool {
        self.0 == Lang::En
    }
    pub fn msg<'a>(&self, m: &'a Msg) -> &'a str {
        m.get(self.0)
    }
}

/// Sorted by key (a test checks): (key, 中文, English).
pub static CATALOG: &[(&str, &str, &str)] = &[
    ("app.name", "智慧工会", "Gonghui"),
    (
        "app.tagline",
        "工会组织与会员服务平台",
        "Trade-union platform",
    ),
    ("audit.action", "操作", "Action"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.at", "时间", "Time"),
    ("audit.detail", "详情", "Detail"),
    ("audit.filter", "筛选", "Filter"),
    ("audit.object", "对象", "Object"),
    ("audit.title", "审计日志", "Audit log"),
    (
        "audit.verify_bad",
        "审计链校验失败",
        "Audit chain verification FAILED",
    ),
    ("audit.verify_ok", "审计链完整", "Audit chain intact"),
    ("common.actions", "操作", "Actions"),
    ("common.back", "返回", "Back"),
    ("common.cancel", "取消", "Cancel"),
    ("common.close", "撤销", "Close"),
    ("common.count", "数量", "Count"),
    ("common.edit", "编辑", "Edit"),
    ("common.error", "出错了", "Something is wrong"),
    ("common.export", "导出", "Export"),
    ("common.next", "下一页", "Next"),
    ("common.no", "否", "No"),
    ("common.none", "无", "None"),
    ("common.page", "页", "Page"),
    ("common.prev", "上一页", "Previous"),
    ("common.save", "保存", "Save"),
    ("common.search", "搜索", "Search"),
    ("common.status", "状态", "Status"),
    ("common.submit", "提交", "Submit"),
    ("common.total", "合计", "Total"),
    ("common.yes", "是", "Yes"),
    ("home.title", "工作台", "Dashboard"),
    ("home.welcome", "欢迎", "Welcome"),
    (
        "login.failed",
        "用户名或密码错误",
        "Wrong username or password",
    ),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "Username"),
    ("nav.audit", "审计", "Audit"),
    ("nav.home", "工作台", "Home"),
    ("nav.logout", "退出", "Sign out"),
    ("nav.members", "会员", "Members"),
    ("nav.orgs", "组织", "Organisations"),
    ("nav.reports", "统计", "Statistics"),
    ("nav.users", "账号", "Accounts"),
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
    ("org.history", "变更记录", "History"),
    (
        "org.legal_cert_no",
        "法人资格证书号",
        "Legal-person certificate no.",
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
    ("report.apply", "查询", "Apply"),
    ("report.change", "同比增减", "Change"),
    ("report.chart_age", "会员年龄结构", "Members by age"),
    ("report.chart_by_child", "各下级组织会员数", "Members by child organisation"),
    ("report.chart_education", "会员学历结构", "Members by education"),
    ("report.chart_new_employment", "新就业形态会员构成", "New-employment members by group"),
    ("report.chart_org_types", "基层工会类型", "Grassroots unions by type"),
    ("report.chart_trend", "会员人数月度走势", "Members month by month"),
    ("report.col_age", "年龄", "Age"),
    ("report.col_date", "日期", "Date"),
    ("report.col_education", "学历", "Education"),
    ("report.col_gender", "性别", "Gender"),
    ("report.col_group", "群体", "Group"),
    ("report.col_id", "证件号(脱敏)", "ID (masked)"),
    ("report.col_name", "姓名", "Name"),
    ("report.col_org", "所属工会", "Union"),
    ("report.col_phone", "手机号(脱敏)", "Phone (masked)"),
    ("report.current", "本期", "This period"),
    ("report.dashboard", "统计看板", "Dashboard"),
    ("report.export", "导出Excel", "Export to Excel"),
    ("report.from", "开始日期", "From"),
    ("report.indicator", "指标", "Indicator"),
    ("report.manual", "手工填报", "Manual"),
    ("report.manual_entry", "填报手工指标", "Enter manual figures"),
    ("report.manual_note", "这些指标系统尚无业务记录,由本级工会按统计期填报;上级看到的是下级填报值的合计,并始终标注为“手工填报”。", "The system has no records for these yet: each union enters its own value per period; higher levels see the sum, always marked as manual."),
    ("report.masked_note", "证件号与手机号已脱敏;本次查看已记入审计日志。", "ID and phone numbers are masked; this view is recorded in the audit log."),
    ("report.month", "月份", "Month"),
    ("report.note", "说明", "Note"),
    ("report.portal_note", "会员端尚未上线:实名制上网会员暂为0,上网率按0计算并如实显示。", "The member portal is not live yet: members activated online are 0 and the rate is shown as such."),
    ("report.previous", "上年同期", "Same period last year"),
    ("report.quarter", "季度", "Quarter"),
    ("report.self", "本级", "Own records"),
    ("report.table", "指标明细表", "Figures table"),
    ("report.to", "结束日期", "To"),
    ("report.value", "填报值", "Value"),
    ("report.year", "年度", "Year"),
    ("user.create", "新建账号", "New account"),
    ("user.display_name", "姓名", "Name"),
    ("user.org", "所属组织", "Organisation"),
    ("user.role", "角色", "Role"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_unique() {
        for w in CATALOG.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "catalogue out of order at {} / {}",
                w[0].0,
                w[1].0
            );
        }
    }

    #[test]
    fn lookup_in_both_languages() {
        assert_eq!(t(Lang::Zh, "nav.orgs"), "组织");
        assert_eq!(t(Lang::En, "nav.orgs"), "Organisations");
        assert_eq!(Tr(Lang::En).t("login.submit"), "Sign in");
    }
}
