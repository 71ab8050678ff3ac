<?php
/**
 * "You earn X" line: quote lines, the public quote with its cache and
 * quiet failures, the product page, variations, classic totals and the
 * block cart data; amounts in the reader's format.
 *
 * @package Creditbridge\Tests
 */

/** A product with the WC_Product methods the earn line reads. */
class Cbt_Earn_Product extends Cbt_Product {
	public $id;
	public $type;
	public function __construct( $id, $price, $sku, $type = 'simple' ) {
		parent::__construct( $price, $sku );
		$this->id   = $id;
		$this->type = $type;
	}
	public function get_id() {
		return $this->id;
	}
	public function is_type( $type ) {
		return $type === $this->type;
	}
}

/** Registered shop. */
function cbt_earn_env() {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, 'shop-7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	return new Creditbridge_Earn();
}

/** Bridge answer of the public quote. */
function cbt_earn_body( $amount, $currency = 'EUR' ) {
	return json_encode(
		array(
			'currency'  => $currency,
			'amount'    => $amount,
			'formatted' => 'ignored',
			'text'      => 'ignored',
		)
	);
}

test(
	'money: amounts are formatted for the reader as the bridge does (1.234,56 € / €1,234.56)',
	function () {
		$nb = "\u{a0}";
		assert_same( '1.234,56' . $nb . '€', Creditbridge_Money::format( '1234.56', 'EUR', 'de_DE' ) );
		assert_same( '2,50' . $nb . '€', Creditbridge_Money::format( '2.5', 'EUR', 'de_DE_formal' ) );
		assert_same( '€1,234.56', Creditbridge_Money::format( '1234.56', 'EUR', 'en_US' ) );
		assert_same( '1.234.567,00' . $nb . '€', Creditbridge_Money::format( '1234567', 'EUR', 'de_AT' ) );
		assert_same( 'CHF' . $nb . '12.50', Creditbridge_Money::format( '12.50', 'CHF', 'en_GB' ) );
		assert_same( '$0.99', Creditbridge_Money::format( '0.99', 'USD', 'en_US' ) );
		assert_same( '1.000' . $nb . '¥', Creditbridge_Money::format( '1000', 'JPY', 'de_DE' ) );
		assert_same( "\u{2212}" . '3,00' . $nb . '€', Creditbridge_Money::format( '-3', 'EUR', 'de_DE' ) );
		assert_same( 'XTS' . $nb . '5.00', Creditbridge_Money::format( '5', 'XTS', 'en_US' ), 'unknown symbol: the code' );
		assert_same( 1999, Creditbridge_Money::number_to_minor( 19.99, 2 ) );
		assert_same( 1999, Creditbridge_Money::number_to_minor( 19.989999999, 2 ) );
		assert_same( 30, Creditbridge_Money::number_to_minor( 0.1 + 0.2, 2 ) );
		assert_same( 1681, Creditbridge_Money::number_to_minor( 16.806722689, 2 ), 'half up' );
		assert_same( 1500, Creditbridge_Money::number_to_minor( '15', 2 ) );
		assert_same( null, Creditbridge_Money::number_to_minor( INF, 2 ) );
	}
);

test(
	'earn: quote lines carry exact net totals, split when a total does not divide by the quantity',
	function () {
		assert_same( array( '5:0:TEE:3:4.00' ), Creditbridge_Earn::lines_for_total( 5, 0, 'TEE', 3, 1200, 2 ) );
		// 10.00 over 3 items: 2 × 3.33 + 1 × 3.34 = 10.00.
		assert_same( array( '5:9:TEE:2:3.33', '5:9:TEE:1:3.34' ), Creditbridge_Earn::lines_for_total( 5, 9, 'TEE', 3, 1000, 2 ) );
		assert_same( array( '5:0::1:0.01' ), Creditbridge_Earn::lines_for_total( 5, 0, 'A:B', 1, 1, 2 ), 'a SKU with the separator is left out' );
		assert_same( array(), Creditbridge_Earn::lines_for_total( 5, 0, '', 0, 100, 2 ) );
		assert_same( array( '7:0:X:2:150' ), Creditbridge_Earn::lines_for_total( 7, 0, 'X', 2, 300, 0 ) );
		$items = array(
			array(
				'product_id'   => 1,
				'variation_id' => 0,
				'quantity'     => 2,
				'line_total'   => 33.61, // after a coupon, without tax (a float, as WooCommerce keeps it)
				'data'         => new Cbt_Product( '20.00', 'X' ),
			),
			array(
				'product_id'   => 5,
				'variation_id' => 9,
				'quantity'     => 1,
				'data'         => new Cbt_Product( '60', 'Y-L' ),
			),
		);
		assert_same( array( '1:0:X:1:16.80', '1:0:X:1:16.81', '5:9:Y-L:1:60.00' ), Creditbridge_Earn::cart_lines( $items, 'EUR' ) );
		assert_same( null, Creditbridge_Earn::cart_lines( array( array( 'quantity' => 1 ) ), 'EUR' ) );
	}
);

test(
	'earn: the public quote is asked once per lines, cached, and fails quietly with a backoff',
	function () {
		$earn = cbt_earn_env();
		assert_same( null, ( new Creditbridge_Earn() )->quote( array(), 'EUR' ) );
		cbt_queue_http( 200, cbt_earn_body( '2.50' ) );
		assert_same( '2.50', $earn->quote( array( '1:0:X:1:19.99', '2:0:A B:1:5.00' ), 'EUR' ) );
		$sent = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/public/earn?platform=woocommerce&shop=https%3A%2F%2Fshop.example.com&line=1%3A0%3AX%3A1%3A19.99&line=2%3A0%3AA%20B%3A1%3A5.00', $sent['url'] );
		assert_same( 'GET', $sent['args']['method'] );
		assert_same( 2, $sent['args']['timeout'], 'a short timeout' );
		assert_same( '2.50', $earn->quote( array( '1:0:X:1:19.99', '2:0:A B:1:5.00' ), 'EUR' ), 'cached' );
		assert_same( 1, count( $GLOBALS['cbt']['http_log'] ), 'one call for the same lines' );

		// Another currency than the shop's, or an odd answer: nothing, and a pause.
		cbt_queue_http( 200, cbt_earn_body( '1.00', 'USD' ) );
		assert_same( null, $earn->quote( array( '3:0::1:9.00' ), 'EUR' ) );
		assert_true( (bool) get_transient( Creditbridge_Earn::BACKOFF_TRANSIENT ), 'backoff after an odd answer' );
		assert_same( null, $earn->quote( array( '4:0::1:9.00' ), 'EUR' ) );
		assert_same( 2, count( $GLOBALS['cbt']['http_log'] ), 'no call during the backoff' );
		delete_transient( Creditbridge_Earn::BACKOFF_TRANSIENT );

		// Bridge down: nothing and no call for a while.
		cbt_queue_http_error( 'Operation timed out after 2001 milliseconds' );
		assert_same( null, $earn->quote( array( '5:0::1:9.00' ), 'EUR' ) );
		assert_true( (bool) get_transient( Creditbridge_Earn::BACKOFF_TRANSIENT ) );
		delete_transient( Creditbridge_Earn::BACKOFF_TRANSIENT );

		// A refused line is remembered (no backoff for other lines).
		cbt_queue_http( 400, '{"error":{"code":"invalid","message":"line 1: price"}}' );
		assert_same( null, $earn->quote( array( '6:0::1:9.00' ), 'EUR' ) );
		assert_same( false, get_transient( Creditbridge_Earn::BACKOFF_TRANSIENT ) );
		$n = count( $GLOBALS['cbt']['http_log'] );
		assert_same( null, $earn->quote( array( '6:0::1:9.00' ), 'EUR' ) );
		assert_same( $n, count( $GLOBALS['cbt']['http_log'] ), 'not asked again' );

		// Shop not found under this address: a long pause.
		cbt_queue_http( 404, '{"error":{"code":"not_found","message":"shop not found"}}' );
		assert_same( null, $earn->quote( array( '7:0::1:9.00' ), 'EUR' ) );
		assert_true( (bool) get_transient( Creditbridge_Earn::BACKOFF_TRANSIENT ) );

		delete_option( Creditbridge_Settings::OPT_SHOP_ID );
		delete_transient( Creditbridge_Earn::BACKOFF_TRANSIENT );
		$n = count( $GLOBALS['cbt']['http_log'] );
		assert_same( null, $earn->quote( array( '8:0::1:9.00' ), 'EUR' ), 'not registered' );
		assert_same( $n, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'earn: the sentence in English and German, nothing for zero',
	function () {
		assert_same( 'You earn €2.50 in store credit with this order.', Creditbridge_Earn::text( '2.50', 'EUR' ) );
		assert_same( 'You earn €0.40 in store credit with this product.', Creditbridge_Earn::text( '0.40', 'EUR', 'product' ) );
		$GLOBALS['cbt']['locale'] = 'de_DE';
		// The stubs do not translate (the .po test covers the German text); the amount follows the locale.
		assert_contains( "1.234,56\u{a0}€", Creditbridge_Earn::text( '1234.56', 'EUR' ) );
		assert_same( '', Creditbridge_Earn::text( '0.00', 'EUR' ) );
		assert_same( '', Creditbridge_Earn::text( null, 'EUR' ) );
		assert_same( '', Creditbridge_Earn::text( 'x', 'EUR' ) );
	}
);

test(
	'earn: product page line for simple products, per variation for variable ones, once per product',
	function () {
		$earn = cbt_earn_env();
		$earn->hooks();
		global $product;
		$product = new Cbt_Earn_Product( 42, '19.99', 'TEA' );
		cbt_queue_http( 200, cbt_earn_body( '0.50' ) );
		ob_start();
		do_action( 'woocommerce_before_add_to_cart_form' );
		do_action( 'woocommerce_before_add_to_cart_form' ); // a second form on the page
		$html = ob_get_clean();
		assert_same( '<p class="creditbridge-earn">You earn €0.50 in store credit with this product.</p>', $html );
		assert_contains( 'line=42%3A0%3ATEA%3A1%3A19.99', $GLOBALS['cbt']['http_log'][0]['url'] );

		$product = new Cbt_Earn_Product( 50, '', '', 'variable' );
		ob_start();
		do_action( 'woocommerce_before_add_to_cart_form' );
		assert_same( '', ob_get_clean(), 'variable: nothing before a variation is chosen' );
		$variation = new Cbt_Earn_Product( 51, '30', 'TEA-L', 'variation' );
		cbt_queue_http( 200, cbt_earn_body( '0.75' ) );
		$data = apply_filters( 'woocommerce_available_variation', array( 'availability_html' => '<p class="stock">In stock</p>' ), $product, $variation );
		assert_same( '<p class="stock">In stock</p><p class="creditbridge-earn">You earn €0.75 in store credit with this product.</p>', $data['availability_html'] );
		assert_contains( 'line=50%3A51%3ATEA-L%3A1%3A30.00', $GLOBALS['cbt']['http_log'][1]['url'] );

		// Nothing to earn, or the bridge down: the page shows nothing extra.
		cbt_queue_http( 200, cbt_earn_body( '0.00' ) );
		$data = apply_filters( 'woocommerce_available_variation', array(), $product, new Cbt_Earn_Product( 52, '1', 'X', 'variation' ) );
		assert_same( array(), $data );
		cbt_queue_http_error( 'down' );
		$data = apply_filters( 'woocommerce_available_variation', array(), $product, new Cbt_Earn_Product( 53, '2', 'X', 'variation' ) );
		assert_same( array(), $data );
		$product = null;
	}
);

test(
	'earn: classic cart and checkout totals get a row; the block cart data carries earn and earn_text',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		$earn              = new Creditbridge_Earn();
		$earn->hooks();
		$wc->cart->items['a']['line_total'] = 40.0;
		$wc->cart->items['b']['line_total'] = '50.42';
		cbt_queue_http( 200, cbt_earn_body( '1234.50' ) );
		ob_start();
		do_action( 'woocommerce_cart_totals_after_order_total' );
		do_action( 'woocommerce_review_order_after_order_total' );
		$html = ob_get_clean();
		assert_same( 2, substr_count( $html, '<tr class="creditbridge-earn"><th>Store credit earned</th><td data-title="Store credit earned">You earn €1,234.50 in store credit with this order.</td></tr>' ), $html );
		assert_same( 1, count( cbt_sent( '/api/v1/public/earn' ) ), 'cached between the two' );
		assert_contains( 'line=1%3A0%3AX%3A2%3A20.00&line=5%3A9%3AY-L%3A1%3A50.42', cbt_sent( '/api/v1/public/earn' )[0]['url'] );

		$blocks = new Creditbridge_Blocks( $cart, $earn );
		$d      = $blocks->data();
		assert_same( array_keys( Creditbridge_Blocks::schema() ), array_keys( $d ), 'data matches schema' );
		assert_same( '1234.50', $d['earn'] );
		assert_same( 'You earn €1,234.50 in store credit with this order.', $d['earn_text'] );
		assert_same( false, $d['show'], 'no credit quote yet: the credit notice stays hidden' );
		foreach ( $d as $k => $v ) {
			$def = Creditbridge_Blocks::schema()[ $k ];
			assert_same( 'boolean' === $def['type'] ? 'boolean' : 'string', gettype( $v ), "type of {$k} matches the schema" );
		}
		$js = Creditbridge_Blocks::inline_script();
		assert_contains( 'data.earn_text', $js );
		assert_contains( 'registerCheckoutFilters', $js );

		// Guests see it too; an empty cart shows nothing.
		$GLOBALS['cbt']['user_id'] = 0;
		assert_same( '1234.50', $blocks->data()['earn'] );
		$wc->cart->items = array();
		assert_same( '', $blocks->data()['earn_text'] );
		ob_start();
		do_action( 'woocommerce_cart_totals_after_order_total' );
		assert_same( '', ob_get_clean() );
	}
);

test(
	'labels: the shop\'s name per language from the bridge, then the plugin\'s name, then "Store credit"',
	function () {
		assert_same( 'Store credit', Creditbridge_Settings::discount_label( 'de_DE' ) );
		update_option( Creditbridge_Settings::OPT_LABEL, 'Bonus' );
		assert_same( 'Bonus', Creditbridge_Settings::discount_label( 'de_DE' ) );
		assert_same( array( 'de' => 'Treuebonus' ), Creditbridge_Settings::store_labels( array( 'de' => ' Treuebonus ', 'fr' => 'Crédit', 'en' => '' ) ) );
		assert_same( true, $GLOBALS['cbt']['autoload'][ Creditbridge_Settings::OPT_LABELS ] );
		assert_same( 'Treuebonus', Creditbridge_Settings::discount_label( 'de_DE_formal' ) );
		assert_same( 'Treuebonus', Creditbridge_Settings::discount_label( 'de_CH' ) );
		assert_same( 'Bonus', Creditbridge_Settings::discount_label( 'en_GB' ), 'English falls back to the single name' );
		assert_same( 'Bonus', Creditbridge_Settings::discount_label( 'fr_FR' ), 'other languages read the English name' );
		Creditbridge_Settings::store_labels( array( 'de' => 'Treuebonus', 'en' => '<b>Loyalty</b> credit' ) );
		assert_same( 'Loyalty credit', Creditbridge_Settings::discount_label( 'fr_FR' ) );
		$GLOBALS['cbt']['locale'] = 'de_DE';
		assert_same( 'Treuebonus', Creditbridge_Settings::discount_label(), 'the current locale' );
		assert_same( null, Creditbridge_Settings::store_labels( null ), 'an older bridge sends none: kept' );
		assert_same( 'Treuebonus', Creditbridge_Settings::discount_label() );
		Creditbridge_Settings::store_labels( array() );
		assert_same( 'Bonus', Creditbridge_Settings::discount_label(), 'labels removed on the bridge' );
		assert_true( in_array( Creditbridge_Settings::OPT_LABELS, Creditbridge_Settings::all_options(), true ), 'removed on uninstall' );
		$html = Creditbridge_Rules_Admin::labels_html( array( 'de' => '<i>Treue</i>' ) );
		assert_contains( 'German: <strong>&lt;i&gt;Treue&lt;/i&gt;</strong>', $html );
	}
);

test(
	'labels: a quote stores the bridge\'s names; the coupon, totals and blocks show the name of the reader\'s language; redemptions stay recognised by the code',
	function () {
		list( $wc, $cart ) = cbt_cart_env( $now );
		$body              = json_decode( cbt_quote_body( '123', '10.00', '25.00' ), true );
		$body['discount_labels'] = array(
			'de' => 'Treuebonus',
			'en' => 'Loyalty credit',
		);
		cbt_queue_http( 200, json_encode( $body ) );
		$cart->sync( $wc->cart );
		assert_same( array( 'cb-123' ), $wc->cart->applied );
		assert_same( 'Loyalty credit', $wc->cart->coupons['cb-123']['description'] );
		assert_same( 'Loyalty credit', apply_filters( 'woocommerce_cart_totals_coupon_label', 'Coupon: cb-123', new WC_Coupon( 'cb-123' ) ) );
		$GLOBALS['cbt']['locale'] = 'de_DE';
		assert_same( 'Treuebonus', apply_filters( 'woocommerce_cart_totals_coupon_label', 'Coupon: cb-123', new WC_Coupon( 'cb-123' ) ) );
		assert_contains( '"Treuebonus"', Creditbridge_Blocks::inline_script() );
		assert_same( 'Gutschein: SOMMER', apply_filters( 'woocommerce_cart_totals_coupon_label', 'Gutschein: SOMMER', new WC_Coupon( 'sommer' ) ), 'other coupons keep theirs' );
		// Whatever the label, the code is what identifies credit.
		assert_true( Creditbridge_Coupon::is_credit_code( 'cb-123' ) );
		assert_true( ! Creditbridge_Coupon::is_credit_code( 'Treuebonus' ) );
		assert_true( ! isset( $GLOBALS['cbt']['wc']->session->data['creditbridge_quote']['quote']['discount_labels'] ), 'labels are not kept in the session' );
	}
);
