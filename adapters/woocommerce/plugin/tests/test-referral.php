<?php
/**
 * Referral capture: cookie for the attribution window, order meta in
 * classic and block (Store API) checkout, typed codes.
 *
 * @package Creditbridge\Tests
 */

/** An order stub with get_meta (the block checkout's additional field). */
class Cbt_Ref_Order {
	public $meta = array();
	public function update_meta_data( $key, $value ) {
		$this->meta[ $key ] = $value;
	}
	public function get_meta( $key ) {
		return isset( $this->meta[ $key ] ) ? $this->meta[ $key ] : '';
	}
}

/** A Creditbridge_Referral with a recording cookie jar and a fixed clock. */
function cbt_referral( &$jar ) {
	$jar  = array();
	$_COOKIE = array();
	$ref  = new Creditbridge_Referral(
		function ( $name, $value, $expires ) use ( &$jar ) {
			$jar[] = array( $name, $value, $expires );
		},
		function () {
			return 1700000000;
		}
	);
	$ref->hooks();
	return $ref;
}

test(
	'referral: a ?ref link sets the cookie for the attribution window',
	function () {
		$ref = cbt_referral( $jar );
		assert_same( 'ANNA10', $ref->capture( array( 'ref' => 'ANNA10', 'utm_source' => 'x' ) ) );
		assert_same( array( array( 'creditbridge_ref', 'ANNA10', 1700000000 + 30 * 86400 ) ), $jar );
		assert_same( 'ANNA10', Creditbridge_Referral::remembered(), 'the same request sees it' );
		update_option( Creditbridge_Referral::OPT_DAYS, '7' );
		$ref->capture( array( 'ref' => 'LEAF' ) );
		assert_same( array( 'creditbridge_ref', 'LEAF', 1700000000 + 7 * 86400 ), $jar[1], 'configured window; the last link wins' );
		update_option( Creditbridge_Referral::OPT_DAYS, '9999' );
		$ref->capture( array( 'ref' => 'BOUNDED' ) );
		assert_same( 1700000000 + 30 * 86400, $jar[2][2], 'an out-of-range window falls back to 30 days' );
	}
);

test(
	'referral: bad or missing codes set nothing',
	function () {
		$ref = cbt_referral( $jar );
		foreach ( array( array(), array( 'ref' => '' ), array( 'ref' => '<script>' ), array( 'ref' => str_repeat( 'x', 201 ) ), array( 'ref' => array( 'a' ) ) ) as $q ) {
			assert_same( '', $ref->capture( $q ) );
		}
		assert_same( array(), $jar );
		$_COOKIE['creditbridge_ref'] = 'a b';
		assert_same( '', Creditbridge_Referral::remembered(), 'a tampered cookie is ignored' );
	}
);

test(
	'referral: classic checkout writes the cookie code, a typed code wins',
	function () {
		$ref = cbt_referral( $jar );
		$ref->capture( array( 'ref' => 'ANNA10' ) );
		$order = new Cbt_Order();
		do_action( 'woocommerce_checkout_create_order', $order, array( 'billing_email' => 'x@example.com' ) );
		assert_same( 'ANNA10', $order->meta['_creditbridge_partner'] );
		$typed = new Cbt_Order();
		do_action( 'woocommerce_checkout_create_order', $typed, array( 'creditbridge_referral_code' => ' typed42 ' ) );
		assert_same( 'typed42', $typed->meta['_creditbridge_partner'] );
		$_COOKIE = array();
		$none = new Cbt_Order();
		do_action( 'woocommerce_checkout_create_order', $none, array( 'creditbridge_referral_code' => 'no spaces allowed' ) );
		assert_same( array(), $none->meta, 'no valid code, no meta' );
	}
);

test(
	'referral: block checkout writes the meta through the Store API hook',
	function () {
		$ref = cbt_referral( $jar );
		$ref->capture( array( 'ref' => 'ANNA10' ) );
		$order = new Cbt_Ref_Order();
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $order, array( 'customer_note' => '' ) );
		assert_same( 'ANNA10', $order->meta['_creditbridge_partner'], 'cookie code' );
		// The additional checkout field, persisted by WooCommerce before the hook.
		$field = new Cbt_Ref_Order();
		$field->meta['_wc_other/creditbridge/referral-code'] = 'FIELD1';
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $field, array() );
		assert_same( 'FIELD1', $field->meta['_creditbridge_partner'], 'typed in the block field' );
		// Extension data posted by a checkout integration.
		$ext = new Cbt_Ref_Order();
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $ext, array( 'extensions' => array( 'creditbridge' => array( 'referral_code' => 'EXT9' ) ) ) );
		assert_same( 'EXT9', $ext->meta['_creditbridge_partner'], 'extension data' );
	}
);

test(
	'referral: a code posted as extensions.creditbridge.referral_code survives the Store API (the checkout schema is registered; WooCommerce drops unregistered extension data)',
	function () {
		cbt_referral( $jar );
		do_action( 'woocommerce_blocks_loaded' );
		$posted = array(
			'creditbridge' => array(
				'referral_code' => 'EXT9',
				'unknown'       => 'x',
			),
			'other-plugin' => array( 'a' => 1 ),
		);
		$kept = cbt_store_api_kept_extensions( 'checkout', $posted );
		assert_same( array( 'creditbridge' => array( 'referral_code' => 'EXT9' ) ), $kept, 'only the declared property is kept' );
		foreach ( $GLOBALS['cbt']['store_api'] as $reg ) {
			if ( 'checkout' === $reg['endpoint'] ) {
				$schema = call_user_func( $reg['schema_callback'] );
				assert_true( in_array( 'null', $schema['referral_code']['type'], true ), 'optional: a checkout without it validates' );
			}
		}
		$ext = new Cbt_Ref_Order();
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $ext, array( 'extensions' => $kept ) );
		assert_same( 'EXT9', $ext->meta['_creditbridge_partner'], 'extension data after WooCommerce sanitized it' );
		$none = new Cbt_Ref_Order();
		do_action( 'woocommerce_store_api_checkout_update_order_from_request', $none, array( 'extensions' => cbt_store_api_kept_extensions( 'checkout', array() ) ) );
		assert_same( array(), $none->meta, 'no code, no cookie: no meta' );
	}
);

test(
	'referral: the classic checkout field is optional and prefilled',
	function () {
		$ref = cbt_referral( $jar );
		$ref->capture( array( 'ref' => 'ANNA10' ) );
		$fields = apply_filters( 'woocommerce_checkout_fields', array( 'order' => array() ) );
		assert_same( false, $fields['order']['creditbridge_referral_code']['required'] );
		assert_same( 'ANNA10', $fields['order']['creditbridge_referral_code']['default'] );
		update_option( Creditbridge_Referral::OPT_FIELD, 'no' );
		$off = apply_filters( 'woocommerce_checkout_fields', array( 'order' => array() ) );
		assert_same( array(), $off['order'], 'the field can be turned off' );
	}
);

/** A referral object whose client talks to the queued HTTP answers. */
function cbt_referral_client() {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, 'shop-7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	$GLOBALS['cbt']['user_id'] = 12;
	return new Creditbridge_Referral(
		function () {},
		null,
		function () {
			return new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234' );
		}
	);
}

test(
	'referral: My Account shows the share code and link',
	function () {
		$ref = cbt_referral_client();
		cbt_queue_http( 200, json_encode( array( 'signup' => 'approval', 'code' => 'K7Q2M9XA', 'share_link' => 'https://shop.example.com/?ref=K7Q2M9XA', 'partner' => array( 'id' => 'c-12', 'status' => 'pending', 'downline' => 0 ) ) ) );
		ob_start();
		$ref->render_share();
		$html = ob_get_clean();
		assert_contains( 'K7Q2M9XA', $html );
		assert_contains( 'value="https://shop.example.com/?ref=K7Q2M9XA"', $html );
		// The link field has a label (axe "label", critical, on a real site).
		assert_true( 1 === preg_match( '/<label for="([^"]+)">Your link:<\/label> <input type="text" id="([^"]+)" readonly/', $html, $m ) && $m[1] === $m[2], 'the link field is labelled: ' . $html );
		assert_contains( 'approve', $html, 'a pending partner is told' );
		$sent = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'GET', $sent['args']['method'] );
		assert_contains( '/api/v1/plugin/customers/12/referral', $sent['url'] );
	}
);

test(
	'referral: My Account offers self-signup unless the shop closed it',
	function () {
		$ref = cbt_referral_client();
		cbt_queue_http( 200, json_encode( array( 'signup' => 'open', 'code' => null, 'share_link' => null, 'partner' => null ) ) );
		ob_start();
		$ref->render_share();
		$html = ob_get_clean();
		assert_contains( 'name="creditbridge_referral_signup"', $html );
		cbt_queue_http( 200, json_encode( array( 'signup' => 'closed', 'code' => null, 'share_link' => null, 'partner' => null ) ) );
		ob_start();
		$ref->render_share();
		$html = ob_get_clean();
		assert_not_contains( '<form', $html );
		cbt_queue_http( 201, json_encode( array( 'signup' => 'open', 'code' => 'NEWCODE1' ) ) );
		$res = Creditbridge_Referral::fetch( new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234' ), '12', true );
		assert_same( 'NEWCODE1', $res['code'] );
		assert_same( 'POST', $GLOBALS['cbt']['http_log'][2]['args']['method'] );
	}
);
