<?php
/**
 * Request signing for plugin -> bridge calls.
 *
 * Canonical string: "<unix seconds>\n<METHOD>\n<path with query>\n<raw body>",
 * signed with HMAC-SHA256 and the plugin secret the bridge handed out at
 * registration, sent as lowercase hex. The bridge accepts timestamps within
 * +/- 300 seconds of its own clock.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Pure signing helpers (no WordPress calls).
 */
final class Creditbridge_Signer {

	/** Accepted clock difference in seconds, both directions. */
	const WINDOW = 300;

	/** Header names. */
	const HEADER_SHOP      = 'X-Creditbridge-Shop';
	const HEADER_TIMESTAMP = 'X-Creditbridge-Timestamp';
	const HEADER_SIGNATURE = 'X-Creditbridge-Signature';

	/**
	 * Path plus "?query" (when there is one) of a URL, exactly as sent.
	 *
	 * @param string $url Absolute URL.
	 * @return string
	 */
	public static function path_with_query( $url ) {
		$parts = wp_parse_url( $url );
		$path  = ( is_array( $parts ) && isset( $parts['path'] ) && '' !== $parts['path'] ) ? $parts['path'] : '/';
		if ( is_array( $parts ) && isset( $parts['query'] ) && '' !== $parts['query'] ) {
			$path .= '?' . $parts['query'];
		}
		return $path;
	}

	/**
	 * The string that is signed.
	 *
	 * @param int    $timestamp       Unix seconds.
	 * @param string $method          HTTP method.
	 * @param string $path_with_query Path and query.
	 * @param string $body            Raw body ('' for none).
	 * @return string
	 */
	public static function canonical( $timestamp, $method, $path_with_query, $body ) {
		return (string) (int) $timestamp . "\n" . strtoupper( $method ) . "\n" . $path_with_query . "\n" . $body;
	}

	/**
	 * Lowercase hex HMAC-SHA256 signature.
	 *
	 * @param string $secret          Plugin secret.
	 * @param int    $timestamp       Unix seconds.
	 * @param string $method          HTTP method.
	 * @param string $path_with_query Path and query.
	 * @param string $body            Raw body.
	 * @return string
	 */
	public static function sign( $secret, $timestamp, $method, $path_with_query, $body ) {
		return hash_hmac( 'sha256', self::canonical( $timestamp, $method, $path_with_query, $body ), (string) $secret );
	}

	/**
	 * The three authentication headers for a request.
	 *
	 * @param string $shop_id Shop id from registration.
	 * @param string $secret  Plugin secret.
	 * @param string $method  HTTP method.
	 * @param string $url     Absolute URL (its path and query are signed).
	 * @param string $body    Raw body.
	 * @param int    $now     Unix seconds.
	 * @return array<string,string>
	 */
	public static function headers( $shop_id, $secret, $method, $url, $body, $now ) {
		return array(
			self::HEADER_SHOP      => (string) $shop_id,
			self::HEADER_TIMESTAMP => (string) (int) $now,
			self::HEADER_SIGNATURE => self::sign( $secret, $now, $method, self::path_with_query( $url ), $body ),
		);
	}

	/**
	 * Whether a timestamp is within the accepted window of $now.
	 *
	 * @param int $timestamp Unix seconds to check.
	 * @param int $now       Reference unix seconds.
	 * @param int $window    Allowed difference in seconds.
	 * @return bool
	 */
	public static function is_fresh( $timestamp, $now, $window = self::WINDOW ) {
		return abs( (int) $timestamp - (int) $now ) <= $window;
	}

	/**
	 * Clock difference (bridge minus local) read from an HTTP Date header, or
	 * null when the header is missing or unparsable. Used after a 401 to tell
	 * the merchant that a wrong server clock breaks signatures.
	 *
	 * @param string $date_header RFC 7231 date.
	 * @param int    $now         Local unix seconds.
	 * @return int|null
	 */
	public static function clock_skew( $date_header, $now ) {
		if ( ! is_string( $date_header ) || '' === $date_header ) {
			return null;
		}
		$ts = strtotime( $date_header );
		return false === $ts ? null : $ts - (int) $now;
	}
}
