<?php
/**
 * Minimal stand-ins for the WordPress and WooCommerce functions the plugin
 * calls. They keep state in $GLOBALS['cbt'] (reset before every test) so
 * tests can look at what the plugin did: options written, HTTP requests
 * sent, rows inserted, webhooks saved, hooks fired. Behaviour copied from
 * WordPress/WooCommerce is marked; nothing here fakes a result the plugin
 * computes itself.
 *
 * @package Creditbridge\Tests
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'ARRAY_A', 'ARRAY_A' );
define( 'EP_ROOT', 64 );
define( 'EP_PAGES', 4096 );
define( 'HOUR_IN_SECONDS', 3600 );

/** Resets all stub state. */
function cbt_reset() {
	$GLOBALS['cbt'] = array(
		'options'    => array(),
		'autoload'   => array(),
		'transients' => array(),
		'http_queue' => array(),
		'http_log'   => array(),
		'hooks'      => array(),
		'user_id'    => 0,
		'user_email' => '',
		'is_admin'   => false,
		'webhooks'   => array(),
		'next_wh_id' => 100,
		'currency'   => 'EUR',
		'wc'         => null,
		'comments'   => array(),
		'post_types' => array(),
		'cron'       => array(),
		'store_api'  => array(),
		'users'      => array(),
		'notices'    => array(),
		'redirects'  => array(),
		'locale'     => 'en_US',
		'scheduled'  => array(),
		'user_meta'  => array(),
	);
	$GLOBALS['wpdb'] = new Cbt_Wpdb();
}

/** Queues the answer of the next wp_remote_request() call. */
function cbt_queue_http( $code, $body = '', array $headers = array() ) {
	$GLOBALS['cbt']['http_queue'][] = array(
		'response' => array( 'code' => $code ),
		'body'     => $body,
		'headers'  => array_change_key_case( $headers, CASE_LOWER ),
	);
}

/** Queues a transport failure. */
function cbt_queue_http_error( $message ) {
	$GLOBALS['cbt']['http_queue'][] = new WP_Error( 'http_request_failed', $message );
}

class WP_Error {
	private $code;
	private $message;
	private $data;
	public function __construct( $code = '', $message = '', $data = '' ) {
		$this->code    = $code;
		$this->message = $message;
		$this->data    = $data;
	}
	public function get_error_code() {
		return $this->code;
	}
	public function get_error_message() {
		return $this->message;
	}
	public function get_error_data() {
		return $this->data;
	}
}

function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}

// Translation and escaping (identity / htmlspecialchars, as in WordPress for plain text).
function __( $text, $domain = 'default' ) {
	// A test may load a catalogue (original => translation) to read pages
	// in another language; without one, texts stay as written.
	return isset( $GLOBALS['cbt']['catalogue'][ $text ] ) ? $GLOBALS['cbt']['catalogue'][ $text ] : $text;
}
function _n( $single, $plural, $number, $domain = 'default' ) {
	return 1 === (int) $number ? $single : $plural;
}
function esc_html__( $text, $domain = 'default' ) {
	return esc_html( $text );
}
function esc_attr__( $text, $domain = 'default' ) {
	return esc_attr( $text );
}
function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_url( $url ) {
	return htmlspecialchars( (string) $url, ENT_QUOTES, 'UTF-8' );
}
function wp_strip_all_tags( $text ) {
	return trim( strip_tags( (string) $text ) );
}
function sanitize_text_field( $str ) {
	return trim( preg_replace( '/[\r\n\t ]+/', ' ', strip_tags( (string) $str ) ) );
}
function wp_unslash( $value ) {
	return is_array( $value ) ? array_map( 'wp_unslash', $value ) : stripslashes( (string) $value );
}

// WordPress's wp_parse_url() is parse_url() with PHP-version fixes.
function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}
// wp_json_encode() is json_encode() with a sanity check.
function wp_json_encode( $data, $options = 0, $depth = 512 ) {
	return json_encode( $data, $options, $depth );
}

// Options and transients.
function get_option( $name, $default = false ) {
	return array_key_exists( $name, $GLOBALS['cbt']['options'] ) ? $GLOBALS['cbt']['options'][ $name ] : $default;
}
function update_option( $name, $value, $autoload = null ) {
	$GLOBALS['cbt']['options'][ $name ]  = $value;
	$GLOBALS['cbt']['autoload'][ $name ] = $autoload;
	return true;
}
function delete_option( $name ) {
	unset( $GLOBALS['cbt']['options'][ $name ], $GLOBALS['cbt']['autoload'][ $name ] );
	return true;
}
function get_transient( $name ) {
	return isset( $GLOBALS['cbt']['transients'][ $name ] ) ? $GLOBALS['cbt']['transients'][ $name ] : false;
}
function set_transient( $name, $value, $ttl = 0 ) {
	$GLOBALS['cbt']['transients'][ $name ] = $value;
	return true;
}
function delete_transient( $name ) {
	unset( $GLOBALS['cbt']['transients'][ $name ] );
	return true;
}

// Hooks: a real registry so that fake WooCommerce objects can fire them.
function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['cbt']['hooks'][ $hook ][] = $callback;
	return true;
}
function add_filter( $hook, $callback, $priority = 10, $args = 1 ) {
	return add_action( $hook, $callback, $priority, $args );
}
function do_action( $hook, ...$args ) {
	foreach ( isset( $GLOBALS['cbt']['hooks'][ $hook ] ) ? $GLOBALS['cbt']['hooks'][ $hook ] : array() as $cb ) {
		call_user_func_array( $cb, $args );
	}
}
function apply_filters( $hook, $value, ...$args ) {
	foreach ( isset( $GLOBALS['cbt']['hooks'][ $hook ] ) ? $GLOBALS['cbt']['hooks'][ $hook ] : array() as $cb ) {
		$value = call_user_func_array( $cb, array_merge( array( $value ), $args ) );
	}
	return $value;
}

// HTTP.
function wp_remote_request( $url, $args = array() ) {
	$GLOBALS['cbt']['http_log'][] = array(
		'url'  => $url,
		'args' => $args,
	);
	if ( empty( $GLOBALS['cbt']['http_queue'] ) ) {
		return new WP_Error( 'http_request_failed', 'no queued response (test stub)' );
	}
	return array_shift( $GLOBALS['cbt']['http_queue'] );
}
// wp_safe_remote_request(): WordPress sets reject_unsafe_urls, so the URL
// must pass wp_http_validate_url() first; then as wp_remote_request().
function wp_safe_remote_request( $url, $args = array() ) {
	if ( ! wp_http_validate_url( $url ) ) {
		$GLOBALS['cbt']['http_log'][] = array(
			'url'     => $url,
			'args'    => $args,
			'safe'    => true,
			'refused' => true,
		);
		return new WP_Error( 'http_request_failed', 'A valid URL was not provided.' );
	}
	$args['cbt_safe'] = true;
	return wp_remote_request( $url, $args );
}
// Copied from WordPress 6.8 wp_http_validate_url(), reduced: no DNS (host
// names count as external), IPv4 literals in the private and loopback
// ranges refused unless same host as home or allowed by
// http_request_host_is_external; ports 80, 443, 8080 (http_allowed_safe_ports)
// or the home URL's own port on the same host.
function wp_http_validate_url( $url ) {
	if ( ! is_string( $url ) || '' === $url ) {
		return false;
	}
	$p = parse_url( $url );
	if ( ! $p || empty( $p['host'] ) || ! in_array( strtolower( $p['scheme'] ?? '' ), array( 'http', 'https' ), true ) || isset( $p['user'] ) || isset( $p['pass'] ) ) {
		return false;
	}
	$home      = parse_url( (string) get_option( 'home', 'https://shop.example.com' ) );
	$same_host = isset( $home['host'] ) && strtolower( $home['host'] ) === strtolower( $p['host'] );
	$host      = trim( $p['host'], '.' );
	if ( ! $same_host && preg_match( '/^\d+\.\d+\.\d+\.\d+$/', $host ) ) {
		$o = array_map( 'intval', explode( '.', $host ) );
		if ( 127 === $o[0] || 10 === $o[0] || 0 === $o[0] || ( 172 === $o[0] && $o[1] >= 16 && $o[1] <= 31 ) || ( 192 === $o[0] && 168 === $o[1] ) ) {
			if ( ! apply_filters( 'http_request_host_is_external', false, $host, $url ) ) {
				return false;
			}
		}
	}
	if ( empty( $p['port'] ) ) {
		return $url;
	}
	$allowed = apply_filters( 'http_allowed_safe_ports', array( 80, 443, 8080 ), $host, $url );
	if ( is_array( $allowed ) && in_array( $p['port'], $allowed, true ) ) {
		return $url;
	}
	if ( $home && $same_host && isset( $home['port'] ) && $home['port'] === $p['port'] ) {
		return $url;
	}
	return false;
}
function wp_remote_retrieve_response_code( $response ) {
	return is_array( $response ) ? $response['response']['code'] : '';
}
function wp_remote_retrieve_body( $response ) {
	return is_array( $response ) ? $response['body'] : '';
}
function wp_remote_retrieve_header( $response, $header ) {
	$h = strtolower( $header );
	return ( is_array( $response ) && isset( $response['headers'][ $h ] ) ) ? $response['headers'][ $h ] : '';
}

// Site and user.
function home_url( $path = '' ) {
	return 'https://shop.example.com' . $path;
}
function admin_url( $path = '' ) {
	return 'https://shop.example.com/wp-admin/' . $path;
}
function get_current_user_id() {
	return $GLOBALS['cbt']['user_id'];
}
function is_user_logged_in() {
	return $GLOBALS['cbt']['user_id'] > 0;
}
function wp_get_current_user() {
	$u             = new stdClass();
	$u->ID         = $GLOBALS['cbt']['user_id'];
	$u->user_email = $GLOBALS['cbt']['user_email'];
	return $u;
}
function is_admin() {
	return $GLOBALS['cbt']['is_admin'];
}
function wp_doing_ajax() {
	return false;
}
function add_query_arg( $key, $value, $url = 'https://shop.example.com/cart/' ) {
	return $url . ( false === strpos( $url, '?' ) ? '?' : '&' ) . $key . '=' . $value;
}
function wp_nonce_url( $url, $action ) {
	return $url . '&_wpnonce=nonce-' . $action;
}

// WooCommerce functions.
function get_woocommerce_currency() {
	return $GLOBALS['cbt']['currency'];
}
// Same as WooCommerce's wc_api_hash().
function wc_api_hash( $data ) {
	return hash_hmac( 'sha256', $data, 'wc-api' );
}
// Same as WooCommerce's wc_rand_hash().
function wc_rand_hash() {
	return bin2hex( random_bytes( 20 ) );
}
function wc_price( $price, $args = array() ) {
	return '<span class="amount">' . $price . ' ' . ( isset( $args['currency'] ) ? $args['currency'] : '' ) . '</span>';
}
function wc_get_webhook( $id ) {
	return isset( $GLOBALS['cbt']['webhooks'][ (int) $id ] ) ? $GLOBALS['cbt']['webhooks'][ (int) $id ] : null;
}
function WC() { // phpcs:ignore WordPress.NamingConventions
	return $GLOBALS['cbt']['wc'];
}

class WC_Coupon {
	const WC_COUPON_SUCCESS = 200;
	const WC_COUPON_REMOVED = 201;
	private $code;
	public $type = 'fixed_cart';
	public $meta = array();
	public function __construct( $code ) {
		$this->code = $code;
	}
	public function get_code() {
		return $this->code;
	}
	public function get_discount_type() {
		return $this->type;
	}
	public function get_meta( $key, $single = true ) {
		return isset( $this->meta[ $key ] ) ? $this->meta[ $key ] : '';
	}
}
function wc_prices_include_tax() {
	return isset( $GLOBALS['cbt']['prices_include_tax'] ) ? $GLOBALS['cbt']['prices_include_tax'] : true;
}

/** WC_Webhook with the setters the plugin uses; save() stores it by id. */
class WC_Webhook {
	public $props   = array();
	public $saves   = 0;
	public $deleted = false;
	private $id     = 0;
	public function get_id() {
		return $this->id;
	}
	public function __call( $name, $args ) {
		if ( 0 === strpos( $name, 'set_' ) ) {
			$this->props[ substr( $name, 4 ) ] = $args[0];
			return null;
		}
		if ( 0 === strpos( $name, 'get_' ) ) {
			$k = substr( $name, 4 );
			return isset( $this->props[ $k ] ) ? $this->props[ $k ] : null;
		}
		throw new BadMethodCallException( $name );
	}
	public function save() {
		if ( 0 === $this->id ) {
			$this->id = $GLOBALS['cbt']['next_wh_id']++;
		}
		++$this->saves;
		$GLOBALS['cbt']['webhooks'][ $this->id ] = $this;
		return $this->id;
	}
	public function delete( $force = false ) {
		$this->deleted = true;
		unset( $GLOBALS['cbt']['webhooks'][ $this->id ] );
		return true;
	}
}

/** $wpdb recording insert/delete on an in-memory table. */
class Cbt_Wpdb {
	public $prefix    = 'wp_';
	public $insert_id = 0;
	public $rows      = array();
	public $fail      = false;
	private $next     = 41;
	public function insert( $table, $data, $format = null ) {
		if ( $this->fail ) {
			return false;
		}
		$this->insert_id                          = $this->next++;
		$this->rows[ $table ][ $this->insert_id ] = $data;
		return 1;
	}
	public function delete( $table, $where, $format = null ) {
		$id = $where['key_id'];
		if ( ! isset( $this->rows[ $table ][ $id ] ) ) {
			return 0;
		}
		unset( $this->rows[ $table ][ $id ] );
		return 1;
	}
}

/** WC_Session_Handler's get/set. */
class Cbt_Session {
	public $data = array();
	public function get( $key, $default = null ) {
		return isset( $this->data[ $key ] ) ? $this->data[ $key ] : $default;
	}
	public function set( $key, $value ) {
		$this->data[ $key ] = $value;
	}
}

class Cbt_Product {
	private $price;
	private $sku;
	public function __construct( $price, $sku ) {
		$this->price = $price;
		$this->sku   = $sku;
	}
	public function get_price() {
		return $this->price;
	}
	public function get_sku() {
		return $this->sku;
	}
}

/**
 * Cart with WC_Cart's coupon behaviour that matters here: apply_coupon()
 * reads the coupon through woocommerce_get_shop_coupon_data (no post exists
 * for a virtual code, so false means "does not exist") and remove_coupon()
 * fires woocommerce_removed_coupon.
 */
class Cbt_Cart {
	public $items        = array();
	public $applied      = array();
	public $coupons      = array();
	public $subtotal     = '0';
	public $subtotal_tax = '0';
	public function get_subtotal() {
		return $this->subtotal;
	}
	public function get_subtotal_tax() {
		return $this->subtotal_tax;
	}
	public function get_cart() {
		return $this->items;
	}
	public function is_empty() {
		return empty( $this->items );
	}
	public function get_applied_coupons() {
		return $this->applied;
	}
	public function has_discount( $code ) {
		return in_array( strtolower( $code ), $this->applied, true );
	}
	public function apply_coupon( $code ) {
		$code = strtolower( $code );
		$data = apply_filters( 'woocommerce_get_shop_coupon_data', false, $code, null );
		if ( false === $data ) {
			return false;
		}
		$this->applied[]        = $code;
		$this->coupons[ $code ] = $data;
		return true;
	}
	public function remove_coupon( $code ) {
		$code          = strtolower( $code );
		$this->applied = array_values( array_diff( $this->applied, array( $code ) ) );
		unset( $this->coupons[ $code ] );
		do_action( 'woocommerce_removed_coupon', $code );
		return true;
	}
	public function empty_cart() {
		$this->items = array();
		do_action( 'woocommerce_cart_emptied', true );
	}
}

class Cbt_Customer {
	public $billing_email = '';
	public function get_billing_email() {
		return $this->billing_email;
	}
}

class Cbt_Order {
	public $meta  = array();
	public $saves = 0;
	public function update_meta_data( $key, $value ) {
		$this->meta[ $key ] = $value;
	}
	public function save() {
		++$this->saves;
	}
}

/** Sets up WC() with a session, cart and customer. */
function cbt_wc() {
	$wc           = new stdClass();
	$wc->session  = new Cbt_Session();
	$wc->cart     = new Cbt_Cart();
	$wc->customer = new Cbt_Customer();

	$GLOBALS['cbt']['wc'] = $wc;
	return $wc;
}

// Comments, posts and WP-Cron (activity hooks).
function get_comment( $id ) {
	return isset( $GLOBALS['cbt']['comments'][ (int) $id ] ) ? $GLOBALS['cbt']['comments'][ (int) $id ] : null;
}
function get_post_type( $post_id ) {
	return isset( $GLOBALS['cbt']['post_types'][ (int) $post_id ] ) ? $GLOBALS['cbt']['post_types'][ (int) $post_id ] : false;
}
function wp_schedule_single_event( $timestamp, $hook, $args = array() ) {
	$GLOBALS['cbt']['cron'][] = array( $timestamp, $hook, $args );
	return true;
}

function register_activation_hook( $file, $callback ) {
	$GLOBALS['cbt']['hooks'][ 'activate_' . basename( $file ) ][] = $callback;
}
function register_deactivation_hook( $file, $callback ) {
	$GLOBALS['cbt']['hooks'][ 'deactivate_' . basename( $file ) ][] = $callback;
}

cbt_reset();

/** Records a Store API extension (WooCommerce's ExtendSchema). */
function woocommerce_store_api_register_endpoint_data( $args ) {
	$GLOBALS['cbt']['store_api'][] = $args;
}

/**
 * What WooCommerce keeps of a request's extensions for an endpoint: only
 * registered namespaces, and in them only the properties their schema
 * declares (AbstractSchema::get_recursive_sanitize_callback).
 */
function cbt_store_api_kept_extensions( $endpoint, array $posted ) {
	$kept = array();
	foreach ( $GLOBALS['cbt']['store_api'] as $reg ) {
		if ( $endpoint !== $reg['endpoint'] || empty( $reg['schema_callback'] ) ) {
			continue;
		}
		$schema = call_user_func( $reg['schema_callback'] );
		foreach ( $schema as $prop => $def ) {
			$kept[ $reg['namespace'] ][ $prop ] = isset( $posted[ $reg['namespace'] ][ $prop ] ) ? $posted[ $reg['namespace'] ][ $prop ] : null;
		}
	}
	return $kept;
}

// User meta: user id => key => value.
function get_user_meta( $user_id, $key = '', $single = false ) {
	$v = isset( $GLOBALS['cbt']['user_meta'][ $user_id ][ $key ] ) ? $GLOBALS['cbt']['user_meta'][ $user_id ][ $key ] : '';
	return $single ? $v : ( '' === $v ? array() : array( $v ) );
}
function update_user_meta( $user_id, $key, $value ) {
	$GLOBALS['cbt']['user_meta'][ $user_id ][ $key ] = $value;
	return true;
}

// Users, notices, redirects, nonces (guest claims).
function get_userdata( $id ) {
	if ( ! isset( $GLOBALS['cbt']['users'][ $id ] ) ) {
		return false;
	}
	$u             = new stdClass();
	$u->ID         = $id;
	$u->user_email = $GLOBALS['cbt']['users'][ $id ];
	return $u;
}
// WordPress is_email(), reduced to its shape check.
function is_email( $email ) {
	return is_string( $email ) && 1 === preg_match( '/^[^@\s]+@[^@\s]+\.[^@\s]+$/', $email ) ? $email : false;
}
function wc_get_account_endpoint_url( $endpoint ) {
	return 'https://shop.example.com/my-account/' . $endpoint . '/';
}
function wp_specialchars_decode( $text, $quote_style = ENT_NOQUOTES ) {
	return htmlspecialchars_decode( (string) $text, $quote_style );
}
function wc_add_notice( $message, $type = 'success' ) {
	$GLOBALS['cbt']['notices'][] = array( $type, $message );
}
function wp_safe_redirect( $location, $status = 302 ) {
	$GLOBALS['cbt']['redirects'][] = $location;
	return true;
}
function wp_verify_nonce( $nonce, $action = -1 ) {
	return 'nonce-' . $action === $nonce ? 1 : false;
}
function wp_nonce_field( $action = -1, $name = '_wpnonce' ) {
	echo '<input type="hidden" name="' . esc_attr( $name ) . '" value="nonce-' . esc_attr( $action ) . '">';
}

// Locale (determine_locale(): the visitor's language where WordPress knows it).
function determine_locale() {
	return $GLOBALS['cbt']['locale'];
}

// WP-Cron recurring events: hook => array( timestamp, recurrence ).
function wp_next_scheduled( $hook, $args = array() ) {
	if ( isset( $GLOBALS['cbt']['scheduled'][ $hook ] ) ) {
		return $GLOBALS['cbt']['scheduled'][ $hook ][0];
	}
	foreach ( $GLOBALS['cbt']['cron'] as $e ) {
		if ( $e[1] === $hook ) {
			return $e[0];
		}
	}
	return false;
}
function wp_schedule_event( $timestamp, $recurrence, $hook, $args = array() ) {
	$GLOBALS['cbt']['scheduled'][ $hook ] = array( $timestamp, $recurrence );
	return true;
}
function wp_clear_scheduled_hook( $hook, $args = array() ) {
	unset( $GLOBALS['cbt']['scheduled'][ $hook ] );
	$GLOBALS['cbt']['cron'] = array_values(
		array_filter(
			$GLOBALS['cbt']['cron'],
			function ( $e ) use ( $hook ) {
				return $e[1] !== $hook;
			}
		)
	);
	return 0;
}
