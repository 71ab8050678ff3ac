<?php
/**
 * My Account tab helpers, block data and bootstrap hooks.
 *
 * @package Creditbridge\Tests
 */

test(
	'account: voucher amount must be a decimal within the currency scale and the balance',
	function () {
		assert_same( '10.00', Creditbridge_Account::validate_voucher_amount( '10', '25.00', 'EUR' ) );
		assert_same( '25.00', Creditbridge_Account::validate_voucher_amount( '25.00', '25.00', 'EUR' ) );
		assert_same( '0.01', Creditbridge_Account::validate_voucher_amount( '0.01', '25.00', 'EUR' ) );
		assert_same( '300', Creditbridge_Account::validate_voucher_amount( '300', '300', 'JPY' ) );
		assert_wp_error( Creditbridge_Account::validate_voucher_amount( '25.01', '25.00', 'EUR' ), 'creditbridge_amount' );
		assert_wp_error( Creditbridge_Account::validate_voucher_amount( '10.001', '25.00', 'EUR' ), 'creditbridge_amount' );
		assert_same( '10.50', Creditbridge_Account::validate_voucher_amount( '10,50', '25.00', 'EUR' ), 'a decimal comma is fine' );
		assert_wp_error( Creditbridge_Account::validate_voucher_amount( '0', '25.00', 'EUR' ), 'creditbridge_amount' );
		assert_wp_error( Creditbridge_Account::validate_voucher_amount( '-5', '25.00', 'EUR' ), 'creditbridge_amount' );
		assert_wp_error( Creditbridge_Account::validate_voucher_amount( '1.5', '300', 'JPY' ), 'creditbridge_amount' );
		$e = Creditbridge_Account::validate_voucher_amount( '1.234', '25.00', 'EUR' );
		assert_contains( 'at most 2 decimals', $e->get_error_message() );
	}
);

test(
	'account: statement cursors are restricted to a safe alphabet',
	function () {
		assert_same( 'eyJpZCI6MTJ9', Creditbridge_Account::sanitize_cursor( 'eyJpZCI6MTJ9' ) );
		assert_same( 'a-b_c.d:e=', Creditbridge_Account::sanitize_cursor( 'a-b_c.d:e=' ) );
		assert_same( '', Creditbridge_Account::sanitize_cursor( 'a b' ) );
		assert_same( '', Creditbridge_Account::sanitize_cursor( '<script>' ) );
		assert_same( '', Creditbridge_Account::sanitize_cursor( str_repeat( 'a', 257 ) ) );
		assert_same( '', Creditbridge_Account::sanitize_cursor( array() ) );
	}
);

test(
	'account: the tab is added before log out only when registered',
	function () {
		$items   = array(
			'dashboard'       => 'Dashboard',
			'orders'          => 'Orders',
			'customer-logout' => 'Log out',
		);
		$account = new Creditbridge_Account();
		assert_same( $items, $account->menu_items( $items ) );
		update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://b.example.com' );
		update_option( Creditbridge_Settings::OPT_SHOP_ID, 's' );
		update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'p' );
		assert_same( array( 'dashboard', 'orders', 'store-credit', 'customer-logout' ), array_keys( $account->menu_items( $items ) ) );
		assert_same( array( 'store-credit' => 'store-credit' ), $account->query_vars( array() ) );
	}
);

test(
	'account: entry kinds have readable labels',
	function () {
		assert_same( 'Credit earned', Creditbridge_Account::kind_label( 'earn' ) );
		assert_same( 'Turned into a voucher', Creditbridge_Account::kind_label( 'voucher_issue' ) );
		assert_same( 'Adjustment', Creditbridge_Account::kind_label( 'something_new' ) );
	}
);

test(
	'blocks: cart extension data mirrors the classic display and the script fills the order summary',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		$blocks            = new Creditbridge_Blocks( $cart );
		$empty             = $blocks->data();
		assert_same( false, $empty['show'] );
		assert_same( array_keys( Creditbridge_Blocks::schema() ), array_keys( $empty ), 'data matches schema' );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$d = $blocks->data();
		assert_same( true, $d['show'] );
		assert_same( '10.00', $d['applied'] );
		assert_same( 'EUR', $d['currency'] );
		$js = Creditbridge_Blocks::inline_script();
		assert_contains( "registerPlugin( 'creditbridge'", $js );
		assert_contains( 'ExperimentalOrderMeta', $js );
		assert_contains( 'extensions.creditbridge', $js );
		assert_contains( '"Store credit"', $js );
	}
);

test(
	'bootstrap: compatibility is declared before WooCommerce init and the plugin starts on plugins_loaded',
	function () {
		$boot = $GLOBALS['cbt_boot_hooks'];
		assert_same( array( array( 'Creditbridge_Plugin', 'declare_compatibility' ) ), $boot['before_woocommerce_init'] );
		assert_same( array( array( 'Creditbridge_Plugin', 'init' ) ), $boot['plugins_loaded'] );
		assert_true( isset( $boot['activate_creditbridge.php'] ) );
		\Automattic\WooCommerce\Utilities\FeaturesUtil::$calls = array();
		Creditbridge_Plugin::declare_compatibility();
		$main = realpath( __DIR__ . '/../creditbridge/creditbridge.php' );
		assert_same(
			array(
				array( 'custom_order_tables', $main, true ),
				array( 'cart_checkout_blocks', $main, true ),
			),
			array_map(
				function ( $c ) {
					return array( $c[0], realpath( $c[1] ), $c[2] );
				},
				\Automattic\WooCommerce\Utilities\FeaturesUtil::$calls
			)
		);
	}
);

test(
	'bootstrap: the plugin never writes post meta directly',
	function () {
		$files = glob( __DIR__ . '/../creditbridge/{,includes/}*.php', GLOB_BRACE );
		assert_true( count( $files ) >= 10, 'files found' );
		foreach ( $files as $f ) {
			$src = file_get_contents( $f );
			foreach ( array( 'update_post_meta', 'add_post_meta', 'get_post_meta', 'floatval', '(float)' ) as $banned ) {
				assert_not_contains( $banned, $src, basename( $f ) );
			}
		}
	}
);

test(
	'plugin: REST calls sent as ?rest_route=/wc/v3/... are recognized as WooCommerce API calls (plain permalinks)',
	function () {
		$get = $_GET;
		try {
			$_GET = array( 'rest_route' => '/wc/v3/orders' );
			assert_same( true, Creditbridge_Plugin::rest_route_is_wc_api( false ) );
			$_GET = array( 'rest_route' => '/wc/v3' );
			assert_same( true, Creditbridge_Plugin::rest_route_is_wc_api( false ) );
			$_GET = array( 'rest_route' => '/wp/v2/users' );
			assert_same( false, Creditbridge_Plugin::rest_route_is_wc_api( false ), 'other APIs are left alone' );
			$_GET = array( 'rest_route' => '/wc/v3x/orders' );
			assert_same( false, Creditbridge_Plugin::rest_route_is_wc_api( false ) );
			$_GET = array( 'rest_route' => array( '/wc/v3/orders' ) );
			assert_same( false, Creditbridge_Plugin::rest_route_is_wc_api( false ) );
			$_GET = array();
			assert_same( false, Creditbridge_Plugin::rest_route_is_wc_api( false ) );
			assert_same( true, Creditbridge_Plugin::rest_route_is_wc_api( true ), 'an earlier yes stays' );
		} finally {
			$_GET = $get;
		}
	}
);

test(
	'account: statement pages both ways, pending dates, how to earn, voucher codes with their state',
	function () {
		$page = array(
			'entries'     => array(
				array( 'id' => '1', 'created_at' => '2026-12-06T10:00:00Z', 'kind' => 'earn', 'description' => 'Earned · Order #7 · <b>Tea</b>', 'order_number' => '#7', 'delta' => '5.00', 'available_after' => '5.00', 'available_from' => '2026-12-20T10:00:00Z' ),
			),
			'next_cursor' => '41',
			'prev_cursor' => '60',
			'earn_hints'  => array(),
		);
		$html = Creditbridge_Account::statement_html( $page, 'EUR', 'https://shop.example/my-account/store-credit/' );
		assert_contains( '&lt;b&gt;Tea&lt;/b&gt;', $html );
		assert_contains( 'pending, available from', $html );
		assert_contains( 'cb_after=60', $html );
		assert_contains( 'cb_cursor=41', $html );
		assert_contains( 'Newer entries', $html );
		$empty = Creditbridge_Account::statement_html( array( 'entries' => array(), 'next_cursor' => '', 'prev_cursor' => '', 'earn_hints' => array( '2.5% of the price of every purchase' ) ), 'EUR', 'https://shop.example/a/' );
		assert_contains( 'You have no store credit yet.', $empty );
		assert_contains( '<li>2.5% of the price of every purchase</li>', $empty );
		assert_true( false === strpos( $empty, 'cb_cursor' ), 'no page links on a single page' );
		$v = Creditbridge_Account::vouchers_html( array( array( 'code' => 'cbv-ab12', 'amount' => '10.50', 'currency' => 'EUR', 'status' => 'issued', 'expires_at' => '2027-03-01T00:00:00Z' ) ) );
		assert_contains( 'CBV-AB12', $v );
		assert_contains( 'Ready to use', $v );
		assert_same( '', Creditbridge_Account::vouchers_html( array() ) );
	}
);

test(
	'account: the voucher amount placeholder uses the shop decimal separator',
	function () {
		assert_same( '57.34', Creditbridge_Account::input_amount( '57.34' ), 'WooCommerce absent or point separator' );
		if ( ! function_exists( 'wc_get_price_decimal_separator' ) ) {
			/**
			 * WooCommerce's price decimal separator (the tests' stand-in; "." unless a test sets another).
			 *
			 * @return string
			 */
			function wc_get_price_decimal_separator() {
				return isset( $GLOBALS['cb_test_decimal_separator'] ) ? $GLOBALS['cb_test_decimal_separator'] : '.';
			}
		}
		$GLOBALS['cb_test_decimal_separator'] = ',';
		try {
			assert_same( '57,34', Creditbridge_Account::input_amount( '57.34' ), 'a German shop' );
			assert_same( '1234,50', Creditbridge_Account::input_amount( '1234.50' ), 'no thousands separator' );
		} finally {
			unset( $GLOBALS['cb_test_decimal_separator'] );
		}
		assert_same( '57.34', Creditbridge_Account::input_amount( '57.34' ) );
	}
);
