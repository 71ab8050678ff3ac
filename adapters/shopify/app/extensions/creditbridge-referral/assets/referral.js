/*
 * creditbridge referral capture (Shopify theme app extension).
 *
 * A visit with ?ref=CODE (the parameter is configurable) stores the code
 * with an expiry (the attribution window) in localStorage and a
 * first-party cookie; the last link followed wins (the bridge's customer
 * binding protects the first referrer if the merchant wants that). While
 * the code is valid, the cart carries it in the attribute
 * creditbridge_partner (POST /cart/update.js), which Shopify copies into
 * the order; a code typed into the referral code field is remembered the
 * same way. Cart requests use the locale-aware root the theme publishes
 * (window.Shopify.routes.root, e.g. /de/), as Shopify's Ajax API asks. The bridge decides what a code earns: this script only
 * carries it.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.CreditbridgeReferral = api;
    api.start(root);
  }
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  var STORE_KEY = 'creditbridge_ref';
  var COOKIE = 'creditbridge_ref';
  var SYNCED_KEY = 'creditbridge_ref_synced';
  var CODE_RE = /^[A-Za-z0-9._-]{1,200}$/;
  var DAY_MS = 86400000;

  function validCode(code) {
    return typeof code === 'string' && CODE_RE.test(code);
  }

  function windowDays(cfg) {
    var d = parseInt(cfg && cfg.windowDays, 10);
    return d >= 1 && d <= 365 ? d : 30;
  }

  function readCookie(doc, name) {
    var parts = String(doc.cookie || '').split(';');
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].trim();
      if (kv.indexOf(name + '=') === 0) {
        try {
          return decodeURIComponent(kv.slice(name.length + 1));
        } catch (e) {
          return '';
        }
      }
    }
    return '';
  }

  // remember stores code until now + the window.
  function remember(env, code, cfg) {
    if (!validCode(code)) {
      return false;
    }
    var days = windowDays(cfg);
    var rec = { code: code, expires: env.now() + days * DAY_MS };
    try {
      env.localStorage.setItem(STORE_KEY, JSON.stringify(rec));
    } catch (e) {
      /* storage can be full or disabled: the cookie still carries it */
    }
    env.document.cookie = COOKIE + '=' + encodeURIComponent(code) + '; Max-Age=' + days * 86400 + '; Path=/; SameSite=Lax';
    return true;
  }

  // current returns the remembered code, or '' when none or expired.
  function current(env) {
    var raw = null;
    try {
      raw = env.localStorage.getItem(STORE_KEY);
    } catch (e) {
      raw = null;
    }
    if (raw) {
      try {
        var rec = JSON.parse(raw);
        if (rec && validCode(rec.code) && typeof rec.expires === 'number') {
          if (rec.expires > env.now()) {
            return rec.code;
          }
          env.localStorage.removeItem(STORE_KEY);
          return '';
        }
      } catch (e) {
        /* a damaged record falls back to the cookie */
      }
    }
    var c = readCookie(env.document, COOKIE);
    return validCode(c) ? c : '';
  }

  // captureFromURL remembers the code of a referral link.
  function captureFromURL(env, cfg) {
    var param = (cfg && cfg.param) || 'ref';
    var search = String((env.location && env.location.search) || '');
    var m = search.replace(/^\?/, '').split('&');
    for (var i = 0; i < m.length; i++) {
      var kv = m[i].split('=');
      var key;
      try {
        key = decodeURIComponent(kv[0]);
      } catch (e) {
        continue;
      }
      if (key === param && kv.length > 1) {
        var v;
        try {
          v = decodeURIComponent(kv.slice(1).join('=').replace(/\+/g, ' ')).trim();
        } catch (e) {
          return '';
        }
        return remember(env, v, cfg) ? v : '';
      }
    }
    return '';
  }

  // cartRoot is the storefront's locale-aware root ("/" or "/de/").
  function cartRoot(env) {
    var r = env.root;
    return typeof r === 'string' && /^\/([A-Za-z0-9_-]+\/)*$/.test(r) ? r : '/';
  }

  // syncCart writes the remembered code into the cart attribute once per
  // (code, cart); it resolves to true when it wrote.
  function syncCart(env, cfg) {
    var code = current(env);
    if (!code) {
      return Promise.resolve(false);
    }
    var attr = (cfg && cfg.attribute) || 'creditbridge_partner';
    var marker = code + '|' + readCookie(env.document, 'cart');
    var synced = null;
    try {
      synced = env.sessionStorage.getItem(SYNCED_KEY);
    } catch (e) {
      synced = null;
    }
    if (synced === marker) {
      return Promise.resolve(false);
    }
    return env
      .fetch(cartRoot(env) + 'cart.js', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        return r.ok ? r.json() : {};
      })
      .then(function (cart) {
        var have = cart && cart.attributes ? cart.attributes[attr] : undefined;
        if (have === code) {
          return false;
        }
        var attrs = {};
        attrs[attr] = code;
        return env
          .fetch(cartRoot(env) + 'cart/update.js', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify({ attributes: attrs }),
          })
          .then(function (r) {
            return r.ok;
          });
      })
      .then(function (wrote) {
        try {
          env.sessionStorage.setItem(SYNCED_KEY, code + '|' + readCookie(env.document, 'cart'));
        } catch (e) {
          /* without sessionStorage the cart is checked on every page */
        }
        return wrote;
      })
      .catch(function () {
        return false; // a later page view tries again
      });
  }

  // watchInputs remembers a code typed into a referral code field.
  function watchInputs(env, cfg) {
    var inputs = env.document.querySelectorAll ? env.document.querySelectorAll('[data-creditbridge-ref-input]') : [];
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].addEventListener('change', function (ev) {
        var v = String((ev.target && ev.target.value) || '').trim();
        if (remember(env, v, cfg)) {
          try {
            env.sessionStorage.removeItem(SYNCED_KEY);
          } catch (e) {
            /* nothing to forget */
          }
          syncCart(env, cfg);
        }
      });
    }
  }

  function readConfig(doc) {
    var el = doc.getElementById && doc.getElementById('creditbridge-referral-config');
    if (!el) {
      return {};
    }
    try {
      return JSON.parse(el.textContent || '{}') || {};
    } catch (e) {
      return {};
    }
  }

  function start(win) {
    if (!win || !win.document || win.__creditbridgeReferral) {
      return null; // the embed and the code block may both load this file
    }
    win.__creditbridgeReferral = true;
    var env = {
      document: win.document,
      location: win.location,
      localStorage: win.localStorage,
      sessionStorage: win.sessionStorage,
      fetch: win.fetch.bind(win),
      root: win.Shopify && win.Shopify.routes ? win.Shopify.routes.root : '/',
      now: function () {
        return Date.now();
      },
    };
    var cfg = readConfig(win.document);
    captureFromURL(env, cfg);
    watchInputs(env, cfg);
    return syncCart(env, cfg);
  }

  return {
    captureFromURL: captureFromURL,
    current: current,
    remember: remember,
    syncCart: syncCart,
    watchInputs: watchInputs,
    start: start,
  };
});
