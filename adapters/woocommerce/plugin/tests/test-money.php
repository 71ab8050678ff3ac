<?php
/**
 * Money: decimal strings and integer minor units.
 *
 * @package Creditbridge\Tests
 */

test(
	'money: currency decimals follow ISO 4217',
	function () {
		assert_same( 2, Creditbridge_Money::decimals( 'EUR' ) );
		assert_same( 2, Creditbridge_Money::decimals( 'usd' ) );
		assert_same( 0, Creditbridge_Money::decimals( 'JPY' ) );
		assert_same( 3, Creditbridge_Money::decimals( 'KWD' ) );
		assert_same( 2, Creditbridge_Money::decimals( 'XYZ' ), 'unknown defaults to 2' );
	}
);

test(
	'money: to_minor parses strict decimals',
	function () {
		$cases = array(
			array( '10.00', 2, 1000 ),
			array( '10', 2, 1000 ),
			array( '10.5', 2, 1050 ),
			array( '0.01', 2, 1 ),
			array( '-0.30', 2, -30 ),
			array( '10.500', 2, 1050 ),
			array( '0', 0, 0 ),
			array( '1500', 0, 1500 ),
			array( '1.234', 3, 1234 ),
			array( '007.10', 2, 710 ),
		);
		foreach ( $cases as $c ) {
			assert_same( $c[2], Creditbridge_Money::to_minor( $c[0], $c[1] ), $c[0] . ' with ' . $c[1] . ' decimals' );
		}
	}
);

test(
	'money: to_minor rejects bad input instead of rounding',
	function () {
		$bad = array( '10.001', '1e3', '10,00', ' 10', '', '.5', '5.', '+5', '--1', '1.2.3', 'abc', '9999999999999999' );
		foreach ( $bad as $b ) {
			assert_same( null, Creditbridge_Money::to_minor( $b, 2 ), var_export( $b, true ) );
		}
		assert_same( null, Creditbridge_Money::to_minor( 10.5, 2 ), 'floats are never accepted' );
		assert_same( null, Creditbridge_Money::to_minor( 10, 2 ), 'ints are not strings' );
		assert_same( null, Creditbridge_Money::to_minor( '1.5', 0 ), 'JPY has no decimals' );
	}
);

test(
	'money: from_minor formats with exactly the currency decimals',
	function () {
		assert_same( '10.00', Creditbridge_Money::from_minor( 1000, 2 ) );
		assert_same( '0.05', Creditbridge_Money::from_minor( 5, 2 ) );
		assert_same( '0.00', Creditbridge_Money::from_minor( 0, 2 ) );
		assert_same( '-0.30', Creditbridge_Money::from_minor( -30, 2 ) );
		assert_same( '-12.34', Creditbridge_Money::from_minor( -1234, 2 ) );
		assert_same( '1500', Creditbridge_Money::from_minor( 1500, 0 ) );
		assert_same( '0.007', Creditbridge_Money::from_minor( 7, 3 ) );
		// Round trip over a range of values.
		for ( $i = -1005; $i <= 1005; $i += 67 ) {
			assert_same( $i, Creditbridge_Money::to_minor( Creditbridge_Money::from_minor( $i, 2 ), 2 ) );
		}
	}
);

test(
	'money: normalize brings bridge amounts to the currency scale',
	function () {
		assert_same( '25.00', Creditbridge_Money::normalize( '25', 'EUR' ) );
		assert_same( '25.50', Creditbridge_Money::normalize( '25.5', 'EUR' ) );
		assert_same( '300', Creditbridge_Money::normalize( '300', 'JPY' ) );
		assert_same( null, Creditbridge_Money::normalize( '25.555', 'EUR' ) );
		assert_same( null, Creditbridge_Money::normalize( null, 'EUR' ) );
	}
);

test(
	'money: catalogue prices round half away from zero to the currency',
	function () {
		assert_same( 2000, Creditbridge_Money::price_to_minor( '20', 2 ) );
		assert_same( 1999, Creditbridge_Money::price_to_minor( '19.99', 2 ) );
		assert_same( 2000, Creditbridge_Money::price_to_minor( '19.995', 2 ) );
		assert_same( 1999, Creditbridge_Money::price_to_minor( '19.9949', 2 ) );
		assert_same( 50, Creditbridge_Money::price_to_minor( '.5', 2 ) );
		assert_same( 0, Creditbridge_Money::price_to_minor( '', 2 ), 'product without price' );
		assert_same( 1235, Creditbridge_Money::price_to_minor( '1234.5', 0 ) );
		assert_same( 700, Creditbridge_Money::price_to_minor( 7, 2 ) );
		assert_same( null, Creditbridge_Money::price_to_minor( 'free', 2 ) );
		assert_same( null, Creditbridge_Money::price_to_minor( 19.99, 2 ), 'floats rejected' );
	}
);

test(
	'money: multiply detects overflow',
	function () {
		assert_same( 4000, Creditbridge_Money::multiply( 2000, 2 ) );
		assert_same( 0, Creditbridge_Money::multiply( 2000, 0 ) );
		assert_same( null, Creditbridge_Money::multiply( 2000, -1 ) );
		assert_same( null, Creditbridge_Money::multiply( PHP_INT_MAX, 2 ) );
		assert_same( 999999999999999 * 9000, Creditbridge_Money::multiply( 999999999999999, 9000 ) );
	}
);

test(
	'money: customer amounts accept at most the currency decimals',
	function () {
		assert_same( 1000, Creditbridge_Money::parse_customer_amount( '10', 'EUR' ) );
		assert_same( 1050, Creditbridge_Money::parse_customer_amount( ' 10.5 ', 'EUR' ) );
		assert_same( 1005, Creditbridge_Money::parse_customer_amount( '10.05', 'EUR' ) );
		assert_same( 500, Creditbridge_Money::parse_customer_amount( '500', 'JPY' ) );
		assert_same( 1234, Creditbridge_Money::parse_customer_amount( '1.234', 'KWD' ) );
		// Typed by people: a decimal comma and thousands separators are fine.
		assert_same( 1050, Creditbridge_Money::parse_customer_amount( '10,5', 'EUR' ) );
		assert_same( 100000, Creditbridge_Money::parse_customer_amount( '1 000', 'EUR' ) );
		assert_same( 123456, Creditbridge_Money::parse_customer_amount( '1.234,56', 'EUR' ) );
		assert_same( 123456, Creditbridge_Money::parse_customer_amount( '1,234.56', 'EUR' ) );
		foreach ( array( '10.055', '10,055', '-1', '0', '0.00', '1e2', '', '10.', '.5', '1,2,3' ) as $bad ) {
			assert_same( null, Creditbridge_Money::parse_customer_amount( $bad, 'EUR' ), var_export( $bad, true ) );
		}
		assert_same( null, Creditbridge_Money::parse_customer_amount( '10.5', 'JPY' ) );
		assert_same( null, Creditbridge_Money::parse_customer_amount( array( '10' ), 'EUR' ) );
	}
);
