<?php
/**
 * Request signing and timestamp freshness.
 *
 * @package Creditbridge\Tests
 */

test(
	'signer: matches the independently computed vectors',
	function () {
		$v = json_decode( file_get_contents( __DIR__ . '/testdata/signature-vectors.json' ), true );
		assert_true( count( $v['vectors'] ) >= 3, 'vectors loaded' );
		foreach ( $v['vectors'] as $vec ) {
			assert_same( $vec['expected'], Creditbridge_Signer::sign( $vec['secret'], $vec['timestamp'], $vec['method'], $vec['path_with_query'], $vec['body'] ), $vec['path_with_query'] );
		}
	}
);

test(
	'signer: canonical string layout',
	function () {
		assert_same( "1700000000\nPOST\n/api/v1/plugin/quote\n{}", Creditbridge_Signer::canonical( 1700000000, 'post', '/api/v1/plugin/quote', '{}' ) );
		assert_same( "5\nGET\n/x?a=1\n", Creditbridge_Signer::canonical( 5, 'GET', '/x?a=1', '' ) );
	}
);

test(
	'signer: any change of method, path, body, time or secret changes the signature',
	function () {
		$base = Creditbridge_Signer::sign( 's', 100, 'POST', '/a?b=1', 'body' );
		assert_same( 64, strlen( $base ) );
		assert_same( 1, preg_match( '/^[0-9a-f]{64}$/', $base ) );
		foreach ( array(
			Creditbridge_Signer::sign( 't', 100, 'POST', '/a?b=1', 'body' ),
			Creditbridge_Signer::sign( 's', 101, 'POST', '/a?b=1', 'body' ),
			Creditbridge_Signer::sign( 's', 100, 'PUT', '/a?b=1', 'body' ),
			Creditbridge_Signer::sign( 's', 100, 'POST', '/a?b=2', 'body' ),
			Creditbridge_Signer::sign( 's', 100, 'POST', '/a', 'body' ),
			Creditbridge_Signer::sign( 's', 100, 'POST', '/a?b=1', 'body ' ),
		) as $other ) {
			assert_true( $base !== $other, 'signature must differ' );
		}
	}
);

test(
	'signer: path_with_query keeps the query and any base path',
	function () {
		assert_same( '/api/v1/plugin/customers/12/balance?currency=EUR', Creditbridge_Signer::path_with_query( 'https://bridge.example.com/api/v1/plugin/customers/12/balance?currency=EUR' ) );
		assert_same( '/api/v1/plugin/quote', Creditbridge_Signer::path_with_query( 'https://bridge.example.com:8443/api/v1/plugin/quote' ) );
		assert_same( '/cb/api/v1/plugin/quote', Creditbridge_Signer::path_with_query( 'https://example.com/cb/api/v1/plugin/quote' ) );
		assert_same( '/', Creditbridge_Signer::path_with_query( 'https://example.com' ) );
		assert_same( '/s?currency=EUR&limit=20&cursor=', Creditbridge_Signer::path_with_query( 'https://example.com/s?currency=EUR&limit=20&cursor=' ) );
	}
);

test(
	'signer: headers carry shop, timestamp and signature of the URL path',
	function () {
		$h = Creditbridge_Signer::headers( 'shop-7', 'plugin-secret-1234', 'GET', 'https://b.example.com/api/v1/plugin/customers/12/balance?currency=EUR', '', 1700000300 );
		assert_same( 'shop-7', $h['X-Creditbridge-Shop'] );
		assert_same( '1700000300', $h['X-Creditbridge-Timestamp'] );
		assert_same( '39058e7a2d943a45ed88420678ee40ca06ce04ea7f447f310239342ea386b28c', $h['X-Creditbridge-Signature'] );
	}
);

test(
	'signer: timestamps are fresh within 300 seconds either way',
	function () {
		$now = 1700000000;
		assert_true( Creditbridge_Signer::is_fresh( $now, $now ) );
		assert_true( Creditbridge_Signer::is_fresh( $now - 300, $now ) );
		assert_true( Creditbridge_Signer::is_fresh( $now + 300, $now ) );
		assert_same( false, Creditbridge_Signer::is_fresh( $now - 301, $now ) );
		assert_same( false, Creditbridge_Signer::is_fresh( $now + 301, $now ) );
		assert_same( false, Creditbridge_Signer::is_fresh( 0, $now ) );
	}
);

test(
	'signer: clock skew from a Date header',
	function () {
		$now = strtotime( 'Tue, 14 Nov 2023 22:13:20 GMT' );
		assert_same( 0, Creditbridge_Signer::clock_skew( 'Tue, 14 Nov 2023 22:13:20 GMT', $now ) );
		assert_same( 600, Creditbridge_Signer::clock_skew( 'Tue, 14 Nov 2023 22:23:20 GMT', $now ) );
		assert_same( null, Creditbridge_Signer::clock_skew( '', $now ) );
		assert_same( null, Creditbridge_Signer::clock_skew( 'not a date', $now ) );
	}
);
