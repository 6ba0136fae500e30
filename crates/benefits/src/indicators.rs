//! 普惠's figures: partner merchants, offers, member cards issued, vouchers
//! issued and redeemed, the amount redeemed (fen), redemptions (人次).
//! Declared here, computed by `reports`; every figure equals its drill-down.
//! The sources are not cached (the redemption path writes no data version):
//! they are small next to the roster, and read the records each time.

use numfmt::Unit;
use platform::indicator::{
    Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Section, Show,
};

pub const BENEFITS: Section = Section {
    key: "benefits",
    zh: "普惠服务",
    en: "Member benefits",
    order: 40,
};

const MERCHANT_STATUS: &[(&str, &str, &str)] = &[
    ("active", "合作中", "Active"),
    ("suspended", "暂停", "Suspended"),
    ("ended", "已终止", "Ended"),
];
const KINDS: &[(&str, &str, &str)] =
    &[("offer", "优惠", "Offer"), ("voucher", "消费券", "Voucher")];
const VOUCHER_STATUS: &[(&str, &str, &str)] = &[
    ("issued", "未使用", "Unused"),
    ("redeemed", "已使用", "Used"),
];

pub static MERCHANTS: RecordSource = RecordSource {
    key: "benefits_merchants",
    from: "merchants mc JOIN orgs o ON o.id = mc.org_id",
    scan: None,
    org_column: "mc.org_id",
    window: None,
    cached: false,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "merchants",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "签约工会", "Union", Show::Text),
        DrillColumn::new("name", "mc.name", "商户", "Merchant", Show::Text),
        DrillColumn::new("category", "mc.category", "类别", "Category", Show::Text),
        DrillColumn::new(
            "credit_code",
            "mc.credit_code",
            "统一社会信用代码",
            "Credit code",
            Show::Text,
        ),
        DrillColumn::new(
            "agreement_from",
            "mc.agreement_from",
            "协议开始",
            "Agreement from",
            Show::Text,
        ),
        DrillColumn::new(
            "agreement_to",
            "mc.agreement_to",
            "协议结束",
            "Agreement to",
            Show::Text,
        ),
        DrillColumn::new(
            "status",
            "mc.status",
            "状态",
            "Status",
            Show::Label(MERCHANT_STATUS),
        ),
    ],
    drill_order: "o.code, mc.name, mc.id",
    drill_group: None,
};

pub static OFFERS: RecordSource = RecordSource {
    key: "benefits_offers",
    from: "offers f JOIN orgs o ON o.id = f.org_id JOIN merchants mc ON mc.id = f.merchant_id",
    org_column: "f.org_id",
    subject: "offers",
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "签约工会", "Union", Show::Text),
        DrillColumn::new("merchant", "mc.name", "商户", "Merchant", Show::Text),
        DrillColumn::new("title", "f.title", "优惠", "Offer", Show::Text),
        DrillColumn::new(
            "price_rule",
            "f.price_rule",
            "优惠规则",
            "Price rule",
            Show::Text,
        ),
        DrillColumn::new("valid_from", "f.valid_from", "开始", "From", Show::Text),
        DrillColumn::new("valid_to", "f.valid_to", "结束", "To", Show::Text),
    ],
    drill_order: "o.code, mc.name, f.id",
    ..MERCHANTS
};

/// Member cards (会员服务卡), by the holder's union.
pub static CARDS: RecordSource = RecordSource {
    key: "benefits_cards",
    from: "cards cd JOIN memberships m ON m.id = cd.membership_id JOIN orgs o ON o.id = m.org_id",
    org_column: "m.org_id",
    subject: "cards",
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "所在工会", "Union", Show::Text),
        DrillColumn::new("card_no", "cd.card_no", "卡号", "Card no.", Show::Text),
        DrillColumn::new(
            "issued_at",
            "cd.issued_at",
            "发卡时间",
            "Issued",
            Show::Text,
        ),
    ],
    drill_order: "o.code, cd.card_no",
    ..MERCHANTS
};

/// Vouchers, by the member's union when issued.
pub static VOUCHERS: RecordSource = RecordSource {
    key: "benefits_vouchers",
    from: "vouchers v JOIN orgs o ON o.id = v.org_id JOIN persons p ON p.id = v.person_id \
           JOIN voucher_campaigns c ON c.id = v.campaign_id",
    org_column: "v.org_id",
    window: Some("v.issued_on"),
    subject: "vouchers",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "所在工会", "Union", Show::Text),
        DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
        DrillColumn::new(
            "id_masked",
            "p.id_masked",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new("campaign", "c.name", "消费券活动", "Campaign", Show::Text),
        DrillColumn::new("amount_fen", "v.value_fen", "面值", "Value", Show::Money),
        DrillColumn::new(
            "status",
            "v.status",
            "状态",
            "Status",
            Show::Label(VOUCHER_STATUS),
        ),
        DrillColumn::new(
            "issued_on",
            "v.issued_on",
            "发放日期",
            "Issued on",
            Show::Text,
        ),
    ],
    drill_order: "o.code, v.issued_on, v.id",
    ..MERCHANTS
};

/// Redemptions, by the member's union at redemption.
pub static REDEMPTIONS: RecordSource = RecordSource {
    key: "benefits_redemptions",
    from: "redemptions r JOIN orgs o ON o.id = r.org_id JOIN persons p ON p.id = r.person_id \
           JOIN merchants mc ON mc.id = r.merchant_id",
    org_column: "r.org_id",
    window: Some("r.on_date"),
    subject: "redemptions",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "所在工会", "Union", Show::Text),
        DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
        DrillColumn::new(
            "id_masked",
            "p.id_masked",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new("merchant", "mc.name", "商户", "Merchant", Show::Text),
        DrillColumn::new("kind", "r.kind", "类型", "Kind", Show::Label(KINDS)),
        DrillColumn::new("amount_fen", "r.amount_fen", "金额", "Amount", Show::Money),
        DrillColumn::new("on_date", "r.on_date", "日期", "Date", Show::Text),
    ],
    drill_order: "o.code, r.on_date, r.id",
    ..MERCHANTS
};

const IN_PERIOD: &str = "r.on_date >= {start} AND r.on_date <= {end}";

pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "benefits_merchants",
            "合作商户",
            "Partner merchants",
            Unit::Ge,
            Kind::PointInTime,
            BENEFITS,
            &MERCHANTS,
            "mc.agreement_from <= {end} AND mc.agreement_to >= {end} AND mc.status <> 'ended'",
        )
        .about(
            "期末在协议期内、未终止合作的商户",
            "Merchants whose agreement covers the end of the period, not ended",
        )
        .headline(),
        Indicator::records(
            "benefits_offers",
            "优惠项目",
            "Offers",
            Unit::Project,
            Kind::Flow,
            BENEFITS,
            &OFFERS,
            "f.valid_from <= {end} AND f.valid_to >= {start} AND f.status = 'active'",
        )
        .about(
            "统计期内有效的商户优惠项目",
            "Merchant offers valid during the period",
        ),
        Indicator::records(
            "benefits_cards",
            "会员服务卡",
            "Member cards",
            Unit::Card,
            Kind::PointInTime,
            BENEFITS,
            &CARDS,
            "cd.issued_at < {end_at} AND (cd.revoked_at IS NULL OR cd.revoked_at >= {end_at})",
        )
        .about(
            "期末有效的会员服务卡(补发的旧卡不计)",
            "Member cards valid at the end of the period (replaced cards not counted)",
        ),
        Indicator::records(
            "benefits_vouchers_issued",
            "发放消费券",
            "Vouchers issued",
            Unit::Card,
            Kind::Flow,
            BENEFITS,
            &VOUCHERS,
            "v.issued_on >= {start} AND v.issued_on <= {end}",
        )
        .about("统计期内发放的消费券", "Vouchers issued in the period"),
        Indicator::records(
            "benefits_vouchers_redeemed",
            "核销消费券",
            "Vouchers redeemed",
            Unit::Card,
            Kind::Flow,
            BENEFITS,
            &REDEMPTIONS,
            "r.kind = 'voucher' AND r.on_date >= {start} AND r.on_date <= {end}",
        )
        .about("统计期内核销的消费券", "Vouchers redeemed in the period"),
        Indicator::records(
            "benefits_voucher_amount",
            "消费券核销金额",
            "Vouchers redeemed, amount",
            Unit::Fen,
            Kind::Flow,
            BENEFITS,
            &REDEMPTIONS,
            "r.kind = 'voucher' AND r.on_date >= {start} AND r.on_date <= {end}",
        )
        .measure(Measure::Sum("r.amount_fen"), Aggregation::SumOfValues)
        .about(
            "统计期内核销的消费券面值合计(即应与商户结算的金额)",
            "Face value of the vouchers redeemed in the period (what is settled with merchants)",
        )
        .headline(),
        Indicator::records(
            "benefits_redemptions",
            "优惠核销人次",
            "Redemptions",
            Unit::PersonTime,
            Kind::Flow,
            BENEFITS,
            &REDEMPTIONS,
            IN_PERIOD,
        )
        .about(
            "统计期内会员持卡享受优惠和使用消费券的人次",
            "Times members used an offer or a voucher with their card in the period",
        ),
    ]
}

/// The paragraph of the annual summary, in the seeds' voice (维权服务).
pub fn summary() -> Vec<platform::summary::Paragraph> {
    vec![platform::summary::Paragraph {
        key: "benefits.cards_and_vouchers",
        section: "rights",
        indicators: &[
            "benefits_cards",
            "benefits_merchants",
            "benefits_redemptions",
        ],
        zh: "发行会员服务卡{benefits_cards:yu},会员持卡在全市{benefits_merchants:duo}商业门店享受优惠[,提供优惠项目{benefits_offers}],全年核销{benefits_redemptions}[;发放消费券{benefits_vouchers_issued},核销{benefits_vouchers_redeemed},金额{benefits_voucher_amount:wan}]。",
        en: "Issued {benefits_cards:yu} member cards; members enjoyed discounts at {benefits_merchants:duo} shops across the city[, with {benefits_offers} offers], {benefits_redemptions} in the year[; {benefits_vouchers_issued} vouchers issued, {benefits_vouchers_redeemed} redeemed, worth {benefits_voucher_amount:wan}].",
    }]
}
