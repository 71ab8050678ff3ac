<?php
/**
 * "Store credit" tab in My Account: balance, statement, voucher form.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * My Account endpoint.
 */
class Creditbridge_Account {

	const ENDPOINT  = 'store-credit';
	const ACTION    = 'creditbridge_voucher';
	const PAGE_SIZE = 20;

	/**
	 * Client factory.
	 *
	 * @var callable
	 */
	private $client_factory;

	/**
	 * Constructor.
	 *
	 * @param callable|null $client_factory Returns a Creditbridge_Client or null.
	 */
	public function __construct( $client_factory = null ) {
		$this->client_factory = $client_factory ? $client_factory : array( 'Creditbridge_Client', 'from_options' );
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'init', array( __CLASS__, 'add_endpoint' ) );
		add_filter( 'woocommerce_get_query_vars', array( $this, 'query_vars' ) );
		add_filter( 'woocommerce_account_menu_items', array( $this, 'menu_items' ) );
		add_filter( 'woocommerce_endpoint_' . self::ENDPOINT . '_title', array( $this, 'title' ) );
		add_action( 'woocommerce_account_' . self::ENDPOINT . '_endpoint', array( $this, 'render' ) );
		add_action( 'template_redirect', array( $this, 'handle_voucher' ) );
	}

	/**
	 * Adds the rewrite endpoint (also called on activation before flushing).
	 */
	public static function add_endpoint() {
		add_rewrite_endpoint( self::ENDPOINT, EP_ROOT | EP_PAGES );
	}

	/**
	 * Tells WooCommerce about the endpoint's query var.
	 *
	 * @param array $vars Query vars.
	 * @return array
	 */
	public function query_vars( $vars ) {
		$vars[ self::ENDPOINT ] = self::ENDPOINT;
		return $vars;
	}

	/**
	 * Adds the tab before "Log out".
	 *
	 * @param array $items Menu items.
	 * @return array
	 */
	public function menu_items( $items ) {
		if ( ! Creditbridge_Settings::is_registered() ) {
			return $items;
		}
		$out = array();
		foreach ( $items as $key => $label ) {
			if ( 'customer-logout' === $key ) {
				$out[ self::ENDPOINT ] = __( 'Store credit', 'creditbridge' );
			}
			$out[ $key ] = $label;
		}
		if ( ! isset( $out[ self::ENDPOINT ] ) ) {
			$out[ self::ENDPOINT ] = __( 'Store credit', 'creditbridge' );
		}
		return $out;
	}

	/**
	 * Page title.
	 *
	 * @return string
	 */
	public function title() {
		return __( 'Store credit', 'creditbridge' );
	}

	/**
	 * Sanitizes a statement cursor from the query string.
	 *
	 * @param mixed $raw Raw value.
	 * @return string
	 */
	public static function sanitize_cursor( $raw ) {
		if ( ! is_string( $raw ) || strlen( $raw ) > 256 || ! preg_match( '/^[A-Za-z0-9_.:=-]*$/D', $raw ) ) {
			return '';
		}
		return $raw;
	}

	/**
	 * Checks a voucher amount against the format and the available balance.
	 *
	 * @param mixed  $raw       Typed amount.
	 * @param string $available Available balance (decimal string).
	 * @param string $currency  ISO 4217.
	 * @return string|WP_Error Normalized amount.
	 */
	public static function validate_voucher_amount( $raw, $available, $currency ) {
		$d     = Creditbridge_Money::decimals( $currency );
		$minor = Creditbridge_Money::parse_customer_amount( $raw, $currency );
		if ( null === $minor ) {
			return new WP_Error(
				'creditbridge_amount',
				0 === $d
					? __( 'Enter a whole amount greater than zero, without separators.', 'creditbridge' )
					/* translators: %d: number of decimals */
					: sprintf( __( 'Enter an amount greater than zero with at most %d decimals, such as 10.50.', 'creditbridge' ), $d )
			);
		}
		$avail = Creditbridge_Money::to_minor( (string) $available, $d );
		if ( null === $avail || $minor > $avail ) {
			return new WP_Error( 'creditbridge_amount', __( 'The amount is more than your available credit.', 'creditbridge' ) );
		}
		return Creditbridge_Money::from_minor( $minor, $d );
	}

	/**
	 * Handles the voucher form (POST, nonce, logged-in customer), then
	 * redirects back to the tab.
	 */
	public function handle_voucher() {
		$method = isset( $_SERVER['REQUEST_METHOD'] ) ? sanitize_text_field( wp_unslash( $_SERVER['REQUEST_METHOD'] ) ) : '';
		if ( 'POST' !== $method || ! isset( $_POST['creditbridge_voucher_nonce'] ) ) {
			return;
		}
		$nonce = sanitize_text_field( wp_unslash( $_POST['creditbridge_voucher_nonce'] ) );
		if ( ! is_user_logged_in() || ! wp_verify_nonce( $nonce, self::ACTION ) ) {
			wc_add_notice( __( 'Your session expired. Please try again.', 'creditbridge' ), 'error' );
			return;
		}
		$redirect = wc_get_account_endpoint_url( self::ENDPOINT );
		$client   = call_user_func( $this->client_factory );
		$currency = get_woocommerce_currency();
		$customer = (string) get_current_user_id();
		$raw      = isset( $_POST['creditbridge_amount'] ) ? sanitize_text_field( wp_unslash( $_POST['creditbridge_amount'] ) ) : '';
		if ( ! $client ) {
			wp_safe_redirect( $redirect );
			exit;
		}
		$balance = $client->balance( $customer, $currency );
		if ( is_wp_error( $balance ) ) {
			wc_add_notice( __( 'Store credit is unavailable right now. Please try again later.', 'creditbridge' ), 'error' );
			wp_safe_redirect( $redirect );
			exit;
		}
		$amount = self::validate_voucher_amount( $raw, $balance['available'], $currency );
		if ( is_wp_error( $amount ) ) {
			wc_add_notice( $amount->get_error_message(), 'error' );
			wp_safe_redirect( $redirect );
			exit;
		}
		// One key per rendered form: a form sent twice (double click, back
		// and resend) gets the same voucher, not a second one.
		$request = isset( $_POST['creditbridge_request'] ) ? sanitize_text_field( wp_unslash( $_POST['creditbridge_request'] ) ) : '';
		if ( ! preg_match( '/^[A-Za-z0-9-]{8,64}$/', $request ) ) {
			$request = '';
		}
		$voucher = $client->create_voucher( $customer, $amount, $currency, '' === $request ? '' : 'wc-form-' . $request );
		if ( is_wp_error( $voucher ) ) {
			wc_add_notice( __( 'The voucher could not be created. Your credit was not used.', 'creditbridge' ), 'error' );
		} else {
			/* translators: 1: voucher code, 2: amount */
			wc_add_notice( esc_html( sprintf( __( 'Your voucher code is %1$s (%2$s). It was added to your statement.', 'creditbridge' ), $voucher['code'], Creditbridge_Cart::plain_price( $voucher['amount'], $voucher['currency'] ) ) ), 'success' );
		}
		wp_safe_redirect( $redirect );
		exit;
	}

	/**
	 * Renders the tab.
	 */
	public function render() {
		$client = call_user_func( $this->client_factory );
		if ( ! $client || ! is_user_logged_in() ) {
			echo '<p>' . esc_html__( 'Store credit is not available.', 'creditbridge' ) . '</p>';
			return;
		}
		$currency = get_woocommerce_currency();
		$customer = (string) get_current_user_id();
		$cursor   = isset( $_GET['cb_cursor'] ) ? self::sanitize_cursor( sanitize_text_field( wp_unslash( $_GET['cb_cursor'] ) ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- read-only pagination.
		$after    = isset( $_GET['cb_after'] ) ? self::sanitize_cursor( sanitize_text_field( wp_unslash( $_GET['cb_after'] ) ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- read-only pagination.
		$balance  = $client->balance( $customer, $currency );
		if ( is_wp_error( $balance ) ) {
			echo '<p>' . esc_html__( 'Store credit is unavailable right now. Please try again later.', 'creditbridge' ) . '</p>';
			return;
		}
		// Hold/release pairs of cart visits are left out by the bridge.
		$statement = $client->statement( $customer, $currency, self::PAGE_SIZE, $cursor, '' === $cursor ? $after : '' );

		echo '<h3>' . esc_html__( 'Balance', 'creditbridge' ) . '</h3>';
		echo '<table class="shop_table creditbridge-balance"><tbody>';
		$rows = array(
			'available' => __( 'Available', 'creditbridge' ),
			'pending'   => __( 'Pending (not yet spendable)', 'creditbridge' ),
			'held'      => __( 'Reserved for a cart', 'creditbridge' ),
		);
		foreach ( $rows as $field => $label ) {
			echo '<tr><th>' . esc_html( $label ) . '</th><td>' . esc_html( Creditbridge_Cart::plain_price( $balance[ $field ], $balance['currency'] ) ) . '</td></tr>';
		}
		echo '</tbody></table>';

		if ( ! is_wp_error( $statement ) && ! empty( $statement['tier'] ) ) {
			echo self::tier_html( $statement['tier'], $currency, Creditbridge_Settings::locale() ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in tier_html.
		}

		$this->render_voucher_form( $balance );

		echo '<h3>' . esc_html__( 'Statement', 'creditbridge' ) . '</h3>';
		if ( is_wp_error( $statement ) ) {
			echo '<p>' . esc_html__( 'The statement is unavailable right now.', 'creditbridge' ) . '</p>';
			return;
		}
		echo self::statement_html( $statement, $currency, wc_get_account_endpoint_url( self::ENDPOINT ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in statement_html.
		$vouchers = $client->vouchers( $customer );
		if ( ! is_wp_error( $vouchers ) ) {
			echo self::vouchers_html( $vouchers ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in vouchers_html.
		}
	}

	/**
	 * A date for people, in the site's format and time zone.
	 *
	 * @param string $rfc3339 Time from the bridge.
	 * @return string
	 */
	private static function date_of( $rfc3339 ) {
		$ts = strtotime( (string) $rfc3339 );
		if ( false === $ts ) {
			return '';
		}
		return function_exists( 'wp_date' ) ? (string) wp_date( get_option( 'date_format', 'Y-m-d' ), $ts ) : gmdate( 'Y-m-d', $ts );
	}

	/**
	 * The statement table with its pages both ways, or how to earn credit
	 * when there is nothing yet (escaped).
	 *
	 * @param array  $statement Normalized statement page.
	 * @param string $currency  ISO 4217.
	 * @param string $base      The tab's URL.
	 * @return string
	 */
	public static function statement_html( array $statement, $currency, $base ) {
		$html = '';
		if ( empty( $statement['entries'] ) ) {
			$html .= '<p>' . esc_html__( 'You have no store credit yet.', 'creditbridge' ) . '</p>';
			if ( ! empty( $statement['earn_hints'] ) ) {
				$html .= '<h4>' . esc_html__( 'How to earn credit', 'creditbridge' ) . '</h4><ul class="creditbridge-earn">';
				foreach ( $statement['earn_hints'] as $hint ) {
					$html .= '<li>' . esc_html( $hint ) . '</li>';
				}
				$html .= '</ul>';
			}
		} else {
			$html .= '<table class="shop_table shop_table_responsive creditbridge-statement"><thead><tr>';
			$html .= '<th scope="col">' . esc_html__( 'Date', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'Description', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'Change', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'Balance', 'creditbridge' ) . '</th>';
			$html .= '</tr></thead><tbody>';
			foreach ( $statement['entries'] as $e ) {
				$desc = '' !== $e['description'] ? $e['description'] : self::kind_label( $e['kind'] );
				$sign = ( '' !== $e['delta'] && '-' !== $e['delta'][0] ) ? '+' : '';
				$note = '';
				if ( ! empty( $e['available_from'] ) ) {
					/* translators: %s: date */
					$note = '<br /><small>' . esc_html( sprintf( __( 'pending, available from %s', 'creditbridge' ), self::date_of( $e['available_from'] ) ) ) . '</small>';
				}
				$html .= '<tr>';
				$html .= '<td data-title="' . esc_attr__( 'Date', 'creditbridge' ) . '">' . esc_html( self::date_of( $e['created_at'] ) ) . '</td>';
				$html .= '<td data-title="' . esc_attr__( 'Description', 'creditbridge' ) . '">' . esc_html( $desc ) . $note . '</td>';
				$html .= '<td data-title="' . esc_attr__( 'Change', 'creditbridge' ) . '">' . esc_html( '' === $e['delta'] ? '' : $sign . Creditbridge_Cart::plain_price( $e['delta'], $currency ) ) . '</td>';
				$html .= '<td data-title="' . esc_attr__( 'Balance', 'creditbridge' ) . '">' . esc_html( '' === $e['available_after'] ? '' : Creditbridge_Cart::plain_price( $e['available_after'], $currency ) ) . '</td>';
				$html .= '</tr>';
			}
			$html .= '</tbody></table>';
		}
		$prev  = self::sanitize_cursor( isset( $statement['prev_cursor'] ) ? $statement['prev_cursor'] : '' );
		$next  = self::sanitize_cursor( isset( $statement['next_cursor'] ) ? $statement['next_cursor'] : '' );
		$html .= '<nav class="creditbridge-pagination" aria-label="' . esc_attr__( 'Statement pages', 'creditbridge' ) . '">';
		if ( '' !== $prev ) {
			$html .= '<a class="button" href="' . esc_url( add_query_arg( 'cb_after', rawurlencode( $prev ), $base ) ) . '">' . esc_html__( 'Newer entries', 'creditbridge' ) . '</a> ';
		}
		if ( '' !== $next ) {
			$html .= '<a class="button" href="' . esc_url( add_query_arg( 'cb_cursor', rawurlencode( $next ), $base ) ) . '">' . esc_html__( 'Older entries', 'creditbridge' ) . '</a>';
		}
		$html .= '</nav>';
		return $html;
	}

	/**
	 * The customer's tier and what is missing to the next one, as the
	 * storefront statement shows it (escaped HTML, '' when the shop has no
	 * tiers or the customer has none and there is no next one).
	 *
	 * @param array  $tier     From Creditbridge_Client::parse_tier.
	 * @param string $currency ISO 4217.
	 * @param string $locale   Reader's locale (amount format).
	 * @return string
	 */
	public static function tier_html( array $tier, $currency, $locale ) {
		$name = isset( $tier['tier'] ) ? (string) $tier['tier'] : '';
		$next = isset( $tier['next_tier'] ) ? (string) $tier['next_tier'] : '';
		if ( '' === $name && '' === $next ) {
			return '';
		}
		$html  = '<section class="creditbridge-tier" aria-labelledby="creditbridge-tier-title">';
		$html .= '<h3 id="creditbridge-tier-title">' . esc_html__( 'Your tier', 'creditbridge' ) . '</h3><p>';
		$html .= '' !== $name ? '<strong class="creditbridge-tier-name">' . esc_html( $name ) . '</strong>' : esc_html__( 'No tier yet', 'creditbridge' );
		if ( '' !== $name && ! empty( $tier['member'] ) && ! empty( $tier['member_until'] ) ) {
			/* translators: %s: date */
			$html .= '<br /><small>' . esc_html( sprintf( __( 'Membership until %s', 'creditbridge' ), self::date_of( $tier['member_until'] ) ) ) . '</small>';
		}
		if ( '' !== $next && isset( $tier['missing'] ) && '' !== (string) $tier['missing'] ) {
			/* translators: 1: amount still missing, such as 12,50 €; 2: name of the next tier */
			$html .= '<br /><span class="creditbridge-tier-next">' . esc_html( sprintf( __( '%1$s more to reach %2$s', 'creditbridge' ), Creditbridge_Money::format( $tier['missing'], $currency, $locale ), $next ) ) . '</span>';
		}
		return $html . '</p></section>';
	}

	/**
	 * The customer's voucher codes and their state (escaped).
	 *
	 * @param array $vouchers From Creditbridge_Client::vouchers.
	 * @return string
	 */
	public static function vouchers_html( array $vouchers ) {
		if ( empty( $vouchers ) ) {
			return '';
		}
		$states = array(
			'pending'  => __( 'Being created', 'creditbridge' ),
			'issued'   => __( 'Ready to use', 'creditbridge' ),
			'used'     => __( 'Used', 'creditbridge' ),
			'returned' => __( 'Not used, credit returned', 'creditbridge' ),
			'failed'   => __( 'Could not be created, credit returned', 'creditbridge' ),
		);
		$html  = '<h3>' . esc_html__( 'Your voucher codes', 'creditbridge' ) . '</h3>';
		$html .= '<table class="shop_table shop_table_responsive creditbridge-vouchers"><thead><tr><th scope="col">' . esc_html__( 'Code', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'Amount', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'Valid until', 'creditbridge' ) . '</th><th scope="col">' . esc_html__( 'State', 'creditbridge' ) . '</th></tr></thead><tbody>';
		foreach ( $vouchers as $v ) {
			$state = isset( $states[ $v['status'] ] ) ? $states[ $v['status'] ] : $v['status'];
			$html .= '<tr><td data-title="' . esc_attr__( 'Code', 'creditbridge' ) . '"><code>' . esc_html( strtoupper( $v['code'] ) ) . '</code></td>';
			$html .= '<td data-title="' . esc_attr__( 'Amount', 'creditbridge' ) . '">' . esc_html( Creditbridge_Cart::plain_price( $v['amount'], $v['currency'] ) ) . '</td>';
			$html .= '<td data-title="' . esc_attr__( 'Valid until', 'creditbridge' ) . '">' . esc_html( self::date_of( $v['expires_at'] ) ) . '</td>';
			$html .= '<td data-title="' . esc_attr__( 'State', 'creditbridge' ) . '">' . esc_html( $state ) . '</td></tr>';
		}
		return $html . '</tbody></table>';
	}

	/**
	 * An amount as the shopper would type it: the shop's decimal separator
	 * ("57,34" in a German shop), no thousands separator.
	 *
	 * @param string $amount Decimal string with a point.
	 * @return string
	 */
	public static function input_amount( $amount ) {
		$sep = function_exists( 'wc_get_price_decimal_separator' ) ? wc_get_price_decimal_separator() : '.';
		return str_replace( '.', '' === $sep ? '.' : $sep, (string) $amount );
	}

	/**
	 * The "turn credit into a voucher" form.
	 *
	 * @param array $balance Normalized balance.
	 */
	private function render_voucher_form( array $balance ) {
		$d     = Creditbridge_Money::decimals( $balance['currency'] );
		$avail = Creditbridge_Money::to_minor( $balance['available'], $d );
		if ( null === $avail || $avail <= 0 ) {
			return;
		}
		echo '<h3>' . esc_html__( 'Turn credit into a voucher', 'creditbridge' ) . '</h3>';
		echo '<form method="post" class="creditbridge-voucher" action="' . esc_url( wc_get_account_endpoint_url( self::ENDPOINT ) ) . '">';
		wp_nonce_field( self::ACTION, 'creditbridge_voucher_nonce' );
		echo '<input type="hidden" name="creditbridge_request" value="' . esc_attr( wp_generate_uuid4() ) . '" />';
		echo '<p><label for="creditbridge_amount">' . esc_html__( 'Amount', 'creditbridge' ) . '</label> ';
		$pattern = 0 === $d ? '[0-9]+' : '[0-9]+([.,][0-9]{1,' . $d . '})?';
		echo '<input type="text" inputmode="decimal" id="creditbridge_amount" name="creditbridge_amount" required pattern="' . esc_attr( $pattern ) . '" placeholder="' . esc_attr( self::input_amount( $balance['available'] ) ) . '" /> ';
		echo '<button type="submit" class="button">' . esc_html__( 'Create voucher', 'creditbridge' ) . '</button></p>';
		echo '<p class="description">' . esc_html__( 'A voucher is a single-use coupon code you can use or give away. Its amount leaves your credit balance.', 'creditbridge' ) . '</p>';
		echo '</form>';
	}

	/**
	 * Human label of a ledger entry kind.
	 *
	 * @param string $kind Kind.
	 * @return string
	 */
	public static function kind_label( $kind ) {
		$labels = array(
			'earn'          => __( 'Credit earned', 'creditbridge' ),
			'reversal'      => __( 'Credit reversed (refund or cancellation)', 'creditbridge' ),
			'hold_place'    => __( 'Reserved for a cart', 'creditbridge' ),
			'hold_capture'  => __( 'Used on an order', 'creditbridge' ),
			'hold_void'     => __( 'Reservation released', 'creditbridge' ),
			'voucher_issue' => __( 'Turned into a voucher', 'creditbridge' ),
		);
		return isset( $labels[ $kind ] ) ? $labels[ $kind ] : __( 'Adjustment', 'creditbridge' );
	}
}
