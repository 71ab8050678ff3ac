<?php
/**
 * Credit rules page: WooCommerce > Credit rules. Lists, adds and deletes
 * the shop's credit rules through the bridge's signed plugin API
 * (/api/v1/plugin/rules); products are found with WooCommerce's own
 * product data store.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The rules admin page and its form handlers.
 */
class Creditbridge_Rules_Admin {

	const PAGE     = 'creditbridge-rules';
	const SAVE     = 'creditbridge_rule_save';
	const DELETE   = 'creditbridge_rule_delete';
	const CAP      = 'manage_woocommerce';
	const PER_PAGE = 20;

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'admin_menu', array( $this, 'menu' ), 61 );
		add_action( 'admin_post_' . self::SAVE, array( $this, 'handle_save' ) );
		add_action( 'admin_post_' . self::DELETE, array( $this, 'handle_delete' ) );
		add_action( 'admin_init', array( $this, 'register_settings' ) );
	}

	/**
	 * The checkout label, a WordPress setting (Settings API).
	 */
	public function register_settings() {
		register_setting(
			'creditbridge_checkout',
			Creditbridge_Settings::OPT_LABEL,
			array(
				'type'              => 'string',
				'default'           => '',
				'sanitize_callback' => array( __CLASS__, 'sanitize_label' ),
			)
		);
	}

	/**
	 * Keeps a checkout label short and plain.
	 *
	 * @param mixed $raw Input.
	 * @return string
	 */
	public static function sanitize_label( $raw ) {
		return Creditbridge_Settings::clean_label( $raw );
	}

	/**
	 * The names per language the shop set on the bridge (settings
	 * discount_labels.de / .en), which come before the name above
	 * (escaped HTML).
	 *
	 * @param mixed $labels Stored names.
	 * @return string
	 */
	public static function labels_html( $labels ) {
		$labels = is_array( $labels ) ? $labels : array();
		$names  = array(
			'de' => __( 'German', 'creditbridge' ),
			'en' => __( 'English and every other language', 'creditbridge' ),
		);
		$items  = '';
		foreach ( $names as $lang => $name ) {
			if ( isset( $labels[ $lang ] ) && is_string( $labels[ $lang ] ) && '' !== $labels[ $lang ] ) {
				$items .= '<li>' . esc_html( $name ) . ': <strong>' . esc_html( $labels[ $lang ] ) . '</strong></li>';
			}
		}
		$html = '<p class="description">' . esc_html__( 'Names per language set in the bridge\'s shop settings (discount_labels.de, discount_labels.en) come first; this name is used for a language without one.', 'creditbridge' ) . '</p>';
		if ( '' !== $items ) {
			$html .= '<ul class="creditbridge-labels">' . $items . '</ul>';
		}
		return $html;
	}

	/**
	 * Adds the submenu under WooCommerce.
	 */
	public function menu() {
		add_submenu_page( 'woocommerce', __( 'Credit rules', 'creditbridge' ), __( 'Credit rules', 'creditbridge' ), self::CAP, self::PAGE, array( $this, 'render' ) );
	}

	/**
	 * URL of the page.
	 *
	 * @param array $args Query arguments.
	 * @return string
	 */
	public static function page_url( array $args = array() ) {
		return add_query_arg( array_merge( array( 'page' => self::PAGE ), $args ), admin_url( 'admin.php' ) );
	}

	/**
	 * Turns a number typed with a decimal comma or thousands separators
	 * into a plain decimal ("1.234,5" → "1234.5"); the same rules as the
	 * bridge's i18n.NormalizeDecimal.
	 *
	 * @param string $s Typed number.
	 * @return string
	 */
	public static function normalize_decimal( $s ) {
		return Creditbridge_Money::normalize_typed( $s );
	}

	/**
	 * Checks a rule from the form; returns the rule for the bridge or a
	 * WP_Error whose data names the field.
	 *
	 * @param array $in Unslashed form input.
	 * @return array|WP_Error
	 */
	public static function rule_from_form( array $in ) {
		$target = isset( $in['target'] ) ? sanitize_text_field( $in['target'] ) : '';
		if ( ! in_array( $target, array( 'default', 'product', 'variant', 'sku', 'collection' ), true ) ) {
			return new WP_Error( 'creditbridge_rule', __( 'Choose what the rule applies to.', 'creditbridge' ), array( 'field' => 'target' ) );
		}
		$target_id = 'default' === $target ? '' : ( isset( $in['target_id'] ) ? sanitize_text_field( $in['target_id'] ) : '' );
		if ( 'collection' === $target && isset( $in['category'] ) && '' !== (string) $in['category'] ) {
			$target_id = sanitize_text_field( (string) $in['category'] );
		}
		if ( 'default' !== $target && '' === $target_id ) {
			return new WP_Error( 'creditbridge_rule', __( 'Choose a product or enter a SKU.', 'creditbridge' ), array( 'field' => 'target_id' ) );
		}
		if ( 'collection' === $target && ! ctype_digit( $target_id ) ) {
			return new WP_Error( 'creditbridge_rule', __( 'Choose a product category.', 'creditbridge' ), array( 'field' => 'target_id' ) );
		}
		if ( ( 'product' === $target || 'variant' === $target ) && ! ctype_digit( $target_id ) ) {
			return new WP_Error( 'creditbridge_rule', __( 'Product and variation IDs are numbers. Search for the product to find it.', 'creditbridge' ), array( 'field' => 'target_id' ) );
		}
		$beneficiary = isset( $in['beneficiary'] ) ? sanitize_text_field( $in['beneficiary'] ) : 'buyer';
		if ( ! preg_match( '/^(buyer|partner[1-5])$/', $beneficiary ) ) {
			$beneficiary = 'buyer';
		}
		$mode = isset( $in['mode'] ) ? sanitize_text_field( $in['mode'] ) : '';
		if ( ! in_array( $mode, array( 'percent', 'fixed', 'exclude' ), true ) ) {
			return new WP_Error( 'creditbridge_rule', __( 'Choose how much credit the rule gives.', 'creditbridge' ), array( 'field' => 'mode' ) );
		}
		$value = '0';
		if ( 'exclude' !== $mode ) {
			$value = self::normalize_decimal( isset( $in['value'] ) ? (string) $in['value'] : '' );
			if ( ! preg_match( '/^[0-9]{1,12}(\.[0-9]{1,6})?$/', $value ) ) {
				return new WP_Error( 'creditbridge_rule', __( 'Enter a number such as 2,5.', 'creditbridge' ), array( 'field' => 'value' ) );
			}
			$parts = explode( '.', $value . '.' );
			$int   = ltrim( $parts[0], '0' );
			if ( 'percent' === $mode && ( strlen( $int ) > 3 || (int) $int > 100 || ( 100 === (int) $int && '' !== rtrim( $parts[1], '0' ) ) ) ) {
				return new WP_Error( 'creditbridge_rule', __( 'A percentage is between 0 and 100.', 'creditbridge' ), array( 'field' => 'value' ) );
			}
			$frac = strpos( $value, '.' ) === false ? '' : substr( $value, strpos( $value, '.' ) + 1 );
			if ( 'fixed' === $mode && strlen( $frac ) > 3 ) {
				return new WP_Error( 'creditbridge_rule', __( 'Use at most 3 decimal places.', 'creditbridge' ), array( 'field' => 'value' ) );
			}
		}
		$title = isset( $in['title'] ) ? sanitize_text_field( $in['title'] ) : '';
		return array(
			'target'      => $target,
			'target_id'   => $target_id,
			'beneficiary' => $beneficiary,
			'mode'        => $mode,
			'value'       => $value,
			'title'       => function_exists( 'mb_substr' ) ? mb_substr( $title, 0, 255 ) : substr( $title, 0, 255 ),
		);
	}

	/**
	 * Who earns, in words.
	 *
	 * @param string $beneficiary buyer or partnerN.
	 * @return string
	 */
	public static function beneficiary_label( $beneficiary ) {
		if ( '' === $beneficiary || 'buyer' === $beneficiary ) {
			return __( 'Buyer', 'creditbridge' );
		}
		/* translators: %s: partner level (1-5) */
		return sprintf( __( 'Partner, level %s', 'creditbridge' ), substr( $beneficiary, 7 ) );
	}

	/**
	 * What a rule gives, in words.
	 *
	 * @param array $rule Rule from the bridge.
	 * @return string
	 */
	public static function value_label( array $rule ) {
		$value = isset( $rule['value'] ) ? (string) $rule['value'] : '0';
		switch ( isset( $rule['mode'] ) ? $rule['mode'] : '' ) {
			case 'exclude':
				return __( 'Excluded', 'creditbridge' );
			case 'percent':
				$dec = function_exists( 'wc_get_price_decimal_separator' ) ? wc_get_price_decimal_separator() : '.';
				/* translators: %s: percentage */
				return sprintf( __( '%s %% of the price', 'creditbridge' ), str_replace( '.', $dec, $value ) );
			default:
				/* translators: %s: amount */
				return sprintf( __( '%s per item', 'creditbridge' ), wp_strip_all_tags( wc_price( $value ) ) );
		}
	}

	/**
	 * What a rule applies to, in words: the stored title, else the
	 * product's name from WooCommerce, else the id.
	 *
	 * @param array $rule Rule from the bridge.
	 * @return string
	 */
	public static function target_label( array $rule ) {
		$target = isset( $rule['target'] ) ? $rule['target'] : '';
		$id     = isset( $rule['target_id'] ) ? (string) $rule['target_id'] : '';
		if ( 'default' === $target ) {
			return __( 'All products', 'creditbridge' );
		}
		if ( 'sku' === $target ) {
			/* translators: %s: SKU */
			return sprintf( __( 'SKU %s', 'creditbridge' ), $id );
		}
		if ( 'collection' === $target ) {
			$name = isset( $rule['title'] ) ? (string) $rule['title'] : '';
			if ( '' === $name && function_exists( 'get_term' ) && ctype_digit( $id ) ) {
				$term = get_term( (int) $id, 'product_cat' );
				$name = $term && ! is_wp_error( $term ) ? (string) $term->name : '';
			}
			$count = isset( $rule['products'] ) && is_array( $rule['products'] ) ? count( $rule['products'] ) : 0;
			/* translators: 1: category name, 2: category id, 3: number of products */
			return sprintf( _n( 'Category %1$s (ID %2$s, %3$d product)', 'Category %1$s (ID %2$s, %3$d products)', $count, 'creditbridge' ), '' === $name ? $id : $name, $id, $count );
		}
		$name = isset( $rule['title'] ) ? (string) $rule['title'] : '';
		if ( '' === $name && function_exists( 'wc_get_product' ) && ctype_digit( $id ) ) {
			$product = wc_get_product( (int) $id );
			if ( $product ) {
				$name = $product->get_name();
			}
		}
		/* translators: 1: product name, 2: product id */
		return '' === $name ? sprintf( __( 'Product %s', 'creditbridge' ), $id ) : sprintf( __( '%1$s (ID %2$s)', 'creditbridge' ), $name, $id );
	}

	/**
	 * Filters and pages the rules.
	 *
	 * @param array  $rules  Rules from the bridge.
	 * @param string $search Search text.
	 * @param int    $paged  Page (1-based).
	 * @return array{rules:array,pages:int,page:int,total:int}
	 */
	public static function page_of( array $rules, $search, $paged ) {
		$search = strtolower( trim( (string) $search ) );
		if ( '' !== $search ) {
			$rules = array_values(
				array_filter(
					$rules,
					function ( $r ) use ( $search ) {
						return false !== strpos( strtolower( self::target_label( $r ) ), $search );
					}
				)
			);
		}
		$total = count( $rules );
		$pages = max( 1, (int) ceil( $total / self::PER_PAGE ) );
		$page  = min( max( 1, (int) $paged ), $pages );
		return array(
			'rules' => array_slice( $rules, ( $page - 1 ) * self::PER_PAGE, self::PER_PAGE ),
			'pages' => $pages,
			'page'  => $page,
			'total' => $total,
		);
	}

	/**
	 * Products matching a search, from WooCommerce's product data store.
	 *
	 * @param string $term Search text.
	 * @return array<int,string> id => name
	 */
	public static function search_products( $term ) {
		$term = trim( (string) $term );
		if ( '' === $term || ! class_exists( 'WC_Data_Store' ) ) {
			return array();
		}
		$store = WC_Data_Store::load( 'product' );
		$ids   = $store->search_products( $term, '', true, false, 30 );
		$out   = array();
		foreach ( $ids as $id ) {
			$product = $id ? wc_get_product( $id ) : null;
			if ( $product ) {
				$out[ (int) $id ] = $product->get_formatted_name();
			}
		}
		return $out;
	}

	/**
	 * The rules table (escaped).
	 *
	 * @param array $page Result of page_of.
	 * @return string
	 */
	public static function table_html( array $page ) {
		$html  = '<table class="wp-list-table widefat fixed striped"><thead><tr>';
		$html .= '<th scope="col">' . esc_html__( 'Applies to', 'creditbridge' ) . '</th>';
		$html .= '<th scope="col">' . esc_html__( 'Who earns', 'creditbridge' ) . '</th>';
		$html .= '<th scope="col">' . esc_html__( 'Credit', 'creditbridge' ) . '</th>';
		$html .= '<th scope="col">' . esc_html__( 'Actions', 'creditbridge' ) . '</th></tr></thead><tbody>';
		if ( empty( $page['rules'] ) ) {
			$html .= '<tr><td colspan="4">' . esc_html__( 'No rules yet: nothing earns credit. Add a rule for all products below.', 'creditbridge' ) . '</td></tr>';
		}
		foreach ( $page['rules'] as $rule ) {
			$label = self::target_label( $rule );
			$html .= '<tr><td>' . esc_html( $label ) . '</td><td>' . esc_html( self::beneficiary_label( isset( $rule['beneficiary'] ) ? $rule['beneficiary'] : '' ) ) . '</td>';
			$html .= '<td>' . esc_html( self::value_label( $rule ) ) . '</td><td>';
			$html .= '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="creditbridge-delete" data-confirm="' .
				/* translators: %s: what the rule applies to */
				esc_attr( sprintf( __( 'Delete the rule for "%s"? New orders will no longer earn credit from it; credit already earned stays.', 'creditbridge' ), $label ) ) . '">';
			$html .= '<input type="hidden" name="action" value="' . esc_attr( self::DELETE ) . '" />';
			$html .= '<input type="hidden" name="rule_id" value="' . esc_attr( (string) ( isset( $rule['id'] ) ? $rule['id'] : '' ) ) . '" />';
			$html .= self::nonce( self::DELETE );
			/* translators: %s: what the rule applies to */
			// WordPress's red (#d63638) on a button's grey is below 4.5:1 (axe on WordPress 6.8); its darker red passes.
			$html .= '<button type="submit" class="button button-link-delete" style="color:#b32d2e;border-color:#b32d2e" aria-label="' . esc_attr( sprintf( __( 'Delete rule for %s', 'creditbridge' ), $label ) ) . '">' . esc_html__( 'Delete', 'creditbridge' ) . '</button>';
			$html .= '</form></td></tr>';
		}
		$html .= '</tbody></table>';
		return $html;
	}

	/**
	 * A nonce field as a string.
	 *
	 * @param string $action Action.
	 * @return string
	 */
	public static function nonce( $action ) {
		return function_exists( 'wp_nonce_field' ) ? wp_nonce_field( $action, '_wpnonce', true, false ) : '';
	}

	/**
	 * Renders the page.
	 */
	public function render() {
		if ( ! current_user_can( self::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ) );
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'Credit rules', 'creditbridge' ) . '</h1>';
		$notice = get_transient( self::notice_key() );
		if ( is_array( $notice ) ) {
			delete_transient( self::notice_key() );
			$class = 'success' === $notice['type'] ? 'notice-success' : 'notice-error';
			echo '<div class="notice ' . esc_attr( $class ) . '" role="alert"><p>' . esc_html( $notice['message'] ) . '</p></div>';
		}
		if ( ! Creditbridge_Settings::is_registered() ) {
			echo '<p>' . esc_html__( 'Register this shop with the bridge first (WooCommerce > Creditbridge).', 'creditbridge' ) . '</p></div>';
			return;
		}
		$client = Creditbridge_Client::from_options();
		$res    = $client->request( 'GET', '/api/v1/plugin/rules', array(), null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			echo '<div class="notice notice-error"><p>' . esc_html__( 'The bridge cannot be reached right now, so the rules cannot be shown. Please try again in a moment.', 'creditbridge' ) . '</p></div></div>';
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- read-only search and paging.
		$search  = isset( $_GET['s'] ) ? sanitize_text_field( wp_unslash( $_GET['s'] ) ) : '';
		$paged   = isset( $_GET['paged'] ) ? absint( $_GET['paged'] ) : 1;
		$product = isset( $_GET['product_search'] ) ? sanitize_text_field( wp_unslash( $_GET['product_search'] ) ) : '';
		// phpcs:enable
		$rules = isset( $res['rules'] ) && is_array( $res['rules'] ) ? $res['rules'] : array();
		$page  = self::page_of( $rules, $search, $paged );

		echo '<p>' . esc_html__( 'The most specific rule wins: variation, then SKU, then product, then product category, then the rule for all products. Excluded products earn nothing.', 'creditbridge' ) . '</p>';
		echo '<form method="get" role="search"><input type="hidden" name="page" value="' . esc_attr( self::PAGE ) . '" />';
		echo '<p class="search-box"><label for="creditbridge-rule-search">' . esc_html__( 'Search rules', 'creditbridge' ) . '</label> ';
		echo '<input type="search" id="creditbridge-rule-search" name="s" value="' . esc_attr( $search ) . '" /> ';
		echo '<button type="submit" class="button">' . esc_html__( 'Search rules', 'creditbridge' ) . '</button></p></form>';
		echo self::table_html( $page ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in table_html.
		/* translators: 1: page, 2: pages, 3: number of rules */
		echo '<nav class="tablenav" aria-label="' . esc_attr__( 'Pages', 'creditbridge' ) . '"><p>' . esc_html( sprintf( __( 'Page %1$d of %2$d (%3$d rules)', 'creditbridge' ), $page['page'], $page['pages'], $page['total'] ) ) . ' ';
		if ( $page['page'] > 1 ) {
			echo '<a class="button" href="' . esc_url( self::page_url( array( 's' => $search, 'paged' => $page['page'] - 1 ) ) ) . '">' . esc_html__( 'Previous page', 'creditbridge' ) . '</a> ';
		}
		if ( $page['page'] < $page['pages'] ) {
			echo '<a class="button" href="' . esc_url( self::page_url( array( 's' => $search, 'paged' => $page['page'] + 1 ) ) ) . '">' . esc_html__( 'Next page', 'creditbridge' ) . '</a>';
		}
		echo '</p></nav>';

		echo '<h2>' . esc_html__( 'Add or change a rule', 'creditbridge' ) . '</h2>';
		echo '<form method="get" role="search"><input type="hidden" name="page" value="' . esc_attr( self::PAGE ) . '" />';
		echo '<p><label for="creditbridge-product-search">' . esc_html__( 'Find a product', 'creditbridge' ) . '</label> ';
		echo '<input type="search" id="creditbridge-product-search" name="product_search" value="' . esc_attr( $product ) . '" /> ';
		echo '<button type="submit" class="button">' . esc_html__( 'Search products', 'creditbridge' ) . '</button></p></form>';
		$found = self::search_products( $product );

		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::SAVE ) . '" />';
		echo self::nonce( self::SAVE ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- wp_nonce_field output.
		echo '<table class="form-table" role="presentation"><tbody>';
		echo '<tr><th scope="row"><label for="creditbridge-target">' . esc_html__( 'Applies to', 'creditbridge' ) . '</label></th><td><select id="creditbridge-target" name="rule[target]">';
		$targets = array(
			'product' => __( 'Product', 'creditbridge' ),
			'variant' => __( 'Variation', 'creditbridge' ),
			'sku'        => __( 'SKU', 'creditbridge' ),
			'collection' => __( 'Product category', 'creditbridge' ),
			'default'    => __( 'All products', 'creditbridge' ),
		);
		foreach ( $targets as $v => $label ) {
			echo '<option value="' . esc_attr( $v ) . '"' . ( ( $found ? 'product' : 'default' ) === $v ? ' selected' : '' ) . '>' . esc_html( $label ) . '</option>';
		}
		echo '</select></td></tr>';
		echo '<tr><th scope="row"><label for="creditbridge-target-id">' . esc_html__( 'Product, variation ID or SKU', 'creditbridge' ) . '</label></th><td>';
		if ( $found ) {
			echo '<select id="creditbridge-target-id" name="rule[target_id]">';
			foreach ( $found as $id => $name ) {
				echo '<option value="' . esc_attr( (string) $id ) . '">' . esc_html( wp_strip_all_tags( $name ) ) . '</option>';
			}
			echo '</select>';
		} else {
			echo '<input type="text" id="creditbridge-target-id" name="rule[target_id]" class="regular-text" aria-describedby="creditbridge-target-id-help" />';
			echo '<p class="description" id="creditbridge-target-id-help">' . esc_html__( 'Search for a product above, or type a SKU or an ID. Leave empty for all products.', 'creditbridge' ) . '</p>';
		}
		echo '</td></tr>';
		$cats = Creditbridge_Rules_File::categories();
		if ( $cats ) {
			echo '<tr><th scope="row"><label for="creditbridge-category">' . esc_html__( 'Product category', 'creditbridge' ) . '</label></th><td><select id="creditbridge-category" name="rule[category]" aria-describedby="creditbridge-category-help"><option value="">' . esc_html__( '(none)', 'creditbridge' ) . '</option>';
			foreach ( $cats as $id => $name ) {
				echo '<option value="' . esc_attr( (string) $id ) . '">' . esc_html( $name ) . '</option>';
			}
			echo '</select><p class="description" id="creditbridge-category-help">' . esc_html__( 'For "Applies to: Product category". Its products earn by the rule unless a product, variation or SKU rule applies.', 'creditbridge' ) . '</p></td></tr>';
		}
		echo '<tr><th scope="row"><label for="creditbridge-beneficiary">' . esc_html__( 'Who earns', 'creditbridge' ) . '</label></th><td><select id="creditbridge-beneficiary" name="rule[beneficiary]">';
		foreach ( array( 'buyer', 'partner1', 'partner2', 'partner3', 'partner4', 'partner5' ) as $b ) {
			echo '<option value="' . esc_attr( $b ) . '">' . esc_html( self::beneficiary_label( $b ) ) . '</option>';
		}
		echo '</select></td></tr>';
		echo '<tr><th scope="row"><label for="creditbridge-mode">' . esc_html__( 'Credit', 'creditbridge' ) . '</label></th><td><select id="creditbridge-mode" name="rule[mode]">';
		echo '<option value="percent">' . esc_html__( 'Percent of the price', 'creditbridge' ) . '</option>';
		echo '<option value="fixed">' . esc_html__( 'Fixed amount per item', 'creditbridge' ) . '</option>';
		echo '<option value="exclude">' . esc_html__( 'Excluded (earns nothing)', 'creditbridge' ) . '</option>';
		echo '</select></td></tr>';
		echo '<tr><th scope="row"><label for="creditbridge-value">' . esc_html__( 'Value', 'creditbridge' ) . '</label></th><td>';
		echo '<input type="text" inputmode="decimal" id="creditbridge-value" name="rule[value]" class="small-text" aria-describedby="creditbridge-value-help" />';
		echo '<p class="description" id="creditbridge-value-help">' . esc_html__( 'Percent (0-100) or amount per item; a decimal comma is fine.', 'creditbridge' ) . '</p></td></tr>';
		echo '</tbody></table>';
		submit_button( __( 'Save rule', 'creditbridge' ) );
		echo '</form>';
		$preview = get_transient( Creditbridge_Rules_File::preview_key() );
		echo Creditbridge_Rules_File::section_html( is_array( $preview ) ? $preview : null, array( __CLASS__, 'nonce' ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in section_html.
		echo '<h2>' . esc_html__( 'Checkout', 'creditbridge' ) . '</h2>';
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( 'creditbridge_checkout' );
		echo '<table class="form-table" role="presentation"><tbody><tr><th scope="row"><label for="creditbridge-discount-label">' . esc_html__( 'Name of the credit in cart and checkout', 'creditbridge' ) . '</label></th><td>';
		echo '<input type="text" id="creditbridge-discount-label" name="creditbridge_discount_label" class="regular-text" maxlength="60" value="' . esc_attr( (string) get_option( 'creditbridge_discount_label', '' ) ) . '" aria-describedby="creditbridge-discount-label-help" />';
		echo '<p class="description" id="creditbridge-discount-label-help">' . esc_html__( 'Empty: "Store credit" in the customer\'s language. Credit is recognised by its coupon code, never by this name.', 'creditbridge' ) . '</p>';
		echo Creditbridge_Rules_Admin::labels_html( get_option( Creditbridge_Settings::OPT_LABELS, array() ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in labels_html.
		echo '</td></tr></tbody></table>';
		submit_button( __( 'Save name', 'creditbridge' ) );
		echo '</form>';
		// Confirmation before a delete (the form works without it).
		echo '<script>document.querySelectorAll("form.creditbridge-delete").forEach(function(f){f.addEventListener("submit",function(e){if(!window.confirm(f.getAttribute("data-confirm"))){e.preventDefault();}});});</script>';
		echo '</div>';
	}

	/**
	 * Saves a rule: capability and nonce check, validation, bridge call.
	 */
	public function handle_save() {
		if ( ! current_user_can( self::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::SAVE );
		$in   = isset( $_POST['rule'] ) && is_array( $_POST['rule'] ) ? wp_unslash( $_POST['rule'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- sanitized in rule_from_form.
		$rule = self::rule_from_form( $in );
		if ( is_wp_error( $rule ) ) {
			$this->redirect_with( 'error', $rule->get_error_message() );
		}
		if ( 'collection' === $rule['target'] ) {
			$rule['products'] = Creditbridge_Rules_File::category_products( (int) $rule['target_id'] );
			if ( '' === $rule['title'] && function_exists( 'get_term' ) ) {
				$term          = get_term( (int) $rule['target_id'], 'product_cat' );
				$rule['title'] = $term && ! is_wp_error( $term ) ? (string) $term->name : '';
			}
		}
		if ( '' === $rule['title'] && ( 'product' === $rule['target'] || 'variant' === $rule['target'] ) && function_exists( 'wc_get_product' ) ) {
			$product = wc_get_product( (int) $rule['target_id'] );
			if ( $product ) {
				$rule['title'] = $product->get_name();
			}
		}
		$res = Creditbridge_Client::from_options()->request( 'PUT', '/api/v1/plugin/rules', array(), $rule, array( 200 ) );
		Creditbridge_Category_Sync::forget_rules();
		if ( is_wp_error( $res ) ) {
			$this->redirect_with( 'error', __( 'The bridge did not save the rule. Check the value and try again.', 'creditbridge' ) );
		}
		$this->redirect_with( 'success', __( 'Rule saved.', 'creditbridge' ) );
	}

	/**
	 * Deletes a rule.
	 */
	public function handle_delete() {
		if ( ! current_user_can( self::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::DELETE );
		$id = isset( $_POST['rule_id'] ) ? absint( $_POST['rule_id'] ) : 0;
		if ( $id <= 0 ) {
			$this->redirect_with( 'error', __( 'That rule does not exist.', 'creditbridge' ) );
		}
		$res = Creditbridge_Client::from_options()->request( 'DELETE', '/api/v1/plugin/rules/' . $id, array(), null, array( 204 ) );
		Creditbridge_Category_Sync::forget_rules();
		if ( is_wp_error( $res ) ) {
			$this->redirect_with( 'error', __( 'The bridge did not delete the rule. Please try again.', 'creditbridge' ) );
		}
		$this->redirect_with( 'success', __( 'Rule deleted.', 'creditbridge' ) );
	}

	/**
	 * Stores a one-time notice (none when type is empty) and goes back to
	 * the page, at anchor.
	 *
	 * @param string $type    success|error|''.
	 * @param string $message Message.
	 * @param string $anchor  Fragment such as #creditbridge-rules-file.
	 */
	public static function notice_and_back( $type, $message, $anchor = '' ) {
		if ( '' !== $type ) {
			set_transient(
				self::notice_key(),
				array(
					'type'    => $type,
					'message' => $message,
				),
				300
			);
		}
		wp_safe_redirect( self::page_url() . $anchor );
		exit;
	}

	/**
	 * Stores a one-time notice and goes back to the page.
	 *
	 * @param string $type    success|error.
	 * @param string $message Message.
	 */
	private function redirect_with( $type, $message ) {
		set_transient(
			self::notice_key(),
			array(
				'type'    => $type,
				'message' => $message,
			),
			300
		);
		wp_safe_redirect( self::page_url() );
		exit;
	}

	/**
	 * Transient key of the current user's notice.
	 *
	 * @return string
	 */
	private static function notice_key() {
		return 'creditbridge_rules_notice_' . get_current_user_id();
	}
}
