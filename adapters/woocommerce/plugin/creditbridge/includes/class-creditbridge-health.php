<?php
/**
 * The health box and the registration checks on the settings page.
 *
 * Health comes from the bridge (GET /api/v1/plugin/health, signed): when
 * it last received an order webhook of this shop, when its poller last
 * read the shop's orders and whether that worked, and its last failure
 * with the reason. The checks are the ones stored at registration
 * (Creditbridge_Checks).
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Renders the health box and the checks (plain markup, escaped).
 */
final class Creditbridge_Health {

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
	 * HTML of the checks stored at the last registration ('' when none).
	 *
	 * @return string
	 */
	public static function checks_html() {
		$stored = get_option( Creditbridge_Settings::OPT_CHECKS, array() );
		if ( ! is_array( $stored ) || empty( $stored['checks'] ) || ! is_array( $stored['checks'] ) ) {
			return '';
		}
		$out  = '<h2>' . esc_html__( 'Checks at registration', 'creditbridge' ) . '</h2><ul class="creditbridge-checks">';
		foreach ( $stored['checks'] as $c ) {
			if ( ! is_array( $c ) ) {
				continue;
			}
			// Rendered in the reader's language from the stored key; checks
			// stored before keys existed keep their stored texts.
			if ( isset( $c['code'] ) ) {
				list( $text, $fix ) = Creditbridge_Checks::texts( $c['code'], isset( $c['args'] ) ? (array) $c['args'] : array() );
				if ( '' !== $text ) {
					$c['message'] = $text;
					$c['fix']     = $fix;
				}
			}
			if ( ! isset( $c['message'] ) ) {
				continue;
			}
			$ok   = ! empty( $c['ok'] );
			$out .= '<li class="' . ( $ok ? 'creditbridge-check-ok' : 'creditbridge-check-problem' ) . '"><strong>' . ( $ok ? esc_html__( 'OK:', 'creditbridge' ) : esc_html__( 'Problem:', 'creditbridge' ) ) . '</strong> ' . esc_html( (string) $c['message'] );
			if ( ! $ok && ! empty( $c['fix'] ) ) {
				$out .= '<br /><em>' . esc_html__( 'What to do:', 'creditbridge' ) . '</em> ' . esc_html( (string) $c['fix'] );
			}
			$out .= '</li>';
		}
		return $out . '</ul>';
	}

	/**
	 * HTML of the health box ('' when the shop is not registered).
	 *
	 * @return string
	 */
	public function box_html() {
		$client = call_user_func( $this->client_factory );
		if ( ! $client ) {
			return '';
		}
		$out    = '<h2>' . esc_html__( 'Health (reported by the bridge)', 'creditbridge' ) . '</h2>';
		$health = $client->health();
		if ( is_wp_error( $health ) ) {
			/* translators: %s: error message */
			return $out . '<p class="creditbridge-health-error">' . esc_html( sprintf( __( 'The bridge could not be asked: %s', 'creditbridge' ), $health->get_error_message() ) ) . '</p>';
		}
		$never = __( 'never', 'creditbridge' );
		$rows  = array();

		$rows[] = array( __( 'Last order webhook received', 'creditbridge' ), '' === $health['last_webhook_at'] ? $never : self::when( $health['last_webhook_at'] ) );

		if ( '' === $health['last_poll_at'] ) {
			$poll = $never;
		} else {
			$poll = self::when( $health['last_poll_at'] ) . ' ' . ( $health['last_poll_ok'] ? __( '(succeeded)', 'creditbridge' ) : __( '(failed)', 'creditbridge' ) );
		}
		$rows[] = array( __( 'Last poll of your orders', 'creditbridge' ), $poll );

		if ( null === $health['last_failure'] ) {
			$failure = __( 'none', 'creditbridge' );
		} else {
			$f = $health['last_failure'];
			/* translators: 1: date and time, 2: what failed, 3: reason */
			$failure = sprintf( __( '%1$s, %2$s: %3$s', 'creditbridge' ), self::when( $f['at'] ), self::source_label( $f['source'] ), $f['reason'] );
		}
		$rows[] = array( __( 'Last failure', 'creditbridge' ), $failure );

		$rows[] = array( __( 'Order webhooks in WooCommerce', 'creditbridge' ), self::webhooks_state() );

		$out .= '<table class="widefat striped creditbridge-health" role="presentation"><tbody>';
		foreach ( $rows as $r ) {
			$out .= '<tr><th scope="row">' . esc_html( $r[0] ) . '</th><td>' . esc_html( $r[1] ) . '</td></tr>';
		}
		$out .= '</tbody></table>';
		if ( '' !== $health['last_poll_at'] && ! $health['last_poll_ok'] ) {
			$out .= '<p class="creditbridge-health-fix"><em>' . esc_html__( 'What to do:', 'creditbridge' ) . '</em> ' . esc_html( self::poll_fix( null === $health['last_failure'] ? '' : $health['last_failure']['reason'] ) ) . '</p>';
		}
		return $out;
	}

	/**
	 * A bridge timestamp (RFC 3339) as local date and time.
	 *
	 * @param string $rfc3339 Timestamp.
	 * @return string
	 */
	public static function when( $rfc3339 ) {
		$ts = strtotime( (string) $rfc3339 );
		if ( false === $ts ) {
			return (string) $rfc3339;
		}
		$format = trim( get_option( 'date_format', 'Y-m-d' ) . ' ' . get_option( 'time_format', 'H:i' ) );
		return function_exists( 'wp_date' ) ? (string) wp_date( $format, $ts ) : gmdate( $format, $ts ) . ' UTC';
	}

	/**
	 * The state of the plugin's webhooks as WooCommerce holds it. WooCommerce
	 * disables a webhook after more than 5 failed deliveries in a row (the
	 * bridge was down); registering again re-activates them.
	 *
	 * @return string
	 */
	public static function webhooks_state() {
		$ids = get_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array() );
		if ( ! is_array( $ids ) || empty( $ids ) ) {
			return __( 'none: register again to create them', 'creditbridge' );
		}
		$bad = array();
		foreach ( $ids as $topic => $id ) {
			$webhook = function_exists( 'wc_get_webhook' ) ? wc_get_webhook( (int) $id ) : null;
			if ( ! $webhook || ! $webhook->get_id() ) {
				/* translators: %s: webhook topic */
				$bad[] = sprintf( __( '%s was deleted', 'creditbridge' ), $topic );
				continue;
			}
			$status = (string) $webhook->get_status();
			if ( 'active' !== $status ) {
				/* translators: 1: webhook topic, 2: status (paused, disabled), 3: failed deliveries */
				$bad[] = sprintf( __( '%1$s is %2$s (%3$d failed deliveries)', 'creditbridge' ), $topic, $status, (int) $webhook->get_failure_count() );
			}
		}
		if ( empty( $bad ) ) {
			/* translators: %d: number of webhooks */
			return sprintf( _n( '%d active', '%d active', count( $ids ), 'creditbridge' ), count( $ids ) );
		}
		/* translators: %s: list of problems */
		return sprintf( __( '%s. WooCommerce stops delivering to a webhook after more than 5 failed deliveries in a row; register again to re-activate them.', 'creditbridge' ), implode( '; ', $bad ) );
	}

	/**
	 * What to do when the bridge cannot read the shop's orders.
	 *
	 * @param string $reason The bridge's reason.
	 * @return string
	 */
	public static function poll_fix( $reason ) {
		if ( false !== strpos( $reason, 'HTTP 401' ) || false !== strpos( $reason, 'HTTP 403' ) ) {
			return __( 'WooCommerce refused the bridge\'s REST API key (it was deleted, revoked or changed). Register again below: the plugin creates a new key and hands it to the bridge.', 'creditbridge' );
		}
		if ( false !== strpos( $reason, 'not the REST API' ) ) {
			return __( 'The bridge reached this site but got a web page instead of the REST API. Check that WooCommerce and this plugin are active and that no security plugin or server rule blocks /wp-json/ or ?rest_route=.', 'creditbridge' );
		}
		return __( 'The bridge could not read your orders; the reason is shown above. Orders still arrive by webhook, and the bridge tries again on its next poll.', 'creditbridge' );
	}

	/**
	 * Words for a failure source of the bridge.
	 *
	 * @param string $source poll|webhook|processing|... .
	 * @return string
	 */
	public static function source_label( $source ) {
		switch ( $source ) {
			case 'poll':
				return __( 'reading your orders', 'creditbridge' );
			case 'processing':
				return __( 'processing an order', 'creditbridge' );
			case 'webhook':
				return __( 'receiving an order webhook', 'creditbridge' );
			default:
				return (string) $source;
		}
	}
}
