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
    ("audit.from", "起始日期", "From"),
    ("audit.object", "对象", "Object"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.to", "截止日期", "To"),
    ("audit.verify_bad", "审计链校验失败", "Audit chain verification FAILED"),
    ("audit.verify_ok", "审计链完整", "Audit chain intact"),
    ("card.active", "有效", "Valid"),
    ("card.history", "发卡记录", "Card history"),
    ("card.invalid", "无效", "Not valid"),
    ("card.issue", "发放会员服务卡", "Issue a member card"),
    ("card.issued_at", "发卡时间", "Issued"),
    ("card.membership", "会籍状态", "Membership"),
    ("card.no", "卡号", "Card no."),
    ("card.none", "尚未发放会员服务卡", "No member card issued yet"),
    ("card.not_valid_hint", "此卡已不能使用,请向所在工会申请补发", "This card can no longer be used; ask your union for a new one"),
    ("card.reissue", "补发新卡(原卡作废)", "Reissue (the old card is revoked)"),
    ("card.reissue_confirm", "补发后原卡立即作废,确定补发吗?", "The old card stops working at once. Reissue?"),
    ("card.revoked", "已作废", "Revoked"),
    ("card.revoked_at", "作废时间", "Revoked"),
    ("card.show_hint", "向商户或工会工作人员出示此二维码即可核验会员身份", "Show this code to a merchant or union staff to prove your membership"),
    ("card.title", "会员服务卡", "Member card"),
    ("card.valid", "有效会员", "Valid member"),
    ("card.verify_hint", "扫描会员卡二维码,或粘贴二维码中的内容", "Scan the member card's QR code, or paste its content"),
    ("card.verify_submit", "核验", "Verify"),
    ("card.verify_title", "会员卡核验", "Verify a member card"),
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
    ("join.applied_at", "申请时间", "Applied"),
    ("join.approve", "批准入会", "Approve"),
    ("join.birth_date", "出生日期", "Date of birth"),
    ("join.decided_at", "处理时间", "Decided"),
    ("join.find", "查找您所在单位的工会", "Find your workplace's union"),
    ("join.find_hint", "输入工会名称中的关键字或工会编码", "Part of the union's name, or its code"),
    ("join.form_title", "入会申请", "Application to join"),
    ("join.gender", "性别", "Sex"),
    ("join.gender_hint", "使用居民身份证申请的无需填写性别和出生日期", "No need to fill in sex and date of birth when applying with a resident ID card"),
    ("join.group", "新就业形态群体", "New forms of employment"),
    ("join.id_kind", "证件类型", "Document type"),
    ("join.id_number", "证件号码", "ID number"),
    ("join.intro", "职工可在线申请加入所在单位的基层工会,审核通过后即可领取电子会员服务卡", "Workers can apply online to join their workplace's union; once approved they get an electronic member card"),
    ("join.member_no", "会员编号", "Member no."),
    ("join.migrant", "是否农民工", "Migrant worker"),
    ("join.migrant_tag", "农民工", "Migrant"),
    ("join.more_results", "仅显示前20个结果,请输入更完整的名称", "Only the first 20 matches are shown; type more of the name"),
    ("join.name", "姓名", "Name"),
    ("join.no_results", "没有找到匹配的基层工会,请换个关键字,或向单位工会询问工会编码", "No grassroots union matches; try another word, or ask your union for its code"),
    ("join.pending_hint", "工会正在审核您的申请,请耐心等待", "Your union is reviewing the application"),
    ("join.phone", "手机号码", "Mobile number"),
    ("join.poster_line", "扫码申请加入工会", "Scan to join the union"),
    ("join.privacy", "您的证件号码和手机号码加密保存,仅用于会员登记", "Your ID and mobile numbers are stored encrypted and used only for membership"),
    ("join.qr_hint", "打印张贴,职工用手机扫码即可申请入会", "Print and post it: workers scan it with a phone to apply"),
    ("join.qr_pick", "选择基层工会", "Grassroots union"),
    ("join.qr_print", "打印", "Print"),
    ("join.qr_show", "显示二维码", "Show QR code"),
    ("join.qr_title", "入会二维码", "Join QR code"),
    ("join.reason", "原因", "Reason"),
    ("join.reject", "驳回", "Reject"),
    ("join.reject_reason", "驳回原因(申请人可见)", "Reason (the applicant sees it)"),
    ("join.rejected_done", "已驳回,申请人查询时可看到原因", "Rejected; the applicant will see the reason"),
    ("join.rejected_hint", "如有疑问请联系工会,也可修改信息后重新申请", "Contact the union with questions, or apply again"),
    ("join.review_none", "暂无待审核的入会申请", "No applications waiting"),
    ("join.review_title", "入会申请审核", "Join applications"),
    ("join.status_approved", "已批准入会", "Approved"),
    ("join.status_pending", "待审核", "Waiting for review"),
    ("join.status_query", "查询", "Check"),
    ("join.status_rejected", "未通过", "Rejected"),
    ("join.status_title", "查询申请进度", "Check your application"),
    ("join.submit", "提交申请", "Submit application"),
    ("join.submitted", "申请已提交", "Application submitted"),
    ("join.submitted_hint", "工会审核后,您可以凭证件号码和手机号码查询结果。", "After the union has reviewed it, check the result with your ID and mobile numbers."),
    ("join.submitted_to", "您的入会申请已提交至:", "Your application has gone to: "),
    ("join.title", "网上入会", "Join online"),
    ("join.union", "工会", "Union"),
    ("join.view_card", "查看我的会员服务卡", "Show my member card"),
    ("join.workplace", "工作单位", "Workplace"),
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
    ("member.joins", "入会申请", "Join applications"),
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
    ("org.cert_changed", "已变更", "Changed"),
    ("org.cert_none", "未取得", "None"),
    ("org.cert_revoked", "已注销", "Revoked"),
    ("org.cert_valid", "有效", "Valid"),
    ("org.children", "下级组织", "Child organisations"),
    ("org.close", "撤销组织", "Close organisation"),
    ("org.closed", "已撤销", "Closed"),
    ("org.code", "组织编码", "Org code"),
    ("org.create", "新建下级组织", "New child organisation"),
    ("org.credit_code", "统一社会信用代码", "Unified social credit code"),
    ("org.founded_on", "成立日期", "Founded on"),
    ("org.grassroots", "基层工会", "Grassroots unions"),
    ("org.history", "变更记录", "History"),
    ("org.legal_cert_no", "法人资格证书号", "Legal-person certificate no."),
    ("org.legal_cert_on", "法人资格取得/变更日期", "Certificate obtained/changed on"),
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
    ("user.role_admin", "管理员", "Administrator"),
    ("user.role_auditor", "经审人员", "Auditor"),
    ("user.role_staff", "工作人员", "Staff"),
    ("user.unmask", "可查看完整证件号码和手机号码", "May see full ID and phone numbers"),
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
