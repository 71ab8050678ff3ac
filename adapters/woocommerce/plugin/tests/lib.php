<?php
/**
 * Test registration and assertions.
 *
 * @package Creditbridge\Tests
 */

$GLOBALS['cbt_tests']      = array();
$GLOBALS['cbt_assertions'] = 0;

/** Registers a test. */
function test( $name, callable $fn ) {
	if ( isset( $GLOBALS['cbt_tests'][ $name ] ) ) {
		throw new LogicException( "duplicate test name {$name}" );
	}
	$GLOBALS['cbt_tests'][ $name ] = $fn;
}

/** Fails unless $expected === $actual. */
function assert_same( $expected, $actual, $message = '' ) {
	++$GLOBALS['cbt_assertions'];
	if ( $expected !== $actual ) {
		throw new Exception( ( '' !== $message ? $message . ': ' : '' ) . 'expected ' . var_export( $expected, true ) . ', got ' . var_export( $actual, true ) );
	}
}

/** Fails unless $cond is true. */
function assert_true( $cond, $message = 'expected true' ) {
	++$GLOBALS['cbt_assertions'];
	if ( true !== $cond ) {
		throw new Exception( $message );
	}
}

/** Fails unless $value is a WP_Error (optionally with this code). */
function assert_wp_error( $value, $code = null, $message = '' ) {
	++$GLOBALS['cbt_assertions'];
	if ( ! is_wp_error( $value ) ) {
		throw new Exception( ( '' !== $message ? $message . ': ' : '' ) . 'expected WP_Error, got ' . var_export( $value, true ) );
	}
	if ( null !== $code && $value->get_error_code() !== $code ) {
		throw new Exception( ( '' !== $message ? $message . ': ' : '' ) . "expected error code {$code}, got " . $value->get_error_code() );
	}
}

/** Fails unless $haystack contains $needle. */
function assert_contains( $needle, $haystack, $message = '' ) {
	++$GLOBALS['cbt_assertions'];
	if ( false === strpos( (string) $haystack, (string) $needle ) ) {
		throw new Exception( ( '' !== $message ? $message . ': ' : '' ) . var_export( $needle, true ) . ' not found in ' . var_export( $haystack, true ) );
	}
}

/** Fails if $haystack contains $needle. */
function assert_not_contains( $needle, $haystack, $message = '' ) {
	++$GLOBALS['cbt_assertions'];
	if ( false !== strpos( (string) $haystack, (string) $needle ) ) {
		throw new Exception( ( '' !== $message ? $message . ': ' : '' ) . var_export( $needle, true ) . ' unexpectedly found' );
	}
}
