<?php
/**
 * "You earn X in store credit" on the product page, in the cart and at
 * checkout (classic templates here; the block cart and checkout read
 * Creditbridge_Blocks' Store API data, which asks this class).
 *
 * The amount comes from the bridge's public earn quote
 * (GET /api/v1/public/earn?platform=woocommerce&shop=<site>&line=...),
 * the shop's public rules applied to the lines as booking applies them.
 * Each quote is cached for five minutes (transient, shared by every
 * visitor with the same lines); any failure (timeout of two seconds,
 * an error status, an odd answer) shows nothing and stops asking for a
 * while, so a bridge outage never slows or breaks a page.
 *
 * Lines carry the net price after discounts (what an order line's total
 * is, and what the bridge earns on by default): in the cart the line's
 * total without tax, on the product page the price without tax.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The earn line.
 */
class Creditbridge_Earn {

	/** Timeout of a quote call, in seconds. */
	const TIMEOUT = 2;

	/** Lifetime of a cached quote, in seconds. */
	const TTL = 300;

	/** Seconds without quote calls after a failure. */
	const BACKOFF = 60;

	/** Seconds without quote calls after "shop not found" (not registered under this address). */
	const BACKOFF_NOT_FOUND = 900;

	/** Transient set while the public quote is failing. */
	const BACKOFF_TRANSIENT = 'creditbridge_earn_backoff';

	/** Largest number of lines of one quote (the bridge's limit). */
	const MAX_LINES = 100;

	/** Cached answer meaning "nothing to show" (a refused line). */
	const NONE = 'none';

	/**
	 * HTTP function (wp_remote_request's signature).
	 *
	 * @var callable
	 */
	private $http;

	/**
	 * Products whose line was printed on this page.
	 *
	 * @var array<int,bool>
	 */
	private $printed = array();

	/**
	 * Constructor.
	 *
	 * @param callable|null $http HTTP function (tests).
	 */
	public function __construct( $http = null ) {
		$this->http = $http ? $http : 'wp_remote_request';
	}

	/**
	 * Registers the hooks. woocommerce_before_add_to_cart_form runs in
	 * classic product templates and in the block theme's Add to Cart form
	 * block alike.
	 */
	public function hooks() {
		add_action( 'woocommerce_before_add_to_cart_form', array( $this, 'render_product' ) );
		add_filter( 'woocommerce_available_variation', array( $this, 'variation_data' ), 10, 3 );
		add_action( 'woocommerce_cart_totals_after_order_total', array( $this, 'render_totals_row' ) );
		add_action( 'woocommerce_review_order_after_order_total', array( $this, 'render_totals_row' ) );
	}

	/**
	 * One quote line: PRODUCT:VARIANT:SKU:QUANTITY:PRICE. A SKU holding a
	 * colon (the separator) is left out; the product and variation ids
	 * still find their rules.
	 *
	 * @param int    $product_id Parent product id.
	 * @param int    $variant_id Variation id, 0 for none.
	 * @param string $sku        SKU.
	 * @param int    $qty        Quantity (> 0).
	 * @param string $unit       Unit price, a decimal string.
	 * @return string
	 */
	public static function line( $product_id, $variant_id, $sku, $qty, $unit ) {
		$sku = (string) $sku;
		if ( false !== strpos( $sku, ':' ) || strlen( $sku ) > 200 ) {
			$sku = '';
		}
		return (int) $product_id . ':' . (int) $variant_id . ':' . $sku . ':' . (int) $qty . ':' . $unit;
	}

	/**
	 * Lines for a cart line of $qty items totalling $total_minor: the
	 * bridge takes unit prices, and a total that does not divide by the
	 * quantity is split into two lines (q1 items at the lower unit price,
	 * the rest one minor unit dearer) that add up to the exact total, so
	 * rules per item still see every item.
	 *
	 * @param int    $product_id  Parent product id.
	 * @param int    $variant_id  Variation id.
	 * @param string $sku         SKU.
	 * @param int    $qty         Quantity.
	 * @param int    $total_minor Line total in minor units.
	 * @param int    $decimals    Currency decimals.
	 * @return string[]
	 */
	public static function lines_for_total( $product_id, $variant_id, $sku, $qty, $total_minor, $decimals ) {
		$qty   = (int) $qty;
		$total = (int) $total_minor;
		if ( $qty <= 0 || $total < 0 ) {
			return array();
		}
		$unit = intdiv( $total, $qty );
		$rest = $total - $unit * $qty; // 0 <= rest < qty items cost one minor unit more
		$out  = array();
		if ( $qty - $rest > 0 ) {
			$out[] = self::line( $product_id, $variant_id, $sku, $qty - $rest, Creditbridge_Money::from_minor( $unit, $decimals ) );
		}
		if ( $rest > 0 ) {
			$out[] = self::line( $product_id, $variant_id, $sku, $rest, Creditbridge_Money::from_minor( $unit + 1, $decimals ) );
		}
		return $out;
	}

	/**
	 * Quote lines of a cart (WC_Cart::get_cart()), from each line's total
	 * after discounts without tax; null when a line cannot be read.
	 *
	 * @param array  $items    Cart contents.
	 * @param string $currency ISO 4217.
	 * @return string[]|null
	 */
	public static function cart_lines( array $items, $currency ) {
		$d   = Creditbridge_Money::decimals( $currency );
		$out = array();
		foreach ( $items as $item ) {
			if ( ! is_array( $item ) || ! isset( $item['data'] ) || ! is_object( $item['data'] ) ) {
				return null;
			}
			$qty = isset( $item['quantity'] ) ? (int) $item['quantity'] : 0;
			if ( $qty <= 0 ) {
				continue;
			}
			if ( isset( $item['line_total'] ) ) {
				$total = Creditbridge_Money::number_to_minor( $item['line_total'], $d );
			} else {
				$unit  = Creditbridge_Money::price_to_minor( (string) $item['data']->get_price(), $d );
				$total = null === $unit ? null : Creditbridge_Money::multiply( $unit, $qty );
			}
			if ( null === $total || $total < 0 ) {
				return null;
			}
			$out = array_merge(
				$out,
				self::lines_for_total(
					isset( $item['product_id'] ) ? (int) $item['product_id'] : 0,
					isset( $item['variation_id'] ) ? (int) $item['variation_id'] : 0,
					(string) $item['data']->get_sku(),
					$qty,
					$total,
					$d
				)
			);
		}
		return $out;
	}

	/**
	 * What the lines earn, a decimal string at the currency's scale, or
	 * null when unknown (not registered, bridge failing, no lines, another
	 * currency than the shop's).
	 *
	 * @param string[] $lines    Quote lines.
	 * @param string   $currency ISO 4217 of the prices.
	 * @return string|null
	 */
	public function quote( array $lines, $currency ) {
		if ( empty( $lines ) || count( $lines ) > self::MAX_LINES || ! Creditbridge_Settings::is_registered() ) {
			return null;
		}
		$shop = home_url();
		$key  = 'creditbridge_earn_' . md5( $shop . '|' . strtoupper( (string) $currency ) . '|' . implode( '&', $lines ) );
		$hit  = get_transient( $key );
		if ( is_string( $hit ) ) {
			return self::NONE === $hit ? null : $hit;
		}
		if ( get_transient( self::BACKOFF_TRANSIENT ) ) {
			return null;
		}
		$url = Creditbridge_Settings::bridge_url() . '/api/v1/public/earn?platform=woocommerce&shop=' . rawurlencode( $shop );
		foreach ( $lines as $l ) {
			$url .= '&line=' . rawurlencode( $l );
		}
		$res = call_user_func(
			$this->http,
			$url,
			array(
				'method'              => 'GET',
				'timeout'             => self::TIMEOUT,
				'redirection'         => 0,
				'headers'             => array( 'Accept' => 'application/json' ),
				'limit_response_size' => 65536,
			)
		);
		if ( is_wp_error( $res ) ) {
			set_transient( self::BACKOFF_TRANSIENT, 1, self::BACKOFF );
			return null;
		}
		$code = (int) wp_remote_retrieve_response_code( $res );
		if ( 400 === $code ) {
			// These lines are refused (an odd price or id): do not ask again for them.
			set_transient( $key, self::NONE, self::TTL );
			return null;
		}
		if ( 200 !== $code ) {
			set_transient( self::BACKOFF_TRANSIENT, 1, 404 === $code ? self::BACKOFF_NOT_FOUND : self::BACKOFF );
			return null;
		}
		$data   = json_decode( (string) wp_remote_retrieve_body( $res ), true, 8 );
		$amount = null;
		if ( is_array( $data ) && isset( $data['amount'], $data['currency'] ) && is_string( $data['amount'] ) && is_string( $data['currency'] ) && 0 === strcasecmp( $data['currency'], (string) $currency ) ) {
			$amount = Creditbridge_Money::normalize( $data['amount'], $data['currency'] );
		}
		if ( null === $amount ) {
			set_transient( self::BACKOFF_TRANSIENT, 1, self::BACKOFF );
			return null;
		}
		set_transient( $key, $amount, self::TTL );
		return $amount;
	}

	/**
	 * The sentence for an amount, '' when there is nothing to earn.
	 *
	 * @param string|null $amount   Earned amount.
	 * @param string      $currency ISO 4217.
	 * @param string      $where    order or product.
	 * @return string
	 */
	public static function text( $amount, $currency, $where = 'order' ) {
		$minor = null === $amount ? null : Creditbridge_Money::to_minor( (string) $amount, Creditbridge_Money::decimals( $currency ) );
		if ( null === $minor || $minor <= 0 ) {
			return '';
		}
		$money = Creditbridge_Money::format( $amount, $currency, Creditbridge_Settings::locale() );
		/* translators: %s: amount of store credit, such as 2,50 € */
		return 'product' === $where ? sprintf( __( 'You earn %s in store credit with this product.', 'creditbridge' ), $money ) : sprintf( __( 'You earn %s in store credit with this order.', 'creditbridge' ), $money );
	}

	/**
	 * What the current cart earns: the amount ('' when unknown) and the
	 * sentence ('' for none).
	 *
	 * @return array{amount:string,text:string}
	 */
	public function cart_earn() {
		$none = array(
			'amount' => '',
			'text'   => '',
		);
		$cart = function_exists( 'WC' ) && WC() && WC()->cart ? WC()->cart : null;
		if ( ! $cart || ! Creditbridge_Settings::is_registered() || $cart->is_empty() ) {
			return $none;
		}
		$currency = get_woocommerce_currency();
		$lines    = self::cart_lines( $cart->get_cart(), $currency );
		$amount   = null === $lines ? null : $this->quote( $lines, $currency );
		if ( null === $amount ) {
			return $none;
		}
		return array(
			'amount' => $amount,
			'text'   => self::text( $amount, $currency ),
		);
	}

	/**
	 * The unit price without tax of a product or variation, in minor
	 * units (WooCommerce's own tax calculation), null when it has none.
	 *
	 * @param object $product WC_Product.
	 * @param int    $d       Currency decimals.
	 * @return int|null
	 */
	public static function net_unit_price( $product, $d ) {
		if ( '' === (string) $product->get_price() ) {
			return null;
		}
		$price = function_exists( 'wc_get_price_excluding_tax' ) ? wc_get_price_excluding_tax( $product, array( 'qty' => 1 ) ) : $product->get_price();
		$minor = Creditbridge_Money::number_to_minor( $price, $d );
		return null === $minor || $minor <= 0 ? null : $minor;
	}

	/**
	 * The product line of one item of a product or variation, '' for none.
	 *
	 * @param object $product    WC_Product.
	 * @param int    $parent_id  Parent product id.
	 * @param int    $variant_id Variation id (0 for none).
	 * @return string Escaped HTML.
	 */
	public function product_html( $product, $parent_id, $variant_id ) {
		if ( ! Creditbridge_Settings::is_registered() ) {
			return '';
		}
		$currency = get_woocommerce_currency();
		$d        = Creditbridge_Money::decimals( $currency );
		$unit     = self::net_unit_price( $product, $d );
		if ( null === $unit ) {
			return '';
		}
		$text = self::text( $this->quote( self::lines_for_total( $parent_id, $variant_id, (string) $product->get_sku(), 1, $unit, $d ), $currency ), $currency, 'product' );
		return '' === $text ? '' : '<p class="creditbridge-earn">' . esc_html( $text ) . '</p>';
	}

	/**
	 * Product page: the line above the add-to-cart form of a simple
	 * product (variable products show it per variation, see
	 * variation_data; grouped and external products show none).
	 */
	public function render_product() {
		global $product;
		if ( ! is_object( $product ) || ! method_exists( $product, 'get_id' ) ) {
			return;
		}
		// Variable: per variation; grouped and external: no price of their own to buy.
		if ( method_exists( $product, 'is_type' ) && ( $product->is_type( 'variable' ) || $product->is_type( 'grouped' ) || $product->is_type( 'external' ) ) ) {
			return;
		}
		$id = (int) $product->get_id();
		if ( isset( $this->printed[ $id ] ) ) {
			return;
		}
		$this->printed[ $id ] = true;
		echo $this->product_html( $product, $id, 0 ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in product_html.
	}

	/**
	 * Variable products: the line of the chosen variation, shown by
	 * WooCommerce's variation form with the availability (no script of
	 * our own).
	 *
	 * @param array  $data      Variation data.
	 * @param object $parent    WC_Product_Variable.
	 * @param object $variation WC_Product_Variation.
	 * @return array
	 */
	public function variation_data( $data, $parent, $variation ) {
		if ( ! is_array( $data ) || ! is_object( $parent ) || ! is_object( $variation ) ) {
			return $data;
		}
		$html = $this->product_html( $variation, (int) $parent->get_id(), (int) $variation->get_id() );
		if ( '' !== $html ) {
			$data['availability_html'] = ( isset( $data['availability_html'] ) ? (string) $data['availability_html'] : '' ) . $html;
		}
		return $data;
	}

	/**
	 * Classic cart and checkout totals: a row under the order total.
	 */
	public function render_totals_row() {
		$earn = $this->cart_earn();
		if ( '' === $earn['text'] ) {
			return;
		}
		$label = __( 'Store credit earned', 'creditbridge' );
		echo '<tr class="creditbridge-earn"><th>' . esc_html( $label ) . '</th><td data-title="' . esc_attr( $label ) . '">' . esc_html( $earn['text'] ) . '</td></tr>';
	}
}
