'use strict';
// Unit tests of assets/referral.js with an in-memory storefront: storage,
// cookies, location and a cart endpoint that behaves like Shopify's
// /cart.js and /cart/update.js (attributes merge; the cart cookie names the
// cart).
const test = require('node:test');
const assert = require('node:assert/strict');
const ref = require('../assets/referral.js');

const DAY = 86400000;

function storage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}

function cookieJar(now) {
  const jar = new Map();
  return {
    get cookie() {
      return [...jar.entries()].filter(([, c]) => c.expires > now()).map(([k, c]) => k + '=' + c.value).join('; ');
    },
    set cookie(line) {
      const [kv, ...attrs] = line.split(';').map((s) => s.trim());
      const i = kv.indexOf('=');
      let expires = Infinity;
      for (const a of attrs) {
        if (a.toLowerCase().startsWith('max-age=')) expires = now() + Number(a.slice(8)) * 1000;
      }
      jar.set(kv.slice(0, i), { value: kv.slice(i + 1), expires });
    },
  };
}

function shop(search) {
  let t = Date.UTC(2026, 11, 6, 10, 0, 0);
  const now = () => t;
  const doc = cookieJar(now);
  doc.querySelectorAll = () => [];
  const cart = { token: 'c1', attributes: {} };
  const calls = [];
  doc.cookie = 'cart=' + cart.token + '; Path=/';
  const fetch = async (url, opts = {}) => {
    calls.push({ url, method: opts.method || 'GET', body: opts.body });
    if (url === '/cart.js') return { ok: true, json: async () => JSON.parse(JSON.stringify(cart)) };
    if (url === '/cart/update.js' && opts.method === 'POST') {
      const body = JSON.parse(opts.body);
      Object.assign(cart.attributes, body.attributes);
      return { ok: true, json: async () => cart };
    }
    return { ok: false, json: async () => ({}) };
  };
  const env = { document: doc, location: { search }, localStorage: storage(), sessionStorage: storage(), fetch, now };
  return { env, cart, calls, advance: (ms) => (t += ms), newCart: (tok) => { cart.token = tok; cart.attributes = {}; doc.cookie = 'cart=' + tok + '; Path=/'; } };
}

const cfg = { param: 'ref', windowDays: 30, attribute: 'creditbridge_partner' };

test('a referral link is stored and written into the cart attribute once', async () => {
  const s = shop('?utm_source=x&ref=ANNA10');
  assert.equal(ref.captureFromURL(s.env, cfg), 'ANNA10');
  assert.equal(await ref.syncCart(s.env, cfg), true);
  assert.equal(s.cart.attributes.creditbridge_partner, 'ANNA10');
  const posts = s.calls.filter((c) => c.method === 'POST');
  assert.equal(posts.length, 1);
  assert.deepEqual(JSON.parse(posts[0].body), { attributes: { creditbridge_partner: 'ANNA10' } });
  // Later page views of the same cart do not write again.
  s.env.location.search = '';
  assert.equal(ref.captureFromURL(s.env, cfg), '');
  const before = s.calls.length;
  assert.equal(await ref.syncCart(s.env, cfg), false);
  assert.equal(s.calls.length, before, 'no request for a synced cart');
});

test('the referral outlives the visit within the window and is gone after it', async () => {
  const s = shop('?ref=LEAF');
  ref.captureFromURL(s.env, cfg);
  s.advance(29 * DAY);
  s.newCart('c2'); // a later visit, a new cart
  assert.equal(ref.current(s.env), 'LEAF');
  assert.equal(await ref.syncCart(s.env, cfg), true);
  assert.equal(s.cart.attributes.creditbridge_partner, 'LEAF');
  s.advance(2 * DAY);
  s.newCart('c3');
  assert.equal(ref.current(s.env), '');
  assert.equal(await ref.syncCart(s.env, cfg), false);
  assert.equal(s.cart.attributes.creditbridge_partner, undefined);
});

test('the window is configurable and bounded', () => {
  const s = shop('?ref=SHORT');
  ref.captureFromURL(s.env, { ...cfg, windowDays: 1 });
  s.advance(DAY + 1);
  assert.equal(ref.current(s.env), '');
  const t = shop('?ref=BAD');
  ref.captureFromURL(t.env, { ...cfg, windowDays: 'lots' }); // falls back to 30 days
  t.advance(29 * DAY);
  assert.equal(ref.current(t.env), 'BAD');
});

test('the last link followed wins; invalid codes are ignored', () => {
  const s = shop('?ref=FIRST');
  ref.captureFromURL(s.env, cfg);
  s.env.location.search = '?ref=SECOND';
  ref.captureFromURL(s.env, cfg);
  assert.equal(ref.current(s.env), 'SECOND');
  for (const bad of ['?ref=', '?ref=%3Cscript%3E', '?ref=' + 'x'.repeat(201), '?ref=%E0%A4%A']) {
    s.env.location.search = bad;
    assert.equal(ref.captureFromURL(s.env, cfg), '');
    assert.equal(ref.current(s.env), 'SECOND');
  }
});

test('a cart that already carries the code is not written', async () => {
  const s = shop('?ref=ANNA10');
  s.cart.attributes.creditbridge_partner = 'ANNA10';
  ref.captureFromURL(s.env, cfg);
  assert.equal(await ref.syncCart(s.env, cfg), false);
  assert.equal(s.calls.filter((c) => c.method === 'POST').length, 0);
});

test('the cookie carries the code when localStorage is unavailable', async () => {
  const s = shop('?ref=COOKIE1');
  s.env.localStorage = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() {} };
  assert.equal(ref.captureFromURL(s.env, cfg), 'COOKIE1');
  assert.equal(ref.current(s.env), 'COOKIE1');
  assert.equal(await ref.syncCart(s.env, cfg), true);
  assert.equal(s.cart.attributes.creditbridge_partner, 'COOKIE1');
});

test('a code typed into the referral code field is remembered and synced', async () => {
  const s = shop('');
  const listeners = [];
  s.env.document.querySelectorAll = (sel) => (sel === '[data-creditbridge-ref-input]' ? [{ addEventListener: (ev, fn) => listeners.push([ev, fn]) }] : []);
  ref.watchInputs(s.env, cfg);
  assert.equal(listeners.length, 1);
  listeners[0][1]({ target: { value: ' typed42 ' } });
  assert.equal(ref.current(s.env), 'typed42');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.cart.attributes.creditbridge_partner, 'typed42');
});

test('a failing cart endpoint is retried on a later page view', async () => {
  const s = shop('?ref=RETRY');
  ref.captureFromURL(s.env, cfg);
  const realFetch = s.env.fetch;
  s.env.fetch = async () => { throw new Error('offline'); };
  assert.equal(await ref.syncCart(s.env, cfg), false);
  s.env.fetch = realFetch;
  assert.equal(await ref.syncCart(s.env, cfg), true);
  assert.equal(s.cart.attributes.creditbridge_partner, 'RETRY');
});

test('cart requests go to the locale-aware root the theme publishes', async () => {
  const s = shop('?ref=ANNA10');
  const urls = [];
  const inner = s.env.fetch;
  s.env.fetch = (url, opts) => { urls.push(url); return inner(url.replace(/^\/de\//, '/'), opts); };
  s.env.root = '/de/';
  ref.captureFromURL(s.env, cfg);
  assert.equal(await ref.syncCart(s.env, cfg), true);
  assert.deepEqual(urls, ['/de/cart.js', '/de/cart/update.js']);
  s.env.root = '//evil.example/';
  s.newCart('c9');
  urls.length = 0;
  await ref.syncCart(s.env, cfg);
  assert.equal(urls[0], '/cart.js');
});
