/*
 * creditbridge store credit on the customer's account page (Shopify theme
 * app extension, block "Store credit" on the customers/account template).
 *
 * Asks the bridge through the app proxy (GET {proxy}/account, signed by
 * Shopify with the logged-in customer) for the balance worded in the
 * shop's language: available, pending with the day it becomes available,
 * reserved, the tier, usable voucher codes, a partner's share code and
 * link (or the offer to become a partner) and a link to every booking
 * ({proxy}/statement). Everything is set as text, never as HTML. Nothing
 * is shown when the bridge does not answer.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.CreditbridgeAccount = api;
    if (root.document) {
      api.start(root);
    }
  }
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  function accountURL(proxy) {
    return String(proxy || '/apps/credit').replace(/\/$/, '') + '/account';
  }

  function str(v) {
    return typeof v === 'string' ? v : '';
  }

  // view turns the bridge's answer into a tree of {tag, text, attrs,
  // children}; null when there is nothing to show.
  function view(a) {
    if (!a || typeof a !== 'object' || typeof a.title !== 'string') {
      return null;
    }
    var kids = [{ tag: 'h2', text: a.title }];
    if (a.logged_in !== true) {
      kids.push({ tag: 'p', text: str(a.text) });
      if (str(a.login_url)) {
        kids.push({ tag: 'a', text: str(a.login_text), attrs: { href: a.login_url } });
      }
      return { tag: 'div', attrs: { 'class': 'cb-account__inner' }, children: kids };
    }
    var rows = [];
    (Array.isArray(a.lines) ? a.lines : []).forEach(function (l) {
      if (!l || !str(l.label) || !str(l.amount)) {
        return;
      }
      rows.push({ tag: 'dt', text: l.label });
      rows.push({ tag: 'dd', text: str(l.note) ? l.amount + ' · ' + l.note : l.amount });
    });
    kids.push({ tag: 'dl', attrs: { 'class': 'cb-account__balance' }, children: rows });
    if (str(a.tier)) {
      kids.push({ tag: 'p', text: str(a.tier_next) ? a.tier + ' · ' + a.tier_next : a.tier });
    }
    var vouchers = Array.isArray(a.vouchers) ? a.vouchers : [];
    if (vouchers.length && str(a.vouchers_title)) {
      kids.push({ tag: 'h3', text: a.vouchers_title });
      kids.push({ tag: 'ul', children: vouchers.filter(function (v) { return v && str(v.text); }).map(function (v) { return { tag: 'li', text: v.text }; }) });
    }
    var hints = Array.isArray(a.earn_hints) ? a.earn_hints : [];
    if (hints.length && str(a.earn_title)) {
      kids.push({ tag: 'h3', text: a.earn_title });
      kids.push({ tag: 'ul', children: hints.filter(str).map(function (h) { return { tag: 'li', text: h }; }) });
    }
    var ref = a.referral;
    if (ref && typeof ref === 'object' && str(ref.title)) {
      kids.push({ tag: 'h3', text: ref.title });
      (Array.isArray(ref.lines) ? ref.lines : []).filter(str).forEach(function (t) { kids.push({ tag: 'p', text: t }); });
      if (str(ref.link_url) && ref.link_url.charAt(0) === '/' && str(ref.link_text)) {
        kids.push({ tag: 'p', children: [{ tag: 'a', text: ref.link_text, attrs: { href: ref.link_url } }] });
      }
    }
    if (str(a.statement_url) && a.statement_url.charAt(0) === '/') {
      kids.push({ tag: 'p', children: [{ tag: 'a', text: str(a.statement_text), attrs: { href: a.statement_url } }] });
    }
    return { tag: 'div', attrs: { 'class': 'cb-account__inner' }, children: kids };
  }

  // build makes DOM nodes of a view (text only; links only to paths).
  function build(doc, n) {
    var el = doc.createElement(n.tag);
    Object.keys(n.attrs || {}).forEach(function (k) {
      var v = String(n.attrs[k]);
      if (k === 'href' && v.charAt(0) !== '/') {
        return;
      }
      el.setAttribute(k, v);
    });
    if (n.text != null) {
      el.textContent = n.text;
    }
    (n.children || []).forEach(function (c) { el.appendChild(build(doc, c)); });
    return el;
  }

  function show(root, el) {
    return root.fetch(accountURL(el.getAttribute('data-proxy')), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        var v = view(a);
        if (v) {
          el.textContent = '';
          el.appendChild(build(root.document, v));
        }
      })
      .catch(function () {});
  }

  function start(root) {
    var blocks = root.document.querySelectorAll('[data-cb-account]');
    Array.prototype.forEach.call(blocks, function (el) { show(root, el); });
  }

  return { accountURL: accountURL, view: view, build: build, show: show, start: start };
});
