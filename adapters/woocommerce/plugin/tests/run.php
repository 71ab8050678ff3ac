<?php
/**
 * Self-contained test runner (no PHPUnit: Composer is not available).
 *
 * Usage: php tests/run.php [name-filter]
 * Loads the WordPress/WooCommerce stubs, the plugin, and every test-*.php;
 * runs each registered test with fresh stub state; prints failures and a
 * final "N passed, N failed" line; exits 1 when a test failed. Warnings and
 * notices fail the test; a test that makes no assertion fails too.
 *
 * @package Creditbridge\Tests
 */

error_reporting( E_ALL );
ini_set( 'display_errors', '1' );
set_error_handler(
	function ( $severity, $message, $file, $line ) {
		throw new ErrorException( $message, 0, $severity, $file, $line );
	}
);

require __DIR__ . '/stubs.php';
require __DIR__ . '/stubs-features.php';
require __DIR__ . '/lib.php';
require __DIR__ . '/../creditbridge/creditbridge.php';
// Hooks the main plugin file registered when loaded (checked by a test).
$GLOBALS['cbt_boot_hooks'] = $GLOBALS['cbt']['hooks'];

foreach ( glob( __DIR__ . '/test-*.php' ) as $cbt_file ) {
	require $cbt_file;
}

$cbt_filter = isset( $argv[1] ) ? $argv[1] : '';
$cbt_passed = 0;
$cbt_failed = 0;
foreach ( $GLOBALS['cbt_tests'] as $cbt_name => $cbt_fn ) {
	if ( '' !== $cbt_filter && false === strpos( $cbt_name, $cbt_filter ) ) {
		continue;
	}
	cbt_reset();
	$GLOBALS['cbt_assertions'] = 0;
	try {
		$cbt_fn();
		if ( 0 === $GLOBALS['cbt_assertions'] ) {
			throw new Exception( 'test made no assertion' );
		}
		++$cbt_passed;
		echo "ok   {$cbt_name}\n";
	} catch ( Throwable $e ) {
		++$cbt_failed;
		echo "FAIL {$cbt_name}: " . get_class( $e ) . ': ' . $e->getMessage() . "\n";
		foreach ( $e->getTrace() as $i => $frame ) {
			if ( isset( $frame['file'] ) && $i < 6 ) {
				echo '       at ' . basename( $frame['file'] ) . ':' . $frame['line'] . "\n";
			}
		}
		echo '       thrown at ' . basename( $e->getFile() ) . ':' . $e->getLine() . "\n";
	}
}
echo "{$cbt_passed} passed, {$cbt_failed} failed\n";
exit( $cbt_failed > 0 || 0 === $cbt_passed ? 1 : 0 );
