'use strict';
// Unit tests of assets/earn.js: prices in cents become decimals, lines
// become the bridge's line parameters, the quote shows only what earns.
const test = require('node:test');
const assert = require('node:assert/strict');
const earn = require('../assets/earn.js');

test('cents become decimals with two places, never floats', () => {
  assert.equal(earn.centsToDecimal(1999), '19.99');
  assert.equal(earn.centsToDecimal('5'), '0.05');
  assert.equal(earn.centsToDecimal(0), '0.00');
  assert.equal(earn.centsToDecimal('000120'), '1.20');
  assert.equal(earn.centsToDecimal(12.5), null);
  assert.equal(earn.centsToDecimal('-1'), null);
});

test('lines become PRODUCT:VARIANT:SKU:QTY:PRICE, colons dropped, bad lines skipped', () => {
  assert.equal(earn.lineParam({ product: 632910392, variant: 808950810, sku: 'TEE:1', quantity: 2, priceCents: 1200 }), '632910392:808950810:TEE1:2:12.00');
  assert.equal(earn.lineParam({ product: 1, variant: 2, quantity: 0, priceCents: 100 }), null);
  const url = earn.quoteURL('/apps/credit/', [{ product: 1, variant: 2, sku: '', quantity: 1, priceCents: 995 }, { product: 3, quantity: 'x', priceCents: 1 }]);
  assert.equal(url, '/apps/credit/earn?line=' + encodeURIComponent('1:2::1:9.95'));
  assert.equal(earn.quoteURL('/apps/credit', []), null);
});

test('the cart from /cart.js', () => {
  const lines = earn.cartLines({ items: [{ product_id: 7, variant_id: 8, sku: 'A', quantity: 3, final_price: 450 }] });
  assert.deepEqual(lines, [{ product: 7, variant: 8, sku: 'A', quantity: 3, priceCents: 450 }]);
  assert.equal(earn.quoteURL('/apps/credit', lines), '/apps/credit/earn?line=' + encodeURIComponent('7:8:A:3:4.50'));
});

test('the quote shows the bridge\'s text only when something is earned', async () => {
  const answer = (status, body) => async () => ({ ok: status === 200, json: async () => body });
  assert.equal(await earn.quote(answer(200, { amount: '2.50', text: 'Mit dieser Bestellung erhältst du 2,50 € Guthaben.' }), '/x'), 'Mit dieser Bestellung erhältst du 2,50 € Guthaben.');
  assert.equal(await earn.quote(answer(200, { amount: '0.00', text: 'You earn €0.00' }), '/x'), '');
  assert.equal(await earn.quote(answer(404, null), '/x'), '');
  assert.equal(await earn.quote(async () => { throw new Error('offline'); }, '/x'), '');
  assert.equal(await earn.quote(answer(200, {}), null), '');
});

test('a discount on the whole cart is shared over the lines, to the cent', () => {
  const lines = earn.cartLines({
    items: [{ product_id: 1, variant_id: 2, sku: 'A', quantity: 2, final_price: 1200 }, { product_id: 3, variant_id: 4, sku: 'B', quantity: 1, final_price: 601 }],
    cart_level_discount_applications: [{ title: 'CB-TEST-1', total_allocated_amount: 1050 }]
  });
  // 2400 and 601 of 3001 share 1050: 839.72… and 210.27… → 840 and 210.
  assert.equal(lines[0].totalCents + lines[1].totalCents, 3001 - 1050);
  assert.deepEqual([lines[0].totalCents, lines[1].totalCents], [1560, 391]);
  assert.equal(earn.lineParam(lines[0]), '1:2:A:2:12.00:15.60');
  assert.equal(earn.lineParam(lines[1]), '3:4:B:1:6.01:3.91');
  // Without one, no total is sent.
  assert.equal(earn.cartLines({ items: [{ product_id: 1, variant_id: 2, sku: 'A', quantity: 1, final_price: 100 }] })[0].totalCents, undefined);
});
