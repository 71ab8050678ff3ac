'use strict';
// Unit tests of assets/account.js: the bridge's answer becomes text-only
// nodes (balance lines, tier, vouchers, how to earn, the statement link).
const test = require('node:test');
const assert = require('node:assert/strict');
const account = require('../assets/account.js');

test('the account route under the proxy path', () => {
  assert.equal(account.accountURL('/apps/credit/'), '/apps/credit/account');
  assert.equal(account.accountURL(''), '/apps/credit/account');
});

test('a logged-in customer: balance lines, tier, vouchers, link', () => {
  const v = account.view({
    logged_in: true, title: 'Guthaben', statement_url: '/apps/credit/statement', statement_text: 'Alle Buchungen',
    lines: [{ label: 'Jetzt verfügbar', amount: '25,00 €' }, { label: 'Vorgemerkt', amount: '1.234,56 €', note: 'verfügbar ab 20. Dezember 2026' }],
    tier: 'Deine Stufe: Teefreund', tier_next: 'Noch 150,00 € bis Teekenner',
    vouchers_title: 'Deine Gutscheincodes', vouchers: [{ text: 'CB-AB12 · 10,50 € · gültig bis 6. März 2027' }]
  });
  const texts = [];
  (function walk(n) { if (n.text) { texts.push(n.tag + ':' + n.text); } (n.children || []).forEach(walk); })(v);
  assert.deepEqual(texts, ['h2:Guthaben', 'dt:Jetzt verfügbar', 'dd:25,00 €', 'dt:Vorgemerkt', 'dd:1.234,56 € · verfügbar ab 20. Dezember 2026',
    'p:Deine Stufe: Teefreund · Noch 150,00 € bis Teekenner', 'h3:Deine Gutscheincodes', 'li:CB-AB12 · 10,50 € · gültig bis 6. März 2027', 'a:Alle Buchungen']);
});

test('not logged in, or a broken answer', () => {
  const v = account.view({ logged_in: false, title: 'Store credit', text: 'Please log in.', login_url: '/account/login', login_text: 'Log in' });
  assert.equal(v.children[1].text, 'Please log in.');
  assert.equal(account.view(null), null);
  assert.equal(account.view({ lines: [] }), null);
});

test('nodes carry text, never markup, and links only to paths', () => {
  const made = [];
  const doc = {
    createElement(tag) {
      const el = { tag, attrs: {}, kids: [], textContent: '', setAttribute(k, v) { this.attrs[k] = v; }, appendChild(c) { this.kids.push(c); } };
      made.push(el);
      return el;
    }
  };
  const el = account.build(doc, { tag: 'div', children: [{ tag: 'p', text: '<img src=x onerror=alert(1)>' }, { tag: 'a', text: 'x', attrs: { href: 'javascript:alert(1)' } }] });
  assert.equal(el.kids[0].textContent, '<img src=x onerror=alert(1)>');
  assert.equal(el.kids[1].attrs.href, undefined);
});

test('show fills the block from the bridge and leaves it empty on failure', async () => {
  const el = { attrs: { 'data-proxy': '/apps/credit' }, getAttribute(k) { return this.attrs[k]; }, textContent: 'x', kids: [], appendChild(c) { this.kids.push(c); } };
  const doc = { createElement(tag) { return { tag, attrs: {}, kids: [], setAttribute(k, v) { this.attrs[k] = v; }, appendChild(c) { this.kids.push(c); } }; } };
  let asked = '';
  await account.show({ document: doc, fetch: async (u) => { asked = u; return { ok: true, json: async () => ({ logged_in: true, title: 'Store credit', lines: [] }) }; } }, el);
  assert.equal(asked, '/apps/credit/account');
  assert.equal(el.kids.length, 1);
  const empty = { attrs: {}, getAttribute() { return null; }, textContent: '', kids: [], appendChild(c) { this.kids.push(c); } };
  await account.show({ document: doc, fetch: async () => { throw new Error('offline'); } }, empty);
  assert.equal(empty.kids.length, 0);
});

test('a partner sees the share code and link; a customer the offer to become one', () => {
  const texts = (v) => {
    const out = [];
    (function walk(n) { if (n.text) { out.push(n.tag + ':' + n.text); } (n.children || []).forEach(walk); })(v);
    return out;
  };
  const partner = account.view({ logged_in: true, title: 'Store credit', lines: [],
    referral: { title: 'Recommend us', lines: ['Your referral code: LEAF', 'Your link to share: https://tea.example/?ref=LEAF'] } });
  assert.deepEqual(texts(partner).slice(1), ['h3:Recommend us', 'p:Your referral code: LEAF', 'p:Your link to share: https://tea.example/?ref=LEAF']);
  const offer = account.view({ logged_in: true, title: 'Store credit', lines: [],
    referral: { title: 'Recommend us', lines: ['Get your own referral link.'], link_text: 'Get my referral link', link_url: '/apps/credit/statement#cb-ref-h' } });
  const link = offer.children[offer.children.length - 1].children[0];
  assert.deepEqual([link.tag, link.text, link.attrs.href], ['a', 'Get my referral link', '/apps/credit/statement#cb-ref-h']);
  const foreign = account.view({ logged_in: true, title: 'x', lines: [], referral: { title: 'R', lines: [], link_text: 'go', link_url: 'https://evil.example/' } });
  assert.equal(texts(foreign).includes('a:go'), false);
});
