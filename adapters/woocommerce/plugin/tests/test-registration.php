<?php
/**
 * Registration flow and webhook creation.
 *
 * @package Creditbridge\Tests
 */

/** A valid bridge answer. */
function cbt_register_answer( $shop = 'shop-7' ) {
	return json_encode(
		array(
			'shop_id'        => $shop,
			'webhook_secret' => 'whsec-xyz',
			'plugin_secret'  => 'plugin-secret-1234',
			'webhook_url'    => 'https://bridge.example.com/webhooks/woocommerce/' . $shop,
		)
	);
}

test(
	'registration: creates a read_write key the way WooCommerce stores it and sends it to the bridge',
	function () {
		$GLOBALS['cbt']['user_id'] = 3;
		cbt_queue_http( 201, cbt_register_answer() );
		$r   = new Creditbridge_Registration( $GLOBALS['wpdb'] );
		$res = $r->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		assert_same( 'shop-7', $res['shop_id'] );

		$rows = $GLOBALS['wpdb']->rows['wp_woocommerce_api_keys'];
		assert_same( 1, count( $rows ) );
		$key_id = array_keys( $rows )[0];
		$row    = $rows[ $key_id ];
		assert_same( 3, $row['user_id'] );
		assert_same( 'read_write', $row['permissions'] );

		$log = $GLOBALS['cbt']['http_log'];
		assert_same( 2, count( $log ), 'registration, then the webhook delivery check' );
		assert_same( 'https://bridge.example.com/api/v1/woocommerce/register', $log[0]['url'] );
		assert_same( 'POST', $log[0]['args']['method'] );
		assert_same( 'Bearer admin-token-1', $log[0]['args']['headers']['Authorization'] );
		assert_same( 'application/json', $log[0]['args']['headers']['Content-Type'] );
		$body = json_decode( $log[0]['args']['body'], true );
		assert_same( array( 'site_url', 'consumer_key', 'consumer_secret', 'currency', 'plugin_version' ), array_keys( $body ) );
		assert_same( 'https://shop.example.com', $body['site_url'] );
		assert_same( 'EUR', $body['currency'] );
		assert_same( CREDITBRIDGE_VERSION, $body['plugin_version'] );
		assert_same( 1, preg_match( '/^ck_[0-9a-f]{40}$/', $body['consumer_key'] ) );
		assert_same( 1, preg_match( '/^cs_[0-9a-f]{40}$/', $body['consumer_secret'] ) );
		// Stored like WooCommerce: hashed consumer key, plain secret, last 7 chars.
		assert_same( hash_hmac( 'sha256', $body['consumer_key'], 'wc-api' ), $row['consumer_key'] );
		assert_same( $body['consumer_secret'], $row['consumer_secret'] );
		assert_same( substr( $body['consumer_key'], -7 ), $row['truncated_key'] );
		assert_same( $key_id, get_option( Creditbridge_Settings::OPT_API_KEY_ID ) );
	}
);

test(
	'registration: stores shop id and secrets without autoload, never the API key',
	function () {
		cbt_queue_http( 201, cbt_register_answer() );
		( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		$o = $GLOBALS['cbt']['options'];
		assert_same( 'https://bridge.example.com', $o[ Creditbridge_Settings::OPT_BRIDGE_URL ] );
		assert_same( 'shop-7', $o[ Creditbridge_Settings::OPT_SHOP_ID ] );
		assert_same( 'plugin-secret-1234', $o[ Creditbridge_Settings::OPT_PLUGIN_SECRET ] );
		assert_same( 'whsec-xyz', $o[ Creditbridge_Settings::OPT_WEBHOOK_SECRET ] );
		foreach ( array( Creditbridge_Settings::OPT_SHOP_ID, Creditbridge_Settings::OPT_PLUGIN_SECRET, Creditbridge_Settings::OPT_WEBHOOK_SECRET, Creditbridge_Settings::OPT_WEBHOOK_IDS ) as $name ) {
			assert_same( false, $GLOBALS['cbt']['autoload'][ $name ], $name . ' autoload' );
		}
		assert_not_contains( 'admin-token-1', serialize( $o ), 'API key not stored' );
		assert_true( Creditbridge_Settings::is_registered() );
	}
);

test(
	'registration: creates four active v3 order webhooks to the bridge URL with the secret',
	function () {
		cbt_queue_http( 201, cbt_register_answer() );
		$res = ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		assert_same( array( 'order.created', 'order.updated', 'order.deleted', 'order.restored' ), array_keys( $res['webhook_ids'] ) );
		assert_same( $res['webhook_ids'], get_option( Creditbridge_Settings::OPT_WEBHOOK_IDS ) );
		foreach ( $res['webhook_ids'] as $topic => $id ) {
			$w = $GLOBALS['cbt']['webhooks'][ $id ];
			assert_same(
				array(
					'name'          => 'creditbridge ' . $topic,
					'user_id'       => 3,
					'topic'         => $topic,
					'delivery_url'  => 'https://bridge.example.com/webhooks/woocommerce/shop-7',
					'secret'        => 'whsec-xyz',
					'api_version'   => 'wp_api_v3',
					'status'        => 'active',
					'failure_count' => 0,
				),
				$w->props
			);
		}
	}
);

test(
	'registration: registering again updates the same webhooks and revokes the previous key',
	function () {
		cbt_queue_http( 201, cbt_register_answer() );
		$reg   = new Creditbridge_Registration( $GLOBALS['wpdb'] );
		$first = $reg->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		$key1  = get_option( Creditbridge_Settings::OPT_API_KEY_ID );
		cbt_queue_http( 201, cbt_register_answer( 'shop-8' ) );
		$second = $reg->register( 'https://bridge.example.com', 'admin-token-1', 4 );
		assert_same( $first['webhook_ids'], $second['webhook_ids'], 'same webhook ids' );
		assert_same( 4, count( $GLOBALS['cbt']['webhooks'] ) );
		foreach ( $second['webhook_ids'] as $id ) {
			assert_same( 2, $GLOBALS['cbt']['webhooks'][ $id ]->saves );
			assert_same( 'https://bridge.example.com/webhooks/woocommerce/shop-8', $GLOBALS['cbt']['webhooks'][ $id ]->props['delivery_url'] );
			assert_same( 4, $GLOBALS['cbt']['webhooks'][ $id ]->props['user_id'] );
		}
		$rows = $GLOBALS['wpdb']->rows['wp_woocommerce_api_keys'];
		assert_same( 1, count( $rows ) );
		assert_same( false, isset( $rows[ $key1 ] ), 'old key revoked' );
		assert_same( 'shop-8', get_option( Creditbridge_Settings::OPT_SHOP_ID ) );
	}
);

test(
	'registration: a webhook deleted by the merchant is created again',
	function () {
		update_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array( 'order.created' => 999 ) );
		cbt_queue_http( 201, cbt_register_answer() );
		$res = ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		assert_true( 999 !== $res['webhook_ids']['order.created'] );
		assert_same( 4, count( $GLOBALS['cbt']['webhooks'] ) );
	}
);

test(
	'registration: a refused or broken answer deletes the new key and stores nothing',
	function () {
		$answers = array(
			array( 401, '{"error":"bad token"}', 'refused the API key' ),
			array( 500, '', 'HTTP 500' ),
			array( 201, 'not json', 'not JSON' ),
			array( 201, '{"shop_id":"s","webhook_secret":"w","plugin_secret":"p"}', 'webhook_url' ),
			array( 201, '{"shop_id":"s","webhook_secret":"","plugin_secret":"p","webhook_url":"https://b/x"}', 'webhook_secret' ),
			array( 201, '{"shop_id":"s s","webhook_secret":"w","plugin_secret":"p","webhook_url":"https://b/x"}', 'shop id' ),
			array( 201, '{"shop_id":"s","webhook_secret":"w","plugin_secret":"p","webhook_url":"javascript:x"}', 'webhook URL' ),
		);
		foreach ( $answers as $a ) {
			cbt_reset();
			cbt_queue_http( $a[0], $a[1] );
			$res = ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
			assert_wp_error( $res, null, $a[1] );
			assert_contains( $a[2], $res->get_error_message() );
			assert_not_contains( 'cs_', $res->get_error_message(), 'no secret in messages' );
			assert_same( array(), $GLOBALS['wpdb']->rows['wp_woocommerce_api_keys'], 'key rolled back' );
			assert_same( array(), $GLOBALS['cbt']['options'] );
			assert_same( array(), $GLOBALS['cbt']['webhooks'] );
		}
		cbt_reset();
		cbt_queue_http_error( 'Could not resolve host' );
		assert_wp_error( ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 ), 'creditbridge_http' );
	}
);

test(
	'registration: a database failure stops before calling the bridge',
	function () {
		$GLOBALS['wpdb']->fail = true;
		assert_wp_error( ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 ), 'creditbridge_api_key' );
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'registration: numeric shop ids are accepted as strings',
	function () {
		$parsed = Creditbridge_Registration::parse_register_response(
			array(
				'response' => array( 'code' => 201 ),
				'body'     => '{"shop_id":42,"webhook_secret":"w","plugin_secret":"p","webhook_url":"https://b.example.com/webhooks/woocommerce/42"}',
				'headers'  => array(),
			)
		);
		assert_same( '42', $parsed['shop_id'] );
	}
);

test(
	'uninstall: deletes webhooks, revokes the key and removes every option',
	function () {
		cbt_queue_http( 201, cbt_register_answer() );
		( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		update_option( Creditbridge_Settings::OPT_CLOCK_SKEW, 900, false );
		update_option( 'unrelated_option', 'keep' );
		assert_same( 4, count( $GLOBALS['cbt']['webhooks'] ) );
		if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
			define( 'WP_UNINSTALL_PLUGIN', 'creditbridge/creditbridge.php' );
		}
		include __DIR__ . '/../creditbridge/uninstall.php';
		assert_same( array(), $GLOBALS['cbt']['webhooks'] );
		assert_same( array(), $GLOBALS['wpdb']->rows['wp_woocommerce_api_keys'] );
		assert_same( array( 'unrelated_option' => 'keep' ), $GLOBALS['cbt']['options'] );
	}
);
