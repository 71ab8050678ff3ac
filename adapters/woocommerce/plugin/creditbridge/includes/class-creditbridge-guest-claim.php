<?php
/**
 * Guest claims: credit earned by orders placed as a guest moves to the
 * customer account with the same address once the customer proves they
 * read that mailbox.
 *
 * 1. A customer registers (woocommerce_created_customer) or asks in My
 *    Account. The plugin asks the bridge for a claim token for the
 *    account's address; the bridge answers 404 when that address never
 *    earned as a guest (then nothing is sent).
 * 2. The plugin mails a link with the token to that address through
 *    WordPress mail (wp_mail). The token is signed by the bridge, bound to
 *    this customer and to the address (as a keyed hash) and expires after
 *    48 hours.
 * 3. The link opens My Account. Logged out, WooCommerce shows its login
 *    form and returns to the link after logging in. Logged in, the plugin
 *    sends the token with the account's current address to the bridge,
 *    which moves the credit with one ledger transfer (repeating it moves
 *    nothing new); later refunds of the guest orders reverse from the
 *    customer's account.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Guest claim by confirmation link.
 */
final class Creditbridge_Guest_Claim {

	const PARAM    = 'creditbridge_claim';
	const ACTION   = 'creditbridge_guest_claim';
	const NONCE    = 'creditbridge_guest_claim_nonce';
	const THROTTLE = 'creditbridge_claim_sent_';
	/** One mail per customer in this many seconds. */
	const THROTTLE_SECONDS = 600;

	/**
	 * Returns a Creditbridge_Client or null.
	 *
	 * @var callable
	 */
	private $client_factory;

	/**
	 * Sends mail: function ( $to, $subject, $message ) returning bool.
	 *
	 * @var callable
	 */
	private $mailer;

	/**
	 * Constructor.
	 *
	 * @param callable|null $client_factory Returns a Creditbridge_Client or null.
	 * @param callable|null $mailer         Mail sender (default wp_mail).
	 */
	public function __construct( $client_factory = null, $mailer = null ) {
		$this->client_factory = $client_factory ? $client_factory : array( 'Creditbridge_Client', 'from_options' );
		$this->mailer         = $mailer ? $mailer : 'wp_mail';
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'woocommerce_created_customer', array( $this, 'on_created_customer' ), 20, 1 );
		add_action( 'woocommerce_account_' . Creditbridge_Account::ENDPOINT . '_endpoint', array( $this, 'render_offer' ), 30 );
		add_action( 'template_redirect', array( $this, 'handle_request' ) );
		add_action( 'template_redirect', array( $this, 'handle_link' ), 5 );
	}

	/**
	 * A new customer account: if its address earned as a guest, the
	 * confirmation link goes out at once.
	 *
	 * @param int $customer_id New user id.
	 */
	public function on_created_customer( $customer_id ) {
		$user = get_userdata( (int) $customer_id );
		if ( $user && ! empty( $user->user_email ) ) {
			$this->send_link( (int) $customer_id, (string) $user->user_email );
		}
	}

	/**
	 * Asks the bridge for a claim token and mails the link.
	 *
	 * @param int    $customer_id WooCommerce customer (user) id.
	 * @param string $email       The account's address.
	 * @return string|WP_Error 'sent', 'none' (no guest orders with that address) or 'throttled'.
	 */
	public function send_link( $customer_id, $email ) {
		$client = call_user_func( $this->client_factory );
		if ( ! $client || $customer_id <= 0 || ! is_email( $email ) ) {
			return new WP_Error( 'creditbridge_claim', 'not available' );
		}
		$throttle = self::THROTTLE . $customer_id;
		if ( get_transient( $throttle ) ) {
			return 'throttled';
		}
		$res = $client->request( 'POST', '/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/guest-claim', array(), array( 'email' => $email ), array( 200 ) );
		if ( is_wp_error( $res ) ) {
			$data = $res->get_error_data();
			if ( is_array( $data ) && isset( $data['status'] ) && 404 === (int) $data['status'] ) {
				return 'none';
			}
			return $res;
		}
		$token = isset( $res['token'] ) && is_string( $res['token'] ) ? $res['token'] : '';
		if ( ! self::valid_token( $token ) ) {
			return new WP_Error( 'creditbridge_response', 'guest claim: invalid token' );
		}
		$link = add_query_arg( self::PARAM, rawurlencode( $token ), wc_get_account_endpoint_url( Creditbridge_Account::ENDPOINT ) );
		$shop = wp_specialchars_decode( (string) get_option( 'blogname', '' ), ENT_QUOTES );
		/* translators: %s: shop name */
		$subject = sprintf( __( 'Move your store credit from earlier orders at %s', 'creditbridge' ), $shop );
		$message = sprintf(
			/* translators: 1: shop name, 2: confirmation link */
			__( "Hello,\n\nyou ordered at %1\$s as a guest with this e-mail address. To move the store credit those orders earned to your customer account, open this link while you are logged in:\n\n%2\$s\n\nThe link is valid for 48 hours. If you did not ask for this, you can ignore this e-mail.", 'creditbridge' ),
			$shop,
			$link
		);
		if ( ! call_user_func( $this->mailer, $email, $subject, $message ) ) {
			return new WP_Error( 'creditbridge_mail', 'the confirmation e-mail could not be sent' );
		}
		set_transient( $throttle, 1, self::THROTTLE_SECONDS );
		return 'sent';
	}

	/**
	 * Whether a token has the bridge's claim token shape.
	 *
	 * @param mixed $token Candidate.
	 * @return bool
	 */
	public static function valid_token( $token ) {
		return is_string( $token ) && strlen( $token ) <= 400 && 1 === preg_match( '/^cbg1\.[0-9]+\.[A-Za-z0-9_-]+\.[0-9a-f]+\.[0-9]+\.[0-9a-f]+$/', $token );
	}

	/**
	 * Confirms a claim token for the logged-in customer with the account's
	 * current address.
	 *
	 * @param int    $customer_id Customer (user) id.
	 * @param string $email       The account's address.
	 * @param string $token       Token from the link.
	 * @return array|WP_Error The bridge's answer { account, transaction_ids }.
	 */
	public function confirm( $customer_id, $email, $token ) {
		$client = call_user_func( $this->client_factory );
		if ( ! $client ) {
			return new WP_Error( 'creditbridge_claim', 'not available' );
		}
		if ( ! self::valid_token( $token ) ) {
			return new WP_Error( 'creditbridge_claim', 'malformed link', array( 'status' => 400 ) );
		}
		return $client->request(
			'POST',
			'/api/v1/plugin/customers/' . rawurlencode( (string) $customer_id ) . '/guest-claim/confirm',
			array(),
			array(
				'email' => $email,
				'token' => $token,
			),
			array( 200 )
		);
	}

	/**
	 * The link was opened (GET ?creditbridge_claim=TOKEN). Logged out: a
	 * notice above WooCommerce's login form (which returns here after
	 * logging in). Logged in: the claim, a notice, and a redirect to the
	 * store credit tab without the token.
	 *
	 * @param array|null $query Query arguments (default $_GET).
	 * @return string What happened: '', 'login', 'claimed', 'failed'.
	 */
	public function handle_link( $query = null ) {
		$query = is_array( $query ) ? $query : $_GET; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- the signed token is the proof.
		if ( ! isset( $query[ self::PARAM ] ) || ! is_string( $query[ self::PARAM ] ) ) {
			return '';
		}
		$token = sanitize_text_field( wp_unslash( $query[ self::PARAM ] ) );
		if ( ! is_user_logged_in() ) {
			wc_add_notice( __( 'Please log in with the customer account of this e-mail address to move your store credit.', 'creditbridge' ), 'notice' );
			return 'login';
		}
		$user = wp_get_current_user();
		$res  = $this->confirm( (int) $user->ID, (string) $user->user_email, $token );
		if ( is_wp_error( $res ) ) {
			$data   = $res->get_error_data();
			$status = is_array( $data ) && isset( $data['status'] ) ? (int) $data['status'] : 0;
			if ( 400 === $status || 401 === $status ) {
				wc_add_notice( __( 'This confirmation link has expired or belongs to another customer account or e-mail address. Ask for a new one below.', 'creditbridge' ), 'error' );
			} elseif ( 404 === $status || 409 === $status ) {
				wc_add_notice( __( 'There is no store credit from guest orders left to move for this e-mail address.', 'creditbridge' ), 'error' );
			} else {
				wc_add_notice( __( 'Your store credit could not be moved right now. Please open the link again later.', 'creditbridge' ), 'error' );
			}
			$this->redirect( wc_get_account_endpoint_url( Creditbridge_Account::ENDPOINT ) );
			return 'failed';
		}
		wc_add_notice( __( 'The store credit from your guest orders is now in your account.', 'creditbridge' ), 'success' );
		$this->redirect( wc_get_account_endpoint_url( Creditbridge_Account::ENDPOINT ) );
		return 'claimed';
	}

	/**
	 * My Account (store credit tab): the offer to look for guest orders.
	 */
	public function render_offer() {
		if ( ! is_user_logged_in() || ! call_user_func( $this->client_factory ) ) {
			return;
		}
		$user = wp_get_current_user();
		echo '<section class="creditbridge-guest-claim"><h3>' . esc_html__( 'Orders placed as a guest', 'creditbridge' ) . '</h3><form method="post">';
		if ( function_exists( 'wp_nonce_field' ) ) {
			wp_nonce_field( self::ACTION, self::NONCE );
		}
		/* translators: %s: the customer's e-mail address */
		echo '<p>' . esc_html( sprintf( __( 'Did you order here as a guest before? We send a confirmation link to %s; opening it moves the store credit of those orders to this account.', 'creditbridge' ), (string) $user->user_email ) ) . '</p>';
		echo '<button type="submit" class="button" name="creditbridge_guest_claim" value="1">' . esc_html__( 'Send confirmation link', 'creditbridge' ) . '</button></form></section>';
	}

	/**
	 * Handles the My Account form (POST, nonce, logged-in customer).
	 *
	 * @return string '' when not this form, else what send_link answered ('error' for a failure).
	 */
	public function handle_request() {
		$method = isset( $_SERVER['REQUEST_METHOD'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REQUEST_METHOD'] ) ) : '';
		if ( 'POST' !== $method || ! isset( $_POST[ self::NONCE ] ) ) {
			return '';
		}
		$nonce = sanitize_text_field( wp_unslash( $_POST[ self::NONCE ] ) );
		if ( ! is_user_logged_in() || ! wp_verify_nonce( $nonce, self::ACTION ) ) {
			wc_add_notice( __( 'Your session expired. Please try again.', 'creditbridge' ), 'error' );
			return 'error';
		}
		$user = wp_get_current_user();
		$res  = $this->send_link( (int) $user->ID, (string) $user->user_email );
		if ( is_wp_error( $res ) ) {
			wc_add_notice( __( 'The confirmation link could not be sent. Please try again later.', 'creditbridge' ), 'error' );
			$res = 'error';
		} elseif ( 'none' === $res ) {
			wc_add_notice( __( 'We found no orders placed as a guest with your e-mail address that earned store credit.', 'creditbridge' ), 'notice' );
		} else {
			/* translators: %s: the customer's e-mail address */
			wc_add_notice( sprintf( __( 'We sent a confirmation link to %s. Open it while you are logged in.', 'creditbridge' ), (string) $user->user_email ), 'success' );
		}
		$this->redirect( wc_get_account_endpoint_url( Creditbridge_Account::ENDPOINT ) );
		return $res;
	}

	/**
	 * Redirects and ends the request (not in tests: see Creditbridge_Guest_Claim::$exit).
	 *
	 * @param string $url Target.
	 */
	private function redirect( $url ) {
		wp_safe_redirect( $url );
		if ( self::$exit ) {
			exit;
		}
	}

	/**
	 * Whether redirect() ends the request (tests turn it off).
	 *
	 * @var bool
	 */
	public static $exit = true;
}
