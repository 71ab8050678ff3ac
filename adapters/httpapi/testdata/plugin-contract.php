<?php
/**
 * Contract check: the WooCommerce companion plugin's own PHP code talks to
 * a live bridge (run by plugin_test.go). The plugin builds and signs each
 * request; this script sends it over real HTTP, hands the real answer to
 * the plugin through the test stub's response queue, and prints what the
 * plugin made of it as JSON.
 *
 * Usage:
 *   php plugin-contract.php register <bridge url> <admin token>
 *   php plugin-contract.php calls <bridge url> <shop id> <plugin secret> <customer id> <cart key>
 */

error_reporting( E_ALL );
set_error_handler(
	function ( $severity, $message, $file, $line ) {
		throw new ErrorException( $message, 0, $severity, $file, $line );
	}
);
$cbt_plugin = __DIR__ . '/../../woocommerce/plugin';
require $cbt_plugin . '/tests/stubs.php';
require $cbt_plugin . '/tests/stubs-features.php';
require $cbt_plugin . '/tests/lib.php';
require $cbt_plugin . '/creditbridge/creditbridge.php';
cbt_reset();

/** Sends a request built by the plugin over real HTTP and queues the answer for the plugin's stubbed wp_remote_request(). */
function cbc_send( $url, array $args ) {
	$headers = '';
	foreach ( $args['headers'] as $k => $v ) {
		$headers .= $k . ': ' . $v . "\r\n";
	}
	$ctx  = stream_context_create(
		array(
			'http' => array(
				'method'          => $args['method'],
				'header'          => $headers,
				'content'         => isset( $args['body'] ) ? $args['body'] : '',
				'ignore_errors'   => true,
				'timeout'         => 10,
				'follow_location' => 0,
			),
		)
	);
	$body = file_get_contents( $url, false, $ctx );
	$code = 0;
	foreach ( $http_response_header as $line ) {
		if ( preg_match( '#^HTTP/\S+ (\d{3})#', $line, $m ) ) {
			$code = (int) $m[1];
		}
	}
	cbt_queue_http( $code, (string) $body );
	return $code;
}

/** Result of a plugin call as JSON-friendly data. */
function cbc_out( $v ) {
	return is_wp_error( $v ) ? array( 'error' => $v->get_error_message() ) : $v;
}

$out = array();
if ( 'register' === $argv[1] ) {
	list( $url, $args ) = Creditbridge_Registration::build_register_request( $argv[2], $argv[3], 'ck_' . str_repeat( 'a', 40 ), 'cs_' . str_repeat( 'b', 40 ) );
	$out['status']       = cbc_send( $url, $args );
	$out['parsed']       = cbc_out( Creditbridge_Registration::parse_register_response( wp_remote_request( $url, $args ) ) );
	$out['site_url']     = home_url();
} else {
	$now    = time();
	$client = new Creditbridge_Client( $argv[2], $argv[3], $argv[4], function () use ( $now ) {
		return $now;
	} );
	$customer = $argv[5];
	$req      = Creditbridge_Cart::build_quote_request( array(), $customer, 'anna.buyer@example.com', 'EUR', $argv[6] );
	// A one-line cart of 40.00 (build_quote_request needs WC_Product-like objects).
	$req['subtotal'] = '40.00';
	$req['lines']    = array( array( 'product_id' => '90', 'variant_id' => '0', 'sku' => 'TP-1', 'quantity' => 1, 'total' => '40.00' ) );

	$addresses = array( array( 'address_1' => 'Hauptstrasse 1', 'postcode' => '10115', 'country' => 'DE' ) );

	$calls = array(
		'quote'     => array( 'POST', '/api/v1/plugin/quote', array(), $req, function () use ( $client, $req ) {
			return $client->quote( $req );
		} ),
		'balance'   => array( 'GET', '/api/v1/plugin/customers/' . $customer . '/balance', array( 'currency' => 'EUR' ), null, function () use ( $client, $customer ) {
			return $client->balance( $customer, 'EUR' );
		} ),
		'statement' => array( 'GET', '/api/v1/plugin/customers/' . $customer . '/statement', array( 'currency' => 'EUR', 'limit' => '20', 'cursor' => '' ), null, function () use ( $client, $customer ) {
			return $client->statement( $customer, 'EUR', 20, '' );
		} ),
		'activity'  => array( 'POST', '/api/v1/shops/' . $argv[3] . '/events', array(), array( 'kind' => 'account_created', 'subject' => $customer, 'idempotency_key' => 'wc-account-' . $customer ), function () use ( $client, $customer ) {
			return $client->activity( array( 'kind' => 'account_created', 'subject' => $customer, 'idempotency_key' => 'wc-account-' . $customer ) );
		} ),
		'addresses' => array( 'POST', '/api/v1/plugin/customers/' . $customer . '/addresses', array(), array( 'addresses' => $addresses ), function () use ( $client, $customer, $addresses ) {
			return $client->customer_addresses( $customer, $addresses );
		} ),
	);
	foreach ( $calls as $name => $c ) {
		list( $url, $args ) = $client->build_request( $c[0], $c[1], $c[2], $c[3] );
		$out[ $name . '_status' ] = cbc_send( $url, $args );
		$out[ $name ]             = cbc_out( call_user_func( $c[4] ) );
	}
	if ( isset( $out['quote']['hold_id'] ) ) {
		$body               = array( 'hold_id' => (string) $out['quote']['hold_id'] );
		list( $url, $args ) = $client->build_request( 'POST', '/api/v1/plugin/release', array(), $body );
		$out['release_status'] = cbc_send( $url, $args );
		$out['release']        = cbc_out( $client->release( $out['quote']['hold_id'] ) );
	}
}
echo json_encode( $out );
