<?php
/**
 * One-click registration of the shop with the bridge.
 *
 * 1. Creates WooCommerce REST API credentials (read_write) for the current
 *    admin, stored the way WooCommerce stores them (hashed consumer key).
 * 2. POSTs them to {bridge}/api/v1/woocommerce/register with the bridge's
 *    admin token as a bearer token.
 * 3. Stores shop_id, plugin_secret and webhook_secret (autoload off).
 * 4. Creates or updates the four order webhooks pointing at webhook_url.
 * 5. Checks permalinks and webhook delivery (Creditbridge_Checks) and keeps
 *    the result for the settings page.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Registration flow.
 */
class Creditbridge_Registration {

	/** Timeout of the registration call (admin only), seconds. */
	const TIMEOUT = 15;

	/**
	 * Database.
	 *
	 * @var wpdb
	 */
	private $db;

	/**
	 * Constructor.
	 *
	 * @param wpdb $db WordPress database object.
	 */
	public function __construct( $db ) {
		$this->db = $db;
	}

	/**
	 * Runs the whole flow.
	 *
	 * @param string $bridge_url Sanitized bridge base URL.
	 * @param string $api_key    Sanitized bridge admin token.
	 * @param int    $user_id    Current admin user.
	 * @return array|WP_Error { shop_id, webhook_ids } on success.
	 */
	public function register( $bridge_url, $api_key, $user_id ) {
		$key = $this->create_api_key( $user_id );
		if ( is_wp_error( $key ) ) {
			return $key;
		}
		list( $url, $args ) = self::build_register_request( $bridge_url, $api_key, $key['consumer_key'], $key['consumer_secret'] );

		$response = wp_remote_request( $url, $args );
		$parsed   = self::parse_register_response( $response );
		if ( is_wp_error( $parsed ) ) {
			$this->delete_api_key( $key['key_id'] );
			return $parsed;
		}

		$old_key_id = (int) get_option( Creditbridge_Settings::OPT_API_KEY_ID, 0 );
		update_option( Creditbridge_Settings::OPT_BRIDGE_URL, $bridge_url );
		update_option( Creditbridge_Settings::OPT_SHOP_ID, $parsed['shop_id'], false );
		update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, $parsed['plugin_secret'], false );
		update_option( Creditbridge_Settings::OPT_WEBHOOK_SECRET, $parsed['webhook_secret'], false );
		update_option( Creditbridge_Settings::OPT_API_KEY_ID, (int) $key['key_id'], false );
		update_option( Creditbridge_Settings::OPT_REGISTERED_AT, time(), false );
		delete_option( Creditbridge_Settings::OPT_CLOCK_SKEW );
		if ( $old_key_id > 0 && $old_key_id !== (int) $key['key_id'] ) {
			// The bridge now holds the new credentials; revoke the previous ones.
			$this->delete_api_key( $old_key_id );
		}

		$known = get_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array() );
		try {
			$ids = Creditbridge_Webhooks::sync( $parsed['webhook_url'], $parsed['webhook_secret'], $user_id, is_array( $known ) ? $known : array() );
		} catch ( Exception $e ) {
			return new WP_Error( 'creditbridge_webhooks', __( 'The shop was registered, but the order webhooks could not be created: ', 'creditbridge' ) . $e->getMessage() );
		}
		update_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, $ids, false );

		// Plain-words checks (permalinks, webhook delivery); kept for the
		// settings page.
		$checks = Creditbridge_Checks::run( $parsed['webhook_url'], (int) reset( $ids ) );
		update_option(
			Creditbridge_Settings::OPT_CHECKS,
			array(
				'at'     => time(),
				'checks' => $checks,
			),
			false
		);

		return array(
			'shop_id'     => $parsed['shop_id'],
			'webhook_ids' => $ids,
			'checks'      => $checks,
		);
	}

	/**
	 * Inserts a read_write REST API key for $user_id, as WooCommerce does
	 * (consumer key stored as wc_api_hash(ck), last 7 chars as truncated_key).
	 *
	 * @param int $user_id User id.
	 * @return array|WP_Error { key_id, consumer_key, consumer_secret }
	 */
	public function create_api_key( $user_id ) {
		$consumer_key    = 'ck_' . wc_rand_hash();
		$consumer_secret = 'cs_' . wc_rand_hash();
		$ok              = $this->db->insert(
			$this->db->prefix . 'woocommerce_api_keys',
			array(
				'user_id'         => (int) $user_id,
				'description'     => 'Creditbridge (' . gmdate( 'Y-m-d H:i' ) . ')',
				'permissions'     => 'read_write',
				'consumer_key'    => wc_api_hash( $consumer_key ),
				'consumer_secret' => $consumer_secret,
				'truncated_key'   => substr( $consumer_key, -7 ),
			),
			array( '%d', '%s', '%s', '%s', '%s', '%s' )
		);
		if ( ! $ok ) {
			return new WP_Error( 'creditbridge_api_key', __( 'Could not create the WooCommerce REST API key for the bridge.', 'creditbridge' ) );
		}
		return array(
			'key_id'          => (int) $this->db->insert_id,
			'consumer_key'    => $consumer_key,
			'consumer_secret' => $consumer_secret,
		);
	}

	/**
	 * Deletes a REST API key row by id.
	 *
	 * @param int $key_id Key id.
	 */
	public function delete_api_key( $key_id ) {
		if ( (int) $key_id > 0 ) {
			$this->db->delete( $this->db->prefix . 'woocommerce_api_keys', array( 'key_id' => (int) $key_id ), array( '%d' ) );
		}
	}

	/**
	 * URL and wp_remote_request() arguments of the registration call.
	 *
	 * @param string $bridge_url      Bridge base URL.
	 * @param string $api_key         Bridge admin token.
	 * @param string $consumer_key    ck_...
	 * @param string $consumer_secret cs_...
	 * @return array{0:string,1:array}
	 */
	public static function build_register_request( $bridge_url, $api_key, $consumer_key, $consumer_secret ) {
		$body = array(
			'site_url'        => home_url(),
			'consumer_key'    => $consumer_key,
			'consumer_secret' => $consumer_secret,
			'currency'        => get_woocommerce_currency(),
			'plugin_version'  => CREDITBRIDGE_VERSION,
		);
		return array(
			rtrim( $bridge_url, '/' ) . '/api/v1/woocommerce/register',
			array(
				'method'              => 'POST',
				'timeout'             => self::TIMEOUT,
				'redirection'         => 0,
				'headers'             => array(
					'Authorization' => 'Bearer ' . $api_key,
					'Content-Type'  => 'application/json',
					'Accept'        => 'application/json',
				),
				'body'                => wp_json_encode( $body ),
				'limit_response_size' => 65536,
			),
		);
	}

	/**
	 * Validates the bridge's answer (201 with shop_id, secrets, webhook_url).
	 * Error messages never contain secrets.
	 *
	 * @param array|WP_Error $response wp_remote_request() result.
	 * @return array|WP_Error
	 */
	public static function parse_register_response( $response ) {
		if ( is_wp_error( $response ) ) {
			return new WP_Error( 'creditbridge_http', __( 'Could not reach the bridge: ', 'creditbridge' ) . $response->get_error_message() );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		$data = json_decode( (string) wp_remote_retrieve_body( $response ), true, 16, JSON_BIGINT_AS_STRING );
		if ( 201 !== $code && 200 !== $code ) {
			$msg = '';
			if ( is_array( $data ) && isset( $data['error'] ) && is_string( $data['error'] ) ) {
				$msg = $data['error'];
			} elseif ( is_array( $data ) && isset( $data['message'] ) && is_string( $data['message'] ) ) {
				$msg = $data['message'];
			}
			$msg = substr( preg_replace( '/[^\x20-\x7e]/', '', $msg ), 0, 200 );
			if ( 401 === $code || 403 === $code ) {
				$text = __( 'The bridge refused the API key.', 'creditbridge' );
			} else {
				/* translators: %d: HTTP status code */
				$text = sprintf( __( 'The bridge answered HTTP %d.', 'creditbridge' ), $code );
			}
			return new WP_Error( 'creditbridge_status', '' === $msg ? $text : $text . ' ' . $msg );
		}
		if ( ! is_array( $data ) ) {
			return new WP_Error( 'creditbridge_response', __( 'The bridge answered something that is not JSON.', 'creditbridge' ) );
		}
		$out = array();
		foreach ( array( 'shop_id', 'webhook_secret', 'plugin_secret', 'webhook_url' ) as $field ) {
			$v = isset( $data[ $field ] ) && ( is_string( $data[ $field ] ) || is_int( $data[ $field ] ) ) ? trim( (string) $data[ $field ] ) : '';
			if ( '' === $v ) {
				/* translators: %s: JSON field name */
				return new WP_Error( 'creditbridge_response', sprintf( __( 'The bridge answer lacks %s.', 'creditbridge' ), $field ) );
			}
			$out[ $field ] = $v;
		}
		if ( ! preg_match( '/^[A-Za-z0-9_.:-]{1,64}$/D', $out['shop_id'] ) ) {
			return new WP_Error( 'creditbridge_response', __( 'The bridge answered an invalid shop id.', 'creditbridge' ) );
		}
		$scheme = strtolower( (string) wp_parse_url( $out['webhook_url'], PHP_URL_SCHEME ) );
		if ( ! in_array( $scheme, array( 'https', 'http' ), true ) || ! wp_parse_url( $out['webhook_url'], PHP_URL_HOST ) ) {
			return new WP_Error( 'creditbridge_response', __( 'The bridge answered an invalid webhook URL.', 'creditbridge' ) );
		}
		return $out;
	}
}
