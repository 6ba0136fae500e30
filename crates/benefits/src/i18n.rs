//! The benefits module's interface strings (sorted by key, namespaced).

/// (key, 中文, English)
pub static CATALOG: &[(&str, &str, &str)] = &[
    ("benefits.add_clerk", "新增店员账号", "Add a clerk account"),
    ("benefits.address", "地址", "Address"),
    ("benefits.agreement", "协议期限", "Agreement"),
    ("benefits.amount", "金额", "Amount"),
    ("benefits.by", "统计维度", "Group by"),
    ("benefits.campaign", "消费券活动", "Voucher campaign"),
    ("benefits.campaigns", "消费券", "Vouchers"),
    ("benefits.card_no", "会员卡号", "Card number"),
    ("benefits.category", "类别", "Category"),
    ("benefits.clerks", "店员账号", "Clerk accounts"),
    ("benefits.contact", "联系人", "Contact"),
    ("benefits.credit_code", "统一社会信用代码", "Credit code"),
    ("benefits.datum", "坐标系", "Datum"),
    ("benefits.disabled", "已停用", "Disabled"),
    ("benefits.display_name", "姓名", "Name"),
    ("benefits.elig_all", "全体会员", "All members"),
    ("benefits.elig_migrant", "农民工", "Migrant workers"),
    ("benefits.elig_new_employment", "新就业形态劳动者", "New-employment workers"),
    ("benefits.elig_subtree", "指定工会的会员", "Members of a union"),
    ("benefits.eligibility", "适用对象", "Who may use it"),
    ("benefits.expires", "截止日期", "Last day"),
    ("benefits.from", "开始日期", "From"),
    ("benefits.group", "新就业形态群体", "New-employment group"),
    ("benefits.issue", "发放", "Issue"),
    ("benefits.issued", "已发放", "Issued"),
    ("benefits.lat", "纬度", "Latitude"),
    ("benefits.limit", "每人限用", "Limit per member"),
    ("benefits.lng", "经度", "Longitude"),
    ("benefits.member", "会员", "Member"),
    ("benefits.members", "会员人数", "Members"),
    ("benefits.merchant", "商户", "Merchant"),
    ("benefits.merchants", "合作商户", "Partner merchants"),
    ("benefits.mine", "我的优惠和消费券", "My benefits and vouchers"),
    ("benefits.month", "月份", "Month"),
    ("benefits.my_day", "我今天的核销", "My redemptions today"),
    ("benefits.nav", "普惠", "Benefits"),
    ("benefits.new_campaign", "发放消费券", "Issue vouchers"),
    ("benefits.new_merchant", "登记合作商户", "Register a merchant"),
    ("benefits.new_offer", "发布优惠", "Add an offer"),
    ("benefits.offer", "优惠", "Offer"),
    ("benefits.offers", "优惠项目", "Offers"),
    ("benefits.or_type", "无法扫码时,输入卡号和会员手机号后四位", "If the code cannot be scanned, type the card number and the last 4 digits of the member's phone"),
    ("benefits.password", "初始密码", "Initial password"),
    ("benefits.phone", "联系电话", "Phone"),
    ("benefits.phone_last4", "手机号后四位", "Last 4 digits of the phone"),
    ("benefits.price_rule", "优惠规则", "Price rule"),
    ("benefits.quantity", "发行数量", "Quantity"),
    ("benefits.redeem", "会员卡核销", "Redeem with the member card"),
    ("benefits.redeem_submit", "核验并核销", "Verify and redeem"),
    ("benefits.redeemed", "已核销", "Redeemed"),
    ("benefits.redemptions", "核销记录", "Redemptions"),
    ("benefits.save", "保存", "Save"),
    ("benefits.scan", "扫描会员卡二维码(扫码内容填入此处)", "Scan the member card's QR code (the scanned text goes here)"),
    ("benefits.selection", "发放对象", "Issued to"),
    ("benefits.set_status", "变更状态", "Change status"),
    ("benefits.settlement", "消费券结算", "Voucher settlement"),
    ("benefits.settlement_xlsx", "导出结算表(xlsx)", "Export the settlement (xlsx)"),
    ("benefits.show", "查询", "Show"),
    ("benefits.status", "状态", "Status"),
    ("benefits.time", "时间", "Time"),
    ("benefits.title", "普惠服务", "Member benefits"),
    ("benefits.to", "结束日期", "To"),
    ("benefits.union", "工会", "Union"),
    ("benefits.unused", "未使用", "Unused"),
    ("benefits.usage", "使用情况", "Usage"),
    ("benefits.used", "已使用", "Used"),
    ("benefits.username", "用户名", "Username"),
    ("benefits.validity", "有效期", "Valid"),
    ("benefits.value", "面值", "Value"),
    ("benefits.vouchers", "消费券", "Vouchers"),
    ("benefits.what", "核销项目", "What to redeem"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_namespaced() {
        for w in super::CATALOG.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        assert!(super::CATALOG
            .iter()
            .all(|(k, _, _)| k.starts_with("benefits.")));
    }
}
