<?php
/**
 * Bootstrap: wires the components once WooCommerce is loaded.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Plugin bootstrap.
 */
final class Creditbridge_Plugin {

	/**
	 * Whether init() ran.
	 *
	 * @var bool
	 */
	private static $started = false;

	/**
	 * Registers every hook (on plugins_loaded, when WooCommerce is active).
	 */
	public static function init() {
		if ( self::$started ) {
			return;
		}
		self::$started = true;
		load_plugin_textdomain( 'creditbridge', false, dirname( plugin_basename( CREDITBRIDGE_FILE ) ) . '/languages' );
		if ( ! class_exists( 'WooCommerce' ) ) {
			add_action( 'admin_notices', array( __CLASS__, 'missing_woocommerce_notice' ) );
			return;
		}
		add_filter( 'woocommerce_rest_is_request_to_rest_api', array( __CLASS__, 'rest_route_is_wc_api' ) );
		$cart = new Creditbridge_Cart();
		$cart->hooks();
		$earn = new Creditbridge_Earn();
		$earn->hooks();
		( new Creditbridge_Blocks( $cart, $earn ) )->hooks();
		( new Creditbridge_Category_Sync() )->hooks();
		( new Creditbridge_Account() )->hooks();
		( new Creditbridge_Referral() )->hooks();
		( new Creditbridge_Guest_Claim() )->hooks();
		( new Creditbridge_Activities() )->hooks();
		( new Creditbridge_Household() )->hooks();
		if ( is_admin() ) {
			( new Creditbridge_Admin() )->hooks();
			( new Creditbridge_Rules_Admin() )->hooks();
			( new Creditbridge_Rules_File() )->hooks();
		}
	}

	/**
	 * Lets WooCommerce authenticate REST calls sent as ?rest_route=/wc/v3/...
	 * (woocommerce_rest_is_request_to_rest_api).
	 *
	 * WooCommerce checks API keys (Basic auth or OAuth 1.0a) only when the
	 * request URI contains "wp-json/wc/". With plain permalinks /wp-json is
	 * not routed, so the bridge calls ?rest_route=/wc/v3/... instead, which
	 * WooCommerce would otherwise serve as an anonymous visitor (401).
	 *
	 * @param bool $is Whether WooCommerce already recognized the request.
	 * @return bool
	 */
	public static function rest_route_is_wc_api( $is ) {
		if ( $is ) {
			return $is;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- routing check only; the API keys authenticate.
		$route = isset( $_GET['rest_route'] ) && is_string( $_GET['rest_route'] ) ? wp_unslash( $_GET['rest_route'] ) : '';
		return '/wc/v3' === $route || 0 === strpos( $route, '/wc/v3/' );
	}

	/**
	 * Declares HPOS and cart/checkout blocks compatibility.
	 */
	public static function declare_compatibility() {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', CREDITBRIDGE_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', CREDITBRIDGE_FILE, true );
		}
	}

	/**
	 * Activation: register the My Account endpoint and flush rewrite rules.
	 */
	public static function activate() {
		Creditbridge_Account::add_endpoint();
		flush_rewrite_rules();
	}

	/**
	 * Deactivation: drop the endpoint's rewrite rules.
	 */
	public static function deactivate() {
		Creditbridge_Category_Sync::unschedule();
		flush_rewrite_rules();
	}

	/**
	 * Admin notice when WooCommerce is not active.
	 */
	public static function missing_woocommerce_notice() {
		if ( current_user_can( 'activate_plugins' ) ) {
			echo '<div class="notice notice-error"><p>' . esc_html__( 'Creditbridge store credit needs WooCommerce to be active.', 'creditbridge' ) . '</p></div>';
		}
	}
}
