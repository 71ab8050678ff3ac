import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  cartLinesDiscountsGenerateRun,
  formatMinor,
  parseMinor,
  parsePercent,
} from '../src/index.js';

function input({ credit, subtotal = '100.00', currency = 'EUR', classes = ['ORDER'], customer = true, raw, language } = {}) {
  let metafield = null;
  if (raw !== undefined) metafield = raw;
  else if (credit !== undefined) metafield = { jsonValue: credit };
  return {
    cart: {
      buyerIdentity: customer ? { customer: { id: 'gid://shopify/Customer/1', metafield } } : { customer: null },
      cost: { subtotalAmount: { amount: subtotal, currencyCode: currency } },
    },
    discount: { discountClasses: classes },
    localization: language ? { language: { isoCode: language } } : undefined,
  };
}

function applied(result, label = 'Store credit') {
  assert.equal(result.operations.length, 1);
  const op = result.operations[0].orderDiscountsAdd;
  assert.equal(op.selectionStrategy, 'FIRST');
  assert.equal(op.candidates.length, 1);
  const c = op.candidates[0];
  assert.equal(c.message, label);
  assert.deepEqual(c.targets, [{ orderSubtotal: { excludedCartLineIds: [] } }]);
  return c.value.fixedAmount.amount;
}

const none = { operations: [] };

test('no customer: no discount', () => {
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ customer: false })), none);
  assert.deepEqual(cartLinesDiscountsGenerateRun({ cart: { buyerIdentity: null }, discount: { discountClasses: ['ORDER'] } }), none);
});

test('no metafield: no discount', () => {
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({})), none);
});

test('applies the whole balance when below the subtotal', () => {
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit: { amount: '12.50', currency: 'EUR' } }))), '12.50');
});

test('never more than the subtotal', () => {
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit: { amount: '250.00', currency: 'EUR' }, subtotal: '99.99' }))), '99.99');
});

test('max_amount caps the credit', () => {
  const r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '80.00', currency: 'EUR', max_amount: '20.00' } }));
  assert.equal(applied(r), '20.00');
});

test('max_percent caps the credit and rounds down', () => {
  // 33.33 % of 10.00 = 3.333 → 3.33 (never above the cap)
  let r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '50.00', currency: 'EUR', max_percent: '33.33' }, subtotal: '10.00' }));
  assert.equal(applied(r), '3.33');
  // 50 % of 0.05 = 0.025 → 0.02
  r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '1.00', currency: 'EUR', max_percent: '50' }, subtotal: '0.05' }));
  assert.equal(applied(r), '0.02');
  // the smallest of all caps wins
  r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '30.00', currency: 'EUR', max_percent: '25', max_amount: '40' }, subtotal: '100.00' }));
  assert.equal(applied(r), '25.00');
});

test('exact decimal arithmetic (no float artefacts)', () => {
  // 0.1 + 0.2 style values stay exact
  const r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '0.30', currency: 'EUR' }, subtotal: '0.3' }));
  assert.equal(applied(r), '0.30');
  // very large balances keep every digit
  const big = cartLinesDiscountsGenerateRun(input({ credit: { amount: '90071992547409.93', currency: 'EUR' }, subtotal: '90071992547409.99' }));
  assert.equal(applied(big), '90071992547409.93');
});

test('currency scale: zero and three decimals', () => {
  let r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '500', currency: 'JPY', max_percent: '10' }, subtotal: '3075.0', currency: 'JPY' }));
  assert.equal(applied(r), '307'); // 10 % of 3075 = 307.5 → 307
  r = cartLinesDiscountsGenerateRun(input({ credit: { amount: '1.250', currency: 'KWD' }, subtotal: '2.5', currency: 'KWD' }));
  assert.equal(applied(r), '1.250');
});

test('currency mismatch: no discount', () => {
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit: { amount: '10.00', currency: 'EUR' }, currency: 'USD' })), none);
});

test('min_order: below gives nothing, at the threshold applies', () => {
  const credit = { amount: '10.00', currency: 'EUR', min_order: '50.00' };
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit, subtotal: '49.99' })), none);
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, subtotal: '50.00' }))), '10.00');
});

test('only for discounts with the ORDER class', () => {
  const credit = { amount: '10.00', currency: 'EUR' };
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit, classes: ['PRODUCT'] })), none);
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit, classes: [] })), none);
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, classes: ['PRODUCT', 'ORDER'] }))), '10.00');
});

test('zero balance or zero subtotal: no discount', () => {
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit: { amount: '0.00', currency: 'EUR' } })), none);
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit: { amount: '5.00', currency: 'EUR' }, subtotal: '0.0' })), none);
});

test('malformed credit applies nothing', () => {
  const bad = [
    { amount: 10, currency: 'EUR' }, // a JSON number, not a decimal string
    { amount: '-5.00', currency: 'EUR' },
    { amount: '1.005', currency: 'EUR' }, // more decimals than EUR has
    { amount: '1e3', currency: 'EUR' },
    { amount: '10.00' }, // no currency
    { amount: '10.00', currency: 'EUR', max_percent: '0' },
    { amount: '10.00', currency: 'EUR', max_percent: '101' },
    { amount: '10.00', currency: 'EUR', max_amount: 'lots' },
    { amount: '10.00', currency: 'EUR', min_order: '-1' },
    ['10.00'],
    '10.00',
  ];
  for (const credit of bad) {
    assert.deepEqual(cartLinesDiscountsGenerateRun(input({ credit })), none, JSON.stringify(credit));
  }
});

test('metafield value string is parsed when jsonValue is absent', () => {
  const r = cartLinesDiscountsGenerateRun(input({ raw: { value: '{"amount":"7.00","currency":"EUR"}' } }));
  assert.equal(applied(r), '7.00');
  assert.deepEqual(cartLinesDiscountsGenerateRun(input({ raw: { value: '{not json' } })), none);
});

test('helpers', () => {
  assert.equal(parseMinor('12.5', 2), 1250n);
  assert.equal(parseMinor('12.50', 2), 1250n);
  assert.equal(parseMinor('12.501', 2), null);
  assert.equal(parseMinor('12.509', 2, true), 1250n);
  assert.equal(parseMinor('7', 0), 7n);
  assert.equal(parseMinor(' 3.10 ', 2), 310n);
  assert.equal(parseMinor('.5', 2), null);
  assert.equal(formatMinor(5n, 2), '0.05');
  assert.equal(formatMinor(1250n, 2), '12.50');
  assert.equal(formatMinor(7n, 0), '7');
  assert.equal(formatMinor(1n, 3), '0.001');
  assert.deepEqual(parsePercent('12.5'), { num: 125n, den: 1000n });
  assert.equal(parsePercent('100.0001'), null);
});

test('the label follows the buyer\'s language', () => {
  const credit = { amount: '5.00', currency: 'EUR', labels: { de: 'Treuebonus', en: 'Loyalty credit' } };
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, language: 'DE' })), 'Treuebonus'), '5.00');
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, language: 'EN' })), 'Loyalty credit'), '5.00');
  // A language without a label: English.
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, language: 'PT_BR' })), 'Loyalty credit'), '5.00');
  // No localization in the input: English.
  assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit })), 'Loyalty credit'), '5.00');
});

test('malformed or missing labels fall back to "Store credit"', () => {
  for (const labels of [undefined, null, 'Bonus', ['x'], { de: 7 }, { de: '   ' }, { en: 'x'.repeat(61) }]) {
    const credit = { amount: '5.00', currency: 'EUR', labels };
    assert.equal(applied(cartLinesDiscountsGenerateRun(input({ credit, language: 'DE' })), 'Store credit'), '5.00');
  }
});
