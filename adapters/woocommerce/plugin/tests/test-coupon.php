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
	'coupon: data is a customer-bound single-use fixed_cart discount of the quoted amount',
	function () {
		$d = Creditbridge_Coupon::build_data( 'cb-123', cbt_quote(), array( 'Ann@Example.com', 'billing@example.com', 'ann@example.com' ) );
		assert_same( 'fixed_cart', $d['discount_type'] );
		assert_same( '10.00', $d['amount'] );
		assert_same( false, $d['individual_use'] );
		assert_same( 1, $d['usage_limit'] );
		assert_same( 1, $d['usage_limit_per_user'] );
		assert_same( array( 'ann@example.com', 'billing@example.com' ), $d['email_restrictions'] );
		assert_same( false, $d['free_shipping'] );
		assert_true( is_array( Creditbridge_Coupon::build_data( 'CB-123', cbt_quote(), array( 'a@example.com' ) ) ), 'case-insensitive code' );
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
