<?php
/**
 * Checks run at registration, reported to the merchant in plain words.
 *
 * - Permalinks: with "Plain" permalinks /wp-json is not routed, so the
 *   bridge calls the REST API as ?rest_route=/wc/v3/... (which this plugin
 *   lets WooCommerce authenticate). Works, but only while the plugin is
 *   active.
 * - Webhook delivery: WooCommerce sends webhooks with
 *   wp_safe_remote_request(), which refuses (silently, for webhooks) ports
 *   other than 80, 443 and 8080 and hosts that resolve to private or
 *   loopback addresses other than this site's own host. The check asks
 *   WordPress's own wp_http_validate_url(), then sends the same unsigned
 *   "webhook_id=<id>" ping WooCommerce sends, through
 *   wp_safe_remote_request(), and expects HTTP 200.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Registration checks. Each check is an array with keys id, ok, code and
 * args (what was found, as a message key and its values), and message and
 * fix (the texts in the language of registration, kept for older readers).
 * Pages render code and args with texts(), so the checks read in the
 * language of whoever looks at them, not of whoever registered.
 */
final class Creditbridge_Checks {

	/** Ports wp_safe_remote_request() allows by default. */
	const SAFE_PORTS = array( 80, 443, 8080 );

	/** Timeout of the delivery test, seconds. */
	const TIMEOUT = 5;

	/**
	 * Every check for a registered shop.
	 *
	 * @param string $webhook_url Bridge webhook URL.
	 * @param int    $webhook_id  Id of one of the plugin's webhooks (ping body).
	 * @return array[]
	 */
	public static function run( $webhook_url, $webhook_id ) {
		return array(
			self::permalinks( (string) get_option( 'permalink_structure', '' ) ),
			self::webhook_delivery( $webhook_url, $webhook_id ),
		);
	}

	/**
	 * Whether any check failed.
	 *
	 * @param array[] $checks Checks.
	 * @return bool
	 */
	public static function has_problems( $checks ) {
		foreach ( (array) $checks as $c ) {
			if ( is_array( $c ) && empty( $c['ok'] ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The permalink structure.
	 *
	 * @param string $structure permalink_structure option ('' = Plain).
	 * @return array
	 */
	public static function permalinks( $structure ) {
		if ( '' !== trim( (string) $structure ) ) {
			return self::result( 'permalinks', true, 'permalinks_ok' );
		}
		return self::result( 'permalinks', false, 'permalinks_plain' );
	}

	/**
	 * Whether WooCommerce can deliver webhooks to the bridge URL.
	 *
	 * @param string $url        Bridge webhook URL.
	 * @param int    $webhook_id Webhook id for the ping body.
	 * @return array
	 */
	public static function webhook_delivery( $url, $webhook_id ) {
		$port = self::refused_port( $url );
		if ( 0 !== $port ) {
			return self::result( 'webhooks', false, 'port', array( $port ) );
		}
		if ( ! wp_http_validate_url( $url ) ) {
			return self::result( 'webhooks', false, 'host', array( (string) $url ) );
		}
		$response = wp_safe_remote_request(
			$url,
			array(
				'method'      => 'POST',
				'timeout'     => self::TIMEOUT,
				'redirection' => 0,
				'headers'     => array( 'Content-Type' => 'application/x-www-form-urlencoded' ),
				'body'        => 'webhook_id=' . (int) $webhook_id,
			)
		);
		if ( is_wp_error( $response ) ) {
			return self::result( 'webhooks', false, 'delivery_failed', array( $response->get_error_message() ) );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $code ) {
			return self::result( 'webhooks', false, 'delivery_status', array( $code ) );
		}
		return self::result( 'webhooks', true, 'webhooks_ok' );
	}

	/**
	 * Why wp_safe_remote_request() refuses the URL's port ('' when it does not).
	 *
	 * @param string $url URL.
	 * @return string
	 */
	public static function port_problem( $url ) {
		$port = self::refused_port( $url );
		return 0 === $port ? '' : self::texts( 'port', array( $port ) )[0];
	}

	/**
	 * The URL's port when wp_safe_remote_request() refuses it (0 when it does not).
	 *
	 * @param string $url URL.
	 * @return int
	 */
	public static function refused_port( $url ) {
		$parts = wp_parse_url( (string) $url );
		if ( ! is_array( $parts ) || empty( $parts['host'] ) || empty( $parts['port'] ) ) {
			return 0;
		}
		$port    = (int) $parts['port'];
		$host    = trim( $parts['host'], '.' );
		$allowed = apply_filters( 'http_allowed_safe_ports', self::SAFE_PORTS, $host, $url );
		if ( is_array( $allowed ) && in_array( $port, $allowed, true ) ) {
			return 0;
		}
		// WordPress also allows this site's own host and port.
		$home = wp_parse_url( (string) get_option( 'home', '' ) );
		if ( is_array( $home ) && isset( $home['host'], $home['port'] ) && strtolower( $home['host'] ) === strtolower( $parts['host'] ) && (int) $home['port'] === $port ) {
			return 0;
		}
		return $port;
	}

	/**
	 * A check's texts in the current language: what was found and what to
	 * do ('' when nothing). Unknown codes give two empty strings.
	 *
	 * @param string $code Message key.
	 * @param array  $args Its values.
	 * @return string[] array( message, fix )
	 */
	public static function texts( $code, $args = array() ) {
		$a = array_values( (array) $args );
		switch ( (string) $code ) {
			case 'permalinks_ok':
				return array( __( 'Permalinks: the REST API is available at /wp-json/.', 'creditbridge' ), '' );
			case 'permalinks_plain':
				return array(
					__( 'Permalinks are set to "Plain", so the REST API has no /wp-json/ address. The bridge falls back to ?rest_route=/wc/v3/…, which works only while this plugin is active.', 'creditbridge' ),
					__( 'Choose any other structure (for example "Post name") under Settings > Permalinks and save.', 'creditbridge' ),
				);
			case 'port':
				return array(
					/* translators: %d: port number */
					sprintf( __( 'The bridge listens on port %d. WooCommerce sends webhooks with wp_safe_remote_request(), which only allows ports 80, 443 and 8080, so every order webhook would be dropped without an error; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), (int) ( $a[0] ?? 0 ) ),
					__( 'Serve the bridge on port 443 (https, recommended), 80 or 8080, for example behind a reverse proxy, set its PUBLIC_URL to that address and register again. Or allow the port for WordPress with the http_allowed_safe_ports filter.', 'creditbridge' ),
				);
			case 'host':
				return array(
					/* translators: %s: bridge webhook URL */
					sprintf( __( 'WooCommerce will not send order webhooks to %s: its host cannot be resolved, or it resolves to a private or loopback address, which wp_safe_remote_request() refuses. Every delivery would be dropped without an error; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), (string) ( $a[0] ?? '' ) ),
					__( 'Give the bridge a public host name (set its PUBLIC_URL) and register again, or, if the bridge runs on your own network on purpose, allow its host with the http_request_host_is_external filter.', 'creditbridge' ),
				);
			case 'delivery_failed':
				return array(
					/* translators: %s: error message */
					sprintf( __( 'The test delivery to the bridge failed: %s. Order webhooks will not arrive; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), (string) ( $a[0] ?? '' ) ),
					__( 'Check that this server can reach the bridge URL (firewall, DNS, TLS certificate), then register again.', 'creditbridge' ),
				);
			case 'delivery_status':
				return array(
					/* translators: %d: HTTP status code */
					sprintf( __( 'The test delivery reached a server, but it answered HTTP %d instead of 200. WooCommerce disables a webhook whose first delivery is not answered with 200.', 'creditbridge' ), (int) ( $a[0] ?? 0 ) ),
					__( 'Check that the bridge URL points at the Creditbridge server itself (not a proxy page or another service), then register again.', 'creditbridge' ),
				);
			case 'webhooks_ok':
				return array( __( 'Order webhooks: a test delivery reached the bridge.', 'creditbridge' ), '' );
		}
		return array( '', '' );
	}

	/**
	 * A check result.
	 *
	 * @param string $id   Check id.
	 * @param bool   $ok   Passed.
	 * @param string $code Message key (see texts()).
	 * @param array  $args Its values.
	 * @return array
	 */
	private static function result( $id, $ok, $code, $args = array() ) {
		list( $message, $fix ) = self::texts( $code, $args );
		return array(
			'id'      => $id,
			'ok'      => (bool) $ok,
			'code'    => $code,
			'args'    => array_values( $args ),
			'message' => $message,
			'fix'     => $fix,
		);
	}
}
