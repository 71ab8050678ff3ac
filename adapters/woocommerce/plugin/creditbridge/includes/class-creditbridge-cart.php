<?php
/**
 * Cart and checkout integration: quote, apply, release, order meta, display.
 *
 * For logged-in customers the plugin asks the bridge for a quote whenever
 * the cart changes (cached per cart in the session), and applies the
 * virtual "cb-<hold_id>" coupon (see Creditbridge_Coupon for why a coupon).
 * Any bridge failure means "no credit": checkout is never blocked.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Storefront hooks.
 */
class Creditbridge_Cart {

	/** Query argument of the "use my store credit" link (after an opt-out). */
	const USE_CREDIT_ARG = 'creditbridge_use_credit';

	/** Seconds without quote calls after the bridge failed. */
	const BACKOFF = 60;

	/** Transient set while the bridge is failing. */
	const BACKOFF_TRANSIENT = 'creditbridge_bridge_backoff';

	/**
	 * True while sync() runs (recursion guard).
	 *
	 * @var bool
	 */
	private $in_sync = false;

	/**
	 * True while the plugin itself removes a coupon.
	 *
	 * @var bool
	 */
	private $internal_removal = false;

	/**
	 * Client factory.
	 *
	 * @var callable
	 */
	private $client_factory;

	/**
	 * Clock.
	 *
	 * @var callable
	 */
	private $now;

	/**
	 * Constructor.
	 *
	 * @param callable|null $client_factory Returns a Creditbridge_Client or null.
	 * @param callable|null $now            Returns unix seconds.
	 */
	public function __construct( $client_factory = null, $now = null ) {
		$this->client_factory = $client_factory ? $client_factory : array( 'Creditbridge_Client', 'from_options' );
		$this->now            = $now ? $now : 'time';
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'woocommerce_cart_loaded_from_session', array( $this, 'on_cart_loaded' ), 20 );
		add_action( 'woocommerce_before_calculate_totals', array( $this, 'sync' ), 20 );
		add_filter( 'woocommerce_get_shop_coupon_data', array( $this, 'coupon_data' ), 10, 3 );
		add_filter( 'woocommerce_coupon_get_amount', array( $this, 'voucher_amount' ), 10, 2 );
		add_filter( 'woocommerce_coupon_message', array( $this, 'coupon_message' ), 10, 3 );
		add_filter( 'woocommerce_cart_totals_coupon_label', array( $this, 'coupon_label' ), 10, 2 );
		add_action( 'woocommerce_removed_coupon', array( $this, 'on_removed_coupon' ) );
		add_action( 'woocommerce_cart_emptied', array( $this, 'on_cart_emptied' ) );
		add_action( 'woocommerce_checkout_create_order', array( $this, 'on_checkout_create_order' ), 10, 2 );
		add_action( 'woocommerce_store_api_checkout_update_order_meta', array( $this, 'on_store_api_order' ) );
		add_action( 'woocommerce_cart_totals_before_order_total', array( $this, 'render_classic_row' ) );
		add_action( 'woocommerce_review_order_before_order_total', array( $this, 'render_classic_row' ) );
		add_action( 'wp_loaded', array( $this, 'maybe_opt_in' ), 30 );
	}

	/**
	 * Builds the quote request from cart items. Amounts are the catalogue
	 * prices (as entered, so including tax in tax-inclusive stores) times the
	 * quantities, before coupons, in integer minor units.
	 *
	 * @param array  $items       Cart contents (WC_Cart::get_cart()).
	 * @param string $customer_id Customer id.
	 * @param string $email       Customer e-mail.
	 * @param string $currency    ISO 4217.
	 * @param string $cart_key    Stable cart key.
	 * @return array|null Request body, or null when a price cannot be read.
	 */
	public static function build_quote_request( array $items, $customer_id, $email, $currency, $cart_key ) {
		$d     = Creditbridge_Money::decimals( $currency );
		$sub   = 0;
		$lines = array();
		foreach ( $items as $item ) {
			if ( ! is_array( $item ) || ! isset( $item['data'] ) || ! is_object( $item['data'] ) ) {
				return null;
			}
			$qty = isset( $item['quantity'] ) ? (int) $item['quantity'] : 0;
			if ( $qty <= 0 ) {
				continue;
			}
			$product = $item['data'];
			$unit    = Creditbridge_Money::price_to_minor( (string) $product->get_price(), $d );
			$total   = null === $unit ? null : Creditbridge_Money::multiply( $unit, $qty );
			if ( null === $total || $total < 0 || $sub > PHP_INT_MAX - $total ) {
				return null;
			}
			$sub    += $total;
			$lines[] = array(
				'product_id' => (string) ( isset( $item['product_id'] ) ? (int) $item['product_id'] : 0 ),
				'variant_id' => (string) ( isset( $item['variation_id'] ) ? (int) $item['variation_id'] : 0 ),
				'sku'        => (string) $product->get_sku(),
				'quantity'   => $qty,
				'total'      => Creditbridge_Money::from_minor( $total, $d ),
			);
		}
		return array(
			'customer_id' => (string) $customer_id,
			'email'       => (string) $email,
			'cart_key'    => (string) $cart_key,
			'currency'    => (string) $currency,
			'subtotal'    => Creditbridge_Money::from_minor( $sub, $d ),
			'lines'       => $lines,
		);
	}

	/**
	 * After the cart is loaded: drop credit coupons that no longer match the
	 * session's quote, without calling the bridge.
	 *
	 * @param WC_Cart $cart Cart.
	 */
	public function on_cart_loaded( $cart ) {
		if ( $this->in_sync || ! is_object( $cart ) ) {
			return;
		}
		$cache = $this->cache();
		$quote = ( $cache && $this->eligible() && ! $cache->opted_out() ) ? $cache->current() : null;
		$this->in_sync = true;
		try {
			$this->remove_other_credit_coupons( $cart, $quote ? $quote['coupon_code'] : '' );
		} finally {
			$this->in_sync = false;
		}
	}

	/**
	 * Before totals: quote (cached per cart) and apply or remove the coupon.
	 *
	 * @param WC_Cart $cart Cart.
	 */
	public function sync( $cart ) {
		if ( $this->in_sync || ! is_object( $cart ) ) {
			return;
		}
		$this->in_sync = true;
		try {
			$this->apply_code( $cart, $this->wanted_code( $cart ) );
		} finally {
			$this->in_sync = false;
		}
	}

	/**
	 * The coupon code the cart should carry now ('' for none).
	 *
	 * @param WC_Cart $cart Cart.
	 * @return string
	 */
	private function wanted_code( $cart ) {
		$cache = $this->cache();
		if ( ! $cache || ! $this->eligible() || $cache->opted_out() || $cart->is_empty() ) {
			return '';
		}
		// The billing e-mail (what orders carry) when known, else the account e-mail.
		$emails = $this->customer_emails();
		$req    = self::build_quote_request( $cart->get_cart(), (string) get_current_user_id(), (string) end( $emails ), get_woocommerce_currency(), $cache->cart_key() );
		if ( null === $req ) {
			return '';
		}
		$now   = (int) call_user_func( $this->now );
		$hash  = Creditbridge_Quote_Cache::cart_hash( $req['customer_id'], $req['currency'], $req['subtotal'], $req['lines'] );
		$quote = $cache->get( $hash, $now );
		if ( null === $quote ) {
			$quote = $this->fetch_quote( $req );
			if ( null === $quote ) {
				$cache->clear();
				return '';
			}
			$cache->put( $hash, $quote, $now );
		}
		return (string) $quote['coupon_code'];
	}

	/**
	 * Calls the bridge for a quote, with a short backoff after failures.
	 *
	 * @param array $req Quote request.
	 * @return array|null
	 */
	private function fetch_quote( array $req ) {
		if ( get_transient( self::BACKOFF_TRANSIENT ) ) {
			return null;
		}
		$client = call_user_func( $this->client_factory );
		if ( ! $client ) {
			return null;
		}
		$quote = $client->quote( $req );
		if ( is_wp_error( $quote ) ) {
			set_transient( self::BACKOFF_TRANSIENT, 1, self::BACKOFF );
			return null;
		}
		Creditbridge_Settings::store_labels( $quote['discount_labels'] );
		unset( $quote['discount_labels'] );
		return $quote;
	}

	/**
	 * Makes the cart carry exactly $code among credit coupons.
	 *
	 * @param WC_Cart $cart Cart.
	 * @param string  $code Wanted credit code, '' for none.
	 */
	private function apply_code( $cart, $code ) {
		$this->remove_other_credit_coupons( $cart, $code );
		if ( '' !== $code && ! $cart->has_discount( $code ) ) {
			$cart->apply_coupon( $code );
		}
	}

	/**
	 * Removes applied credit coupons other than $keep.
	 *
	 * @param WC_Cart $cart Cart.
	 * @param string  $keep Code to keep.
	 */
	private function remove_other_credit_coupons( $cart, $keep ) {
		foreach ( (array) $cart->get_applied_coupons() as $applied ) {
			if ( Creditbridge_Coupon::is_credit_code( $applied ) && strtolower( $applied ) !== $keep ) {
				$this->internal_removal = true;
				try {
					$cart->remove_coupon( $applied );
				} finally {
					$this->internal_removal = false;
				}
			}
		}
	}

	/**
	 * Supplies the virtual coupon's data (woocommerce_get_shop_coupon_data).
	 *
	 * @param mixed  $data   Data from earlier filters (false by default).
	 * @param string $code   Coupon code.
	 * @param mixed  $coupon WC_Coupon being read.
	 * @return mixed
	 */
	public function coupon_data( $data, $code, $coupon = null ) {
		if ( false !== $data || ! Creditbridge_Coupon::is_credit_code( $code ) || ! $this->eligible() ) {
			return $data;
		}
		$cache = $this->cache();
		$quote = $cache ? $cache->current() : null;
		if ( is_array( $quote ) && isset( $quote['amount'], $quote['currency'] ) ) {
			$quote['amount'] = $this->face_value( $quote );
		}
		$built = $cache ? Creditbridge_Coupon::build_data( $code, $quote, $this->customer_emails() ) : false;
		return false === $built ? $data : $built;
	}

	/**
	 * Sizes a voucher coupon (cbv-) in the cart like the credit coupon
	 * (woocommerce_coupon_get_amount): WooCommerce takes a fixed_cart
	 * amount off the prices as entered, so in a shop whose prices exclude
	 * tax a voucher would lower the invoice by its face value plus the VAT
	 * on it. With the redeem_base the voucher was issued with (coupon meta
	 * _creditbridge_redeem_base; gross, B2C, when absent) the amount is
	 * scaled so that the gross total falls by the face value, which is
	 * what the bridge books; with net (B2B) the face value comes off the
	 * net total. Admin screens and requests without a cart see the face
	 * value.
	 *
	 * @param mixed $amount Coupon amount.
	 * @param mixed $coupon WC_Coupon.
	 * @return mixed
	 */
	public function voucher_amount( $amount, $coupon ) {
		if ( ! is_object( $coupon ) || ! method_exists( $coupon, 'get_code' ) || ! Creditbridge_Coupon::is_voucher_code( $coupon->get_code() ) ) {
			return $amount;
		}
		if ( ! method_exists( $coupon, 'get_discount_type' ) || 'fixed_cart' !== $coupon->get_discount_type() || ( is_admin() && ! wp_doing_ajax() ) ) {
			return $amount;
		}
		$base = method_exists( $coupon, 'get_meta' ) && 'net' === (string) $coupon->get_meta( '_creditbridge_redeem_base', true ) ? 'net' : 'gross';
		return $this->face_value(
			array(
				'amount'      => (string) $amount,
				'currency'    => get_woocommerce_currency(),
				'redeem_base' => $base,
			)
		);
	}

	/**
	 * The coupon amount for a quote in this cart (Creditbridge_Coupon::face_value),
	 * from the cart's subtotal and its tax as last calculated.
	 *
	 * @param array $quote Quote cached for the session.
	 * @return string
	 */
	private function face_value( array $quote ) {
		$include = function_exists( 'wc_prices_include_tax' ) ? (bool) wc_prices_include_tax() : true;
		$cart    = function_exists( 'WC' ) && WC()->cart ? WC()->cart : null;
		if ( $include || ! $cart || ! method_exists( $cart, 'get_subtotal' ) || ! method_exists( $cart, 'get_subtotal_tax' ) ) {
			return (string) $quote['amount'];
		}
		$d    = Creditbridge_Money::decimals( (string) $quote['currency'] );
		$net  = Creditbridge_Money::price_to_minor( (string) $cart->get_subtotal(), $d );
		$tax  = Creditbridge_Money::price_to_minor( (string) $cart->get_subtotal_tax(), $d );
		$base = isset( $quote['redeem_base'] ) ? (string) $quote['redeem_base'] : 'gross';
		return Creditbridge_Coupon::face_value( (string) $quote['amount'], (string) $quote['currency'], $base, false, (int) $net, (int) $tax );
	}

	/**
	 * Replaces WooCommerce's coupon messages for credit coupons.
	 *
	 * @param string $msg      Message.
	 * @param int    $msg_code WC_Coupon message code.
	 * @param mixed  $coupon   WC_Coupon.
	 * @return string
	 */
	public function coupon_message( $msg, $msg_code, $coupon ) {
		if ( ! is_object( $coupon ) || ! method_exists( $coupon, 'get_code' ) || ! Creditbridge_Coupon::is_credit_code( $coupon->get_code() ) ) {
			return $msg;
		}
		if ( defined( 'WC_Coupon::WC_COUPON_SUCCESS' ) && WC_Coupon::WC_COUPON_SUCCESS === $msg_code ) {
			return __( 'Your store credit was applied.', 'creditbridge' );
		}
		if ( defined( 'WC_Coupon::WC_COUPON_REMOVED' ) && WC_Coupon::WC_COUPON_REMOVED === $msg_code ) {
			return __( 'Store credit removed. It stays in your account for later.', 'creditbridge' );
		}
		return $msg;
	}

	/**
	 * Shows "Store credit" instead of "Coupon: cb-123" in classic totals.
	 *
	 * @param string $label  Label.
	 * @param mixed  $coupon WC_Coupon.
	 * @return string
	 */
	public function coupon_label( $label, $coupon ) {
		if ( is_object( $coupon ) && method_exists( $coupon, 'get_code' ) && Creditbridge_Coupon::is_credit_code( $coupon->get_code() ) ) {
			return esc_html( Creditbridge_Settings::discount_label() );
		}
		return $label;
	}

	/**
	 * The customer removed the credit coupon: release the hold, stop applying.
	 *
	 * @param string $code Removed coupon code.
	 */
	public function on_removed_coupon( $code ) {
		if ( $this->internal_removal || ! Creditbridge_Coupon::is_credit_code( $code ) ) {
			return;
		}
		$cache = $this->cache();
		if ( ! $cache ) {
			return;
		}
		$quote = $cache->current();
		if ( $quote && strtolower( (string) $code ) === $quote['coupon_code'] ) {
			$this->release( $quote['hold_id'] );
		}
		$cache->clear();
		$cache->set_opt_out( true );
	}

	/**
	 * The cart was emptied: release the hold unless an order carries it, and
	 * start a new cart key.
	 */
	public function on_cart_emptied() {
		$cache = $this->cache();
		if ( ! $cache ) {
			return;
		}
		$quote = $cache->current();
		if ( $quote && '' !== $quote['coupon_code'] && (string) $quote['hold_id'] !== $cache->ordered_hold() ) {
			$this->release( $quote['hold_id'] );
		}
		$cache->reset_cart();
	}

	/**
	 * Classic checkout: store the cart key and hold id on the order.
	 *
	 * @param WC_Order $order Order being created (saved by WooCommerce after).
	 * @param array    $data  Posted data.
	 */
	public function on_checkout_create_order( $order, $data = array() ) {
		$this->record_order_meta( $order );
	}

	/**
	 * Block checkout: store the cart key and hold id on the draft order.
	 *
	 * @param WC_Order $order Order.
	 */
	public function on_store_api_order( $order ) {
		if ( $this->record_order_meta( $order ) ) {
			$order->save();
		}
	}

	/**
	 * Writes _creditbridge_cart_key and _creditbridge_hold_id through CRUD.
	 *
	 * @param WC_Order $order Order.
	 * @return bool Whether meta was written.
	 */
	public function record_order_meta( $order ) {
		$cache = $this->cache();
		if ( ! $cache || ! is_object( $order ) || ! Creditbridge_Settings::is_registered() ) {
			return false;
		}
		$order->update_meta_data( '_creditbridge_cart_key', $cache->cart_key() );
		$quote = $cache->current();
		$cart  = function_exists( 'WC' ) && WC()->cart ? WC()->cart : null;
		if ( $quote && '' !== $quote['coupon_code'] && $cart && $cart->has_discount( $quote['coupon_code'] ) ) {
			$order->update_meta_data( '_creditbridge_hold_id', (string) $quote['hold_id'] );
			$cache->set_ordered_hold( $quote['hold_id'] );
		}
		return true;
	}

	/**
	 * Balance row in classic cart and checkout totals.
	 */
	public function render_classic_row() {
		$info = $this->display_info();
		if ( null === $info ) {
			return;
		}
		echo '<tr class="creditbridge-balance"><th>' . esc_html__( 'Store credit', 'creditbridge' ) . '</th><td data-title="' . esc_attr__( 'Store credit', 'creditbridge' ) . '">';
		echo esc_html( $info['message'] );
		if ( '' !== $info['use_credit_url'] ) {
			echo ' <a href="' . esc_url( $info['use_credit_url'] ) . '">' . esc_html__( 'Use my store credit', 'creditbridge' ) . '</a>';
		}
		echo '</td></tr>';
	}

	/**
	 * What the cart and checkout show about credit, from the session only
	 * (no bridge call), or null for nothing.
	 *
	 * @return array{message:string,applied:string,available:string,remaining:string,currency:string,use_credit_url:string}|null
	 */
	public function display_info() {
		$cache = $this->cache();
		if ( ! $cache || ! $this->eligible() ) {
			return null;
		}
		$quote = $cache->current();
		if ( $cache->opted_out() ) {
			return array(
				'message'        => __( 'Not applied to this order.', 'creditbridge' ),
				'applied'        => '',
				'available'      => '',
				'remaining'      => '',
				'currency'       => get_woocommerce_currency(),
				'use_credit_url' => wp_nonce_url( add_query_arg( self::USE_CREDIT_ARG, '1' ), self::USE_CREDIT_ARG ),
			);
		}
		if ( ! $quote ) {
			return null;
		}
		$currency  = $quote['currency'];
		$decimals  = Creditbridge_Money::decimals( $currency );
		$applied   = Creditbridge_Money::to_minor( $quote['amount'], $decimals );
		$remaining = $quote['available'];
		if ( $applied > 0 ) {
			// The quote's available is the spendable credit INCLUDING this
			// cart's hold; what is left after this order is that minus the
			// applied amount (never below zero).
			$available_minor = Creditbridge_Money::to_minor( $quote['available'], $decimals );
			$remaining       = Creditbridge_Money::from_minor( max( 0, (int) $available_minor - $applied ), $decimals );
			/* translators: %s: store credit left after this order */
			$message = sprintf( __( 'Applied to this order. Remaining balance: %s', 'creditbridge' ), self::plain_price( $remaining, $currency ) );
		} else {
			$available = Creditbridge_Money::to_minor( $quote['available'], Creditbridge_Money::decimals( $currency ) );
			if ( null === $available || $available <= 0 ) {
				return null;
			}
			/* translators: %s: store credit balance */
			$message = sprintf( __( 'Balance: %s', 'creditbridge' ), self::plain_price( $quote['available'], $currency ) );
		}
		return array(
			'message'        => $message,
			'applied'        => $quote['amount'],
			'available'      => $quote['available'],
			'remaining'      => $remaining,
			'currency'       => $currency,
			'use_credit_url' => '',
		);
	}

	/**
	 * Re-enables credit after an opt-out (nonce-checked link).
	 */
	public function maybe_opt_in() {
		if ( ! isset( $_GET[ self::USE_CREDIT_ARG ] ) ) {
			return;
		}
		$nonce = isset( $_GET['_wpnonce'] ) ? sanitize_text_field( wp_unslash( $_GET['_wpnonce'] ) ) : '';
		$cache = $this->cache();
		if ( $cache && is_user_logged_in() && wp_verify_nonce( $nonce, self::USE_CREDIT_ARG ) ) {
			$cache->set_opt_out( false );
			$cache->clear();
		}
		wp_safe_redirect( remove_query_arg( array( self::USE_CREDIT_ARG, '_wpnonce' ) ) );
		exit;
	}

	/**
	 * Formats an amount as plain text with the currency symbol.
	 *
	 * @param string $amount   Decimal string.
	 * @param string $currency ISO 4217.
	 * @return string
	 */
	public static function plain_price( $amount, $currency ) {
		if ( function_exists( 'wc_price' ) ) {
			// wc_price() formats for display only; the value is already exact.
			return html_entity_decode( wp_strip_all_tags( wc_price( $amount, array( 'currency' => $currency, 'decimals' => Creditbridge_Money::decimals( $currency ) ) ) ), ENT_QUOTES, 'UTF-8' );
		}
		return $amount . ' ' . $currency;
	}

	/**
	 * Releases a hold, ignoring failures (the bridge expires holds anyway).
	 *
	 * @param string $hold_id Hold id.
	 */
	private function release( $hold_id ) {
		if ( '' === (string) $hold_id ) {
			return;
		}
		$client = call_user_func( $this->client_factory );
		if ( $client ) {
			$client->release( (string) $hold_id );
		}
	}

	/**
	 * Whether credit applies to the current visitor.
	 *
	 * @return bool
	 */
	private function eligible() {
		if ( ! Creditbridge_Settings::is_registered() || ! is_user_logged_in() || get_current_user_id() <= 0 ) {
			return false;
		}
		if ( is_admin() && ! wp_doing_ajax() ) {
			return false;
		}
		$emails = $this->customer_emails();
		return '' !== $emails[0];
	}

	/**
	 * Account e-mail first, then billing e-mail ('' entries removed except
	 * the first slot, which is '' when there is none).
	 *
	 * @return string[]
	 */
	private function customer_emails() {
		$out  = array();
		$user = wp_get_current_user();
		if ( $user && ! empty( $user->user_email ) ) {
			$out[] = strtolower( (string) $user->user_email );
		}
		if ( function_exists( 'WC' ) && WC()->customer ) {
			$billing = strtolower( (string) WC()->customer->get_billing_email() );
			if ( '' !== $billing && ! in_array( $billing, $out, true ) ) {
				$out[] = $billing;
			}
		}
		return empty( $out ) ? array( '' ) : $out;
	}

	/**
	 * Session-backed cache, or null without a session.
	 *
	 * @return Creditbridge_Quote_Cache|null
	 */
	private function cache() {
		if ( ! function_exists( 'WC' ) || ! WC()->session ) {
			return null;
		}
		return new Creditbridge_Quote_Cache( WC()->session );
	}
}
