<?php
/**
 * Signed HTTP client for the plugin API of the bridge.
 *
 * Every call has a 3 second timeout and returns either the decoded JSON
 * object or a WP_Error; callers on the storefront treat any WP_Error as
 * "no credit" so checkout keeps working when the bridge is down (fail open).
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Client for /api/v1/plugin/* on the bridge.
 */
class Creditbridge_Client {

	/** Timeout of storefront calls, in seconds. */
	const TIMEOUT = 3;

	/** Largest response body read, in bytes. */
	const MAX_BODY = 1048576;

	/**
	 * Bridge base URL without trailing slash.
	 *
	 * @var string
	 */
	private $base_url;

	/**
	 * Shop id.
	 *
	 * @var string
	 */
	private $shop_id;

	/**
	 * Plugin secret.
	 *
	 * @var string
	 */
	private $secret;

	/**
	 * Clock.
	 *
	 * @var callable
	 */
	private $now;

	/**
	 * Constructor.
	 *
	 * @param string        $base_url Bridge base URL.
	 * @param string        $shop_id  Shop id from registration.
	 * @param string        $secret   Plugin secret from registration.
	 * @param callable|null $now      Clock returning unix seconds (tests).
	 */
	public function __construct( $base_url, $shop_id, $secret, $now = null ) {
		$this->base_url = rtrim( (string) $base_url, '/' );
		$this->shop_id  = (string) $shop_id;
		$this->secret   = (string) $secret;
		$this->now      = $now ? $now : 'time';
	}

	/**
	 * Client built from the stored options, or null when not registered.
	 *
	 * @return Creditbridge_Client|null
	 */
	public static function from_options() {
		if ( ! Creditbridge_Settings::is_registered() ) {
			return null;
		}
		return new self(
			Creditbridge_Settings::bridge_url(),
			(string) get_option( Creditbridge_Settings::OPT_SHOP_ID, '' ),
			(string) get_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, '' )
		);
	}

	/**
	 * Asks for a quote (and places or adjusts the hold of this cart key).
	 *
	 * @param array $request Quote request (see Creditbridge_Cart::build_quote_request).
	 * @return array|WP_Error Normalized quote: hold_id, amount, currency, available, coupon_code, expires_at (unix).
	 */
	public function quote( array $request ) {
		$res = $this->request( 'POST', '/api/v1/plugin/quote', array(), $request, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		return self::parse_quote( $res, isset( $request['currency'] ) ? (string) $request['currency'] : '' );
	}

	/**
	 * Releases a hold.
	 *
	 * @param string $hold_id Hold id.
	 * @return true|WP_Error
	 */
	public function release( $hold_id ) {
		$res = $this->request( 'POST', '/api/v1/plugin/release', array(), array( 'hold_id' => (string) $hold_id ), array( 200, 204 ) );
		return is_wp_error( $res ) ? $res : true;
	}

	/**
	 * Balance of a customer.
	 *
	 * @param string $customer_id WooCommerce customer id.
	 * @param string $currency    ISO 4217.
	 * @return array|WP_Error Normalized amounts (strings) and currency.
	 */
	public function balance( $customer_id, $currency ) {
		$res = $this->request( 'GET', '/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/balance', array( 'currency' => $currency ), null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		$cur = self::currency_of( $res, $currency );
		$out = array( 'currency' => $cur );
		foreach ( array( 'available', 'pending', 'held', 'overdraft' ) as $field ) {
			$v             = isset( $res[ $field ] ) ? Creditbridge_Money::normalize( self::amount_str( $res, $field ), $cur ) : Creditbridge_Money::from_minor( 0, Creditbridge_Money::decimals( $cur ) );
			$out[ $field ] = $v;
			if ( null === $v ) {
				return new WP_Error( 'creditbridge_response', 'balance: invalid ' . $field );
			}
		}
		return $out;
	}

	/**
	 * One page of a customer's statement.
	 *
	 * @param string $customer_id WooCommerce customer id.
	 * @param string $currency    ISO 4217.
	 * @param int    $limit       Page size.
	 * @param string $cursor      Cursor from a previous page, '' for the first.
	 * @return array|WP_Error { entries: list, next_cursor: string }
	 */
	public function statement( $customer_id, $currency, $limit = 20, $cursor = '', $after = '' ) {
		$query = array(
			'currency' => $currency,
			'limit'    => (string) max( 1, min( 100, (int) $limit ) ),
			'cursor'   => (string) $cursor,
		);
		if ( '' !== (string) $after ) {
			$query['after'] = (string) $after;
		}
		if ( function_exists( 'determine_locale' ) ) {
			$query['locale'] = determine_locale(); // descriptions in the reader's language
		}
		$res   = $this->request( 'GET', '/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/statement', $query, null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		$entries = array();
		$list    = ( isset( $res['entries'] ) && is_array( $res['entries'] ) ) ? $res['entries'] : array();
		foreach ( $list as $e ) {
			if ( ! is_array( $e ) ) {
				continue;
			}
			$entries[] = array(
				'id'              => self::str( $e, 'id' ),
				'created_at'      => self::str( $e, 'created_at' ),
				'kind'            => self::str( $e, 'kind' ),
				'description'     => self::str( $e, 'description' ),
				'order_number'    => self::str( $e, 'order_number' ),
				'delta'           => self::own_amount( $e, 'delta', 'held_delta', $currency ),
				'available_after' => self::own_amount( $e, 'available_after', 'held_after', $currency ),
				'available_from'  => self::str( $e, 'available_from' ),
			);
		}
		$hints = array();
		if ( isset( $res['earn_hints'] ) && is_array( $res['earn_hints'] ) ) {
			foreach ( $res['earn_hints'] as $h ) {
				if ( is_string( $h ) ) {
					$hints[] = $h;
				}
			}
		}
		return array(
			'entries'     => $entries,
			'next_cursor' => self::str( $res, 'next_cursor' ),
			'prev_cursor' => self::str( $res, 'prev_cursor' ),
			'earn_hints'  => $hints,
			'tier'        => isset( $res['tier'] ) && is_array( $res['tier'] ) ? self::parse_tier( $res['tier'], $currency ) : null,
		);
	}

	/**
	 * The customer's tier from a statement (first page of a shop with
	 * tiers): its name ('' in none), the next tier and the amount missing
	 * to it (at the currency's scale, '' when there is no next tier), and
	 * the end of a membership (RFC 3339 or '').
	 *
	 * @param array  $t        statement.tier from the bridge.
	 * @param string $currency ISO 4217.
	 * @return array{tier:string,next_tier:string,missing:string,member:bool,member_until:string}
	 */
	public static function parse_tier( array $t, $currency ) {
		$next    = substr( self::str( $t, 'next_tier' ), 0, 100 );
		$missing = Creditbridge_Money::normalize( self::amount_str( $t, 'missing' ), $currency );
		if ( '' === $next || null === $missing ) {
			$next    = '';
			$missing = '';
		}
		return array(
			'tier'         => substr( self::str( $t, 'tier' ), 0, 100 ),
			'next_tier'    => $next,
			'missing'      => $missing,
			'member'       => isset( $t['member'] ) && true === $t['member'],
			'member_until' => self::str( $t, 'member_until' ),
		);
	}

	/**
	 * Replaces the products of a product category that a collection rule
	 * targets (ids of parent products). The bridge answers 404 when no
	 * rule targets the category.
	 *
	 * @param string   $category_id Category term id.
	 * @param string[] $product_ids Product ids.
	 * @return array|WP_Error
	 */
	public function collection_products( $category_id, array $product_ids ) {
		return $this->request( 'PUT', '/api/v1/plugin/collections/' . rawurlencode( (string) $category_id ) . '/products', array(), array( 'products' => array_values( array_map( 'strval', $product_ids ) ) ), array( 200 ) );
	}

	/**
	 * A customer's voucher codes, newest first.
	 *
	 * @param string $customer_id WooCommerce customer id.
	 * @return array|WP_Error list of { code, amount, currency, status, expires_at }
	 */
	public function vouchers( $customer_id ) {
		$res = $this->request( 'GET', '/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/vouchers', array(), null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		$out  = array();
		$list = ( isset( $res['vouchers'] ) && is_array( $res['vouchers'] ) ) ? $res['vouchers'] : array();
		foreach ( $list as $v ) {
			if ( ! is_array( $v ) ) {
				continue;
			}
			$cur = self::currency_of( $v, '' );
			$amt = Creditbridge_Money::normalize( self::amount_str( $v, 'amount' ), $cur );
			if ( '' === self::str( $v, 'code' ) || null === $amt ) {
				continue;
			}
			$out[] = array(
				'code'       => self::str( $v, 'code' ),
				'amount'     => $amt,
				'currency'   => $cur,
				'status'     => self::str( $v, 'status' ),
				'expires_at' => self::str( $v, 'expires_at' ),
			);
		}
		return $out;
	}

	/**
	 * Reports an activity (or revokes one) to the events API of the shop:
	 * POST /api/v1/shops/<shop>/events, signed with the plugin secret.
	 *
	 * @param array $event { kind, subject, object?, idempotency_key, action? }
	 * @return array|WP_Error The recorded event.
	 */
	public function activity( array $event ) {
		$res = $this->request( 'POST', '/api/v1/shops/' . rawurlencode( $this->shop_id ) . '/events', array(), $event, array( 201, 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		if ( ! isset( $res['event'] ) || ! is_array( $res['event'] ) ) {
			return new WP_Error( 'creditbridge_response', 'activity: invalid response' );
		}
		return $res['event'];
	}

	/**
	 * Sends a customer's saved addresses for the household check.
	 *
	 * @param string $customer_id WooCommerce customer id.
	 * @param array  $addresses   List of { address_1, postcode, country }.
	 * @return array|WP_Error { recorded: int, household_check: bool }
	 */
	public function customer_addresses( $customer_id, array $addresses ) {
		$res = $this->request( 'POST', '/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/addresses', array(), array( 'addresses' => array_values( $addresses ) ), array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		return array(
			'recorded'        => isset( $res['recorded'] ) ? (int) $res['recorded'] : 0,
			'household_check' => ! empty( $res['household_check'] ),
		);
	}

	/**
	 * Turns credit into a single-use voucher.
	 *
	 * @param string $customer_id WooCommerce customer id.
	 * @param string $amount      Decimal string at the currency's scale.
	 * @param string $currency    ISO 4217.
	 * @param string $request_key Optional idempotency key: the same key
	 *                            returns the same voucher (a form sent twice).
	 * @return array|WP_Error { code, amount, currency, expires_at }
	 */
	public function create_voucher( $customer_id, $amount, $currency, $request_key = '' ) {
		$body = array(
			'amount'   => (string) $amount,
			'currency' => (string) $currency,
		);
		if ( '' !== (string) $request_key ) {
			$body['idempotency_key'] = (string) $request_key;
		}
		$res = $this->request(
			'POST',
			'/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/vouchers',
			array(),
			$body,
			array( 201, 200 )
		);
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		$cur  = self::currency_of( $res, $currency );
		$code = self::str( $res, 'code' );
		$amt  = Creditbridge_Money::normalize( self::amount_str( $res, 'amount' ), $cur );
		if ( '' === $code || null === $amt ) {
			return new WP_Error( 'creditbridge_response', 'voucher: invalid response' );
		}
		return array(
			'code'       => $code,
			'amount'     => $amt,
			'currency'   => $cur,
			'expires_at' => self::str( $res, 'expires_at' ),
		);
	}

	/**
	 * The bridge's view of this shop's connection (settings page).
	 *
	 * @return array|WP_Error { last_webhook_at, last_poll_at (RFC 3339 or ''),
	 *                        last_poll_ok (bool), last_failure (null or
	 *                        { at, source, reason }) }
	 */
	public function health() {
		$res = $this->request( 'GET', '/api/v1/plugin/health', array(), null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return $res;
		}
		$failure = null;
		if ( isset( $res['last_failure'] ) && is_array( $res['last_failure'] ) ) {
			$f       = $res['last_failure'];
			$failure = array(
				'at'     => self::str( $f, 'at' ),
				'source' => self::str( $f, 'source' ),
				'reason' => substr( self::str( $f, 'reason' ), 0, 500 ),
			);
		}
		Creditbridge_Settings::store_labels( isset( $res['discount_labels'] ) ? $res['discount_labels'] : null );
		return array(
			'last_webhook_at' => self::str( $res, 'last_webhook_at' ),
			'last_poll_at'    => self::str( $res, 'last_poll_at' ),
			'last_poll_ok'    => isset( $res['last_poll_ok'] ) && true === $res['last_poll_ok'],
			'last_failure'    => $failure,
		);
	}

	/**
	 * Builds the URL and wp_remote_request() arguments of a signed call.
	 *
	 * @param string     $method HTTP method.
	 * @param string     $path   Path under the bridge base URL.
	 * @param array      $query  Query parameters (empty strings are kept: "cursor=").
	 * @param array|null $body   JSON body, null for none.
	 * @return array{0:string,1:array}
	 */
	public function build_request( $method, $path, array $query = array(), $body = null ) {
		$url = $this->base_url . $path;
		if ( ! empty( $query ) ) {
			$url .= '?' . http_build_query( $query, '', '&', PHP_QUERY_RFC3986 );
		}
		$raw     = null === $body ? '' : (string) wp_json_encode( $body );
		$headers = Creditbridge_Signer::headers( $this->shop_id, $this->secret, $method, $url, $raw, (int) call_user_func( $this->now ) );

		$headers['Accept'] = 'application/json';
		if ( null !== $body ) {
			$headers['Content-Type'] = 'application/json';
		}
		$args = array(
			'method'              => strtoupper( $method ),
			'timeout'             => self::TIMEOUT,
			'redirection'         => 0,
			'headers'             => $headers,
			'limit_response_size' => self::MAX_BODY,
		);
		if ( null !== $body ) {
			$args['body'] = $raw;
		}
		return array( $url, $args );
	}

	/**
	 * Sends a signed call and decodes a JSON object answer.
	 *
	 * @param string     $method HTTP method.
	 * @param string     $path   Path.
	 * @param array      $query  Query.
	 * @param array|null $body   Body.
	 * @param int[]      $expect Accepted status codes.
	 * @return array|WP_Error
	 */
	public function request( $method, $path, array $query, $body, array $expect ) {
		list( $url, $args ) = $this->build_request( $method, $path, $query, $body );
		$response           = wp_remote_request( $url, $args );
		if ( is_wp_error( $response ) ) {
			return new WP_Error( 'creditbridge_http', 'bridge unreachable: ' . $response->get_error_message() );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 401 === $code ) {
			$this->note_clock_skew( (string) wp_remote_retrieve_header( $response, 'date' ) );
		}
		if ( ! in_array( $code, $expect, true ) ) {
			return new WP_Error( 'creditbridge_status', sprintf( 'bridge answered HTTP %d on %s %s', $code, strtoupper( $method ), $path ), array( 'status' => $code ) );
		}
		$raw = (string) wp_remote_retrieve_body( $response );
		if ( '' === $raw ) {
			return array();
		}
		$data = json_decode( $raw, true, 32, JSON_BIGINT_AS_STRING );
		if ( ! is_array( $data ) ) {
			return new WP_Error( 'creditbridge_response', 'bridge answered invalid JSON' );
		}
		return $data;
	}

	/**
	 * Sends a signed call and returns the answer's body as text (the rules
	 * CSV export).
	 *
	 * @param string $method HTTP method.
	 * @param string $path   Path.
	 * @param int[]  $expect Accepted status codes.
	 * @return string|WP_Error
	 */
	public function request_text( $method, $path, array $expect ) {
		list( $url, $args )        = $this->build_request( $method, $path, array(), null );
		$args['headers']['Accept'] = 'text/csv';
		$response                  = wp_remote_request( $url, $args );
		if ( is_wp_error( $response ) ) {
			return new WP_Error( 'creditbridge_http', 'bridge unreachable: ' . $response->get_error_message() );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( ! in_array( $code, $expect, true ) ) {
			return new WP_Error( 'creditbridge_status', sprintf( 'bridge answered HTTP %d on %s %s', $code, strtoupper( $method ), $path ), array( 'status' => $code ) );
		}
		return (string) wp_remote_retrieve_body( $response );
	}

	/**
	 * Validates and normalizes a quote answer.
	 *
	 * @param array  $res      Decoded JSON.
	 * @param string $currency Requested currency.
	 * @return array|WP_Error
	 */
	public static function parse_quote( array $res, $currency ) {
		$cur       = self::currency_of( $res, $currency );
		$amount    = Creditbridge_Money::normalize( self::amount_str( $res, 'amount' ), $cur );
		$available = Creditbridge_Money::normalize( self::amount_str( $res, 'available' ), $cur );
		if ( null === $amount || null === $available || 0 !== strcasecmp( $cur, $currency ) ) {
			return new WP_Error( 'creditbridge_response', 'quote: invalid amount or currency' );
		}
		$hold_id = self::str( $res, 'hold_id' );
		$code    = strtolower( self::str( $res, 'coupon_code' ) );
		$minor   = Creditbridge_Money::to_minor( $amount, Creditbridge_Money::decimals( $cur ) );
		if ( $minor < 0 ) {
			return new WP_Error( 'creditbridge_response', 'quote: negative amount' );
		}
		if ( $minor > 0 && ( '' === $hold_id || '' === $code || Creditbridge_Coupon::code_for_hold( $hold_id ) !== $code ) ) {
			return new WP_Error( 'creditbridge_response', 'quote: coupon code does not match the hold' );
		}
		$expires = strtotime( self::str( $res, 'expires_at' ) );
		return array(
			'hold_id'         => $hold_id,
			'amount'          => $amount,
			'currency'        => $cur,
			'available'       => $available,
			'coupon_code'     => $minor > 0 ? $code : '',
			'expires_at'      => false === $expires ? 0 : (int) $expires,
			// How credit reduces a cart whose prices exclude tax (see
			// Creditbridge_Coupon::face_value); gross unless the bridge says net.
			'redeem_base'     => 'net' === self::str( $res, 'redeem_base' ) ? 'net' : 'gross',
			// The shop's checkout names per language (null: not sent).
			'discount_labels' => isset( $res['discount_labels'] ) && is_array( $res['discount_labels'] ) ? $res['discount_labels'] : null,
		);
	}

	/**
	 * Records the clock difference after a 401 when it exceeds the window.
	 *
	 * @param string $date_header Date header of the answer.
	 */
	private function note_clock_skew( $date_header ) {
		$now  = (int) call_user_func( $this->now );
		$skew = Creditbridge_Signer::clock_skew( $date_header, $now );
		if ( null !== $skew && ! Creditbridge_Signer::is_fresh( $now + $skew, $now ) ) {
			update_option( Creditbridge_Settings::OPT_CLOCK_SKEW, (int) $skew, false );
		}
	}

	/**
	 * Currency of an answer, upper case, defaulting to the requested one.
	 *
	 * @param array  $res      Decoded JSON.
	 * @param string $fallback Requested currency.
	 * @return string
	 */
	private static function currency_of( array $res, $fallback ) {
		$c = strtoupper( self::str( $res, 'currency' ) );
		return preg_match( '/^[A-Z]{3}$/D', $c ) ? $c : strtoupper( (string) $fallback );
	}

	/**
	 * A string or integer field as a string ('' when absent or of another
	 * type: amounts sent as JSON numbers are rejected, never read as floats).
	 *
	 * @param array  $a   Array.
	 * @param string $key Key.
	 * @return string
	 */
	private static function str( array $a, $key ) {
		if ( ! isset( $a[ $key ] ) || ! ( is_string( $a[ $key ] ) || is_int( $a[ $key ] ) ) ) {
			return '';
		}
		return (string) $a[ $key ];
	}

	/**
	 * An amount field: the contract sends money as JSON strings only, so a
	 * JSON number (which PHP would read as int or float) gives ''.
	 *
	 * @param array  $a   Array.
	 * @param string $key Key.
	 * @return string
	 */
	/**
	 * A statement amount as the customer sees it: available and held
	 * together ("" when the available part is missing or invalid).
	 *
	 * The customer's statement leaves out hold placements and releases, so
	 * a captured hold shows only as its capture, which moves nothing but
	 * held credit. Counting held credit as the customer's own makes that
	 * row the credit the order used, and the balance column add up.
	 *
	 * @param array  $e         Entry from the bridge.
	 * @param string $available Key of the available part.
	 * @param string $held      Key of the held part (absent counts as 0).
	 * @param string $currency  ISO 4217 code.
	 * @return string
	 */
	private static function own_amount( array $e, $available, $held, $currency ) {
		$d = Creditbridge_Money::decimals( $currency );
		$a = Creditbridge_Money::to_minor( self::amount_str( $e, $available ), $d );
		if ( null === $a ) {
			return '';
		}
		$h = Creditbridge_Money::to_minor( self::amount_str( $e, $held ), $d );
		return Creditbridge_Money::from_minor( $a + ( null === $h ? 0 : $h ), $d );
	}

	private static function amount_str( array $a, $key ) {
		return ( isset( $a[ $key ] ) && is_string( $a[ $key ] ) ) ? $a[ $key ] : '';
	}
}
