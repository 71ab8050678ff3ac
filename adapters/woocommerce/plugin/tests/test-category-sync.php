<?php
/**
 * Category rule members: pushed after product and category changes (once
 * per request, only what changed) and daily, idempotently; quiet on
 * failures with one retry.
 *
 * @package Creditbridge\Tests
 */

/** Registered shop, a sync with category members from $members. */
function cbt_sync_env( array &$members ) {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, 'shop-7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	$sync = new Creditbridge_Category_Sync(
		function () {
			return new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234' );
		},
		function ( $id ) use ( &$members ) {
			return isset( $members[ $id ] ) ? $members[ $id ] : array();
		}
	);
	$sync->hooks();
	return $sync;
}

/** The bridge's rules: two category rules (15 twice, for buyer and partner) and a product rule. */
function cbt_sync_rules() {
	return json_encode(
		array(
			'rules'    => array(
				array( 'id' => 1, 'target' => 'collection', 'target_id' => '15', 'beneficiary' => 'buyer', 'mode' => 'percent', 'value' => '5' ),
				array( 'id' => 2, 'target' => 'collection', 'target_id' => '15', 'beneficiary' => 'partner1', 'mode' => 'percent', 'value' => '1' ),
				array( 'id' => 3, 'target' => 'collection', 'target_id' => '16', 'beneficiary' => 'buyer', 'mode' => 'exclude', 'value' => '0' ),
				array( 'id' => 4, 'target' => 'product', 'target_id' => '99', 'beneficiary' => 'buyer', 'mode' => 'fixed', 'value' => '1' ),
			),
			'currency' => 'EUR',
		)
	);
}

/** Bodies of the PUTs of category members, by category. */
function cbt_sync_puts() {
	$out = array();
	foreach ( $GLOBALS['cbt']['http_log'] as $r ) {
		if ( preg_match( '#/api/v1/plugin/collections/(\d+)/products$#', parse_url( $r['url'], PHP_URL_PATH ), $m ) ) {
			$out[] = array( $m[1], json_decode( $r['args']['body'], true )['products'] );
		}
	}
	return $out;
}

test(
	'category sync: a product change sends each changed rule category once, at the end of the request',
	function () {
		$members = array(
			15 => array( 7, 3, 7 ),
			16 => array(),
		);
		$sync    = cbt_sync_env( $members );
		// Nothing changed: nothing sent.
		do_action( 'shutdown' );
		assert_same( array(), $GLOBALS['cbt']['http_log'] );
		// A product saved and its categories set, twice in one request.
		$GLOBALS['cbt']['post_types'][7] = 'product';
		do_action( 'woocommerce_update_product', 7 );
		do_action( 'set_object_terms', 7, array( 15 ), array( 15 ), 'product_cat' );
		do_action( 'woocommerce_update_product', 7 );
		cbt_queue_http( 200, cbt_sync_rules() );
		cbt_queue_http( 200, '{"collection":"15","products":2}' );
		cbt_queue_http( 200, '{"collection":"16","products":0}' );
		do_action( 'shutdown' );
		assert_same( array( array( '15', array( '3', '7' ) ), array( '16', array() ) ), cbt_sync_puts() );
		assert_same( 'PUT', $GLOBALS['cbt']['http_log'][1]['args']['method'] );
		assert_true( isset( $GLOBALS['cbt']['http_log'][1]['args']['headers']['X-Creditbridge-Signature'] ), 'signed' );

		// The same members again: nothing sent (rules list cached).
		do_action( 'woocommerce_update_product', 7 );
		do_action( 'shutdown' );
		assert_same( 3, count( $GLOBALS['cbt']['http_log'] ) );

		// A product moved out of 15 into 16: both sent, other terms ignored.
		do_action( 'set_object_terms', 3, array( 'blue' ), array( 40 ), 'product_tag' );
		do_action( 'shutdown' );
		assert_same( 3, count( $GLOBALS['cbt']['http_log'] ), 'tags do not count' );
		$members[15] = array( 7 );
		$members[16] = array( 3 );
		do_action( 'set_object_terms', 3, array( 16 ), array( 16 ), 'product_cat' );
		cbt_queue_http( 200, '{}' );
		cbt_queue_http( 200, '{}' );
		do_action( 'shutdown' );
		assert_same( array( array( '15', array( '7' ) ), array( '16', array( '3' ) ) ), array_slice( cbt_sync_puts(), 2 ) );

		// A product trashed; other post types do not count.
		$GLOBALS['cbt']['post_types'][8] = 'page';
		do_action( 'trashed_post', 8 );
		do_action( 'shutdown' );
		assert_same( 5, count( $GLOBALS['cbt']['http_log'] ) );
		$members[15] = array();
		do_action( 'trashed_post', 7 );
		cbt_queue_http( 200, '{}' );
		do_action( 'shutdown' );
		assert_same( array( '15', array() ), cbt_sync_puts()[4] );
	}
);

test(
	'category sync: daily run sends every category; a failure is retried once later and never blocks',
	function () {
		$members = array( 15 => array( 1 ) );
		$sync    = cbt_sync_env( $members );
		do_action( 'init' );
		assert_same( array( 'daily' ), array( $GLOBALS['cbt']['scheduled'][ Creditbridge_Category_Sync::CRON ][1] ) );
		$first = $GLOBALS['cbt']['scheduled'][ Creditbridge_Category_Sync::CRON ][0];
		do_action( 'init' );
		assert_same( $first, $GLOBALS['cbt']['scheduled'][ Creditbridge_Category_Sync::CRON ][0], 'scheduled once' );

		cbt_queue_http( 200, cbt_sync_rules() );
		cbt_queue_http( 200, '{}' );
		cbt_queue_http( 200, '{}' );
		do_action( Creditbridge_Category_Sync::CRON );
		assert_same( 2, count( cbt_sync_puts() ) );
		// The daily run sends again even when nothing changed (heals the bridge side).
		cbt_queue_http( 200, cbt_sync_rules() );
		cbt_queue_http( 200, '{}' );
		cbt_queue_http( 200, '{}' );
		assert_same( 2, $sync->sync( true ) );
		assert_same( 4, count( cbt_sync_puts() ) );

		// Bridge down on a save: nothing recorded for 15, one retry event, no calls while backing off.
		$members[15] = array( 1, 2 );
		do_action( 'woocommerce_update_product', 2 );
		cbt_queue_http_error( 'Connection refused' );
		do_action( 'shutdown' );
		$retries = array_filter(
			$GLOBALS['cbt']['cron'],
			function ( $e ) {
				return Creditbridge_Category_Sync::RETRY_HOOK === $e[1];
			}
		);
		assert_same( 1, count( $retries ) );
		$n = count( $GLOBALS['cbt']['http_log'] );
		do_action( 'woocommerce_update_product', 2 );
		do_action( 'shutdown' );
		assert_same( $n, count( $GLOBALS['cbt']['http_log'] ), 'no call during the backoff' );
		assert_same( 1, count( array_filter( $GLOBALS['cbt']['cron'], function ( $e ) { return Creditbridge_Category_Sync::RETRY_HOOK === $e[1]; } ) ), 'one retry' );

		// The retry sends it.
		cbt_queue_http( 200, cbt_sync_rules() );
		cbt_queue_http( 200, '{}' );
		cbt_queue_http( 200, '{}' );
		do_action( Creditbridge_Category_Sync::RETRY_HOOK );
		$puts = cbt_sync_puts();
		assert_same( array( '15', array( '1', '2' ) ), $puts[ count( $puts ) - 2 ] );

		// A category whose rule is gone (404): the rule list is read again next time.
		set_transient( Creditbridge_Category_Sync::RULES_TRANSIENT, array( '15' ) );
		delete_transient( Creditbridge_Category_Sync::BACKOFF_TRANSIENT );
		$members[15] = array( 1, 2, 3 );
		do_action( 'woocommerce_update_product', 3 );
		cbt_queue_http( 404, '{"error":{"code":"not_found","message":"no collection rule"}}' );
		do_action( 'shutdown' );
		assert_same( false, get_transient( Creditbridge_Category_Sync::RULES_TRANSIENT ) );
		assert_same( false, get_transient( Creditbridge_Category_Sync::BACKOFF_TRANSIENT ), 'not a failure' );

		Creditbridge_Category_Sync::unschedule();
		assert_true( ! isset( $GLOBALS['cbt']['scheduled'][ Creditbridge_Category_Sync::CRON ] ), 'deactivation removes the daily run' );
		assert_same( false, wp_next_scheduled( Creditbridge_Category_Sync::RETRY_HOOK ) );
	}
);

test(
	'category sync: not registered or a bridge without rules: no calls',
	function () {
		$members = array();
		$sync    = new Creditbridge_Category_Sync( null, null );
		$sync->mark();
		$sync->flush();
		assert_same( array(), $GLOBALS['cbt']['http_log'] );
		$sync = cbt_sync_env( $members );
		cbt_queue_http( 200, '{"rules":[],"currency":"EUR"}' );
		assert_same( 0, $sync->sync( true ) );
		assert_same( array(), cbt_sync_puts() );
	}
);
