<?php
/**
 * Quote caching per cart.
 *
 * @package Creditbridge\Tests
 */

test(
	'cache: hash changes with subtotal, currency, customer and any line field',
	function () {
		$lines = array(
			array(
				'product_id' => '1',
				'variant_id' => '0',
				'sku'        => 'X',
				'quantity'   => 2,
				'total'      => '40.00',
			),
		);
		$h     = Creditbridge_Quote_Cache::cart_hash( '12', 'EUR', '40.00', $lines );
		assert_same( $h, Creditbridge_Quote_Cache::cart_hash( '12', 'EUR', '40.00', $lines ), 'stable' );
		assert_true( $h !== Creditbridge_Quote_Cache::cart_hash( '13', 'EUR', '40.00', $lines ) );
		assert_true( $h !== Creditbridge_Quote_Cache::cart_hash( '12', 'USD', '40.00', $lines ) );
		assert_true( $h !== Creditbridge_Quote_Cache::cart_hash( '12', 'EUR', '40.01', $lines ) );
		foreach ( array( 'product_id' => '2', 'variant_id' => '5', 'sku' => 'Y', 'quantity' => 3, 'total' => '60.00' ) as $k => $v ) {
			$changed          = $lines;
			$changed[0][ $k ] = $v;
			assert_true( $h !== Creditbridge_Quote_Cache::cart_hash( '12', 'EUR', '40.00', $changed ), $k );
		}
	}
);

test(
	'cache: a quote is reused for the same cart until shortly before its hold expires',
	function () {
		$c = new Creditbridge_Quote_Cache( new Cbt_Session() );
		$q = cbt_quote( '123', '10.00', '25.00', 10000 );
		assert_same( null, $c->get( 'h1', 5000 ) );
		$c->put( 'h1', $q, 5000 );
		assert_same( $q, $c->get( 'h1', 5001 ) );
		assert_same( null, $c->get( 'h2', 5001 ), 'other cart' );
		assert_same( $q, $c->get( 'h1', 10000 - Creditbridge_Quote_Cache::EXPIRY_MARGIN - 1 ) );
		assert_same( null, $c->get( 'h1', 10000 - Creditbridge_Quote_Cache::EXPIRY_MARGIN ), 're-quote before expiry' );
		assert_same( $q, $c->current(), 'current ignores the hash' );
		$c->clear();
		assert_same( null, $c->current() );
	}
);

test(
	'cache: a zero quote is kept for a few minutes only',
	function () {
		$c = new Creditbridge_Quote_Cache( new Cbt_Session() );
		$q = cbt_quote( '', '0.00', '0.00', 0 );
		$c->put( 'h', $q, 1000 );
		assert_same( $q, $c->get( 'h', 1000 + Creditbridge_Quote_Cache::ZERO_TTL - 1 ) );
		assert_same( null, $c->get( 'h', 1000 + Creditbridge_Quote_Cache::ZERO_TTL ) );
	}
);

test(
	'cache: the cart key is stable per cart and renewed after reset',
	function () {
		$s  = new Cbt_Session();
		$c  = new Creditbridge_Quote_Cache( $s );
		$k1 = $c->cart_key();
		assert_same( 1, preg_match( '/^[a-f0-9]{32}$/', $k1 ) );
		assert_same( $k1, $c->cart_key() );
		assert_same( $k1, ( new Creditbridge_Quote_Cache( $s ) )->cart_key(), 'kept in the session' );
		$c->set_opt_out( true );
		$c->set_ordered_hold( '9' );
		$c->reset_cart();
		assert_true( $k1 !== $c->cart_key() );
		assert_same( false, $c->opted_out() );
		assert_same( '', $c->ordered_hold() );
	}
);
