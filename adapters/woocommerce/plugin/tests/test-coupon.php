<?php
/**
 * Virtual coupon data.
 *
 * @package Creditbridge\Tests
 */

/** A quote as the client normalizes it. */
function cbt_quote( $hold = '123', $amount = '10.00', $available = '25.00', $expires = 1700001800 ) {
	$minor = Creditbridge_Money::to_minor( $amount, 2 );
	return array(
		'hold_id'     => $hold,
		'amount'      => $amount,
		'currency'    => 'EUR',
		'available'   => $available,
		'coupon_code' => $minor > 0 ? Creditbridge_Coupon::code_for_hold( $hold ) : '',
		'expires_at'  => $expires,
	);
}

test(
	'coupon: code is cb-<hold id> in lower case',
	function () {
		assert_same( 'cb-123', Creditbridge_Coupon::code_for_hold( '123' ) );
		assert_same( 'cb-ab12', Creditbridge_Coupon::code_for_hold( 'AB12' ) );
		assert_true( Creditbridge_Coupon::is_credit_code( 'cb-123' ) );
		assert_true( Creditbridge_Coupon::is_credit_code( 'CB-123' ) );
		assert_same( false, Creditbridge_Coupon::is_credit_code( 'cbv-123' ), 'vouchers are ordinary coupons' );
		assert_same( false, Creditbridge_Coupon::is_credit_code( 'summer10' ) );
		assert_same( false, Creditbridge_Coupon::is_credit_code( 'cb-' ) );
		assert_same( false, Creditbridge_Coupon::is_credit_code( null ) );
	}
);

test(
	'coupon: data is a customer-bound fixed_cart discount of the quoted amount',
	function () {
		$d = Creditbridge_Coupon::build_data( 'cb-123', cbt_quote(), array( 'Ann@Example.com', 'billing@example.com', 'ann@example.com' ) );
		assert_same( 'fixed_cart', $d['discount_type'] );
		assert_same( '10.00', $d['amount'] );
		assert_same( false, $d['individual_use'] );
		assert_same( array( 'ann@example.com', 'billing@example.com' ), $d['email_restrictions'] );
		assert_same( false, $d['free_shipping'] );
		assert_true( is_array( Creditbridge_Coupon::build_data( 'CB-123', cbt_quote(), array( 'a@example.com' ) ) ), 'case-insensitive code' );
	}
);

test(
	'coupon: the virtual coupon carries no usage limits (block checkout would die on them)',
	function () {
		// Pinned on purpose. A virtual coupon (woocommerce_get_shop_coupon_data)
		// has no data store. With usage_limit_per_user > 0 the block checkout
		// (POST /wc/store/v1/checkout, StoreApi OrderController::
		// validate_coupon_usage_limit, WooCommerce 9.0 to 10.0) calls
		// get_tentative_usages_for_user() on that null data store: a fatal
		// error, seen on WooCommerce 9.8.5. A usage_limit would only add the
		// same kind of data store lookups. Single use is enforced by the hold:
		// the bridge captures a hold once.
		$d = Creditbridge_Coupon::build_data( 'cb-123', cbt_quote(), array( 'ann@example.com' ) );
		assert_same(
			array(
				'discount_type'        => 'fixed_cart',
				'amount'               => '10.00',
				'individual_use'       => false,
				'usage_limit'          => 0,
				'usage_limit_per_user' => 0,
				'email_restrictions'   => array( 'ann@example.com' ),
				'free_shipping'        => false,
				'exclude_sale_items'   => false,
				'description'          => 'Store credit',
			),
			$d
		);
		foreach ( array( 'usage_limit', 'usage_limit_per_user', 'limit_usage_to_x_items' ) as $limit ) {
			assert_true( empty( $d[ $limit ] ), $limit . ' must be empty on the virtual coupon' );
		}
	}
);

test(
	'coupon: no data for other codes, zero quotes or missing e-mail',
	function () {
		assert_same( false, Creditbridge_Coupon::build_data( 'cb-124', cbt_quote(), array( 'a@example.com' ) ) );
		assert_same( false, Creditbridge_Coupon::build_data( 'summer', cbt_quote(), array( 'a@example.com' ) ) );
		assert_same( false, Creditbridge_Coupon::build_data( 'cb-123', null, array( 'a@example.com' ) ) );
		assert_same( false, Creditbridge_Coupon::build_data( 'cb-123', cbt_quote( '123', '0.00' ), array( 'a@example.com' ) ) );
		assert_same( false, Creditbridge_Coupon::build_data( 'cb-123', cbt_quote(), array( '', ' ' ) ) );
	}
);

test(
	'coupon: with prices excluding tax (B2C, redeem_base gross) the amount is scaled so the gross total falls by the credit',
	function () {
		// Cart: 100.00 net at 19 % (19.00 VAT). Credit 11.90: a coupon of 10.00
		// off the net lowers the VAT by 1.90, the invoice by 11.90.
		assert_same( '10.00', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'gross', false, 10000, 1900 ) );
		// Mixed rates: 100.00 at 19 % and 50.00 at 7 % (22.50 VAT): 20.00 credit
		// becomes floor(2000 × 15000 / 17250) = 1739; WooCommerce then takes
		// 11.59 + 2.20 VAT and 5.80 + 0.41 VAT: 20.00 off the invoice.
		assert_same( '17.39', Creditbridge_Coupon::face_value( '20.00', 'EUR', 'gross', false, 15000, 2250 ) );
		// Prices including tax, redeem_base net (B2B), or no tax: the credit itself.
		assert_same( '11.90', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'gross', true, 10000, 1900 ) );
		assert_same( '11.90', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'net', false, 10000, 1900 ) );
		assert_same( '11.90', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'gross', false, 10000, 0 ) );
		assert_same( '11.90', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'gross', false, 0, 0 ) );
		// Beyond integer range: unscaled rather than wrong.
		assert_same( '11.90', Creditbridge_Coupon::face_value( '11.90', 'EUR', 'gross', false, PHP_INT_MAX, 1 ) );
		assert_same( '100', Creditbridge_Coupon::face_value( '119', 'JPY', 'gross', false, 10000, 1900 ) );
	}
);
