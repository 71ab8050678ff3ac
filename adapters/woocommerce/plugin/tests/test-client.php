<?php
/**
 * Signed client: requests built and answers parsed per the bridge contract.
 *
 * @package Creditbridge\Tests
 */

/** A client with a fixed clock. */
function cbt_client( $base = 'https://bridge.example.com' ) {
	return new Creditbridge_Client(
		$base,
		'shop-7',
		'plugin-secret-1234',
		function () {
			return 1700000000;
		}
	);
}

/** Checks the signature headers of a logged request by recomputing them. */
function cbt_assert_signed( array $req, $secret = 'plugin-secret-1234', $shop = 'shop-7' ) {
	$h     = $req['args']['headers'];
	$body  = isset( $req['args']['body'] ) ? $req['args']['body'] : '';
	$parts = parse_url( $req['url'] );
	$path  = $parts['path'] . ( isset( $parts['query'] ) ? '?' . $parts['query'] : '' );
	$msg   = $h['X-Creditbridge-Timestamp'] . "\n" . $req['args']['method'] . "\n" . $path . "\n" . $body;
	assert_same( $shop, $h['X-Creditbridge-Shop'] );
	assert_same( hash_hmac( 'sha256', $msg, $secret ), $h['X-Creditbridge-Signature'], 'signature' );
	assert_same( 3, $req['args']['timeout'], 'storefront timeout' );
}

test(
	'client: quote POSTs the request body signed and parses the answer',
	function () {
		cbt_queue_http( 200, '{"hold_id":"123","amount":"10.00","currency":"EUR","available":"25.00","coupon_code":"cb-123","expires_at":"2023-11-14T22:43:20Z"}' );
		$req = array(
			'customer_id' => '12',
			'email'       => 'a@example.com',
			'cart_key'    => 'k',
			'currency'    => 'EUR',
			'subtotal'    => '100.00',
			'lines'       => array(),
		);
		$q   = cbt_client()->quote( $req );
		$log = $GLOBALS['cbt']['http_log'];
		assert_same( 1, count( $log ) );
		assert_same( 'https://bridge.example.com/api/v1/plugin/quote', $log[0]['url'] );
		assert_same( 'POST', $log[0]['args']['method'] );
		assert_same( $req, json_decode( $log[0]['args']['body'], true ) );
		assert_same( 'application/json', $log[0]['args']['headers']['Content-Type'] );
		assert_same( '1700000000', $log[0]['args']['headers']['X-Creditbridge-Timestamp'] );
		cbt_assert_signed( $log[0] );
		assert_same(
			array(
				'hold_id'         => '123',
				'amount'          => '10.00',
				'currency'        => 'EUR',
				'available'       => '25.00',
				'coupon_code'     => 'cb-123',
				'expires_at'      => 1700001800,
				'redeem_base'     => 'gross',
				'discount_labels' => null,
			),
			$q
		);
	}
);

test(
	'client: the quote says how credit reduces a cart with prices excluding tax (gross unless net)',
	function () {
		cbt_queue_http( 200, '{"hold_id":"123","amount":"10.00","currency":"EUR","available":"25.00","coupon_code":"cb-123","expires_at":"","redeem_base":"net"}' );
		assert_same( 'net', cbt_client()->quote( array( 'currency' => 'EUR' ) )['redeem_base'] );
		cbt_queue_http( 200, '{"hold_id":"123","amount":"10.00","currency":"EUR","available":"25.00","coupon_code":"cb-123","expires_at":"","redeem_base":"b2b"}' );
		assert_same( 'gross', cbt_client()->quote( array( 'currency' => 'EUR' ) )['redeem_base'] );
	}
);

test(
	'client: zero quote means no coupon',
	function () {
		cbt_queue_http( 200, '{"hold_id":"","amount":"0.00","currency":"EUR","available":"0.00","coupon_code":"","expires_at":""}' );
		$q = cbt_client()->quote( array( 'currency' => 'EUR' ) );
		assert_same( '0.00', $q['amount'] );
		assert_same( '', $q['coupon_code'] );
	}
);

test(
	'client: quote answers that break the contract are errors (no credit)',
	function () {
		$bad = array(
			'{"hold_id":"123","amount":10,"currency":"EUR","available":"25.00","coupon_code":"cb-123"}',
			'{"hold_id":"123","amount":"10.001","currency":"EUR","available":"25.00","coupon_code":"cb-123"}',
			'{"hold_id":"123","amount":"10.00","currency":"USD","available":"25.00","coupon_code":"cb-123"}',
			'{"hold_id":"123","amount":"10.00","currency":"EUR","available":"25.00","coupon_code":"cb-999"}',
			'{"hold_id":"123","amount":"10.00","currency":"EUR","available":"25.00","coupon_code":""}',
			'{"hold_id":"123","amount":"-1.00","currency":"EUR","available":"25.00","coupon_code":"cb-123"}',
			'not json',
		);
		foreach ( $bad as $body ) {
			cbt_queue_http( 200, $body );
			assert_wp_error( cbt_client()->quote( array( 'currency' => 'EUR' ) ), null, $body );
		}
		cbt_queue_http( 500, '{"error":"boom"}' );
		assert_wp_error( cbt_client()->quote( array( 'currency' => 'EUR' ) ), 'creditbridge_status' );
		cbt_queue_http_error( 'timed out' );
		assert_wp_error( cbt_client()->quote( array( 'currency' => 'EUR' ) ), 'creditbridge_http' );
	}
);

test(
	'client: upper-case coupon code from the bridge is accepted as lower case',
	function () {
		cbt_queue_http( 200, '{"hold_id":"AB12","amount":"1.50","currency":"eur","available":"3.00","coupon_code":"CB-AB12","expires_at":"2023-11-14T22:43:20+00:00"}' );
		$q = cbt_client()->quote( array( 'currency' => 'EUR' ) );
		assert_same( 'cb-ab12', $q['coupon_code'] );
		assert_same( 'EUR', $q['currency'] );
	}
);

test(
	'client: release POSTs the hold id',
	function () {
		cbt_queue_http( 200, '{}' );
		assert_same( true, cbt_client()->release( '123' ) );
		$log = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/release', $log['url'] );
		assert_same( '{"hold_id":"123"}', $log['args']['body'] );
		cbt_assert_signed( $log );
	}
);

test(
	'client: balance GETs with the currency query and normalizes amounts',
	function () {
		cbt_queue_http( 200, '{"currency":"EUR","available":"25.00","pending":"0","held":"10.00","overdraft":"0.00"}' );
		$b   = cbt_client( 'https://bridge.example.com/cb/' )->balance( '12', 'EUR' );
		$log = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/cb/api/v1/plugin/customers/12/balance?currency=EUR', $log['url'] );
		assert_same( 'GET', $log['args']['method'] );
		assert_same( false, isset( $log['args']['body'] ), 'GET has no body' );
		cbt_assert_signed( $log );
		assert_same(
			array(
				'currency'  => 'EUR',
				'available' => '25.00',
				'pending'   => '0.00',
				'held'      => '10.00',
				'overdraft' => '0.00',
			),
			$b
		);
		cbt_queue_http( 200, '{"currency":"EUR","available":"25.001"}' );
		assert_wp_error( cbt_client()->balance( '12', 'EUR' ) );
	}
);

test(
	'client: statement sends limit and an empty cursor and parses entries',
	function () {
		cbt_queue_http( 200, '{"entries":[{"id":"e1","created_at":"2024-01-02T03:04:05Z","kind":"earn","description":"Order #1001 · Blue shirt","order_number":"#1001","delta":"5.00","available_after":"25.00"},"junk"],"next_cursor":"c2"}' );
		$s   = cbt_client()->statement( '12', 'EUR', 20, '' );
		$log = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/12/statement?currency=EUR&limit=20&cursor=&locale=en_US', $log['url'], 'descriptions in the reader\'s language' );
		cbt_assert_signed( $log );
		assert_same( 1, count( $s['entries'] ) );
		assert_same( 'Order #1001 · Blue shirt', $s['entries'][0]['description'] );
		assert_same( '5.00', $s['entries'][0]['delta'] );
		assert_same( 'c2', $s['next_cursor'] );

		cbt_queue_http( 200, '{"entries":[],"next_cursor":""}' );
		cbt_client()->statement( '12', 'EUR', 20, 'abc=' );
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/12/statement?currency=EUR&limit=20&cursor=abc%3D&locale=en_US', $GLOBALS['cbt']['http_log'][1]['url'] );
	}
);

test(
	'client: a statement counts held credit as the customer\'s, so the credit an order used shows (holds are hidden from customers)',
	function () {
		// Newest first, as the bridge answers a customer view of order 45 on
		// a real WooCommerce shop: the placement (-12.34 available, +12.34
		// held) is hidden, the capture moves only held credit.
		cbt_queue_http(
			200,
			'{"entries":[' .
			'{"id":"3","kind":"hold_capture","delta":"0.00","held_delta":"-12.34","available_after":"80.58","held_after":"0.00"},' .
			'{"id":"2","kind":"earn","delta":"33.83","held_delta":"0.00","available_after":"80.58","held_after":"12.34"},' .
			'{"id":"1","kind":"earn","delta":"4.00","held_delta":"0.00","available_after":"59.09","held_after":"0.00"},' .
			'{"id":"0","kind":"earn","delta":"1.00","available_after":"1.00"}],"next_cursor":""}'
		);
		$s = cbt_client()->statement( '2', 'EUR', 20, '' );
		$e = $s['entries'];
		assert_same( '-12.34', $e[0]['delta'], 'the capture is the credit the order used' );
		assert_same( '80.58', $e[0]['available_after'] );
		assert_same( '33.83', $e[1]['delta'] );
		assert_same( '92.92', $e[1]['available_after'], 'the held credit is still the customer\'s' );
		assert_same( '59.09', $e[2]['available_after'] );
		// Every row's balance is the next older row's balance plus its change.
		for ( $i = 0; $i < 2; $i++ ) {
			$d = 2;
			assert_same(
				Creditbridge_Money::to_minor( $e[ $i + 1 ]['available_after'], $d ) + Creditbridge_Money::to_minor( $e[ $i ]['delta'], $d ),
				Creditbridge_Money::to_minor( $e[ $i ]['available_after'], $d ),
				"row $i adds up"
			);
		}
		assert_same( '1.00', $e[3]['delta'], 'an entry without held fields (older bridge) keeps its figures' );
		cbt_queue_http( 200, '{"entries":[{"id":"9","kind":"earn","delta":"x","held_delta":"1.00","available_after":"","held_after":"1.00"}],"next_cursor":""}' );
		$bad = cbt_client()->statement( '2', 'EUR', 20, '' );
		assert_same( '', $bad['entries'][0]['delta'], 'an invalid amount stays blank' );
		assert_same( '', $bad['entries'][0]['available_after'] );
	}
);

test(
	'client: voucher POSTs amount and currency and expects 201',
	function () {
		cbt_queue_http( 201, '{"code":"cbv-xxxx","amount":"10.00","currency":"EUR","expires_at":"2025-01-01T00:00:00Z"}' );
		$v   = cbt_client()->create_voucher( '12', '10.00', 'EUR' );
		$log = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/12/vouchers', $log['url'] );
		assert_same( '{"amount":"10.00","currency":"EUR"}', $log['args']['body'] );
		cbt_assert_signed( $log );
		assert_same( 'cbv-xxxx', $v['code'] );
		assert_same( '10.00', $v['amount'] );
		cbt_queue_http( 422, '{"error":"insufficient credit"}' );
		assert_wp_error( cbt_client()->create_voucher( '12', '10.00', 'EUR' ), 'creditbridge_status' );
		cbt_queue_http( 201, '{"code":"cbv-xxxx","amount":"10.00","currency":"EUR","expires_at":"2025-01-01T00:00:00Z"}' );
		cbt_client()->create_voucher( '12', '10.00', 'EUR', 'wc-form-abc12345' );
		assert_same( '{"amount":"10.00","currency":"EUR","idempotency_key":"wc-form-abc12345"}', $GLOBALS['cbt']['http_log'][2]['args']['body'] );
	}
);

test(
	'client: customer id is path-escaped',
	function () {
		cbt_queue_http( 200, '{"currency":"EUR","available":"1.00"}' );
		cbt_client()->balance( '1/../2', 'EUR' );
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/1%2F..%2F2/balance?currency=EUR', $GLOBALS['cbt']['http_log'][0]['url'] );
	}
);

test(
	'client: a 401 with a far-off Date header records the clock skew',
	function () {
		cbt_queue_http( 401, '', array( 'Date' => gmdate( 'D, d M Y H:i:s', 1700000000 + 900 ) . ' GMT' ) );
		assert_wp_error( cbt_client()->release( '1' ) );
		assert_same( 900, get_option( Creditbridge_Settings::OPT_CLOCK_SKEW ) );
		assert_same( false, $GLOBALS['cbt']['autoload'][ Creditbridge_Settings::OPT_CLOCK_SKEW ] );

		delete_option( Creditbridge_Settings::OPT_CLOCK_SKEW );
		cbt_queue_http( 401, '', array( 'Date' => gmdate( 'D, d M Y H:i:s', 1700000000 + 20 ) . ' GMT' ) );
		cbt_client()->release( '1' );
		assert_same( false, get_option( Creditbridge_Settings::OPT_CLOCK_SKEW ), 'small skew is not the cause' );
	}
);

test(
	'client: from_options needs a completed registration',
	function () {
		assert_same( null, Creditbridge_Client::from_options() );
		update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://b.example.com' );
		update_option( Creditbridge_Settings::OPT_SHOP_ID, 's1' );
		assert_same( null, Creditbridge_Client::from_options() );
		update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'sec' );
		assert_true( Creditbridge_Client::from_options() instanceof Creditbridge_Client );
	}
);

test(
	'client + My Account: credit a cap kept from being booked (kind earn_withheld, no change, no balance) is a statement row saying why',
	function () {
		// As the bridge answers a German customer view (adapters/httpapi/withheld_test.go).
		cbt_queue_http(
			200,
			'{"entries":[' .
			'{"id":"","kind":"earn_withheld","created_at":"2026-05-04T11:00:00Z","description":"Nicht gutgeschrieben · Bestellung #1003 · 1,00 € über der Jahresobergrenze des Shops pro Kunde","order_number":"#1003","withheld":"1.00","delta":"","available_after":""},' .
			'{"id":"2","kind":"earn","created_at":"2026-05-04T10:00:00Z","description":"Gutgeschrieben · Bestellung #1002 · Tee","delta":"0.50","available_after":"1.50"}],"next_cursor":""}'
		);
		$s = cbt_client()->statement( '12', 'EUR', 20, '' );
		assert_same( 2, count( $s['entries'] ) );
		assert_same( 'earn_withheld', $s['entries'][0]['kind'] );
		assert_same( '', $s['entries'][0]['delta'] );
		assert_same( '', $s['entries'][0]['available_after'] );
		$html = Creditbridge_Account::statement_html( $s, 'EUR', 'https://shop.example/my-account/store-credit/' );
		assert_true( false !== strpos( $html, 'Nicht gutgeschrieben · Bestellung #1003 · 1,00 € über der Jahresobergrenze des Shops pro Kunde' ), $html );
		// The notice's change and balance cells stay empty; the earning keeps its own.
		assert_true( 1 === preg_match( '#Jahresobergrenze des Shops pro Kunde</td><td data-title="Change"></td><td data-title="Balance"></td>#u', $html ), $html );
		assert_true( false !== strpos( $html, '1.50' ) || false !== strpos( $html, '1,50' ), $html );
	}
);
