<?php
/**
 * Stored settings and input sanitization for the settings page.
 *
 * Only the bridge URL is autoloaded; the shop id, the plugin secret, the
 * webhook secret and the ids of what registration created are stored with
 * autoload off. The bridge API key typed by the merchant is used once for
 * registration and never stored.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Option names, accessors and sanitizers.
 */
final class Creditbridge_Settings {

	const OPT_BRIDGE_URL     = 'creditbridge_bridge_url';
	const OPT_SHOP_ID        = 'creditbridge_shop_id';
	const OPT_PLUGIN_SECRET  = 'creditbridge_plugin_secret';
	const OPT_WEBHOOK_SECRET = 'creditbridge_webhook_secret';
	const OPT_API_KEY_ID     = 'creditbridge_api_key_id';
	const OPT_WEBHOOK_IDS    = 'creditbridge_webhook_ids';
	const OPT_REGISTERED_AT  = 'creditbridge_registered_at';
	const OPT_CLOCK_SKEW     = 'creditbridge_clock_skew';
	const OPT_CHECKS         = 'creditbridge_checks';

	/**
	 * Every option the plugin writes (uninstall removes them all).
	 *
	 * @return string[]
	 */
	public static function all_options() {
		return array(
			self::OPT_BRIDGE_URL,
			self::OPT_SHOP_ID,
			self::OPT_PLUGIN_SECRET,
			self::OPT_WEBHOOK_SECRET,
			self::OPT_API_KEY_ID,
			self::OPT_WEBHOOK_IDS,
			self::OPT_REGISTERED_AT,
			self::OPT_CLOCK_SKEW,
			self::OPT_CHECKS,
		);
	}

	/**
	 * Whether registration completed (shop id and plugin secret present).
	 *
	 * @return bool
	 */
	public static function is_registered() {
		return '' !== self::bridge_url() && '' !== (string) get_option( self::OPT_SHOP_ID, '' ) && '' !== (string) get_option( self::OPT_PLUGIN_SECRET, '' );
	}

	/**
	 * The stored bridge base URL (no trailing slash), '' when unset.
	 *
	 * @return string
	 */
	public static function bridge_url() {
		return (string) get_option( self::OPT_BRIDGE_URL, '' );
	}

	/**
	 * Sanitizes the bridge base URL typed by the merchant.
	 *
	 * Accepts https, and plain http only for loopback hosts or when the
	 * CREDITBRIDGE_ALLOW_HTTP constant is true (secrets travel on this link).
	 * Rejects credentials, query strings and fragments; drops a trailing slash.
	 *
	 * @param mixed $raw Raw input.
	 * @return string|WP_Error
	 */
	public static function sanitize_bridge_url( $raw ) {
		if ( ! is_string( $raw ) ) {
			return new WP_Error( 'creditbridge_url', __( 'Enter the bridge URL.', 'creditbridge' ) );
		}
		$url = trim( $raw );
		if ( '' === $url || strlen( $url ) > 2000 || preg_match( '/[\s<>"\'\\\\]/', $url ) ) {
			return new WP_Error( 'creditbridge_url', __( 'Enter a valid bridge URL, such as https://credit.example.com.', 'creditbridge' ) );
		}
		$parts = wp_parse_url( $url );
		if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
			return new WP_Error( 'creditbridge_url', __( 'Enter a valid bridge URL, such as https://credit.example.com.', 'creditbridge' ) );
		}
		$scheme = strtolower( $parts['scheme'] );
		$host   = strtolower( $parts['host'] );
		if ( isset( $parts['user'] ) || isset( $parts['pass'] ) || isset( $parts['query'] ) || isset( $parts['fragment'] ) ) {
			return new WP_Error( 'creditbridge_url', __( 'The bridge URL must not contain a user name, a query or a fragment.', 'creditbridge' ) );
		}
		if ( ! preg_match( '/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/D', $host ) ) {
			return new WP_Error( 'creditbridge_url', __( 'The bridge URL has an invalid host name.', 'creditbridge' ) );
		}
		$loopback = in_array( $host, array( 'localhost', '127.0.0.1', '[::1]' ), true );
		$allow    = defined( 'CREDITBRIDGE_ALLOW_HTTP' ) && CREDITBRIDGE_ALLOW_HTTP;
		if ( 'https' !== $scheme && ! ( 'http' === $scheme && ( $loopback || $allow ) ) ) {
			return new WP_Error( 'creditbridge_url', __( 'The bridge URL must use https.', 'creditbridge' ) );
		}
		$out = $scheme . '://' . $host;
		if ( isset( $parts['port'] ) ) {
			$out .= ':' . (int) $parts['port'];
		}
		$path = isset( $parts['path'] ) ? rtrim( $parts['path'], '/' ) : '';
		if ( '' !== $path && ! preg_match( '#^(/[A-Za-z0-9._~-]+)+$#D', $path ) ) {
			return new WP_Error( 'creditbridge_url', __( 'The bridge URL has an invalid path.', 'creditbridge' ) );
		}
		return $out . $path;
	}

	/**
	 * Sanitizes the bridge API key: printable ASCII, no spaces, 8 to 512 chars.
	 * The key is never altered (stripping characters would silently break it).
	 *
	 * @param mixed $raw Raw input.
	 * @return string|WP_Error
	 */
	public static function sanitize_api_key( $raw ) {
		if ( ! is_string( $raw ) ) {
			return new WP_Error( 'creditbridge_key', __( 'Enter the bridge API key.', 'creditbridge' ) );
		}
		$key = trim( $raw );
		if ( '' === $key ) {
			return new WP_Error( 'creditbridge_key', __( 'Enter the bridge API key.', 'creditbridge' ) );
		}
		if ( ! preg_match( '/^[\x21-\x7e]{8,512}$/D', $key ) ) {
			return new WP_Error( 'creditbridge_key', __( 'The bridge API key looks wrong: it must be 8 to 512 visible ASCII characters without spaces.', 'creditbridge' ) );
		}
		return $key;
	}

	/**
	 * Sanitizes the settings form ($_POST already unslashed).
	 *
	 * @param array $input Form fields.
	 * @return array{bridge_url:string,api_key:string}|WP_Error
	 */
	public static function sanitize_form( $input ) {
		$input = is_array( $input ) ? $input : array();
		$url   = self::sanitize_bridge_url( isset( $input['bridge_url'] ) ? $input['bridge_url'] : null );
		if ( is_wp_error( $url ) ) {
			return $url;
		}
		$key = self::sanitize_api_key( isset( $input['api_key'] ) ? $input['api_key'] : null );
		if ( is_wp_error( $key ) ) {
			return $key;
		}
		return array(
			'bridge_url' => $url,
			'api_key'    => $key,
		);
	}

	/**
	 * What customers see for credit applied at checkout: the label set on
	 * WooCommerce > Credit rules, else "Store credit" in their language.
	 * Redemptions are recognised by the coupon code (cb-<hold>), never by
	 * this label.
	 *
	 * @return string
	 */
	public static function discount_label() {
		$label = trim( (string) get_option( 'creditbridge_discount_label', '' ) );
		return '' === $label ? __( 'Store credit', 'creditbridge' ) : $label;
	}
}
