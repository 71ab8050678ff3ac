<?php
/**
 * Household check: a customer's saved billing and shipping addresses reach
 * the signed addresses route when they change, once per request, and are
 * not sent again while unchanged; outages are retried with the user id
 * only; a shop with the check off is not asked again for a while.
 *
 * @package Creditbridge\Tests
 */

/** Household hooks wired to a client with a fixed clock. */
function cbt_household() {
	return new Creditbridge_Household(
		function () {
			return cbt_client();
		}
	);
}

/** Saves a customer's address fields as WooCommerce does (user meta). */
function cbt_customer_address( $user_id, $type, $street, $postcode, $country ) {
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $type . '_address_1' ] = $street;
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $type . '_postcode' ]  = $postcode;
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $type . '_country' ]   = $country;
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $type . '_city' ]      = 'München';
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $type . '_last_name' ] = 'Sommer';
}

/** The JSON body of logged request i. */
function cbt_household_sent( $i ) {
	return json_decode( $GLOBALS['cbt']['http_log'][ $i ]['args']['body'], true );
}

test(
	'household: My Account address saves send billing and shipping (street, postcode, country only), signed, once at the end of the request',
	function () {
		cbt_customer_address( 12, 'billing', 'Sendlinger Str. 1', '80331', 'DE' );
		cbt_customer_address( 12, 'shipping', 'Marienplatz 8', '80331', 'DE' );
		$h = cbt_household();
		$h->hooks();
		do_action( 'woocommerce_customer_save_address', 12, 'billing' );
		do_action( 'woocommerce_update_customer', 12 ); // the same save, seen by the customer CRUD
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ), 'nothing is sent before the request ends' );
		cbt_queue_http( 200, '{"recorded":2,"household_check":true}' );
		do_action( 'shutdown' );
		$log = $GLOBALS['cbt']['http_log'];
		assert_same( 1, count( $log ) );
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/12/addresses', $log[0]['url'] );
		assert_same( 'POST', $log[0]['args']['method'] );
		cbt_assert_signed( $log[0] );
		assert_same(
			array(
				'addresses' => array(
					array(
						'address_1' => 'Sendlinger Str. 1',
						'postcode'  => '80331',
						'country'   => 'DE',
					),
					array(
						'address_1' => 'Marienplatz 8',
						'postcode'  => '80331',
						'country'   => 'DE',
					),
				),
			),
			cbt_household_sent( 0 )
		);
		assert_not_contains( 'Sommer', $log[0]['args']['body'], 'no name is sent' );
		assert_not_contains( 'nchen', $log[0]['args']['body'], 'no city is sent' );
		// Unchanged addresses are not sent again (a checkout saving the customer).
		do_action( 'woocommerce_update_customer', 12 );
		do_action( 'shutdown' );
		assert_same( 1, count( $GLOBALS['cbt']['http_log'] ), 'unchanged addresses are sent once' );
		// A changed address is.
		cbt_customer_address( 12, 'shipping', 'Leopoldstr. 3', '80802', 'DE' );
		cbt_queue_http( 200, '{"recorded":2,"household_check":true}' );
		do_action( 'profile_update', 12 );
		do_action( 'shutdown' );
		assert_same( 2, count( $GLOBALS['cbt']['http_log'] ) );
		assert_same( 'Leopoldstr. 3', cbt_household_sent( 1 )['addresses'][1]['address_1'] );
	}
);

test(
	'household: incomplete addresses and the same address twice are left out; a customer without one sends nothing',
	function () {
		cbt_customer_address( 13, 'billing', 'Hauptstr. 5', '10115', 'DE' );
		cbt_customer_address( 13, 'shipping', 'hauptstr. 5', '10115', 'de' );
		assert_same( 1, count( Creditbridge_Household::addresses( 13 ) ), 'the same address in another case' );
		cbt_customer_address( 13, 'shipping', 'Postfach 4', '', 'DE' );
		assert_same( 1, count( Creditbridge_Household::addresses( 13 ) ), 'no postcode' );
		assert_same( array(), Creditbridge_Household::addresses( 14 ) );
		$h = cbt_household();
		$h->changed( 14 );
		$h->changed( 0 );
		$h->flush();
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'household: a bridge outage is retried via WP-Cron with the user id only; a refusal is not; a retry re-reads the addresses',
	function () {
		cbt_customer_address( 15, 'billing', 'Sendlinger Str. 1', '80331', 'DE' );
		cbt_queue_http_error( 'connection refused' );
		$h = cbt_household();
		assert_same( false, $h->send( 15 ) );
		$cron = $GLOBALS['cbt']['cron'];
		assert_same( 1, count( $cron ) );
		assert_same( Creditbridge_Household::RETRY_HOOK, $cron[0][1] );
		assert_same( array( 15 ), $cron[0][2], 'the cron entry carries no address' );
		cbt_queue_http( 400, '{"error":{"code":"invalid","message":"bad"}}' );
		cbt_customer_address( 16, 'billing', 'Weg 1', '1', 'DE' );
		assert_same( false, $h->send( 16 ) );
		assert_same( 1, count( $GLOBALS['cbt']['cron'] ), 'a 400 is not retried' );
		cbt_customer_address( 15, 'billing', 'Tal 9', '80331', 'DE' );
		cbt_queue_http( 200, '{"recorded":1,"household_check":true}' );
		assert_true( $h->send( $cron[0][2][0] ), 'the retry is sent' );
		assert_same( 'Tal 9', cbt_household_sent( 2 )['addresses'][0]['address_1'] );
	}
);

test(
	'household: with the check off the addresses stay unsent and the bridge is not asked again for 10 minutes',
	function () {
		cbt_customer_address( 17, 'billing', 'Sendlinger Str. 1', '80331', 'DE' );
		cbt_queue_http( 200, '{"recorded":0,"household_check":false}' );
		$h = cbt_household();
		assert_same( false, $h->send( 17 ) );
		assert_same( 1, get_transient( Creditbridge_Household::CHECK_OFF ) );
		assert_same( '', get_user_meta( 17, Creditbridge_Household::META_SENT, true ), 'not marked as kept' );
		assert_same( false, $h->send( 17 ) );
		assert_same( 1, count( $GLOBALS['cbt']['http_log'] ), 'not asked again while the check is off' );
		delete_transient( Creditbridge_Household::CHECK_OFF );
		cbt_queue_http( 200, '{"recorded":1,"household_check":true}' );
		assert_true( $h->send( 17 ) );
		assert_same( 2, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'household: hooks are registered by the plugin; not registered, nothing is sent',
	function () {
		( new Creditbridge_Household() )->hooks();
		foreach ( array( 'woocommerce_customer_save_address', 'woocommerce_update_customer', 'profile_update', 'shutdown', Creditbridge_Household::RETRY_HOOK ) as $hook ) {
			assert_true( isset( $GLOBALS['cbt']['hooks'][ $hook ] ), $hook );
		}
		cbt_customer_address( 18, 'billing', 'Sendlinger Str. 1', '80331', 'DE' );
		$h = new Creditbridge_Household(
			function () {
				return null;
			}
		);
		assert_same( false, $h->send( 18 ) );
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
	}
);
