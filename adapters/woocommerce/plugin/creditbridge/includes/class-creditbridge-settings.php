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
	const OPT_LABEL          = 'creditbridge_discount_label';
	const OPT_LABELS         = 'creditbridge_discount_labels';

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
			self::OPT_LABEL,
			self::OPT_LABELS,
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
	 * What customers see for credit applied at checkout, in their
	 * language: the shop's name for that language on the bridge (settings
	 * discount_labels.de / discount_labels.en; English serves every
	 * language but German, as on Shopify), else the name set on
	 * WooCommerce > Credit rules, else "Store credit" translated.
	 * Redemptions are recognised by the coupon code (cb-<hold>, cbv- for
	 * vouchers), never by this label.
	 *
	 * @param string|null $locale WordPress locale; null: the current one.
	 * @return string
	 */
	public static function discount_label( $locale = null ) {
		$lang   = self::language( $locale );
		$labels = get_option( self::OPT_LABELS, array() );
		if ( is_array( $labels ) && isset( $labels[ $lang ] ) && is_string( $labels[ $lang ] ) && '' !== trim( $labels[ $lang ] ) ) {
			return trim( $labels[ $lang ] );
		}
		$label = trim( (string) get_option( self::OPT_LABEL, '' ) );
		return '' === $label ? __( 'Store credit', 'creditbridge' ) : $label;
	}

	/**
	 * The checkout language of a locale: de for German ones, else en.
	 *
	 * @param string|null $locale WordPress locale; null: the current one.
	 * @return string
	 */
	public static function language( $locale = null ) {
		if ( null === $locale ) {
			$locale = self::locale();
		}
		return 0 === strpos( strtolower( (string) $locale ), 'de' ) ? 'de' : 'en';
	}

	/**
	 * The locale of the current request (the visitor's language where
	 * WordPress knows it).
	 *
	 * @return string
	 */
	public static function locale() {
		if ( function_exists( 'determine_locale' ) ) {
			return (string) determine_locale();
		}
		return function_exists( 'get_locale' ) ? (string) get_locale() : 'en_US';
	}

	/**
	 * Stores the per-language names the bridge sent (quote and health
	 * answers). Only de and en, plain text of at most 60 characters; the
	 * option is written only when the names changed. null (an older
	 * bridge that sends none) keeps what is stored.
	 *
	 * @param mixed $labels discount_labels from the bridge.
	 * @return array<string,string>|null What is stored now, null when kept.
	 */
	public static function store_labels( $labels ) {
		if ( ! is_array( $labels ) ) {
			return null;
		}
		$clean = array();
		foreach ( array( 'de', 'en' ) as $lang ) {
			if ( isset( $labels[ $lang ] ) && is_string( $labels[ $lang ] ) ) {
				$l = self::clean_label( $labels[ $lang ] );
				if ( '' !== $l ) {
					$clean[ $lang ] = $l;
				}
			}
		}
		if ( get_option( self::OPT_LABELS, array() ) !== $clean ) {
			update_option( self::OPT_LABELS, $clean, true );
		}
		return $clean;
	}

	/**
	 * A checkout name as plain text of at most 60 characters.
	 *
	 * @param mixed $raw Input.
	 * @return string
	 */
	public static function clean_label( $raw ) {
		$label = sanitize_text_field( is_string( $raw ) ? $raw : '' );
		return function_exists( 'mb_substr' ) ? mb_substr( $label, 0, 60 ) : substr( $label, 0, 60 );
	}
}
