<?php
/**
 * Per-cart quote cache kept in the WooCommerce session.
 *
 * The cache key is a hash of (customer, currency, subtotal, lines): the quote
 * is re-requested only when the cart changes or the hold is about to expire,
 * not on every page load. The bridge reuses the open hold of the same
 * cart_key, so calling quote again after a change adjusts the same hold.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Quote cache over a session object with get()/set() (WC_Session).
 */
class Creditbridge_Quote_Cache {

	const KEY_QUOTE    = 'creditbridge_quote';
	const KEY_CART_KEY = 'creditbridge_cart_key';
	const KEY_OPT_OUT  = 'creditbridge_opt_out';
	const KEY_ORDERED  = 'creditbridge_ordered_hold';

	/** Re-quote this many seconds before the hold expires. */
	const EXPIRY_MARGIN = 120;

	/** Lifetime of a quote without a hold, in seconds. */
	const ZERO_TTL = 300;

	/**
	 * Session (WC_Session or compatible).
	 *
	 * @var object
	 */
	private $session;

	/**
	 * Constructor.
	 *
	 * @param object $session Object with get( $key, $default ) and set( $key, $value ).
	 */
	public function __construct( $session ) {
		$this->session = $session;
	}

	/**
	 * Hash identifying the cart contents relevant to a quote.
	 *
	 * @param string $customer_id Customer id.
	 * @param string $currency    ISO 4217.
	 * @param string $subtotal    Subtotal string.
	 * @param array  $lines       Quote lines.
	 * @return string
	 */
	public static function cart_hash( $customer_id, $currency, $subtotal, array $lines ) {
		return hash( 'sha256', (string) wp_json_encode( array( (string) $customer_id, (string) $currency, (string) $subtotal, array_values( $lines ) ) ) );
	}

	/**
	 * The cached quote for this hash, when still fresh.
	 *
	 * @param string $hash Cart hash.
	 * @param int    $now  Unix seconds.
	 * @return array|null
	 */
	public function get( $hash, $now ) {
		$c = $this->session->get( self::KEY_QUOTE, null );
		if ( ! is_array( $c ) || ! isset( $c['hash'], $c['quote'] ) || ! hash_equals( (string) $c['hash'], (string) $hash ) ) {
			return null;
		}
		$q = $c['quote'];
		if ( ! empty( $q['coupon_code'] ) && (int) $q['expires_at'] > 0 ) {
			$until = (int) $q['expires_at'] - self::EXPIRY_MARGIN;
		} else {
			// No hold (or no expiry): ask again after a while so new credit shows up.
			$until = (int) $c['at'] + self::ZERO_TTL;
		}
		return $now < $until ? $q : null;
	}

	/**
	 * Stores a quote for this hash.
	 *
	 * @param string $hash  Cart hash.
	 * @param array  $quote Normalized quote.
	 * @param int    $now   Unix seconds.
	 */
	public function put( $hash, array $quote, $now ) {
		$this->session->set(
			self::KEY_QUOTE,
			array(
				'hash'  => (string) $hash,
				'quote' => $quote,
				'at'    => (int) $now,
			)
		);
	}

	/**
	 * The last stored quote whatever the cart hash, or null.
	 *
	 * @return array|null
	 */
	public function current() {
		$c = $this->session->get( self::KEY_QUOTE, null );
		return ( is_array( $c ) && isset( $c['quote'] ) && is_array( $c['quote'] ) ) ? $c['quote'] : null;
	}

	/**
	 * Forgets the quote.
	 */
	public function clear() {
		$this->session->set( self::KEY_QUOTE, null );
	}

	/**
	 * Stable key of the current cart, generated once per cart and kept in the
	 * session until the cart is emptied.
	 *
	 * @return string
	 */
	public function cart_key() {
		$k = $this->session->get( self::KEY_CART_KEY, '' );
		if ( ! is_string( $k ) || ! preg_match( '/^[a-f0-9]{32}$/D', $k ) ) {
			$k = bin2hex( random_bytes( 16 ) );
			$this->session->set( self::KEY_CART_KEY, $k );
		}
		return $k;
	}

	/**
	 * Starts a new cart: new key, no quote, no opt-out.
	 */
	public function reset_cart() {
		$this->session->set( self::KEY_CART_KEY, null );
		$this->session->set( self::KEY_QUOTE, null );
		$this->session->set( self::KEY_OPT_OUT, null );
		$this->session->set( self::KEY_ORDERED, null );
	}

	/**
	 * Whether the customer removed the credit coupon for this cart.
	 *
	 * @return bool
	 */
	public function opted_out() {
		return (bool) $this->session->get( self::KEY_OPT_OUT, false );
	}

	/**
	 * Sets or clears the opt-out.
	 *
	 * @param bool $v Opted out.
	 */
	public function set_opt_out( $v ) {
		$this->session->set( self::KEY_OPT_OUT, $v ? true : null );
	}

	/**
	 * Hold id attached to a placed order (not to release on cart emptying).
	 *
	 * @return string
	 */
	public function ordered_hold() {
		return (string) $this->session->get( self::KEY_ORDERED, '' );
	}

	/**
	 * Records the hold attached to the order just placed.
	 *
	 * @param string $hold_id Hold id.
	 */
	public function set_ordered_hold( $hold_id ) {
		$this->session->set( self::KEY_ORDERED, (string) $hold_id );
	}
}
