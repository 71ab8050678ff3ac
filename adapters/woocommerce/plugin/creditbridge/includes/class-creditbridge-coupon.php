<?php
/**
 * The virtual store-credit coupon.
 *
 * Decision: credit is applied as a VIRTUAL, customer-bound coupon with code
 * "cb-<hold_id>" (lower case), discount_type fixed_cart, amount = the quoted
 * amount, individual_use false, usage_limit 1, restricted to the customer's
 * billing e-mail (and account e-mail, which WooCommerce also checks). Its data is supplied through the
 * woocommerce_get_shop_coupon_data filter, so no coupon post is ever created.
 *
 * Why a coupon and not a negative fee: a fixed_cart coupon is a pre-tax
 * discount that WooCommerce spreads across the lines, so it reduces the
 * taxable amount correctly in tax-inclusive and tax-exclusive stores and
 * shows as a discount in classic and block checkout (and in the order's
 * coupon_lines, which the bridge reads to capture the hold). Negative fees
 * are taxed as a separate line and are poorly supported by block checkout.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Pure helpers for the credit coupon.
 */
final class Creditbridge_Coupon {

	/** Prefix of every credit coupon code. */
	const PREFIX = 'cb-';

	/**
	 * Coupon code for a hold id.
	 *
	 * @param string $hold_id Hold id from the bridge.
	 * @return string
	 */
	public static function code_for_hold( $hold_id ) {
		return strtolower( self::PREFIX . $hold_id );
	}

	/** Prefix of the bridge's voucher codes (real, single-use coupons). */
	const VOUCHER_PREFIX = 'cbv-';

	/**
	 * Whether a coupon code is a voucher code of the bridge.
	 *
	 * @param string $code Coupon code.
	 * @return bool
	 */
	public static function is_voucher_code( $code ) {
		return is_string( $code ) && 1 === preg_match( '/^cbv-[a-z0-9_-]{1,64}$/D', strtolower( $code ) );
	}

	/**
	 * Whether a coupon code is a credit coupon of this plugin.
	 *
	 * @param string $code Coupon code.
	 * @return bool
	 */
	public static function is_credit_code( $code ) {
		return is_string( $code ) && 1 === preg_match( '/^cb-[a-z0-9_-]{1,64}$/D', strtolower( $code ) );
	}

	/**
	 * Coupon properties for WC_Coupon::read_manual_coupon(), or false when
	 * the code is not the code of the session's quote.
	 *
	 * @param string     $code  Requested coupon code.
	 * @param array|null $quote Quote cached for the session.
	 * @param string[]   $emails Customer's account and billing e-mails.
	 * @return array|false
	 */
	public static function build_data( $code, $quote, $emails ) {
		if ( ! is_array( $quote ) || empty( $quote['coupon_code'] ) || ! self::is_credit_code( $code ) ) {
			return false;
		}
		if ( strtolower( (string) $code ) !== $quote['coupon_code'] ) {
			return false;
		}
		$minor = Creditbridge_Money::to_minor( (string) $quote['amount'], Creditbridge_Money::decimals( $quote['currency'] ) );
		if ( null === $minor || $minor <= 0 ) {
			return false;
		}
		$list = array();
		foreach ( (array) $emails as $email ) {
			$email = strtolower( trim( (string) $email ) );
			if ( '' !== $email && ! in_array( $email, $list, true ) ) {
				$list[] = $email;
			}
		}
		if ( empty( $list ) ) {
			// Never hand out a coupon that anyone could use.
			return false;
		}
		return array(
			'discount_type'        => 'fixed_cart',
			'amount'               => (string) $quote['amount'],
			'individual_use'       => false,
			// No usage limits: see the class comment (block checkout fatal).
			'usage_limit'          => 0,
			'usage_limit_per_user' => 0,
			'email_restrictions'   => $list,
			'free_shipping'        => false,
			'exclude_sale_items'   => false,
			// Newer block checkouts may show the description as the coupon's label.
			'description'          => Creditbridge_Settings::discount_label(),
		);
	}

	/**
	 * The coupon amount that makes the cart fall by the quoted credit.
	 *
	 * A fixed_cart coupon takes its amount off the prices as entered. With
	 * prices including tax that is the gross total: the amount is the
	 * credit. With prices excluding tax WooCommerce takes the amount off
	 * the net prices and lowers the VAT on top, so the invoice falls by
	 * more than the amount. Then, with redeem_base gross (the default,
	 * B2C), the amount is scaled by net / (net + tax) of the cart's
	 * subtotal, rounded down to the minor unit, so that the gross total
	 * falls by the credit (WooCommerce splits the coupon over the items by
	 * their net price, and each item's VAT falls at its rate: a cent of
	 * rounding may remain). The bridge books what the order reports
	 * (discount + discount_tax), so coupon and booking agree. With
	 * redeem_base net (B2B) the amount is the credit, off the net total.
	 *
	 * Voucher coupons (cbv-) are sized the same way in the cart: their
	 * face value is the credit, and the redeem_base they were issued with
	 * (coupon meta _creditbridge_redeem_base) decides.
	 *
	 * @param string $amount             Quoted credit.
	 * @param string $currency           ISO 4217.
	 * @param string $redeem_base        gross or net.
	 * @param bool   $prices_include_tax wc_prices_include_tax().
	 * @param int    $net_minor          Cart subtotal without tax, minor units.
	 * @param int    $tax_minor          VAT of the cart subtotal, minor units.
	 * @return string
	 */
	public static function face_value( $amount, $currency, $redeem_base, $prices_include_tax, $net_minor, $tax_minor ) {
		$d     = Creditbridge_Money::decimals( $currency );
		$minor = Creditbridge_Money::to_minor( (string) $amount, $d );
		$net   = (int) $net_minor;
		$tax   = (int) $tax_minor;
		if ( $prices_include_tax || 'net' === $redeem_base || null === $minor || $minor <= 0 || $net <= 0 || $tax <= 0 ) {
			return (string) $amount;
		}
		if ( $net > PHP_INT_MAX - $tax || $minor > intdiv( PHP_INT_MAX, $net ) ) {
			return (string) $amount; // beyond integer range: no scaling rather than a wrong one
		}
		return Creditbridge_Money::from_minor( intdiv( $minor * $net, $net + $tax ), $d );
	}
}
