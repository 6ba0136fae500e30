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

/// A module's catalogue: (key, 中文, English), sorted by key.
pub type Catalog = &'static [(&'static str, &'static str, &'static str)];

/// The catalogues modules registered (`Module::i18n`, through
/// `module::Registry::new`), looked up after the platform's own.
static REGISTERED: std::sync::RwLock<Vec<Catalog>> = std::sync::RwLock::new(Vec::new());

/// Adds a module's strings. Idempotent; a key another catalogue already
/// has is refused, so two modules cannot fight over a string.
pub fn register(cat: Catalog) -> Result<(), String> {
    let mut all = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    if all.iter().any(|c| std::ptr::eq(*c, cat)) {
        return Ok(());
    }
    for w in cat.windows(2) {
        if w[0].0 >= w[1].0 {
            return Err(format!(
                "i18n catalogue out of order at {} / {}",
                w[0].0, w[1].0
            ));
        }
    }
    for (k, _, _) in cat {
        if find(CATALOG, k).is_some() || all.iter().any(|c| find(c, k).is_some()) {
            return Err(format!("i18n key {k} is declared twice"));
        }
    }
    all.push(cat);
    Ok(())
}

fn find(cat: Catalog, key: &str) -> Option<(&'static str, &'static str)> {
    cat.binary_search_by(|(k, _, _)| (*k).cmp(key))
        .ok()
        .map(|i| (cat[i].1, cat[i].2))
}

/// Looks up a catalogue string; an unknown key shows itself so it is noticed
/// (and a test walks the templates so none ship).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match t_opt(key) {
        Some((zh, en)) => match lang {
            Lang::Zh => zh,
            Lang::En => en,
        },
        None => {
            tracing::warn!(key, "missing i18n key");
            "⟨?⟩"
        }
    }
}

fn t_opt(key: &str) -> Option<(&'static str, &'static str)> {
    find(CATALOG, key).or_else(|| {
        REGISTERED
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find_map(|c| find(c, key))
    })
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
pub static CATALOG: Catalog = &[
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
    ("audit.from", "起始日期", "From"),
    ("audit.object", "对象", "Object"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.to", "截止日期", "To"),
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
    ("nav.password", "修改密码", "Change password"),
    ("nav.reviews", "审批", "Reviews"),
    ("nav.users", "账号", "Accounts"),
    ("password.confirm", "再次输入新密码", "New password again"),
    ("password.current", "当前密码", "Current password"),
    (
        "password.forced",
        "管理员要求您修改密码后再继续使用",
        "An administrator requires you to change your password before you go on",
    ),
    ("password.logout", "退出登录", "Sign out"),
    ("password.new", "新密码", "New password"),
    (
        "password.policy",
        "密码至少8位,须包含小写字母、大写字母、数字、符号中的至少三类,且不能包含用户名",
        "At least 8 characters with at least three of: lowercase, uppercase, digits, symbols; not containing the username",
    ),
    ("password.title", "修改密码", "Change password"),
    ("review.applicant", "申请单位", "Applicant"),
    ("review.approve", "同意", "Approve"),
    ("review.comment", "意见", "Comment"),
    (
        "review.comment_hint",
        "退回或不同意时必须填写",
        "Required when returning or rejecting",
    ),
    ("review.done", "已处理", "Done"),
    (
        "review.empty",
        "暂无待您单位处理的审批事项",
        "Nothing is waiting for your organisation",
    ),
    ("review.history", "审批记录", "History"),
    ("review.item", "事项", "Item"),
    ("review.kind", "类型", "Kind"),
    ("review.reject", "不同意", "Reject"),
    ("review.resubmit", "重新提交", "Resubmit"),
    ("review.return", "退回修改", "Return for changes"),
    ("review.step", "审批环节", "Step"),
    ("review.submitted_at", "提交时间", "Submitted"),
    ("review.title", "审批待办", "Review inbox"),
    ("user.create", "新建账号", "New account"),
    ("user.disable", "停用", "Disable"),
    ("user.disabled", "已停用", "Disabled"),
    ("user.display_name", "姓名", "Name"),
    ("user.enable", "启用", "Enable"),
    ("user.force_change", "要求改密", "Force password change"),
    ("user.locked", "已锁定至", "Locked until"),
    ("user.must_change", "待改密", "Must change password"),
    ("user.org", "所属组织", "Organisation"),
    ("user.role", "角色", "Role"),
    ("user.role_admin", "管理员", "Administrator"),
    ("user.role_auditor", "经审人员", "Auditor"),
    ("user.role_staff", "工作人员", "Staff"),
    ("user.unlock", "解锁", "Unlock"),
    (
        "user.unmask",
        "可查看完整证件号码和手机号码",
        "May see full ID and phone numbers",
    ),
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
    fn registered_catalogues_are_checked() {
        static MINE: Catalog = &[("zz_test.a", "甲", "A"), ("zz_test.b", "乙", "B")];
        static CLASH: Catalog = &[("zz_test.a", "丙", "C")];
        static UNSORTED: Catalog = &[("zz_test2.b", "乙", "B"), ("zz_test2.a", "甲", "A")];
        assert_eq!(t(Lang::Zh, "zz_test.a"), "⟨?⟩");
        register(MINE).unwrap();
        register(MINE).unwrap();
        assert_eq!(t(Lang::En, "zz_test.b"), "B");
        assert!(register(CLASH).unwrap_err().contains("zz_test.a"));
        assert!(register(UNSORTED).unwrap_err().contains("out of order"));
    }

    #[test]
    fn lookup_in_both_languages() {
        assert_eq!(t(Lang::Zh, "nav.audit"), "审计");
        assert_eq!(t(Lang::En, "nav.audit"), "Audit");
        assert_eq!(Tr(Lang::En).t("login.submit"), "Sign in");
    }
}
