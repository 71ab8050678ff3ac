/*
 * creditbridge "you earn X with this order" (Shopify theme app extension).
 *
 * Product block: the chosen variant (price in cents as Liquid gives it,
 * updated when the theme's variant input changes). App embed: the cart
 * (/cart.js) on the cart page, into elements marked data-cb-earn-cart or
 * a line added after the cart form. The amount comes from the bridge
 * through the app proxy (GET {proxy}/earn?line=PRODUCT:VARIANT:SKU:QTY:PRICE),
 * worded in the shop's language; nothing is shown when nothing is earned
 * or the bridge does not answer.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.CreditbridgeEarn = api;
    if (root.document) {
      api.start(root);
    }
  }
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // Cents (an integer, as Liquid and /cart.js give prices) to a decimal
  // string with two places; null when not a whole non-negative number.
  function centsToDecimal(cents) {
    var s = String(cents);
    if (!/^[0-9]+$/.test(s)) {
      return null;
    }
    s = s.replace(/^0+(?=\d)/, '');
    while (s.length < 3) {
      s = '0' + s;
    }
    return s.slice(0, -2) + '.' + s.slice(-2);
  }

  // One line parameter; ':' cannot appear inside ids or SKUs. A line
  // whose total after discounts on the whole cart (totalCents) is less
  // than quantity × price carries it as a sixth field.
  function lineParam(l) {
    var price = centsToDecimal(l.priceCents);
    var qty = parseInt(l.quantity, 10);
    if (price === null || !(qty > 0)) {
      return null;
    }
    var clean = function (v) { return String(v == null ? '' : v).replace(/:/g, ''); };
    var out = clean(l.product) + ':' + clean(l.variant) + ':' + clean(l.sku) + ':' + qty + ':' + price;
    if (l.totalCents != null && l.totalCents < qty * Number(l.priceCents)) {
      var total = centsToDecimal(l.totalCents);
      if (total !== null) {
        out += ':' + total;
      }
    }
    return out;
  }

  // The quote URL for lines (at most 100), or null without a valid line.
  function quoteURL(proxy, lines) {
    var parts = [];
    for (var i = 0; i < lines.length && parts.length < 100; i++) {
      var p = lineParam(lines[i]);
      if (p) {
        parts.push('line=' + encodeURIComponent(p));
      }
    }
    if (!parts.length) {
      return null;
    }
    return String(proxy || '/apps/credit').replace(/\/$/, '') + '/earn?' + parts.join('&');
  }

  // Lines of a /cart.js answer. Discounts on the whole cart (a code or a
  // credit voucher: cart_level_discount_applications) are shared over the
  // lines in proportion to their totals, to the cent, largest remainders
  // first, as the order's discount allocations will share them, so the
  // quote earns on what booking earns on.
  function cartLines(cart) {
    var items = (cart && cart.items) || [];
    var lines = items.map(function (it) {
      return { product: it.product_id, variant: it.variant_id, sku: it.sku, quantity: it.quantity, priceCents: it.final_price };
    });
    var off = 0;
    ((cart && cart.cart_level_discount_applications) || []).forEach(function (d) {
      var c = Number(d && d.total_allocated_amount);
      if (c > 0 && Math.floor(c) === c) {
        off += c;
      }
    });
    var totals = lines.map(function (l) { return Number(l.priceCents) * parseInt(l.quantity, 10) || 0; });
    var sum = totals.reduce(function (a, b) { return a + b; }, 0);
    if (off <= 0 || sum <= 0) {
      return lines;
    }
    off = Math.min(off, sum);
    var shares = totals.map(function (t, i) { return { i: i, cents: Math.floor(t * off / sum), rest: (t * off) % sum }; });
    var left = off - shares.reduce(function (a, x) { return a + x.cents; }, 0);
    shares.slice().sort(function (a, b) { return b.rest - a.rest || a.i - b.i; }).slice(0, left).forEach(function (x) { x.cents++; });
    shares.forEach(function (x) { lines[x.i].totalCents = totals[x.i] - x.cents; });
    return lines;
  }

  // Asks the bridge; resolves the text to show ('' for nothing).
  function quote(fetchFn, url) {
    if (!url) {
      return Promise.resolve('');
    }
    return fetchFn(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (q) {
        if (!q || typeof q.amount !== 'string' || !/[1-9]/.test(q.amount) || typeof q.text !== 'string') {
          return '';
        }
        return q.text;
      })
      .catch(function () { return ''; });
  }

  function showProduct(root, el) {
    var url = quoteURL(el.getAttribute('data-proxy'), [{
      product: el.getAttribute('data-product'), variant: el.getAttribute('data-variant'), sku: el.getAttribute('data-sku'),
      quantity: el.getAttribute('data-quantity'), priceCents: el.getAttribute('data-price-cents')
    }]);
    return quote(root.fetch.bind(root), url).then(function (text) { el.textContent = text; });
  }

  function start(root) {
    var doc = root.document;
    var blocks = doc.querySelectorAll('[data-cb-earn]');
    Array.prototype.forEach.call(blocks, function (el) { showProduct(root, el); });
    var cfg = root.CreditbridgeEarnConfig;
    if (!cfg) {
      return;
    }
    var targets = doc.querySelectorAll('[data-cb-earn-cart]');
    if (!targets.length && !cfg.cartPage) {
      return;
    }
    root.fetch('/cart.js', { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (cart) { return quote(root.fetch.bind(root), quoteURL(cfg.proxy, cartLines(cart))); })
      .then(function (text) {
        if (!text) {
          return;
        }
        if (!targets.length) {
          var form = doc.querySelector('form[action$="/cart"]');
          if (!form) {
            return;
          }
          var p = doc.createElement('p');
          p.className = 'cb-earn';
          p.setAttribute('aria-live', 'polite');
          form.parentNode.insertBefore(p, form.nextSibling);
          targets = [p];
        }
        Array.prototype.forEach.call(targets, function (t) { t.textContent = text; });
      })
      .catch(function () {});
  }

  return { centsToDecimal: centsToDecimal, lineParam: lineParam, quoteURL: quoteURL, cartLines: cartLines, quote: quote, start: start };
});
