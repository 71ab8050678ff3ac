<?php
/**
 * Cart integration: quote request, caching, applying, releasing, order meta.
 *
 * @package Creditbridge\Tests
 */

/** Registered shop, logged-in customer 12, a cart with two lines, hooks on. */
function cbt_cart_env( &$now ) {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, 'shop-7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	$GLOBALS['cbt']['user_id']    = 12;
	$GLOBALS['cbt']['user_email'] = 'Ann@Example.com';
	$wc                           = cbt_wc();
	$wc->customer->billing_email  = 'ann.billing@example.com';
	$wc->cart->items              = array(
		'a' => array(
			'product_id'   => 1,
			'variation_id' => 0,
			'quantity'     => 2,
			'data'         => new Cbt_Product( '20.00', 'X' ),
		),
		'b' => array(
			'product_id'   => 5,
			'variation_id' => 9,
			'quantity'     => 1,
			'data'         => new Cbt_Product( '60', 'Y-L' ),
		),
	);
	$now   = 1700000000;
	$clock = function () use ( &$now ) {
		return $now;
	};
	$cart  = new Creditbridge_Cart(
		function () use ( $clock ) {
			return new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234', $clock );
		},
		$clock
	);
	$cart->hooks();
	return array( $wc, $cart );
}

/** Bridge answer for a quote. */
function cbt_quote_body( $hold, $amount, $available, $expires = '2023-11-14T23:13:20Z' ) {
	return json_encode(
		array(
			'hold_id'     => $hold,
			'amount'      => $amount,
			'currency'    => 'EUR',
			'available'   => $available,
			'coupon_code' => '0.00' === $amount ? '' : 'cb-' . $hold,
			'expires_at'  => $expires,
		)
	);
}

/** Requests sent to a path. */
function cbt_sent( $path ) {
	$out = array();
	foreach ( $GLOBALS['cbt']['http_log'] as $r ) {
		if ( parse_url( $r['url'], PHP_URL_PATH ) === $path ) {
			$out[] = $r;
		}
	}
	return $out;
}

test(
	'cart: quote request lists lines with parent, variation, sku, quantity and exact totals',
	function () {
		$items = array(
			array(
				'product_id'   => 1,
				'variation_id' => 0,
				'quantity'     => 2,
				'data'         => new Cbt_Product( '19.995', 'X' ),
			),
			array(
				'product_id'   => 5,
				'variation_id' => 9,
				'quantity'     => 3,
				'data'         => new Cbt_Product( '0.10', '' ),
			),
			array(
				'product_id'   => 6,
				'variation_id' => 0,
				'quantity'     => 0,
				'data'         => new Cbt_Product( '5', 'Z' ),
			),
		);
		$req   = Creditbridge_Cart::build_quote_request( $items, '12', 'a@example.com', 'EUR', 'key1' );
		assert_same(
			array(
				'customer_id' => '12',
				'email'       => 'a@example.com',
				'cart_key'    => 'key1',
				'currency'    => 'EUR',
				'subtotal'    => '40.30',
				'lines'       => array(
					array(
						'product_id' => '1',
						'variant_id' => '0',
						'sku'        => 'X',
						'quantity'   => 2,
						'total'      => '40.00',
					),
					array(
						'product_id' => '5',
						'variant_id' => '9',
						'sku'        => '',
						'quantity'   => 3,
						'total'      => '0.30',
					),
				),
			),
			$req
		);
		$jpy = Creditbridge_Cart::build_quote_request( array( $items[0] ), '12', 'a@example.com', 'JPY', 'k' );
		assert_same( '40', $jpy['subtotal'], 'JPY rounds the price to whole yen first' );
	}
);

test(
	'cart: unreadable prices or overflow give no quote request',
	function () {
		$bad = array(
			array(
				'product_id' => 1,
				'quantity'   => 1,
				'data'       => new Cbt_Product( 'n/a', 'X' ),
			),
		);
		assert_same( null, Creditbridge_Cart::build_quote_request( $bad, '12', 'e', 'EUR', 'k' ) );
		$huge = array(
			array(
				'product_id' => 1,
				'quantity'   => 100000,
				'data'       => new Cbt_Product( '999999999999.99', 'X' ),
			),
		);
		assert_same( null, Creditbridge_Cart::build_quote_request( $huge, '12', 'e', 'EUR', 'k' ) );
		assert_same( null, Creditbridge_Cart::build_quote_request( array( array( 'quantity' => 1 ) ), '12', 'e', 'EUR', 'k' ) );
	}
);

test(
	'cart: first calculation quotes and applies cb-<hold>; the same cart reuses the cached quote',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		assert_same( array( 'cb-123' ), $wc->cart->applied );
		$sent = cbt_sent( '/api/v1/plugin/quote' );
		assert_same( 1, count( $sent ) );
		$body = json_decode( $sent[0]['args']['body'], true );
		assert_same( '12', $body['customer_id'] );
		assert_same( 'ann.billing@example.com', $body['email'] );
		assert_same( '100.00', $body['subtotal'] );
		assert_same( 'EUR', $body['currency'] );
		assert_same( $wc->session->get( Creditbridge_Quote_Cache::KEY_CART_KEY ), $body['cart_key'] );
		assert_same( '0', $body['lines'][0]['variant_id'] );
		assert_same( '9', $body['lines'][1]['variant_id'] );

		$coupon = $wc->cart->coupons['cb-123'];
		assert_same( '10.00', $coupon['amount'] );
		assert_same( 'fixed_cart', $coupon['discount_type'] );
		assert_same( array( 'ann@example.com', 'ann.billing@example.com' ), $coupon['email_restrictions'] );

		$now += 60;
		$cart->sync( $wc->cart );
		$cart->sync( $wc->cart );
		assert_same( 1, count( cbt_sent( '/api/v1/plugin/quote' ) ), 'cached per cart' );
		assert_same( array( 'cb-123' ), $wc->cart->applied );
	}
);

test(
	'cart: a changed cart is quoted again with the same cart key and the coupon follows the new hold',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$wc->cart->items['a']['quantity'] = 3;
		cbt_queue_http( 200, cbt_quote_body( '124', '12.00', '23.00' ) );
		$cart->sync( $wc->cart );
		$sent = cbt_sent( '/api/v1/plugin/quote' );
		assert_same( 2, count( $sent ) );
		$b0 = json_decode( $sent[0]['args']['body'], true );
		$b1 = json_decode( $sent[1]['args']['body'], true );
		assert_same( $b0['cart_key'], $b1['cart_key'] );
		assert_same( '120.00', $b1['subtotal'] );
		assert_same( array( 'cb-124' ), $wc->cart->applied );
		assert_same( 0, count( cbt_sent( '/api/v1/plugin/release' ) ), 'replacing our own coupon is not a customer removal' );
		assert_same( false, $wc->session->get( Creditbridge_Quote_Cache::KEY_OPT_OUT, false ) );
	}
);

test(
	'cart: the quote is renewed shortly before the hold expires',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00', gmdate( 'Y-m-d\TH:i:s\Z', 1700000000 + 900 ) ) );
		$cart->sync( $wc->cart );
		$now += 900 - Creditbridge_Quote_Cache::EXPIRY_MARGIN;
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00', gmdate( 'Y-m-d\TH:i:s\Z', $now + 900 ) ) );
		$cart->sync( $wc->cart );
		assert_same( 2, count( cbt_sent( '/api/v1/plugin/quote' ) ) );
		assert_same( array( 'cb-123' ), $wc->cart->applied );
	}
);

test(
	'cart: bridge failure means no credit, checkout continues, and calls pause',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$wc->cart->items['a']['quantity'] = 5;
		cbt_queue_http_error( 'cURL error 28: timed out' );
		$cart->sync( $wc->cart );
		assert_same( array(), $wc->cart->applied, 'stale credit removed' );
		assert_same( null, $wc->session->get( Creditbridge_Quote_Cache::KEY_QUOTE ) );
		assert_true( false !== get_transient( Creditbridge_Cart::BACKOFF_TRANSIENT ), 'backoff set' );
		$cart->sync( $wc->cart );
		assert_same( 2, count( cbt_sent( '/api/v1/plugin/quote' ) ), 'no call during backoff' );
		assert_same( 0, count( cbt_sent( '/api/v1/plugin/release' ) ) );
	}
);

test(
	'cart: a zero quote applies nothing',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '', '0.00', '0.00', '' ) );
		$cart->sync( $wc->cart );
		assert_same( array(), $wc->cart->applied );
		assert_same( null, $cart->display_info(), 'nothing to show without credit' );
	}
);

test(
	'cart: guests, unregistered shops and admin screens never call the bridge',
	function () {
		list( $wc, $cart )         = cbt_cart_env( $now );
		$GLOBALS['cbt']['user_id'] = 0;
		$cart->sync( $wc->cart );
		$GLOBALS['cbt']['user_id']  = 12;
		$GLOBALS['cbt']['is_admin'] = true;
		$cart->sync( $wc->cart );
		$GLOBALS['cbt']['is_admin'] = false;
		delete_option( Creditbridge_Settings::OPT_PLUGIN_SECRET );
		$cart->sync( $wc->cart );
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
		assert_same( false, $cart->coupon_data( false, 'cb-123', null ) );
	}
);

test(
	'cart: removing the credit coupon releases the hold and stops auto-apply until opted in',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		cbt_queue_http( 200, '{}' );
		$wc->cart->remove_coupon( 'cb-123' );
		$rel = cbt_sent( '/api/v1/plugin/release' );
		assert_same( 1, count( $rel ) );
		assert_same( '{"hold_id":"123"}', $rel[0]['args']['body'] );
		$cart->sync( $wc->cart );
		assert_same( array(), $wc->cart->applied );
		assert_same( 1, count( cbt_sent( '/api/v1/plugin/quote' ) ), 'no new quote after opt-out' );
		$info = $cart->display_info();
		assert_contains( 'creditbridge_use_credit=1', $info['use_credit_url'] );
		assert_contains( '_wpnonce=', $info['use_credit_url'] );
	}
);

test(
	'cart: emptying the cart releases the open hold and starts a new cart key',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$key = $wc->session->get( Creditbridge_Quote_Cache::KEY_CART_KEY );
		cbt_queue_http( 200, '{}' );
		$wc->cart->empty_cart();
		assert_same( 1, count( cbt_sent( '/api/v1/plugin/release' ) ) );
		assert_same( null, $wc->session->get( Creditbridge_Quote_Cache::KEY_QUOTE ) );
		assert_true( $key !== ( new Creditbridge_Quote_Cache( $wc->session ) )->cart_key() );
	}
);

test(
	'cart: classic checkout stores cart key and hold id; the paid order emptying the cart keeps the hold',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$order = new Cbt_Order();
		do_action( 'woocommerce_checkout_create_order', $order, array() );
		assert_same( $wc->session->get( Creditbridge_Quote_Cache::KEY_CART_KEY ), $order->meta['_creditbridge_cart_key'] );
		assert_same( '123', $order->meta['_creditbridge_hold_id'] );
		assert_same( 0, $order->saves, 'WooCommerce saves the order after this hook' );
		$wc->cart->empty_cart();
		assert_same( 0, count( cbt_sent( '/api/v1/plugin/release' ) ), 'the order captures the hold' );
	}
);

test(
	'cart: block checkout stores the meta and saves the order',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '77', '5.00', '0.00' ) );
		$cart->sync( $wc->cart );
		$order = new Cbt_Order();
		do_action( 'woocommerce_store_api_checkout_update_order_meta', $order );
		assert_same( '77', $order->meta['_creditbridge_hold_id'] );
		assert_same( 1, $order->saves );
	}
);

test(
	'cart: no hold id on the order when the credit coupon is not applied',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$wc->cart->applied = array();
		$order             = new Cbt_Order();
		$cart->record_order_meta( $order );
		assert_true( isset( $order->meta['_creditbridge_cart_key'] ) );
		assert_same( false, isset( $order->meta['_creditbridge_hold_id'] ) );
	}
);

test(
	'cart: coupon data filter answers only for the session quote code and leaves other coupons alone',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		$data = apply_filters( 'woocommerce_get_shop_coupon_data', false, 'cb-123', null );
		assert_same( '10.00', $data['amount'] );
		assert_same( false, apply_filters( 'woocommerce_get_shop_coupon_data', false, 'cb-999', null ) );
		assert_same( false, apply_filters( 'woocommerce_get_shop_coupon_data', false, 'summer10', null ) );
		$other = array( 'amount' => '5' );
		assert_same( $other, $cart->coupon_data( $other, 'cb-123', null ), 'another plugin answered first' );
	}
);

test(
	'cart: display shows applied credit and remaining balance, and labels the coupon',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		// The issue's figures: 81.64 spendable, 42.97 applied, 38.67 left.
		cbt_queue_http( 200, cbt_quote_body( '123', '42.97', '81.64' ) );
		$cart->sync( $wc->cart );
		$info = $cart->display_info();
		assert_same( '42.97', $info['applied'] );
		assert_same( '81.64', $info['available'] );
		assert_same( '38.67', $info['remaining'], 'what is left after this order' );
		assert_contains( 'Remaining balance: 38.67 EUR', $info['message'] );
		assert_not_contains( '81.64', $info['message'] );
		ob_start();
		$cart->render_classic_row();
		$html = ob_get_clean();
		assert_contains( '<tr class="creditbridge-balance">', $html );
		assert_contains( 'Remaining balance: 38.67 EUR', $html );
		// Block checkout reads the same figure from the Store API extension.
		$data = ( new Creditbridge_Blocks( $cart ) )->data();
		assert_same( '38.67', $data['remaining'] );
		assert_contains( 'Remaining balance: 38.67 EUR', $data['message'] );
		assert_same( array_keys( Creditbridge_Blocks::schema() ), array_keys( $data ), 'schema lists every field' );
		assert_same( 'Store credit', $cart->coupon_label( 'Coupon: cb-123', new WC_Coupon( 'cb-123' ) ) );
		assert_same( 'Coupon: x', $cart->coupon_label( 'Coupon: x', new WC_Coupon( 'x' ) ) );
		assert_same( 'Your store credit was applied.', $cart->coupon_message( 'Coupon code applied successfully.', WC_Coupon::WC_COUPON_SUCCESS, new WC_Coupon( 'cb-123' ) ) );
		assert_same( 'Coupon code applied successfully.', $cart->coupon_message( 'Coupon code applied successfully.', WC_Coupon::WC_COUPON_SUCCESS, new WC_Coupon( 'x' ) ) );
	}
);

test(
	'cart: loading the cart drops a credit coupon that no longer matches the session quote, without a call',
	function () {
		list( $wc, $cart )  = cbt_cart_env( $now );
		$wc->cart->applied = array( 'cb-55', 'summer10' );
		$cart->on_cart_loaded( $wc->cart );
		assert_same( array( 'summer10' ), $wc->cart->applied );
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
		assert_same( false, $wc->session->get( Creditbridge_Quote_Cache::KEY_OPT_OUT, false ) );
	}
);

test(
	'cart: sync is guarded against recursion from inside a calculation',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		$calls             = 0;
		add_action(
			'woocommerce_removed_coupon',
			function () use ( $cart, $wc, &$calls ) {
				++$calls;
				$cart->sync( $wc->cart );
			}
		);
		$wc->cart->applied = array( 'cb-1' );
		cbt_queue_http( 200, cbt_quote_body( '123', '10.00', '25.00' ) );
		$cart->sync( $wc->cart );
		assert_same( 1, $calls );
		assert_same( 1, count( cbt_sent( '/api/v1/plugin/quote' ) ) );
		assert_same( array( 'cb-123' ), $wc->cart->applied );
	}
);

test(
	'cart: when the order uses all the credit, the remaining balance is zero',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		cbt_queue_http( 200, cbt_quote_body( '124', '20.00', '20.00' ) );
		$cart->sync( $wc->cart );
		$info = $cart->display_info();
		assert_same( '0.00', $info['remaining'] );
		assert_contains( 'Remaining balance: 0.00 EUR', $info['message'] );
	}
);

test(
	'cart: a voucher coupon (cbv-) in a shop with prices excluding tax is sized so the gross total falls by its face value (B2C), or is its face value off the net (B2B)',
	function () {
		$now = 1700000000;
		list( $wc, $cart ) = cbt_cart_env( $now );
		// Cart as WooCommerce calculated it: 100.00 net, 19.00 VAT (the shape
		// of a real order: WooCommerce takes a fixed_cart amount off the net
		// prices and lowers the VAT on top, see the woocommerce-ios fixture
		// order-with-coupon.json: discount 30, discount_tax 1.20).
		$wc->cart->subtotal                      = '100.00';
		$wc->cart->subtotal_tax                  = '19.00';
		$GLOBALS['cbt']['prices_include_tax']    = false;
		$v                                       = new WC_Coupon( 'cbv-ab12cd' );
		$v->meta['_creditbridge_voucher']        = 'cbv-ab12cd';
		// A voucher of 11.90 (issued with redeem_base gross, the default):
		// 10.00 off the net lowers the VAT by 1.90, the invoice by 11.90.
		$v->meta['_creditbridge_redeem_base']    = 'gross';
		assert_same( '10.00', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		unset( $v->meta['_creditbridge_redeem_base'] ); // issued before the meta existed: gross
		assert_same( '10.00', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		// Issued with redeem_base net (B2B): the face value off the net total.
		$v->meta['_creditbridge_redeem_base'] = 'net';
		assert_same( '11.90', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		$v->meta['_creditbridge_redeem_base'] = 'gross';
		// Prices including tax: the face value is the gross discount already.
		$GLOBALS['cbt']['prices_include_tax'] = true;
		assert_same( '11.90', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		$GLOBALS['cbt']['prices_include_tax'] = false;
		// Admin screens, other coupon types and the merchant's own coupons keep their amount.
		$GLOBALS['cbt']['is_admin'] = true;
		assert_same( '11.90', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		$GLOBALS['cbt']['is_admin'] = false;
		$v->type                    = 'percent';
		assert_same( '11.90', apply_filters( 'woocommerce_coupon_get_amount', '11.90', $v ) );
		assert_same( '30', apply_filters( 'woocommerce_coupon_get_amount', '30', new WC_Coupon( '30$off' ) ) );
		unset( $GLOBALS['cbt']['prices_include_tax'] );
	}
);
