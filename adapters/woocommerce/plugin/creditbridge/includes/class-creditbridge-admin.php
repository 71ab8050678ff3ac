<?php
/**
 * Settings page: WooCommerce > Creditbridge.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Admin settings page and the registration form handler.
 */
class Creditbridge_Admin {

	const PAGE   = 'creditbridge';
	const ACTION = 'creditbridge_register';
	const CAP    = 'manage_woocommerce';

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'admin_menu', array( $this, 'menu' ), 60 );
		add_action( 'admin_post_' . self::ACTION, array( $this, 'handle_register' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( CREDITBRIDGE_FILE ), array( $this, 'action_links' ) );
	}

	/**
	 * Adds the submenu under WooCommerce.
	 */
	public function menu() {
		add_submenu_page( 'woocommerce', __( 'Creditbridge', 'creditbridge' ), __( 'Creditbridge', 'creditbridge' ), self::CAP, self::PAGE, array( $this, 'render' ) );
	}

	/**
	 * "Settings" link on the plugins screen.
	 *
	 * @param array $links Links.
	 * @return array
	 */
	public function action_links( $links ) {
		array_unshift( $links, '<a href="' . esc_url( self::page_url() ) . '">' . esc_html__( 'Settings', 'creditbridge' ) . '</a>' );
		return $links;
	}

	/**
	 * URL of the settings page.
	 *
	 * @return string
	 */
	public static function page_url() {
		return admin_url( 'admin.php?page=' . self::PAGE );
	}

	/**
	 * Renders the page. Secrets are never printed; the API key field is
	 * always empty.
	 */
	public function render() {
		if ( ! current_user_can( self::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ) );
		}
		$notice = get_transient( self::notice_key() );
		if ( is_array( $notice ) ) {
			delete_transient( self::notice_key() );
		}
		$registered = Creditbridge_Settings::is_registered();
		$webhooks   = get_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array() );
		$skew       = get_option( Creditbridge_Settings::OPT_CLOCK_SKEW, '' );
		echo '<div class="wrap"><h1>' . esc_html__( 'Creditbridge store credit', 'creditbridge' ) . '</h1>';
		if ( is_array( $notice ) && isset( $notice['type'], $notice['message'] ) ) {
			$classes = array(
				'success' => 'notice-success',
				'warning' => 'notice-warning',
			);
			$class   = isset( $classes[ $notice['type'] ] ) ? $classes[ $notice['type'] ] : 'notice-error';
			echo '<div class="notice ' . esc_attr( $class ) . '"><p>' . esc_html( $notice['message'] ) . '</p></div>';
		}
		if ( '' !== $skew && null !== $skew ) {
			/* translators: %d: seconds */
			echo '<div class="notice notice-warning"><p>' . esc_html( sprintf( __( 'The bridge rejected a signed request and its clock differs from this server by %d seconds. Signatures are accepted within 300 seconds: fix this server\'s clock (NTP).', 'creditbridge' ), (int) $skew ) ) . '</p></div>';
		}
		echo '<p>' . esc_html__( 'Enter the address of your Creditbridge server and its API key, then save. The plugin creates REST API credentials and order webhooks for the bridge by itself.', 'creditbridge' ) . '</p>';
		if ( $registered ) {
			echo '<p><strong>' . esc_html__( 'Status:', 'creditbridge' ) . '</strong> ';
			/* translators: 1: shop id, 2: number of webhooks */
			echo esc_html( sprintf( __( 'registered as shop %1$s, %2$d order webhooks.', 'creditbridge' ), (string) get_option( Creditbridge_Settings::OPT_SHOP_ID, '' ), is_array( $webhooks ) ? count( $webhooks ) : 0 ) );
			echo '</p>';
		} else {
			echo '<p><strong>' . esc_html__( 'Status:', 'creditbridge' ) . '</strong> ' . esc_html__( 'not registered.', 'creditbridge' ) . '</p>';
		}
		if ( $registered ) {
			// Health box and registration checks (escaped inside).
			echo ( new Creditbridge_Health() )->box_html() . Creditbridge_Health::checks_html(); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		}
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '" />';
		wp_nonce_field( self::ACTION );
		echo '<table class="form-table" role="presentation"><tbody>';
		echo '<tr><th scope="row"><label for="creditbridge_bridge_url">' . esc_html__( 'Bridge URL', 'creditbridge' ) . '</label></th><td>';
		echo '<input type="url" class="regular-text" id="creditbridge_bridge_url" name="creditbridge[bridge_url]" required placeholder="https://credit.example.com" value="' . esc_attr( Creditbridge_Settings::bridge_url() ) . '" />';
		echo '</td></tr>';
		echo '<tr><th scope="row"><label for="creditbridge_api_key">' . esc_html__( 'Bridge API key', 'creditbridge' ) . '</label></th><td>';
		echo '<input type="password" class="regular-text" id="creditbridge_api_key" name="creditbridge[api_key]" required autocomplete="off" value="" />';
		echo '<p class="description">' . esc_html__( 'Used once to register this shop; it is not stored.', 'creditbridge' ) . '</p>';
		echo '</td></tr>';
		echo '</tbody></table>';
		submit_button( $registered ? __( 'Save and register again', 'creditbridge' ) : __( 'Save and register', 'creditbridge' ) );
		echo '</form></div>';
	}

	/**
	 * Handles the form: capability and nonce check, sanitize, register.
	 */
	public function handle_register() {
		if ( ! current_user_can( self::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::ACTION );
		$input = isset( $_POST['creditbridge'] ) && is_array( $_POST['creditbridge'] ) ? wp_unslash( $_POST['creditbridge'] ) : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- sanitized by Creditbridge_Settings::sanitize_form.
		$form  = Creditbridge_Settings::sanitize_form( $input );
		if ( is_wp_error( $form ) ) {
			$this->redirect_with( 'error', $form->get_error_message() );
		}
		global $wpdb;
		$registration = new Creditbridge_Registration( $wpdb );
		$result       = $registration->register( $form['bridge_url'], $form['api_key'], get_current_user_id() );
		if ( is_wp_error( $result ) ) {
			$this->redirect_with( 'error', $result->get_error_message() );
		}
		if ( Creditbridge_Checks::has_problems( isset( $result['checks'] ) ? $result['checks'] : array() ) ) {
			/* translators: %s: shop id */
			$this->redirect_with( 'warning', sprintf( __( 'Registered with the bridge as shop %s, but the checks found problems. See "Checks at registration" below for what to do.', 'creditbridge' ), $result['shop_id'] ) );
		}
		/* translators: %s: shop id */
		$this->redirect_with( 'success', sprintf( __( 'Registered with the bridge as shop %s. Order webhooks are active.', 'creditbridge' ), $result['shop_id'] ) );
	}

	/**
	 * Stores a one-time notice for the current user and goes back to the page.
	 *
	 * @param string $type    success|warning|error.
	 * @param string $message Message (no secrets).
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
		return 'creditbridge_notice_' . get_current_user_id();
	}
}
