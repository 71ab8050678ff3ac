<?php
/**
 * Registration checks and the health box.
 *
 * @package Creditbridge\Tests
 */

/** The check with this id. */
function cbt_check( array $checks, $id ) {
	foreach ( $checks as $c ) {
		if ( $c['id'] === $id ) {
			return $c;
		}
	}
	throw new Exception( "no check {$id}" );
}

test(
	'checks: plain permalinks are reported with what to do; any other structure is fine',
	function () {
		$c = Creditbridge_Checks::permalinks( '' );
		assert_same( false, $c['ok'] );
		assert_contains( 'Plain', $c['message'] );
		assert_contains( '?rest_route=/wc/v3/', $c['message'] );
		assert_contains( 'Settings > Permalinks', $c['fix'] );
		$c = Creditbridge_Checks::permalinks( '/%postname%/' );
		assert_same( true, $c['ok'] );
		assert_same( '', $c['fix'] );
	}
);

test(
	'checks: a bridge port other than 80, 443 or 8080 is reported before anything is sent (WooCommerce would drop every delivery)',
	function () {
		$c = Creditbridge_Checks::webhook_delivery( 'https://bridge.example.com:9443/webhooks/woocommerce/7', 101 );
		assert_same( false, $c['ok'] );
		assert_contains( 'port 9443', $c['message'] );
		assert_contains( 'wp_safe_remote_request()', $c['message'] );
		assert_contains( '80, 443 and 8080', $c['message'] );
		assert_contains( 'PUBLIC_URL', $c['fix'] );
		assert_contains( 'http_allowed_safe_ports', $c['fix'] );
		assert_same( array(), $GLOBALS['cbt']['http_log'], 'nothing sent' );
		// The filter WordPress offers is honoured.
		add_filter(
			'http_allowed_safe_ports',
			function ( $ports ) {
				$ports[] = 9443;
				return $ports;
			}
		);
		assert_same( '', Creditbridge_Checks::port_problem( 'https://bridge.example.com:9443/x' ) );
	}
);

test(
	'checks: the port of this site itself is allowed, as WordPress allows it',
	function () {
		update_option( 'home', 'http://127.0.0.1:8081' );
		assert_same( '', Creditbridge_Checks::port_problem( 'http://127.0.0.1:8081/x' ) );
		assert_contains( 'port 8090', Creditbridge_Checks::port_problem( 'http://127.0.0.1:8090/x' ) );
		assert_same( '', Creditbridge_Checks::port_problem( 'http://127.0.0.1:8080/x' ) );
		assert_same( '', Creditbridge_Checks::port_problem( 'https://bridge.example.com/x' ) );
	}
);

test(
	'checks: a private bridge address other than this host is reported with the filter to allow it',
	function () {
		$c = Creditbridge_Checks::webhook_delivery( 'http://10.1.2.3:8080/webhooks/woocommerce/7', 101 );
		assert_same( false, $c['ok'] );
		assert_contains( 'private or loopback', $c['message'] );
		assert_contains( 'http_request_host_is_external', $c['fix'] );
	}
);

test(
	'checks: the delivery test sends WooCommerce\'s ping through wp_safe_remote_request and wants 200',
	function () {
		cbt_queue_http( 200, '' );
		$c = Creditbridge_Checks::webhook_delivery( 'https://bridge.example.com/webhooks/woocommerce/7', 101 );
		assert_same( true, $c['ok'] );
		$log = $GLOBALS['cbt']['http_log'];
		assert_same( 1, count( $log ) );
		assert_same( true, $log[0]['args']['cbt_safe'], 'sent like WooCommerce sends webhooks' );
		assert_same( 'POST', $log[0]['args']['method'] );
		assert_same( 'webhook_id=101', $log[0]['args']['body'] );

		cbt_queue_http( 404, '{"error":"not found"}' );
		$c = Creditbridge_Checks::webhook_delivery( 'https://bridge.example.com/webhooks/woocommerce/7', 101 );
		assert_same( false, $c['ok'] );
		assert_contains( 'HTTP 404', $c['message'] );

		cbt_queue_http_error( 'cURL error 7: Failed to connect' );
		$c = Creditbridge_Checks::webhook_delivery( 'https://bridge.example.com/webhooks/woocommerce/7', 101 );
		assert_same( false, $c['ok'] );
		assert_contains( 'Failed to connect', $c['message'] );
	}
);

test(
	'checks: registration stores the checks and the settings page shows problems with what to do',
	function () {
		update_option( 'permalink_structure', '' );
		cbt_queue_http( 201, cbt_register_answer() );
		cbt_queue_http( 200, '' ); // the ping
		$res = ( new Creditbridge_Registration( $GLOBALS['wpdb'] ) )->register( 'https://bridge.example.com', 'admin-token-1', 3 );
		assert_same( false, cbt_check( $res['checks'], 'permalinks' )['ok'] );
		assert_same( true, cbt_check( $res['checks'], 'webhooks' )['ok'] );
		$ping = $GLOBALS['cbt']['http_log'][1];
		assert_same( 'https://bridge.example.com/webhooks/woocommerce/shop-7', $ping['url'] );
		assert_same( 'webhook_id=' . $res['webhook_ids']['order.created'], $ping['args']['body'] );
		assert_true( Creditbridge_Checks::has_problems( $res['checks'] ) );
		$stored = get_option( Creditbridge_Settings::OPT_CHECKS );
		assert_same( $res['checks'], $stored['checks'] );
		assert_same( false, $GLOBALS['cbt']['autoload'][ Creditbridge_Settings::OPT_CHECKS ] );
		$html = Creditbridge_Health::checks_html();
		assert_contains( 'Problem:', $html );
		assert_contains( 'What to do:', $html );
		assert_contains( 'OK:', $html );
		assert_contains( 'Settings &gt; Permalinks', $html, 'escaped' );
		assert_true( in_array( Creditbridge_Settings::OPT_CHECKS, Creditbridge_Settings::all_options(), true ), 'removed on uninstall' );
	}
);

test(
	'checks: stored checks are shown in the reader\'s language, not the language of registration; older stored texts still show',
	function () {
		$c = Creditbridge_Checks::webhook_delivery( 'http://127.0.0.1:8090/webhooks/woocommerce/7', 101 );
		assert_same( 'port', $c['code'] );
		assert_same( array( 8090 ), $c['args'] );
		update_option( Creditbridge_Settings::OPT_CHECKS, array( 'at' => time(), 'checks' => array( $c ) ) );
		// The German catalogue entries of these two texts, as the .po has them.
		$po      = file_get_contents( dirname( __DIR__ ) . '/creditbridge/languages/creditbridge-de_DE.po' );
		$english = 'The bridge listens on port %d. WooCommerce sends webhooks with wp_safe_remote_request(), which only allows ports 80, 443 and 8080, so every order webhook would be dropped without an error; only the bridge\'s poller would pick up orders, minutes later.';
		$german  = cbt_po_translation( $po, $english );
		assert_true( '' !== $german && $german !== $english, 'the .po translates the port message' );
		$GLOBALS['cbt']['catalogue'] = array( $english => $german );
		$html = Creditbridge_Health::checks_html();
		assert_contains( esc_html( sprintf( $german, 8090 ) ), $html );
		$GLOBALS['cbt']['catalogue'] = array();
		assert_contains( esc_html( sprintf( $english, 8090 ) ), Creditbridge_Health::checks_html() );
		// A check stored before keys existed keeps its stored text.
		update_option( Creditbridge_Settings::OPT_CHECKS, array( 'at' => time(), 'checks' => array( array( 'id' => 'webhooks', 'ok' => false, 'message' => 'Alter Text', 'fix' => 'Alte Abhilfe' ) ) ) );
		$html = Creditbridge_Health::checks_html();
		assert_contains( 'Alter Text', $html );
		assert_contains( 'Alte Abhilfe', $html );
	}
);

/** The msgstr of msgid in a .po file's text ('' when absent), unescaped. */
function cbt_po_translation( $po, $msgid ) {
	foreach ( explode( "\n\n", $po ) as $block ) {
		$id  = '';
		$str = '';
		$cur = null;
		foreach ( explode( "\n", $block ) as $line ) {
			if ( 0 === strpos( $line, 'msgid ' ) ) {
				$cur = 'id';
			} elseif ( 0 === strpos( $line, 'msgstr ' ) ) {
				$cur = 'str';
			} elseif ( 0 !== strpos( $line, '"' ) ) {
				continue;
			}
			if ( preg_match( '/"(.*)"/', $line, $m ) && null !== $cur ) {
				if ( 'id' === $cur ) {
					$id .= $m[1];
				} else {
					$str .= $m[1];
				}
			}
		}
		if ( stripcslashes( $id ) === $msgid ) {
			return stripcslashes( $str );
		}
	}
	return '';
}

/** A registered shop with a client of the stub HTTP layer. */
function cbt_registered_client() {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, '7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	return function () {
		return new Creditbridge_Client( 'https://bridge.example.com', '7', 'plugin-secret-1234', function () {
			return 1700000000;
		} );
	};
}

test(
	'health: the box shows the last webhook, the last poll and the last failure with its reason, from a signed call',
	function () {
		$factory = cbt_registered_client();
		cbt_queue_http(
			200,
			json_encode(
				array(
					'last_webhook_at' => '2026-12-06T09:00:00Z',
					'last_poll_at'    => '2026-12-06T09:05:00Z',
					'last_poll_ok'    => false,
					'last_failure'    => array(
						'at'     => '2026-12-06T09:05:00Z',
						'source' => 'poll',
						'reason' => 'woocommerce: GET /orders: HTTP 401 <b>woocommerce_rest_cannot_view</b>',
					),
				)
			)
		);
		$html = ( new Creditbridge_Health( $factory ) )->box_html();
		$req  = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/health', $req['url'] );
		assert_same( 'GET', $req['args']['method'] );
		assert_same( '7', $req['args']['headers'][ Creditbridge_Signer::HEADER_SHOP ] );
		assert_true( '' !== $req['args']['headers'][ Creditbridge_Signer::HEADER_SIGNATURE ], 'signed' );
		assert_contains( 'Last order webhook received', $html );
		assert_contains( '(failed)', $html );
		assert_contains( 'reading your orders', $html );
		assert_contains( 'HTTP 401 &lt;b&gt;woocommerce_rest_cannot_view&lt;/b&gt;', $html, 'reason escaped' );
		assert_contains( 'What to do:', $html );
		assert_contains( 'Register again', $html, 'a refused key is fixed by registering again' );
	}
);

test(
	'health: a webhook delivery the bridge refused is the last failure, in words',
	function () {
		$factory = cbt_registered_client();
		cbt_queue_http(
			200,
			json_encode(
				array(
					'last_webhook_at' => '2026-12-06T09:00:00Z',
					'last_poll_at'    => '2026-12-06T09:05:00Z',
					'last_poll_ok'    => true,
					'last_failure'    => array(
						'at'     => '2026-12-06T09:06:00Z',
						'source' => 'webhook',
						'reason' => 'a webhook delivery was refused: X-WC-Webhook-Signature does not match the body (the webhook in WooCommerce has another secret than the bridge, or the delivery was forged); register the plugin again to renew the webhooks',
					),
				)
			)
		);
		$html = ( new Creditbridge_Health( $factory ) )->box_html();
		assert_contains( 'receiving an order webhook: a webhook delivery was refused', $html );
		assert_contains( 'register the plugin again', $html );
		assert_not_contains( 'What to do:', $html, 'the poll worked: the reason itself says what to do' );
	}
);

test(
	'health: nothing yet reads "never" and "none"; an unreachable bridge is said so',
	function () {
		$factory = cbt_registered_client();
		cbt_queue_http( 200, json_encode( array( 'last_webhook_at' => '', 'last_poll_at' => '', 'last_poll_ok' => false, 'last_failure' => null ) ) );
		$html = ( new Creditbridge_Health( $factory ) )->box_html();
		assert_same( 2, substr_count( $html, 'never' ) );
		assert_contains( 'none', $html );
		assert_not_contains( 'What to do:', $html, 'nothing to do without a failed poll' );
		cbt_queue_http_error( 'cURL error 28: timed out' );
		$html = ( new Creditbridge_Health( $factory ) )->box_html();
		assert_contains( 'could not be asked', $html );
		assert_contains( 'timed out', $html );
		$none = function () {
			return null;
		};
		assert_same( '', ( new Creditbridge_Health( $none ) )->box_html(), 'not registered: no box' );
	}
);

test(
	'health: the box shows the plugin\'s webhooks as WooCommerce holds them, and says when WooCommerce disabled one',
	function () {
		$factory = cbt_registered_client();
		$ids     = Creditbridge_Webhooks::sync( 'https://bridge.example.com/webhooks/woocommerce/7', 'whsec', 3, array() );
		update_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, $ids );
		assert_same( '4 active', Creditbridge_Health::webhooks_state() );
		$hook = wc_get_webhook( $ids['order.updated'] );
		$hook->set_status( 'disabled' );
		$hook->set_failure_count( 6 );
		$state = Creditbridge_Health::webhooks_state();
		assert_contains( 'order.updated is disabled (6 failed deliveries)', $state );
		assert_contains( 'register again', $state );
		cbt_queue_http( 200, json_encode( array( 'last_webhook_at' => '', 'last_poll_at' => '', 'last_poll_ok' => false, 'last_failure' => null ) ) );
		assert_contains( 'order.updated is disabled', ( new Creditbridge_Health( $factory ) )->box_html() );
		update_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array() );
		assert_contains( 'none', Creditbridge_Health::webhooks_state() );
	}
);
