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
 * Registration checks. Each check is an array with keys id, ok, message
 * (what was found) and fix (what to do, '' when ok).
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
			return self::result( 'permalinks', true, __( 'Permalinks: the REST API is available at /wp-json/.', 'creditbridge' ), '' );
		}
		return self::result(
			'permalinks',
			false,
			__( 'Permalinks are set to "Plain", so the REST API has no /wp-json/ address. The bridge falls back to ?rest_route=/wc/v3/…, which works only while this plugin is active.', 'creditbridge' ),
			__( 'Choose any other structure (for example "Post name") under Settings > Permalinks and save.', 'creditbridge' )
		);
	}

	/**
	 * Whether WooCommerce can deliver webhooks to the bridge URL.
	 *
	 * @param string $url        Bridge webhook URL.
	 * @param int    $webhook_id Webhook id for the ping body.
	 * @return array
	 */
	public static function webhook_delivery( $url, $webhook_id ) {
		$port_problem = self::port_problem( $url );
		if ( '' !== $port_problem ) {
			return self::result(
				'webhooks',
				false,
				$port_problem,
				__( 'Serve the bridge on port 443 (https, recommended), 80 or 8080, for example behind a reverse proxy, set its PUBLIC_URL to that address and register again. Or allow the port for WordPress with the http_allowed_safe_ports filter.', 'creditbridge' )
			);
		}
		if ( ! wp_http_validate_url( $url ) ) {
			return self::result(
				'webhooks',
				false,
				/* translators: %s: bridge webhook URL */
				sprintf( __( 'WooCommerce will not send order webhooks to %s: its host cannot be resolved, or it resolves to a private or loopback address, which wp_safe_remote_request() refuses. Every delivery would be dropped without an error; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), $url ),
				__( 'Give the bridge a public host name (set its PUBLIC_URL) and register again, or, if the bridge runs on your own network on purpose, allow its host with the http_request_host_is_external filter.', 'creditbridge' )
			);
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
			return self::result(
				'webhooks',
				false,
				/* translators: %s: error message */
				sprintf( __( 'The test delivery to the bridge failed: %s. Order webhooks will not arrive; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), $response->get_error_message() ),
				__( 'Check that this server can reach the bridge URL (firewall, DNS, TLS certificate), then register again.', 'creditbridge' )
			);
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $code ) {
			return self::result(
				'webhooks',
				false,
				/* translators: %d: HTTP status code */
				sprintf( __( 'The test delivery reached a server, but it answered HTTP %d instead of 200. WooCommerce disables a webhook whose first delivery is not answered with 200.', 'creditbridge' ), $code ),
				__( 'Check that the bridge URL points at the Creditbridge server itself (not a proxy page or another service), then register again.', 'creditbridge' )
			);
		}
		return self::result( 'webhooks', true, __( 'Order webhooks: a test delivery reached the bridge.', 'creditbridge' ), '' );
	}

	/**
	 * Why wp_safe_remote_request() refuses the URL's port ('' when it does not).
	 *
	 * @param string $url URL.
	 * @return string
	 */
	public static function port_problem( $url ) {
		$parts = wp_parse_url( (string) $url );
		if ( ! is_array( $parts ) || empty( $parts['host'] ) || empty( $parts['port'] ) ) {
			return '';
		}
		$port    = (int) $parts['port'];
		$host    = trim( $parts['host'], '.' );
		$allowed = apply_filters( 'http_allowed_safe_ports', self::SAFE_PORTS, $host, $url );
		if ( is_array( $allowed ) && in_array( $port, $allowed, true ) ) {
			return '';
		}
		// WordPress also allows this site's own host and port.
		$home = wp_parse_url( (string) get_option( 'home', '' ) );
		if ( is_array( $home ) && isset( $home['host'], $home['port'] ) && strtolower( $home['host'] ) === strtolower( $parts['host'] ) && (int) $home['port'] === $port ) {
			return '';
		}
		/* translators: %d: port number */
		return sprintf( __( 'The bridge listens on port %d. WooCommerce sends webhooks with wp_safe_remote_request(), which only allows ports 80, 443 and 8080, so every order webhook would be dropped without an error; only the bridge\'s poller would pick up orders, minutes later.', 'creditbridge' ), $port );
	}

	/**
	 * A check result.
	 *
	 * @param string $id      Check id.
	 * @param bool   $ok      Passed.
	 * @param string $message What was found.
	 * @param string $fix     What to do.
	 * @return array
	 */
	private static function result( $id, $ok, $message, $fix ) {
		return array(
			'id'      => $id,
			'ok'      => (bool) $ok,
			'message' => $message,
			'fix'     => $fix,
		);
	}
}
