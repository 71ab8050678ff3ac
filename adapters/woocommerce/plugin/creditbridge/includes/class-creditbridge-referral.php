<?php
/**
 * Referral capture: a visit with ?ref=CODE sets a first-party cookie for
 * the attribution window; a code typed at checkout (classic field or the
 * block checkout's additional field) wins over the cookie. The order gets
 * the code as the _creditbridge_partner meta, in classic checkout and
 * through the Store API (block checkout), and the bridge reads it from the
 * order webhook. What a code earns (binding, self-referral) is decided by
 * the bridge; the plugin only carries it.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Referral cookie and order meta.
 */
final class Creditbridge_Referral {

	const COOKIE         = 'creditbridge_ref';
	const META           = '_creditbridge_partner';
	const PARAM          = 'ref';
	const FIELD          = 'creditbridge_referral_code';
	const BLOCK_FIELD_ID = 'creditbridge/referral-code';
	const OPT_DAYS       = 'creditbridge_referral_days';
	const OPT_FIELD      = 'creditbridge_referral_field';
	const DEFAULT_DAYS   = 30;

	/**
	 * Sets a cookie: function ( $name, $value, $expires ).
	 *
	 * @var callable
	 */
	private $set_cookie;

	/**
	 * Returns unix seconds.
	 *
	 * @var callable
	 */
	private $now;

	/**
	 * Returns a Creditbridge_Client or null.
	 *
	 * @var callable
	 */
	private $client_factory;

	const SIGNUP_ACTION = 'creditbridge_referral_signup';

	/**
	 * Constructor.
	 *
	 * @param callable|null $set_cookie     Cookie writer (default: setcookie with the site's path and domain).
	 * @param callable|null $now            Clock.
	 * @param callable|null $client_factory Returns a Creditbridge_Client or null.
	 */
	public function __construct( $set_cookie = null, $now = null, $client_factory = null ) {
		$this->set_cookie     = $set_cookie ? $set_cookie : array( __CLASS__, 'send_cookie' );
		$this->now            = $now ? $now : 'time';
		$this->client_factory = $client_factory ? $client_factory : array( 'Creditbridge_Client', 'from_options' );
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'wp_loaded', array( $this, 'capture' ), 20 );
		add_action( 'woocommerce_checkout_create_order', array( $this, 'on_checkout_create_order' ), 10, 2 );
		add_action( 'woocommerce_store_api_checkout_update_order_from_request', array( $this, 'on_store_api_order' ), 10, 2 );
		add_filter( 'woocommerce_checkout_fields', array( $this, 'checkout_fields' ) );
		add_action( 'woocommerce_init', array( $this, 'register_block_field' ) );
		add_action( 'woocommerce_blocks_loaded', array( $this, 'register_checkout_data' ) );
		add_action( 'woocommerce_account_' . Creditbridge_Account::ENDPOINT . '_endpoint', array( $this, 'render_share' ), 20 );
		add_action( 'template_redirect', array( $this, 'handle_signup' ) );
	}

	/**
	 * The customer's referral answer from the bridge (code, link, status),
	 * or a WP_Error.
	 *
	 * @param Creditbridge_Client $client   Client.
	 * @param string              $customer WooCommerce customer id.
	 * @param bool                $signup   Enrol the customer (self-signup).
	 * @return array|WP_Error
	 */
	public static function fetch( $client, $customer, $signup = false ) {
		$path = '/api/v1/plugin/customers/' . rawurlencode( (string) $customer ) . '/referral';
		return $signup ? $client->request( 'POST', $path, array(), null, array( 200, 201 ) ) : $client->request( 'GET', $path, array(), null, array( 200 ) );
	}

	/**
	 * My Account (store credit tab): the customer's share code and link, or
	 * the offer to become a partner when the shop allows self-signup.
	 */
	public function render_share() {
		$client = call_user_func( $this->client_factory );
		if ( ! $client || ! is_user_logged_in() ) {
			return;
		}
		$ref = self::fetch( $client, (string) get_current_user_id() );
		if ( is_wp_error( $ref ) ) {
			return; // the statement above already says when the bridge is unreachable.
		}
		echo '<section class="creditbridge-referral"><h3>' . esc_html__( 'Recommend us', 'creditbridge' ) . '</h3>';
		$code = isset( $ref['code'] ) && is_string( $ref['code'] ) ? $ref['code'] : '';
		if ( '' !== $code ) {
			$link   = isset( $ref['share_link'] ) && is_string( $ref['share_link'] ) ? $ref['share_link'] : '';
			$status = isset( $ref['partner']['status'] ) ? (string) $ref['partner']['status'] : '';
			echo '<p>' . esc_html__( 'Your referral code:', 'creditbridge' ) . ' <strong>' . esc_html( $code ) . '</strong></p>';
			if ( '' !== $link ) {
				// A labelled field: a screen reader names it, and a click on the label selects it.
				echo '<p><label for="creditbridge-share-link">' . esc_html__( 'Your link:', 'creditbridge' ) . '</label> <input type="text" id="creditbridge-share-link" readonly value="' . esc_attr( $link ) . '" size="40"></p>';
			}
			if ( 'pending' === $status ) {
				echo '<p>' . esc_html__( 'The shop still has to approve your partner account; referrals count once it does.', 'creditbridge' ) . '</p>';
			}
			echo '<p>' . esc_html__( 'Credit from orders placed through your link appears in your statement above, with its level.', 'creditbridge' ) . '</p>';
		} elseif ( isset( $ref['signup'] ) && 'closed' !== $ref['signup'] ) {
			echo '<form method="post">';
			if ( function_exists( 'wp_nonce_field' ) ) {
				wp_nonce_field( self::SIGNUP_ACTION, 'creditbridge_referral_nonce' );
			}
			echo '<p>' . esc_html__( 'Get your own referral link and earn credit on the orders of the customers you bring.', 'creditbridge' ) . '</p>';
			echo '<button type="submit" class="button" name="creditbridge_referral_signup" value="1">' . esc_html__( 'Get my referral link', 'creditbridge' ) . '</button></form>';
		}
		echo '</section>';
	}

	/**
	 * Handles the signup form (POST, nonce, logged-in customer), then
	 * redirects back to the tab.
	 */
	public function handle_signup() {
		$method = isset( $_SERVER['REQUEST_METHOD'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REQUEST_METHOD'] ) ) : '';
		if ( 'POST' !== $method || ! isset( $_POST['creditbridge_referral_nonce'] ) ) {
			return;
		}
		$nonce = sanitize_text_field( wp_unslash( $_POST['creditbridge_referral_nonce'] ) );
		if ( ! is_user_logged_in() || ! wp_verify_nonce( $nonce, self::SIGNUP_ACTION ) ) {
			wc_add_notice( __( 'Your session expired. Please try again.', 'creditbridge' ), 'error' );
			return;
		}
		$client = call_user_func( $this->client_factory );
		if ( $client && is_wp_error( self::fetch( $client, (string) get_current_user_id(), true ) ) ) {
			wc_add_notice( __( 'Your referral link could not be created. Please try again later.', 'creditbridge' ), 'error' );
		}
		wp_safe_redirect( wc_get_account_endpoint_url( Creditbridge_Account::ENDPOINT ) );
		exit;
	}

	/**
	 * Whether a code has the shape of a partner code or id.
	 *
	 * @param mixed $code Candidate.
	 * @return bool
	 */
	public static function valid_code( $code ) {
		return is_string( $code ) && 1 === preg_match( '/^[A-Za-z0-9._-]{1,200}$/', $code );
	}

	/**
	 * The attribution window in days (1..365, default 30).
	 *
	 * @return int
	 */
	public static function window_days() {
		$d = (int) get_option( self::OPT_DAYS, self::DEFAULT_DAYS );
		return ( $d >= 1 && $d <= 365 ) ? $d : self::DEFAULT_DAYS;
	}

	/**
	 * Whether checkout shows the referral code field (default yes).
	 *
	 * @return bool
	 */
	public static function field_enabled() {
		return 'no' !== get_option( self::OPT_FIELD, 'yes' );
	}

	/**
	 * Remembers the code of a referral link (?ref=CODE) for the window.
	 * The last link followed wins.
	 *
	 * @param array|null $query Query arguments (default $_GET).
	 * @return string The code remembered, '' when none.
	 */
	public function capture( $query = null ) {
		$query = is_array( $query ) ? $query : $_GET; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a public link, no state change beyond a cookie.
		if ( ! isset( $query[ self::PARAM ] ) || ! is_string( $query[ self::PARAM ] ) ) {
			return '';
		}
		$code = trim( sanitize_text_field( wp_unslash( $query[ self::PARAM ] ) ) );
		if ( ! self::valid_code( $code ) ) {
			return '';
		}
		$expires = (int) call_user_func( $this->now ) + self::window_days() * 86400;
		call_user_func( $this->set_cookie, self::COOKIE, $code, $expires );
		$_COOKIE[ self::COOKIE ] = $code; // the same request's checkout sees it too.
		return $code;
	}

	/**
	 * The remembered code, '' when none (an expired cookie is not sent).
	 *
	 * @return string
	 */
	public static function remembered() {
		if ( ! isset( $_COOKIE[ self::COOKIE ] ) || ! is_string( $_COOKIE[ self::COOKIE ] ) ) {
			return '';
		}
		$code = trim( sanitize_text_field( wp_unslash( $_COOKIE[ self::COOKIE ] ) ) );
		return self::valid_code( $code ) ? $code : '';
	}

	/**
	 * The code for an order: the one typed at checkout, else the cookie's.
	 *
	 * @param mixed $typed Typed value (may be empty).
	 * @return string
	 */
	public static function code_for_order( $typed ) {
		$typed = is_string( $typed ) ? trim( sanitize_text_field( $typed ) ) : '';
		if ( self::valid_code( $typed ) ) {
			return $typed;
		}
		return self::remembered();
	}

	/**
	 * Classic checkout: writes the meta (WooCommerce saves the order next).
	 *
	 * @param WC_Order $order Order being created.
	 * @param array    $data  Posted checkout data.
	 */
	public function on_checkout_create_order( $order, $data = array() ) {
		$typed = is_array( $data ) && isset( $data[ self::FIELD ] ) ? $data[ self::FIELD ] : '';
		$this->record( $order, $typed );
	}

	/**
	 * Block checkout (Store API): the typed code comes from the additional
	 * checkout field (already persisted on the order) or the request's
	 * extension data; WooCommerce saves the order right after this hook.
	 *
	 * @param WC_Order        $order   Order.
	 * @param WP_REST_Request $request Request (array access).
	 */
	public function on_store_api_order( $order, $request = null ) {
		$typed = '';
		if ( is_object( $order ) && method_exists( $order, 'get_meta' ) ) {
			$typed = (string) $order->get_meta( '_wc_other/' . self::BLOCK_FIELD_ID );
		}
		if ( '' === $typed && ( is_array( $request ) || $request instanceof ArrayAccess ) && isset( $request['extensions']['creditbridge']['referral_code'] ) ) {
			$typed = $request['extensions']['creditbridge']['referral_code'];
		}
		$this->record( $order, $typed );
	}

	/**
	 * Writes _creditbridge_partner through CRUD when there is a code.
	 *
	 * @param WC_Order $order Order.
	 * @param mixed    $typed Typed code.
	 * @return bool Whether meta was written.
	 */
	public function record( $order, $typed ) {
		$code = self::code_for_order( $typed );
		if ( '' === $code || ! is_object( $order ) ) {
			return false;
		}
		$order->update_meta_data( self::META, $code );
		return true;
	}

	/**
	 * Classic checkout: an optional referral code field in the order notes.
	 *
	 * @param array $fields Checkout fields.
	 * @return array
	 */
	public function checkout_fields( $fields ) {
		if ( ! self::field_enabled() || ! is_array( $fields ) ) {
			return $fields;
		}
		$fields['order'][ self::FIELD ] = array(
			'type'              => 'text',
			'label'             => __( 'Referral code', 'creditbridge' ),
			'required'          => false,
			'default'           => self::remembered(),
			'custom_attributes' => array(
				'maxlength'    => '200',
				'autocomplete' => 'off',
			),
			'priority'          => 200,
		);
		return $fields;
	}

	/**
	 * Block checkout: the same field through the additional checkout fields
	 * API (WooCommerce 8.9+), stored on the order.
	 */
	public function register_block_field() {
		if ( ! self::field_enabled() || ! function_exists( 'woocommerce_register_additional_checkout_field' ) ) {
			return;
		}
		woocommerce_register_additional_checkout_field(
			array(
				'id'                => self::BLOCK_FIELD_ID,
				// WooCommerce adds "(optional)" to a field that is not required.
				'label'             => __( 'Referral code', 'creditbridge' ),
				'location'          => 'order',
				'type'              => 'text',
				'required'          => false,
				'attributes'        => array(
					'maxLength'    => 200,
					'autocomplete' => 'off',
				),
				'sanitize_callback' => function ( $value ) {
					return trim( sanitize_text_field( (string) $value ) );
				},
				'validate_callback' => function ( $value ) {
					if ( '' !== $value && ! Creditbridge_Referral::valid_code( $value ) ) {
						return new WP_Error( 'creditbridge_referral_code', __( 'A referral code has only letters, digits, dots, dashes and underscores.', 'creditbridge' ) );
					}
					return null;
				},
			)
		);
	}

	/**
	 * Store API: declares extensions.creditbridge.referral_code on the
	 * checkout endpoint. WooCommerce sanitizes a checkout request's
	 * extensions against the registered schemas and drops every namespace
	 * and property nobody registered (seen on 9.8.5), so without this a
	 * code posted by a headless or custom checkout never reaches
	 * on_store_api_order().
	 */
	public function register_checkout_data() {
		if ( ! function_exists( 'woocommerce_store_api_register_endpoint_data' ) ) {
			return;
		}
		$endpoint = class_exists( '\Automattic\WooCommerce\StoreApi\Schemas\V1\CheckoutSchema' ) ? \Automattic\WooCommerce\StoreApi\Schemas\V1\CheckoutSchema::IDENTIFIER : 'checkout';
		woocommerce_store_api_register_endpoint_data(
			array(
				'endpoint'        => $endpoint,
				'namespace'       => Creditbridge_Blocks::NAMESPACE_KEY,
				'schema_callback' => array( __CLASS__, 'checkout_schema' ),
				'schema_type'     => ARRAY_A,
			)
		);
	}

	/**
	 * Schema of the checkout request's extensions.creditbridge.
	 *
	 * @return array
	 */
	public static function checkout_schema() {
		return array(
			'referral_code' => array(
				'description' => __( 'Referral code typed by the customer (optional; wins over the referral cookie).', 'creditbridge' ),
				'type'        => array( 'string', 'null' ),
				'context'     => array( 'view', 'edit' ),
			),
		);
	}

	/**
	 * Sets the cookie for the site's path, HTTPS-only on HTTPS sites and
	 * not readable by scripts.
	 *
	 * @param string $name    Name.
	 * @param string $value   Value.
	 * @param int    $expires Unix seconds.
	 */
	public static function send_cookie( $name, $value, $expires ) {
		if ( headers_sent() ) {
			return;
		}
		setcookie(
			$name,
			$value,
			array(
				'expires'  => $expires,
				'path'     => defined( 'COOKIEPATH' ) && COOKIEPATH ? COOKIEPATH : '/',
				'domain'   => defined( 'COOKIE_DOMAIN' ) && COOKIE_DOMAIN ? COOKIE_DOMAIN : '',
				'secure'   => function_exists( 'is_ssl' ) && is_ssl(),
				'httponly' => true,
				'samesite' => 'Lax',
			)
		);
	}
}
