<?php
/**
 * Settings sanitization.
 *
 * @package Creditbridge\Tests
 */

test(
	'settings: bridge URL is normalized',
	function () {
		$ok = array(
			'https://credit.example.com'              => 'https://credit.example.com',
			' https://Credit.Example.com/ '           => 'https://credit.example.com',
			'https://credit.example.com:8443/bridge/' => 'https://credit.example.com:8443/bridge',
			'http://localhost:8080'                   => 'http://localhost:8080',
			'http://127.0.0.1:8080/'                  => 'http://127.0.0.1:8080',
			'HTTPS://credit.example.com/a/b'          => 'https://credit.example.com/a/b',
		);
		foreach ( $ok as $in => $want ) {
			assert_same( $want, Creditbridge_Settings::sanitize_bridge_url( $in ), $in );
		}
	}
);

test(
	'settings: unsafe or malformed bridge URLs are refused',
	function () {
		$bad = array(
			'',
			'credit.example.com',
			'http://credit.example.com',
			'ftp://credit.example.com',
			'javascript:alert(1)',
			'https://user:pw@credit.example.com',
			'https://credit.example.com/?x=1',
			'https://credit.example.com/#frag',
			'https://credit example.com',
			'https://credit.example.com/"><script>',
			'https://-bad-.example.com',
			'https://credit.example.com/a%20b',
			null,
			array( 'https://credit.example.com' ),
		);
		foreach ( $bad as $b ) {
			assert_wp_error( Creditbridge_Settings::sanitize_bridge_url( $b ), 'creditbridge_url', var_export( $b, true ) );
		}
	}
);

test(
	'settings: API key must be visible ASCII, 8 to 512 chars, unchanged',
	function () {
		assert_same( 'tok_ABC-123.xyz/+=', Creditbridge_Settings::sanitize_api_key( '  tok_ABC-123.xyz/+=  ' ) );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( '' ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( 'short' ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( 'has space inside' ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( "tok\x00enabcdef" ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( str_repeat( 'a', 513 ) ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_api_key( 'tökenabcdef' ), 'creditbridge_key' );
	}
);

test(
	'settings: form sanitization returns both fields or the first error',
	function () {
		assert_same(
			array(
				'bridge_url' => 'https://b.example.com',
				'api_key'    => 'admin-token-1',
			),
			Creditbridge_Settings::sanitize_form(
				array(
					'bridge_url' => 'https://b.example.com/',
					'api_key'    => 'admin-token-1',
					'extra'      => 'ignored',
				)
			)
		);
		assert_wp_error( Creditbridge_Settings::sanitize_form( array( 'api_key' => 'admin-token-1' ) ), 'creditbridge_url' );
		assert_wp_error( Creditbridge_Settings::sanitize_form( array( 'bridge_url' => 'https://b.example.com' ) ), 'creditbridge_key' );
		assert_wp_error( Creditbridge_Settings::sanitize_form( 'junk' ), 'creditbridge_url' );
	}
);
