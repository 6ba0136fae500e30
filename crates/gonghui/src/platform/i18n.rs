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
    ("app.tagline", "工会组织与会员服务平台", "Trade-union platform"),
    ("audit.action", "操作", "Action"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.at", "时间", "Time"),
    ("audit.detail", "详情", "Detail"),
    ("audit.filter", "筛选", "Filter"),
    ("audit.object", "对象", "Object"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.verify_bad", "审计链校验失败", "Audit chain verification FAILED"),
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
    ("login.failed", "用户名或密码错误", "Wrong username or password"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.title", "登录", "Sign in"),
    ("login.username", "用户名", "Username"),
    ("member.active_count", "在籍会员", "Active members"),
    ("member.all_or_nothing", "全部导入模式:任何一行有误则全部不导入", "All or nothing: import nothing if any row is wrong"),
    ("member.all_orgs", "全部", "All"),
    ("member.approve", "同意", "Approve"),
    ("member.birth_date", "出生日期", "Birth date"),
    ("member.card", "会员服务卡", "Member card"),
    ("member.change", "会籍变化", "Membership change"),
    ("member.change_date", "会籍变化日期", "Date of change"),
    ("member.default_union", "默认所属工会(行内未填编码时使用)", "Default union (for rows without a union code)"),
    ("member.download_rejects", "下载未导入行(含错误原因)", "Download rejected rows (with reasons)"),
    ("member.export_unmasked", "导出(不脱敏)", "Export (unmasked)"),
    ("member.export_xlsx", "导出Excel", "Export Excel"),
    ("member.file", "文件", "File"),
    ("member.from_union", "转出工会", "From union"),
    ("member.group", "新就业形态群体", "New-employment group"),
    ("member.history", "会籍变化记录", "Membership history"),
    ("member.id_number", "证件号码", "ID number"),
    ("member.import", "导入名册", "Import roster"),
    ("member.import_help", "支持 .xlsx、.xls、.csv(UTF-8 或 GBK)。按模板填写,表头顺序可以不同。", "Accepts .xlsx, .xls and .csv (UTF-8 or GBK). Fill in the template; column order may differ."),
    ("member.job_done", "已完成", "Done"),
    ("member.job_failed", "失败", "Failed"),
    ("member.job_rolled_back", "有错误行,未导入任何数据", "Rows were rejected; nothing imported"),
    ("member.job_running", "导入中", "Importing"),
    ("member.jobs", "导入记录", "Imports"),
    ("member.joined_on", "入会日期", "Joined on"),
    ("member.member_no", "会员编号", "Member no."),
    ("member.migrant", "农民工会员", "Migrant workers"),
    ("member.name", "姓名", "Name"),
    ("member.new", "新增会员", "Add member"),
    ("member.new_rows", "新增", "New"),
    ("member.phone", "手机号码", "Mobile"),
    ("member.reason", "原因", "Reason"),
    ("member.reject", "不同意", "Reject"),
    ("member.rejected_rows", "未导入", "Rejected"),
    ("member.search_hint", "姓名/拼音/首字母/证件号/手机号", "Name, pinyin, initials, ID or phone"),
    ("member.sex", "性别", "Sex"),
    ("member.sort", "排序", "Sort"),
    ("member.start_transfer", "发起转会", "Start a transfer"),
    ("member.status_active", "在籍", "Active"),
    ("member.status_all", "全部", "All"),
    ("member.status_current", "在籍及保留会籍", "Active and retained"),
    ("member.status_ended", "已离会", "Ended"),
    ("member.status_retained", "保留会籍", "Retained"),
    ("member.template", "下载导入模板", "Download the template"),
    ("member.title", "会员名册", "Member roster"),
    ("member.to_union", "转入工会", "To union"),
    ("member.transfers", "转会", "Transfers"),
    ("member.unchanged_rows", "未变化", "Unchanged"),
    ("member.unmask", "显示完整号码", "Show full numbers"),
    ("member.unmask_audited", "(将记入审计日志)", "(recorded in the audit log)"),
    ("member.updated_rows", "更新", "Updated"),
    ("member.women", "女会员", "Women members"),
    ("member.workplace", "工作单位", "Workplace"),
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
    ("org.credit_code", "统一社会信用代码", "Unified social credit code"),
    ("org.founded_on", "成立日期", "Founded on"),
    ("org.history", "变更记录", "History"),
    ("org.legal_cert_no", "法人资格证书号", "Legal-person certificate no."),
    ("org.legal_cert_status", "法人资格状态", "Legal-person status"),
    ("org.level", "层级", "Level"),
    ("org.move", "移动到", "Move under"),
    ("org.name", "全称", "Full name"),
    ("org.parent", "上级组织", "Parent"),
    ("org.region_code", "行政区划代码", "Region code"),
    ("org.short_name", "简称", "Short name"),
    ("org.subtree_count", "下属组织总数", "Organisations in subtree"),
    ("org.term", "届次", "Term"),
    ("org.term_end", "届期结束", "Term ends"),
    ("org.term_start", "届期开始", "Term starts"),
    ("org.title", "组织", "Organisations"),
    ("org.type", "组织类型", "Type"),
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
