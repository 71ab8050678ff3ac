<?php
/**
 * Household check: sends a customer's saved addresses to the bridge.
 *
 * With the shop's household check on, a referral whose order goes to a
 * partner's own household credits no partner. The bridge learns the
 * addresses of every order from the order itself; the addresses a
 * customer keeps in their account (My Account > Addresses, the user
 * profile in the WP admin, a checkout that saves them) reach it only
 * from here. For billing and shipping, street and number, postcode and
 * country are sent (nothing else); the bridge normalizes them as it does
 * for orders and keeps only a keyed hash of each.
 *
 * The addresses are sent once per request, when it ends (shutdown), and
 * only when they changed since the bridge last kept them. A call the
 * bridge could not answer is retried through WP-Cron after 5 minutes
 * (the cron entry carries the user id only, never an address). While the
 * shop's check is off the bridge keeps nothing, and the plugin asks again
 * at most every 10 minutes.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Customer address hooks.
 */
class Creditbridge_Household {

	/** WP-Cron hook retrying an unsent customer. */
	const RETRY_HOOK = 'creditbridge_send_addresses';

	/** Seconds before a retry. */
	const RETRY_AFTER = 300;

	/** User meta: fingerprint of the addresses the bridge kept. */
	const META_SENT = '_creditbridge_addresses_sent';

	/** Transient set while the shop's household check is off. */
	const CHECK_OFF = 'creditbridge_household_off';

	/** Seconds the plugin trusts a "check off" answer. */
	const CHECK_OFF_TTL = 600;

	/**
	 * Returns the client (null when the plugin is not registered).
	 *
	 * @var callable
	 */
	private $client;

	/**
	 * Customers whose addresses may have changed in this request.
	 *
	 * @var array<int,bool>
	 */
	private $pending = array();

	/**
	 * Constructor.
	 *
	 * @param callable|null $client Factory of the signed client (tests).
	 */
	public function __construct( $client = null ) {
		$this->client = $client ? $client : array( 'Creditbridge_Client', 'from_options' );
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'woocommerce_customer_save_address', array( $this, 'address_saved' ), 10, 2 );
		add_action( 'woocommerce_update_customer', array( $this, 'changed' ), 10, 1 );
		add_action( 'profile_update', array( $this, 'changed' ), 10, 1 );
		add_action( 'shutdown', array( $this, 'flush' ) );
		add_action( self::RETRY_HOOK, array( $this, 'send' ), 10, 1 );
	}

	/**
	 * The customer's complete saved addresses (billing, then shipping):
	 * those with street, postcode and country; the same address twice is
	 * sent once.
	 *
	 * @param int $user_id User id.
	 * @return array List of { address_1, postcode, country }.
	 */
	public static function addresses( $user_id ) {
		$out  = array();
		$seen = array();
		foreach ( array( 'billing', 'shipping' ) as $type ) {
			$a = array();
			foreach ( array( 'address_1', 'postcode', 'country' ) as $field ) {
				$v           = get_user_meta( (int) $user_id, $type . '_' . $field, true );
				$a[ $field ] = is_scalar( $v ) ? trim( (string) $v ) : '';
			}
			if ( '' === $a['address_1'] || '' === $a['postcode'] || '' === $a['country'] ) {
				continue;
			}
			$key = strtolower( implode( "\n", $a ) );
			if ( isset( $seen[ $key ] ) ) {
				continue;
			}
			$seen[ $key ] = true;
			$out[]        = $a;
		}
		return $out;
	}

	/**
	 * My Account > Addresses saved an address.
	 *
	 * @param int    $user_id User id.
	 * @param string $type    billing or shipping (unused: both are sent).
	 */
	public function address_saved( $user_id, $type = '' ) {
		unset( $type );
		$this->changed( $user_id );
	}

	/**
	 * A customer record or user profile was saved: its addresses are
	 * looked at when the request ends.
	 *
	 * @param int $user_id User id.
	 */
	public function changed( $user_id ) {
		$id = (int) $user_id;
		if ( $id > 0 ) {
			$this->pending[ $id ] = true;
		}
	}

	/**
	 * Sends the addresses of the customers saved in this request.
	 */
	public function flush() {
		$ids           = array_keys( $this->pending );
		$this->pending = array();
		foreach ( $ids as $id ) {
			$this->send( $id );
		}
	}

	/**
	 * Sends a customer's addresses unless the bridge kept them already; a
	 * transport failure or a 5xx is retried later.
	 *
	 * @param int $user_id User id.
	 * @return bool Whether the bridge has the current addresses.
	 */
	public function send( $user_id ) {
		$id    = (int) $user_id;
		$addrs = $id > 0 ? self::addresses( $id ) : array();
		if ( empty( $addrs ) ) {
			return false;
		}
		$fingerprint = hash( 'sha256', (string) wp_json_encode( $addrs ) );
		if ( get_user_meta( $id, self::META_SENT, true ) === $fingerprint ) {
			return true;
		}
		if ( get_transient( self::CHECK_OFF ) ) {
			return false;
		}
		$client = call_user_func( $this->client );
		if ( ! $client ) {
			return false;
		}
		$res = $client->customer_addresses( (string) $id, $addrs );
		if ( ! is_wp_error( $res ) ) {
			if ( ! $res['household_check'] ) {
				set_transient( self::CHECK_OFF, 1, self::CHECK_OFF_TTL );
				return false;
			}
			update_user_meta( $id, self::META_SENT, $fingerprint );
			return true;
		}
		$data   = $res->get_error_data();
		$status = is_array( $data ) && isset( $data['status'] ) ? (int) $data['status'] : 0;
		if ( ( 0 === $status || $status >= 500 || 429 === $status ) && ! wp_next_scheduled( self::RETRY_HOOK, array( $id ) ) ) {
			wp_schedule_single_event( time() + self::RETRY_AFTER, self::RETRY_HOOK, array( $id ) );
		}
		return false;
	}
}
