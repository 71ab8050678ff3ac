// creditbridge discount Function: applies the customer's store credit as
// one fixed-amount discount on the order subtotal.
//
// The credit lives in the customer metafield $app:creditbridge.available,
// written by creditbridge (adapters/shopify/admin.CreditMetafield):
//   {"amount": "12.50", "currency": "EUR", "max_percent": "50",
//    "max_amount": "20.00", "min_order": "30.00",
//    "labels": {"de": "Guthaben", "en": "Store credit"}, "updated_at": "…"}
// labels are the shop's names of credit per checkout language; the
// discount shows the one of the buyer's language (English when there is
// none). creditbridge recognises the discount on the order by the labels
// it issued, never by a label the Function made up.
// All money is handled as BigInt minor units parsed from decimal strings;
// numbers (floats) are never used for money. Anything malformed applies no
// credit: the Function must never give more than creditbridge granted.

const NO_CHANGES = Object.freeze({ operations: [] });

// Minor-unit digits per ISO 4217 currency where they differ from 2 (the
// same table as core/money.go).
const ZERO_DECIMALS = new Set([
  'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF',
  'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
]);
const THREE_DECIMALS = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

/** @param {string} currency @returns {number} */
export function currencyScale(currency) {
  if (ZERO_DECIMALS.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal string into BigInt minor units.
 * Digits beyond the scale must be zeros unless floor is set, in which
 * case they are cut off (rounding down). Returns null when malformed.
 * @param {unknown} value
 * @param {number} scale
 * @param {boolean} [floor]
 * @returns {bigint | null}
 */
export function parseMinor(value, scale, floor = false) {
  if (typeof value !== 'string') return null;
  const m = DECIMAL_RE.exec(value.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  const kept = frac.slice(0, scale).padEnd(scale, '0');
  const extra = frac.slice(scale);
  if (!floor && /[1-9]/.test(extra)) return null;
  return BigInt(m[1] + kept);
}

/**
 * Formats BigInt minor units as a decimal string with exactly scale
 * decimals.
 * @param {bigint} minor
 * @param {number} scale
 * @returns {string}
 */
export function formatMinor(minor, scale) {
  const digits = minor.toString().padStart(scale + 1, '0');
  if (scale === 0) return digits;
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * Parses a percentage string (0 < p <= 100, any number of decimals) into
 * a fraction num/den. Returns null when malformed or out of range.
 * @param {unknown} value
 * @returns {{num: bigint, den: bigint} | null}
 */
export function parsePercent(value) {
  if (typeof value !== 'string') return null;
  const m = DECIMAL_RE.exec(value.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  const num = BigInt(m[1] + frac);
  const den = 100n * 10n ** BigInt(frac.length);
  if (num <= 0n || num > den) return null;
  return { num, den };
}

/**
 * Reads the credit metafield (jsonValue, or value as a JSON string).
 * @returns {Record<string, unknown> | null}
 */
function readCredit(metafield) {
  if (!metafield) return null;
  let v = metafield.jsonValue;
  if (v == null && typeof metafield.value === 'string') {
    try {
      v = JSON.parse(metafield.value);
    } catch {
      return null;
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return v;
}

/**
 * Computes the credit to apply in minor units:
 * min(available, subtotal, max_amount, floor(subtotal × max_percent / 100)),
 * or 0 when the subtotal is below min_order, the currencies differ or any
 * field is malformed.
 * @param {Record<string, unknown>} credit
 * @param {{amount: string, currencyCode: string}} subtotal
 * @returns {{minor: bigint, scale: number}}
 */
export function creditToApply(credit, subtotal) {
  const none = { minor: 0n, scale: 0 };
  if (!subtotal || typeof credit.currency !== 'string') return none;
  const currency = subtotal.currencyCode;
  if (typeof currency !== 'string' || credit.currency.toUpperCase() !== currency.toUpperCase()) return none;
  const scale = currencyScale(currency.toUpperCase());
  const available = parseMinor(credit.amount, scale);
  // Shopify may send more decimals than the currency has ("3075.0" in
  // JPY); cutting them off can only lower the credit.
  const sub = parseMinor(subtotal.amount, scale, true);
  if (available === null || sub === null) return none;
  let amount = available < sub ? available : sub;
  if (credit.max_amount !== undefined && credit.max_amount !== null && credit.max_amount !== '') {
    const max = parseMinor(credit.max_amount, scale);
    if (max === null) return none;
    if (max < amount) amount = max;
  }
  if (credit.max_percent !== undefined && credit.max_percent !== null && credit.max_percent !== '') {
    const pct = parsePercent(credit.max_percent);
    if (pct === null) return none;
    const cap = (sub * pct.num) / pct.den; // BigInt division rounds down
    if (cap < amount) amount = cap;
  }
  if (credit.min_order !== undefined && credit.min_order !== null && credit.min_order !== '') {
    const min = parseMinor(credit.min_order, scale);
    if (min === null || sub < min) return none;
  }
  return { minor: amount > 0n ? amount : 0n, scale };
}

// The label when the metafield names none (labels written before they were
// configurable): creditbridge recognises it on orders.
const DEFAULT_LABEL = 'Store credit';

/**
 * The name of credit in the buyer's language: labels[lang] for the
 * language's base code (DE for DE or PT_BR → pt), else labels.en, else
 * "Store credit". Labels that are not short strings are ignored.
 * @param {Record<string, unknown>} credit
 * @param {unknown} isoCode Localization.language.isoCode (e.g. "DE", "PT_BR")
 * @returns {string}
 */
export function creditLabel(credit, isoCode) {
  const labels = credit.labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return DEFAULT_LABEL;
  const ok = (v) => typeof v === 'string' && v.trim() !== '' && v.length <= 60;
  const lang = typeof isoCode === 'string' ? isoCode.toLowerCase().split(/[_-]/)[0] : '';
  if (lang && ok(labels[lang])) return labels[lang].trim();
  if (ok(labels.en)) return labels.en.trim();
  return DEFAULT_LABEL;
}

/**
 * Entry point for the cart.lines.discounts.generate.run target.
 * @param {any} input
 * @returns {{operations: any[]}}
 */
export function cartLinesDiscountsGenerateRun(input) {
  const classes = input?.discount?.discountClasses ?? [];
  if (!classes.includes('ORDER')) return NO_CHANGES;
  const customer = input?.cart?.buyerIdentity?.customer;
  if (!customer) return NO_CHANGES;
  const credit = readCredit(customer.metafield);
  if (!credit) return NO_CHANGES;
  const { minor, scale } = creditToApply(credit, input?.cart?.cost?.subtotalAmount);
  if (minor <= 0n) return NO_CHANGES;
  return {
    operations: [
      {
        orderDiscountsAdd: {
          candidates: [
            {
              message: creditLabel(credit, input?.localization?.language?.isoCode),
              targets: [{ orderSubtotal: { excludedCartLineIds: [] } }],
              value: { fixedAmount: { amount: formatMinor(minor, scale) } },
            },
          ],
          selectionStrategy: 'FIRST',
        },
      },
    ],
  };
}
