<?php
/**
 * Block cart and checkout: exposes the credit state and what the order
 * earns in the Store API cart response (extensions.creditbridge, through
 * WooCommerce's ExtendSchema: woocommerce_store_api_register_endpoint_data)
 * and renders both with a small inline script in the order summary
 * (ExperimentalOrderMeta slot).
 *
 * The coupon itself needs nothing here: block checkout shows it as a
 * discount like any coupon.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Store API extension and block script.
 */
class Creditbridge_Blocks {

	const NAMESPACE_KEY = 'creditbridge';
	const SCRIPT        = 'creditbridge-blocks';

	/**
	 * Cart integration (source of the displayed data).
	 *
	 * @var Creditbridge_Cart
	 */
	private $cart;

	/**
	 * Earn line (source of earn and earn_text).
	 *
	 * @var Creditbridge_Earn
	 */
	private $earn;

	/**
	 * Constructor.
	 *
	 * @param Creditbridge_Cart      $cart Cart integration.
	 * @param Creditbridge_Earn|null $earn Earn line.
	 */
	public function __construct( Creditbridge_Cart $cart, $earn = null ) {
		$this->cart = $cart;
		$this->earn = $earn ? $earn : new Creditbridge_Earn();
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'woocommerce_blocks_loaded', array( $this, 'register_endpoint_data' ) );
		add_action( 'wp_enqueue_scripts', array( $this, 'enqueue' ) );
	}

	/**
	 * Adds extensions.creditbridge to the Store API cart.
	 */
	public function register_endpoint_data() {
		if ( ! function_exists( 'woocommerce_store_api_register_endpoint_data' ) ) {
			return;
		}
		$endpoint = class_exists( '\Automattic\WooCommerce\StoreApi\Schemas\V1\CartSchema' ) ? \Automattic\WooCommerce\StoreApi\Schemas\V1\CartSchema::IDENTIFIER : 'cart';
		woocommerce_store_api_register_endpoint_data(
			array(
				'endpoint'        => $endpoint,
				'namespace'       => self::NAMESPACE_KEY,
				'data_callback'   => array( $this, 'data' ),
				'schema_callback' => array( __CLASS__, 'schema' ),
				'schema_type'     => ARRAY_A,
			)
		);
	}

	/**
	 * Data of extensions.creditbridge.
	 *
	 * @return array
	 */
	public function data() {
		$info = $this->cart->display_info();
		$earn = $this->earn->cart_earn();
		$out  = array(
			'show'           => false,
			'message'        => '',
			'applied'        => '',
			'available'      => '',
			'remaining'      => '',
			'currency'       => '',
			'use_credit_url' => '',
			'earn'           => (string) $earn['amount'],
			'earn_text'      => (string) $earn['text'],
		);
		if ( null === $info ) {
			return $out;
		}
		return array_merge(
			$out,
			array(
				'show'           => true,
				'message'        => (string) $info['message'],
				'applied'        => (string) $info['applied'],
				'available'      => (string) $info['available'],
				'remaining'      => (string) $info['remaining'],
				'currency'       => (string) $info['currency'],
				'use_credit_url' => (string) $info['use_credit_url'],
			)
		);
	}

	/**
	 * Schema of extensions.creditbridge.
	 *
	 * @return array
	 */
	public static function schema() {
		$str = array(
			'type'     => 'string',
			'context'  => array( 'view', 'edit' ),
			'readonly' => true,
		);
		return array(
			'show'           => array(
				'description' => __( 'Whether to show the store credit notice.', 'creditbridge' ),
				'type'        => 'boolean',
				'context'     => array( 'view', 'edit' ),
				'readonly'    => true,
			),
			'message'        => $str + array( 'description' => __( 'Store credit notice text.', 'creditbridge' ) ),
			'applied'        => $str + array( 'description' => __( 'Credit applied to the cart (decimal string).', 'creditbridge' ) ),
			'available'      => $str + array( 'description' => __( 'Spendable credit including what this cart uses (decimal string).', 'creditbridge' ) ),
			'remaining'      => $str + array( 'description' => __( 'Credit left after this order (decimal string).', 'creditbridge' ) ),
			'currency'       => $str + array( 'description' => __( 'Currency of the amounts.', 'creditbridge' ) ),
			'use_credit_url' => $str + array( 'description' => __( 'Link that re-enables credit after the customer removed it.', 'creditbridge' ) ),
			'earn'           => $str + array( 'description' => __( 'Store credit this order earns (decimal string, empty when unknown).', 'creditbridge' ) ),
			'earn_text'      => $str + array( 'description' => __( 'Sentence telling the customer what this order earns.', 'creditbridge' ) ),
		);
	}

	/**
	 * Enqueues the inline script on pages with the cart or checkout block
	 * (guests too: they see what the order earns).
	 */
	public function enqueue() {
		if ( ! Creditbridge_Settings::is_registered() ) {
			return;
		}
		if ( ! function_exists( 'has_block' ) || ! ( has_block( 'woocommerce/cart' ) || has_block( 'woocommerce/checkout' ) ) ) {
			return;
		}
		wp_register_script( self::SCRIPT, false, array( 'wp-plugins', 'wp-element', 'wc-blocks-checkout' ), CREDITBRIDGE_VERSION, true );
		wp_enqueue_script( self::SCRIPT );
		wp_add_inline_script( self::SCRIPT, self::inline_script() );
	}

	/**
	 * The script: a fill of the order summary's ExperimentalOrderMeta slot
	 * showing extensions.creditbridge.message (credit applied or
	 * available) and earn_text (what the order earns).
	 *
	 * @return string
	 */
	public static function inline_script() {
		$title = wp_json_encode( Creditbridge_Settings::discount_label() );
		$link  = wp_json_encode( __( 'Use my store credit', 'creditbridge' ) );
		return <<<JS
( function ( wp, wc ) {
	if ( ! wc || ! wc.blocksCheckout ) {
		return;
	}
	// The credit coupon shows under its name, not its code (cb-<hold>);
	// WooCommerce's documented checkout filter for coupon labels.
	if ( wc.blocksCheckout.registerCheckoutFilters ) {
		wc.blocksCheckout.registerCheckoutFilters( 'creditbridge', {
			coupons: function ( coupons ) {
				return ( coupons || [] ).map( function ( c ) {
					return c && /^cb-[a-z0-9_-]{1,64}$/i.test( c.code || '' ) ? Object.assign( {}, c, { label: {$title} } ) : c;
				} );
			}
		} );
	}
	if ( ! wp || ! wp.plugins || ! wp.element || ! wc.blocksCheckout.ExperimentalOrderMeta ) {
		return;
	}
	var el = wp.element.createElement;
	var Slot = wc.blocksCheckout.ExperimentalOrderMeta;
	function Notice( props ) {
		var data = props && props.extensions ? props.extensions.creditbridge : null;
		if ( ! data || ! data.show ) {
			return null;
		}
		var children = [ el( 'strong', { key: 't' }, {$title} + ': ' ), el( 'span', { key: 'm' }, data.message ) ];
		if ( data.use_credit_url ) {
			children.push( ' ', el( 'a', { key: 'a', href: data.use_credit_url }, {$link} ) );
		}
		return el( 'div', { className: 'creditbridge-block-notice wc-block-components-totals-item' }, children );
	}
	function Earn( props ) {
		var data = props && props.extensions ? props.extensions.creditbridge : null;
		if ( ! data || ! data.earn_text ) {
			return null;
		}
		return el( 'div', { className: 'creditbridge-block-earn wc-block-components-totals-item' }, data.earn_text );
	}
	wp.plugins.registerPlugin( 'creditbridge', {
		scope: 'woocommerce-checkout',
		render: function () {
			return el( Slot, null, el( Notice, null ), el( Earn, null ) );
		}
	} );
} )( window.wp, window.wc );
JS;
	}
}
