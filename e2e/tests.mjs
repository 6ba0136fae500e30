// Real-browser page tests for Gonghui, run by e2e/run.sh against `gonghui demo`.
//
//   GONGHUI_URL=http://127.0.0.1:8080/ node e2e/tests.mjs
//
// Each check prints one "PASS <name>" or "FAIL <name>" line; the run ends with
// "N passed, N failed" and exits 1 if anything failed. Screenshots go to
// $E2E_OUT (default e2e/out/). Things worth a human look that are not
// failures are printed as "NOTE" lines.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE = (process.env.GONGHUI_URL || 'http://127.0.0.1:8080/').replace(/\/?$/, '/');
const OUT = process.env.E2E_OUT || join(dirname(fileURLToPath(import.meta.url)), 'out');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'Demo@2026';
const TIMEOUT = 30_000;
const PHONE = { width: 390, height: 844 };

mkdirSync(OUT, { recursive: true });

const url = (p) => new URL(p.replace(/^\//, ''), BASE).toString();
const results = [];
const notes = [];
const seenFailed = new Set();
const note = (msg) => {
  notes.push(msg);
  console.log(`NOTE ${msg}`);
};

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/// Runs one named check; a thrown error is a FAIL (with a screenshot of `page`).
async function check(name, page, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${(e && e.message) || e}`);
    if (page && !page.isClosed()) {
      const file = join(OUT, `FAIL-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${file}; page url: ${page.url()}`);
    }
  }
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
}

/// A fresh browser context (own cookies) with console errors collected.
async function newContext(browser, opts = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', ...opts });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on('console', (m) => {
    // A page answered with 4xx on purpose also logs "Failed to load resource";
    // failed sub-resources are reported below instead.
    if (/^Failed to load resource/.test(m.text())) return;
    if (m.type() === 'error' || m.type() === 'warning') {
      note(`browser console ${m.type()} on ${page.url()}: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.request().resourceType() !== 'document' && r.status() >= 400 && !seenFailed.has(u.pathname)) {
      seenFailed.add(u.pathname);
      note(`the browser's request for ${u.pathname} answered ${r.status()}`);
    }
  });
  page.on('pageerror', (e) => note(`page script error on ${page.url()}: ${e.message}`));
  return { context, page };
}

/// Signs in through the login form; resolves on the org page it lands on.
async function login(page, username) {
  await page.goto(url('/login'), { waitUntil: 'load' });
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  // Signing in lands on the dashboard (/reports); the org checks start from /orgs.
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/reports', { waitUntil: 'load' }),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
  await Promise.all([page.waitForURL(/\/orgs\/\d+$/, { waitUntil: 'load' }), page.goto(url('/orgs'))]);
}

async function apiOrgs(context) {
  const r = await context.request.get(url('/api/v1/orgs'));
  assert(r.ok(), `GET /api/v1/orgs answered ${r.status()}`);
  return r.json();
}

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);
const treeLinks = (page) =>
  page.$$eval('aside.tree a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim(), on: a.classList.contains('on') })));
// Horizontal overflow: the page is wider than the screen. With mobile emulation
// (isMobile) Chromium zooms out to fit wide content and window.innerWidth grows
// with it, so compare with the layout viewport (clientWidth) as well.
const overflow = (page) =>
  page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: Math.min(window.innerWidth, document.documentElement.clientWidth),
  }));
async function assertFits(page, what) {
  const o = await overflow(page);
  if (o.scrollWidth > o.innerWidth + 1) {
    const wide = await page.evaluate((w) =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > w + 1)
        // not clipped by a scrolling ancestor that itself fits
        .filter((e) => {
          for (let a = e.parentElement; a; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= w + 1) return false;
          }
          return true;
        })
        .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
        .slice(0, 3)
        .map((e) => `${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).trim().replace(/\s+/g, '.') : ''} (${Math.round(e.getBoundingClientRect().width)}px)`),
      o.innerWidth);
    throw new Error(`${what} is ${o.scrollWidth}px wide on a ${o.innerWidth}px screen; too wide: ${wide.join(', ')}`);
  }
}
const CJK = /[\u3400-\u9fff]/;

async function main() {
  console.log(`gonghui e2e against ${BASE} with ${CHROMIUM}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    // playwright gives every launch a new, empty --user-data-dir of its own.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function run(browser) {
  // ---------------------------------------------------------------- desktop, qinchuan_admin
  const { context: qc, page } = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  let countyId = null;

  await check('login page is Chinese', page, async () => {
    const resp = await page.goto(url('/login'), { waitUntil: 'load' });
    assert(resp && resp.status() === 200, `GET /login answered ${resp && resp.status()}`);
    assert((await htmlLang(page)) === 'zh-CN', `html lang is "${await htmlLang(page)}", expected zh-CN`);
    const text = await page.textContent('body');
    for (const w of ['登录', '用户名', '密码']) assert(text.includes(w), `login page lacks "${w}"`);
    assert(await page.isVisible('#username'), 'no username field');
    assert(await page.isVisible('#password'), 'no password field');
    await shot(page, '01-login-zh');
  });

  await check('wrong password is refused in Chinese', page, async () => {
    await page.fill('#username', 'qinchuan_admin');
    await page.fill('#password', 'not-the-password');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button[type=submit]')]);
    await page.waitForSelector('.err[role=alert]');
    const msg = await page.textContent('.err[role=alert]');
    assert(CJK.test(msg), `error message is not Chinese: "${msg}"`);
    assert(/\/login/.test(page.url()), `left the login page: ${page.url()}`);
  });

  await check('qinchuan_admin signs in and sees the county', page, async () => {
    await login(page, 'qinchuan_admin');
    const h1 = (await page.textContent('main h1')).trim();
    assert(h1.includes('示范市秦川区总工会'), `detail h1 is "${h1}"`);
    const kv = await page.textContent('dl.kv');
    assert(kv.includes('SF-01'), 'detail does not show code SF-01');
    countyId = page.url().match(/\/orgs\/(\d+)$/)[1];
    await shot(page, '02-org-county-desktop');
  });

  await check('org tree shows only 秦川区 orgs', page, async () => {
    const links = await treeLinks(page);
    assert(links.length > 10, `tree has only ${links.length} entries`);
    const texts = links.map((l) => l.text);
    assert(!texts.some((t) => t.includes('渭水区')), 'tree shows a 渭水区 org');
    for (const other of ['示范市总工会', '兴城市总工会', '三塬县总工会', '泾河县总工会', '教育工会']) {
      assert(!texts.some((t) => t.includes(other)), `tree shows "${other}"`);
    }
    assert(texts[0].includes('示范市秦川区总工会'), `tree starts with "${texts[0]}"`);
    assert(links[0].on, 'the county is not highlighted in the tree');
    // Cross-check every tree entry against the API, as this account sees it.
    const orgs = await apiOrgs(qc);
    const byId = new Map(orgs.map((o) => [String(o.id), o]));
    assert(orgs.every((o) => o.code.startsWith('SF-01')), 'the API lists orgs outside SF-01');
    for (const l of links) {
      const id = l.href.match(/^\/orgs\/(\d+)$/)?.[1];
      assert(id && byId.has(id), `tree link ${l.href} (${l.text}) is not in this account's org list`);
    }
    assert(links.length === orgs.length, `tree has ${links.length} entries, API ${orgs.length}`);
  });

  await check('clicking a child org in the tree opens it', page, async () => {
    const name = '秦川区城关街道工会';
    const link = page.locator('aside.tree a', { hasText: name }).first();
    const href = await link.getAttribute('href');
    await Promise.all([page.waitForURL((u) => u.pathname === href, { waitUntil: 'load' }), link.click()]);
    const h1 = (await page.textContent('main h1')).trim();
    assert(h1.includes(name), `opened "${h1}", expected ${name}`);
    assert((await page.textContent('dl.kv')).includes('SF-01-S1'), 'detail does not show SF-01-S1');
    const on = await page.$$eval('aside.tree a.on', (as) => as.map((a) => a.textContent.trim()));
    assert(on.length === 1 && on[0].includes(name), `highlighted tree entry: ${JSON.stringify(on)}`);
    const rows = await page.$$('#children tr');
    assert(rows.length === 13, `children table has ${rows.length - 1} rows, expected 12`);
    await shot(page, '03-org-street-desktop');
  });

  await check('every nav link opens a page', page, async () => {
    const hrefs = await page.$$eval('nav.mainnav a', (as) => as.map((a) => a.getAttribute('href')));
    assert(hrefs.length >= 1, 'no nav links');
    for (const h of hrefs) {
      const r = await qc.request.get(url(h));
      if (r.status() >= 400) note(`nav link ${h} answers ${r.status()}`);
      assert(r.status() < 500, `nav link ${h} answers ${r.status()}`);
    }
  });

  // ---------------------------------------------------------------- other county: 404
  const { context: wc, page: wpage } = await newContext(browser);
  await check("another county's org is a Chinese 404", page, async () => {
    await login(wpage, 'weishui_admin');
    const theirs = await apiOrgs(wc);
    const target = theirs.find((o) => o.code === 'SF-02-S1');
    assert(target, 'weishui_admin does not see SF-02-S1');
    assert(theirs.every((o) => o.code.startsWith('SF-02')), "weishui_admin's API lists orgs outside SF-02");
    const resp = await page.goto(url(`/orgs/${target.id}`), { waitUntil: 'load' });
    assert(resp.status() === 404, `answered ${resp.status()}, expected 404`);
    assert((await htmlLang(page)) === 'zh-CN', `html lang is "${await htmlLang(page)}"`);
    const body = await page.textContent('body');
    assert(body.includes('找不到'), `no 找不到 on the page: ${body.slice(0, 200)}`);
    assert(!body.includes(target.name), 'the 404 page leaks the org name');
    // The API says the same.
    const api = await qc.request.get(url(`/api/v1/orgs/${target.id}`));
    assert(api.status() === 404, `API answered ${api.status()}, expected 404`);
    await shot(page, '04-not-found-zh');
  });
  await wc.close();

  // ---------------------------------------------------------------- English switch
  await check('English switch changes the UI and stays across pages', page, async () => {
    await page.goto(url(`/orgs/${countyId}`), { waitUntil: 'load' });
    // The switch redirects back to the same URL, so wait for the English page's own
    // marker (the 中文 link) rather than for a URL change.
    await page.click('header .who a[href^="/lang/en"]');
    await page.waitForSelector('header .who a[href^="/lang/zh"]');
    await page.waitForLoadState('load');
    assert(new URL(page.url()).pathname === `/orgs/${countyId}`, `the switch went to ${page.url()}`);
    assert((await htmlLang(page)) === 'en', `html lang is "${await htmlLang(page)}" after the switch`);
    const nav = await page.textContent('nav.mainnav');
    assert(nav.includes('Organisations'), `nav is "${nav.trim()}"`);
    assert((await page.textContent('header')).includes('Sign out'), 'no "Sign out" in the header');
    assert(await page.isVisible('header .who a[href^="/lang/zh"]'), 'no 中文 switch back');
    await shot(page, '05-org-county-en');
    // Labels that are UI (not data) should not be Chinese in English.
    const dts = await page.$$eval('dl.kv dt', (d) => d.map((x) => x.textContent.trim()));
    const zhDts = dts.filter((t) => CJK.test(t));
    assert(zhDts.length === 0, `Chinese field labels in English: ${zhDts.join(', ')}`);
    const dds = await page.$$eval('dl.kv dd', (d) => d.map((x) => x.textContent.trim()));
    for (const [i, t] of dds.entries()) {
      if (/基层工会|第\d+届|有效|未取得/.test(t)) note(`English org page shows Chinese UI text in "${dts[i]}": "${t}"`);
    }
    // Another page: a tree entry, then the accounts page.
    const link = page.locator('aside.tree a', { hasText: '秦川区东关街道工会' }).first();
    const href = await link.getAttribute('href');
    await Promise.all([page.waitForURL((u) => u.pathname === href, { waitUntil: 'load' }), link.click()]);
    assert((await htmlLang(page)) === 'en', 'lost English on the next org page');
    assert((await page.textContent('main')).includes('Child'), 'children heading not English');
    await page.goto(url('/users'), { waitUntil: 'load' });
    assert((await htmlLang(page)) === 'en', 'lost English on /users');
    assert((await page.textContent('main h1')).includes('Accounts'), 'accounts page title not English');
    await shot(page, '06-users-en');
    const r404 = await page.goto(url('/orgs/99999999'), { waitUntil: 'load' });
    assert(r404.status() === 404, `unknown org answered ${r404.status()}`);
    assert((await htmlLang(page)) === 'en', 'the 404 page is not English');
    const msg = await page.textContent('.err');
    assert(!CJK.test(msg), `404 message not English: ${msg}`);
    await shot(page, '07-not-found-en');
    // And back to Chinese.
    await page.goto(url(`/orgs/${countyId}`), { waitUntil: 'load' });
    await page.click('header .who a[href^="/lang/zh"]');
    await page.waitForSelector('header .who a[href^="/lang/en"]');
    await page.waitForLoadState('load');
    assert((await htmlLang(page)) === 'zh-CN', 'switching back to 中文 did not work');
  });
  await qc.close();

  // ---------------------------------------------------------------- phone
  const { context: pc, page: phone } = await newContext(browser, {
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await check('phone: login page fits the screen', phone, async () => {
    await phone.goto(url('/login'), { waitUntil: 'load' });
    await assertFits(phone, 'the login page');
    await shot(phone, '08-phone-login');
  });
  await check('phone: nav collapses behind ☰ and opens on tap', phone, async () => {
    await login(phone, 'qinchuan_admin');
    assert(await phone.isVisible('label.navbtn'), 'the ☰ toggle is not visible');
    assert((await phone.textContent('label.navbtn')).includes('☰'), 'the toggle is not ☰');
    assert(!(await phone.isVisible('nav.mainnav')), 'the nav is visible before tapping ☰');
    await shot(phone, '09-phone-org-nav-closed');
    await phone.tap('label.navbtn');
    await phone.waitForSelector('nav.mainnav', { state: 'visible' });
    const links = phone.locator('nav.mainnav a');
    assert((await links.count()) >= 1, 'no links in the opened nav');
    assert(await links.first().isVisible(), 'nav links not visible after tapping ☰');
    await shot(phone, '10-phone-org-nav-open');
    await phone.tap('label.navbtn');
    await phone.waitForSelector('nav.mainnav', { state: 'hidden' });
  });
  await check('phone: no horizontal overflow on the org pages', phone, async () => {
    for (const path of [phone.url(), url('/orgs')]) {
      await phone.goto(path, { waitUntil: 'load' });
      await assertFits(phone, new URL(path).pathname);
    }
    // A grassroots org (deepest level) too.
    const link = phone.locator('aside.tree a', { hasText: '秦川区城关街道工会' }).first();
    const href = await link.getAttribute('href');
    await Promise.all([phone.waitForURL((u) => u.pathname === href, { waitUntil: 'load' }), link.tap()]);
    await assertFits(phone, 'the street page');
    await shot(phone, '11-phone-org-street');
  });
  await check('phone: the form, accounts and audit pages fit the screen', phone, async () => {
    await phone.goto(url('/orgs'), { waitUntil: 'load' });
    const id = new URL(phone.url()).pathname.match(/^\/orgs\/(\d+)$/)[1];
    for (const [path, name] of [[`/orgs/${id}/new`, 'form'], ['/users', 'users'], ['/audit', 'audit']]) {
      const r = await phone.goto(url(path), { waitUntil: 'load' });
      assert(r.status() === 200, `${path} answered ${r.status()}`);
      await shot(phone, `12-phone-${name}`, false);
      await assertFits(phone, path);
    }
  });
  await check('phone: English header fits the screen', phone, async () => {
    await phone.goto(url('/lang/en?next=/orgs'), { waitUntil: 'load' });
    assert((await htmlLang(phone)) === 'en', 'not English');
    await assertFits(phone, 'the English org page');
    await shot(phone, '13-phone-org-en');
  });
  await pc.close();

  // ---------------------------------------------------------------- a clerk redeems on a phone
  // A staff account finds card holders of 秦川区 (card number from the card
  // page, the phone's last 4 digits from the roster); the clerk types them.
  const { context: kc, page: staffPage } = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  const holders = [];
  await check('benefits: staff find card holders', staffPage, async () => {
    await login(staffPage, 'qinchuan_admin');
    const orgs = await apiOrgs(kc);
    const county = orgs.find((o) => o.code === 'SF-01');
    for (let pg = 1; pg <= 6 && holders.length < 12; pg++) {
      const r = await kc.request.get(url(`/api/v1/members?org=${county.id}&per_page=100&page=${pg}`));
      assert(r.ok(), `members list answered ${r.status()}`);
      for (const m of (await r.json()).rows) {
        const html = await (await kc.request.get(url(`/members/${m.membership_id}/card`))).text();
        const no = (html.match(/GH\d{12}/) || [])[0];
        const phone = m.phone_masked || '';
        if (no && phone.length >= 4) holders.push({ no, last4: phone.slice(-4) });
        if (holders.length >= 12) break;
      }
    }
    assert(holders.length > 0, 'no card holder found in 秦川区');
  });
  await kc.close();
  const { context: cc, page: clerk } = await newContext(browser, {
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await check('phone: a clerk verifies a card and redeems in one step; the same voucher again is refused', clerk, async () => {
    await clerk.goto(url('/login'), { waitUntil: 'load' });
    await clerk.fill('#username', 'merchant_clerk');
    await clerk.fill('#password', PASSWORD);
    await Promise.all([
      clerk.waitForURL((u) => u.pathname === '/redeem', { waitUntil: 'load' }),
      clerk.click('form[action="/login"] button[type=submit]'),
    ]);
    await assertFits(clerk, 'the redemption page');
    await shot(clerk, '20-phone-clerk-redeem', false);
    const voucher = await clerk.$eval('#item', (s) => [...s.options].find((o) => o.text.includes('送温暖')).value);
    const submit = async (h) => {
      await clerk.selectOption('#item', voucher);
      await clerk.fill('#card_no', h.no);
      await clerk.fill('#phone_last4', h.last4);
      await Promise.all([clerk.waitForLoadState('load'), clerk.tap('form[action="/redeem"] button')]);
      await clerk.waitForSelector('#verdict');
      return clerk.getAttribute('#verdict', 'data-result');
    };
    let done = null;
    for (const h of holders) {
      if ((await submit(h)) === 'ok') {
        done = h;
        break;
      }
    }
    assert(done, 'no holder had an unused voucher');
    assert((await clerk.textContent('#verdict')).includes('核销成功'), 'no success message');
    await assertFits(clerk, 'the redemption result');
    await shot(clerk, '21-phone-clerk-redeemed', false);
    assert((await submit(done)) === 'refused', 'the second redemption of the same voucher was not refused');
    assert((await clerk.textContent('#verdict')).includes('已经使用过'), 'the refusal does not say the voucher was used');
    await shot(clerk, '22-phone-clerk-refused', false);
    // The clerk reaches nothing of the roster.
    const r = await clerk.goto(url('/members'), { waitUntil: 'load' });
    assert(r.status() === 403, `/members answered ${r.status()} to a clerk`);
  });
  await cc.close();

  // ---------------------------------------------------------------- create a child org
  const { context: sc, page: sp } = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  const stamp = Date.now().toString(36).toUpperCase();
  const good = { name: `示范市E2E测试${stamp}科技有限公司工会`, code: `SF-01-S1-E${stamp}` };
  const bad = { name: `示范市E2E校验${stamp}有限公司工会`, code: `SF-01-S1-X${stamp}`, credit: '91350100M000100Y4A' };
  let streetId = null;

  async function openNewForm() {
    await sp.goto(url(`/orgs/${streetId}`), { waitUntil: 'load' });
    await Promise.all([
      sp.waitForURL((u) => u.pathname === `/orgs/${streetId}/new`, { waitUntil: 'load' }),
      sp.click(`a.btn[href="/orgs/${streetId}/new"]`),
    ]);
    await sp.waitForSelector('form input[name=name]');
  }

  await check('qinchuan_s1_admin creates a child org through the form', sp, async () => {
    await login(sp, 'qinchuan_s1_admin');
    streetId = sp.url().match(/\/orgs\/(\d+)$/)[1];
    assert((await sp.textContent('main h1')).includes('秦川区城关街道工会'), 'not on the street page after login');
    const before = (await apiOrgs(sc)).length;
    await openNewForm();
    assert((await sp.textContent('main h1')).includes('新建下级组织'), 'form title is not 新建下级组织');
    await sp.fill('input[name=name]', good.name);
    await sp.fill('input[name=code]', good.code);
    await sp.selectOption('select[name=level]', 'grassroots');
    await sp.selectOption('select[name=org_type]', '企业');
    await sp.fill('input[name=founded_on]', '2024-03-15');
    await shot(sp, '14-form-new-child');
    await Promise.all([
      sp.waitForURL((u) => /^\/orgs\/\d+$/.test(u.pathname) && u.pathname !== `/orgs/${streetId}`, { waitUntil: 'load' }),
      sp.click('form.stack button'),
    ]);
    assert((await sp.textContent('main h1')).includes(good.name), 'the new org page does not show its name');
    assert((await sp.textContent('dl.kv')).includes(good.code), 'the new org page does not show its code');
    assert((await sp.textContent('dl.kv')).includes('SF-01-S1'), 'parent (SF-01-S1) not shown');
    await shot(sp, '15-org-created');
    const after = await apiOrgs(sc);
    assert(after.length === before + 1, `org count went ${before} → ${after.length}`);
    assert(after.some((o) => o.code === good.code), 'the new org is not in the API list');
    await sp.goto(url(`/orgs/${streetId}`), { waitUntil: 'load' });
    assert((await sp.textContent('#children')).includes(good.name), "the parent's children table lacks the new org");
    assert((await sp.textContent('aside.tree')).includes(good.name), 'the tree lacks the new org');
  });

  await check('an invalid 统一社会信用代码 is refused in Chinese and creates nothing', sp, async () => {
    const before = await apiOrgs(sc);
    await openNewForm();
    await sp.fill('input[name=name]', bad.name);
    await sp.fill('input[name=code]', bad.code);
    await sp.fill('input[name=credit_code]', bad.credit);
    const [resp] = await Promise.all([
      sp.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/orgs/${streetId}/children`)),
      sp.click('form.stack button'),
    ]);
    await sp.waitForLoadState('load');
    assert(resp.status() >= 400 && resp.status() < 500, `POST answered ${resp.status()}, expected a 4xx`);
    await sp.waitForSelector('.err');
    const msg = (await sp.textContent('.err')).trim();
    assert(msg.includes('校验位'), `error message does not mention 校验位: "${msg}"`);
    assert((await htmlLang(sp)) === 'zh-CN', 'error page is not Chinese');
    await shot(sp, '16-credit-code-error');
    const after = await apiOrgs(sc);
    assert(after.length === before.length, `org count went ${before.length} → ${after.length}`);
    assert(!after.some((o) => o.code === bad.code || o.name === bad.name), 'the invalid org was created');
    if (!(await sp.$('form input[name=name]'))) {
      note('an invalid credit code shows a bare error page: the form and what was typed are gone (only "返回" via history.back)');
    }
  });
  await sc.close();
  // ---------------------------------------------------------------- the annual work summary, sf_admin
  const { context: ac, page: ap } = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  await check('the city summary: every figure links to its drill-down, a click lands on the records', ap, async () => {
    await login(ap, 'sf_admin');
    await ap.goto(url('/reports/summary'), { waitUntil: 'load' });
    await Promise.all([ap.waitForLoadState('load'), ap.click('#generate')]);
    assert(/\/reports\/summary\/\d+$/.test(new URL(ap.url()).pathname), `not on a draft: ${ap.url()}`);
    const title = (await ap.textContent('#summary-title')).trim();
    assert(title.includes('示范市总工会') && title.includes('工作综述'), `title is "${title}"`);
    const body = await ap.textContent('main');
    for (const w of ['基层组织建设', '工会会员总数达', '帮扶救助']) assert(body.includes(w), `the summary lacks "${w}"`);
    const figures = await ap.$$eval('a.figure', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent })));
    assert(figures.length >= 10, `only ${figures.length} linked figures`);
    assert(figures.every((f) => f.href.startsWith('/reports/drill?')), 'a figure links elsewhere');
    await shot(ap, '30-summary-draft');
    const total = figures.find((f) => f.href.endsWith('code=members_total'));
    assert(total, 'no linked members_total');
    await Promise.all([ap.waitForLoadState('load'), ap.click('a.figure[href$="code=members_total"]')]);
    const drill = (await ap.textContent('#drill-total')).trim();
    assert(drill === total.text.trim(), `drill-down shows "${drill}", the summary "${total.text}"`);
  });
  await ac.close();
  // ---------------------------------------------------------------- 走访慰问 and 互助保障, a county admin
  const { context: hc, page: hp } = await newContext(browser, { viewport: { width: 1280, height: 900 } });
  await check('a county records a worksite visit through the form; the list counts it', hp, async () => {
    await login(hp, 'qinchuan_admin');
    await hp.goto(url('/hardship/visits'), { waitUntil: 'load' });
    const site = `E2E建筑工地${Date.now() % 100000}`;
    await hp.fill('input[name=visited_on]', new Date().toISOString().slice(0, 10));
    await hp.fill('input[name=visitors]', '区总工会 王主席');
    await hp.fill('input[name=worksite_name]', site);
    await hp.fill('input[name=worksite_address]', '秦川区科技路');
    await hp.fill('input[name=workers]', '85');
    await hp.fill('input[name=goods]', '绿豆汤、藿香正气水');
    await hp.fill('input[name=goods_value]', '1200');
    await Promise.all([hp.waitForLoadState('load'), hp.click('form[action="/hardship/visits"].stack button')]);
    await hp.goto(url('/hardship/visits'), { waitUntil: 'load' });
    const body = await hp.textContent('main');
    assert(body.includes(site), 'the new worksite visit is not listed');
    await shot(hp, '40-hardship-visits');
    // A visit with no target is refused in Chinese, and nothing is written.
    await hp.fill('input[name=visited_on]', new Date().toISOString().slice(0, 10));
    await hp.fill('input[name=visitors]', '区总工会');
    const [resp] = await Promise.all([
      hp.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/hardship/visits')),
      hp.click('form[action="/hardship/visits"].stack button'),
    ]);
    await hp.waitForLoadState('load');
    assert(resp.status() === 422, `a visit without a target answered ${resp.status()}`);
    assert((await hp.textContent('.err')).trim().length > 0, 'no error message shown');
  });
  await check('the hardship file form runs the income test before filing', hp, async () => {
    await hp.goto(url('/hardship/files/new'), { waitUntil: 'load' });
    assert((await hp.$$('form input[name=head_id_number], form input[name=id_number]')).length > 0, 'no ID number field on the file form');
    await shot(hp, '41-hardship-file-form');
  });
  await check('a mutual-aid claim page explains its payout', hp, async () => {
    await hp.goto(url('/mutual-aid/claims'), { waitUntil: 'load' });
    const link = await hp.$('a[href^="/mutual-aid/claims/"]:not([href$="/new"])');
    assert(link, 'no claim listed for 秦川区');
    await Promise.all([hp.waitForLoadState('load'), link.click()]);
    assert(await hp.$('#claim'), 'not on a claim page');
    assert(await hp.$('#documents'), 'the claim page lacks its documents');
    await shot(hp, '42-mutual-aid-claim');
  });
  await hc.close();
}

const started = Date.now();
let crashed = null;
try {
  await main();
} catch (e) {
  crashed = e;
  console.log(`FAIL test run aborted: ${(e && e.stack) || e}`);
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + (crashed ? 1 : 0);
console.log(`\nscreenshots in ${OUT}; ${notes.length} note(s); ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
