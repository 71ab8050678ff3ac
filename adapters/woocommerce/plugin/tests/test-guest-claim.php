<?php
/**
 * Guest claims: the confirmation link goes out by wp_mail only when the
 * address earned as a guest; opening it logged in claims with the
 * account's address; logged out it asks to log in first.
 *
 * @package Creditbridge\Tests
 */

const CBT_CLAIM_TOKEN = 'cbg1.7.Yzo0Mg.0123456789abcdef0123456789abcdef.1900000000.aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899';

/** A guest claim component with a recording mailer. */
function cbt_guest_claim( &$mails, $mail_ok = true ) {
	$mails = array();
	Creditbridge_Guest_Claim::$exit = false;
	return new Creditbridge_Guest_Claim(
		function () {
			return new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234' );
		},
		function ( $to, $subject, $message ) use ( &$mails, $mail_ok ) {
			$mails[] = array( $to, $subject, $message );
			return $mail_ok;
		}
	);
}

test(
	'guest claim: a new account whose address earned as a guest gets the link by mail, once per 10 minutes',
	function () {
		$claim = cbt_guest_claim( $mails );
		update_option( 'blogname', 'Kaffee &amp; Co' );
		$GLOBALS['cbt']['users'][42] = 'friend@example.com';
		cbt_queue_http( 200, wp_json_encode( array( 'token' => CBT_CLAIM_TOKEN, 'expires_at' => '2030-03-17T17:46:40Z' ) ) );
		$claim->hooks();
		do_action( 'woocommerce_created_customer', 42 );
		$req = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/42/guest-claim', $req['url'] );
		assert_same( 'POST', $req['args']['method'] );
		assert_same( array( 'email' => 'friend@example.com' ), json_decode( $req['args']['body'], true ) );
		assert_true( isset( $req['args']['headers']['X-Creditbridge-Signature'] ), 'the request is signed' );
		assert_same( 1, count( $mails ) );
		assert_same( 'friend@example.com', $mails[0][0] );
		assert_contains( 'Kaffee & Co', $mails[0][1] );
		assert_contains( 'https://shop.example.com/my-account/store-credit/?creditbridge_claim=' . CBT_CLAIM_TOKEN, $mails[0][2] );
		assert_contains( '48 hours', $mails[0][2] );
		assert_same( 'throttled', $claim->send_link( 42, 'friend@example.com' ), 'a second request within 10 minutes sends nothing' );
		assert_same( 1, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'guest claim: no guest orders with that address, a bad token or a failed mail send nothing',
	function () {
		$claim = cbt_guest_claim( $mails );
		cbt_queue_http( 404, '{"error":{"code":"not_found","message":"no guest orders for that e-mail"}}' );
		assert_same( 'none', $claim->send_link( 43, 'new@example.com' ) );
		cbt_queue_http( 200, '{"token":"<script>"}' );
		assert_wp_error( $claim->send_link( 44, 'new@example.com' ), 'creditbridge_response' );
		assert_wp_error( $claim->send_link( 45, 'not an address' ) );
		assert_same( array(), $mails );
		$failing = cbt_guest_claim( $mails2, false );
		cbt_queue_http( 200, wp_json_encode( array( 'token' => CBT_CLAIM_TOKEN ) ) );
		assert_wp_error( $failing->send_link( 46, 'friend@example.com' ), 'creditbridge_mail' );
		assert_same( false, get_transient( 'creditbridge_claim_sent_46' ), 'a failed mail can be asked for again at once' );
	}
);

test(
	'guest claim: the link opened logged out asks to log in and claims nothing',
	function () {
		$claim = cbt_guest_claim( $mails );
		assert_same( 'login', $claim->handle_link( array( 'creditbridge_claim' => CBT_CLAIM_TOKEN ) ) );
		assert_same( array(), $GLOBALS['cbt']['http_log'] );
		assert_same( 'notice', $GLOBALS['cbt']['notices'][0][0] );
		assert_same( '', $claim->handle_link( array( 'other' => '1' ) ), 'other pages are left alone' );
	}
);

test(
	'guest claim: the link opened logged in claims with the account address and redirects without the token',
	function () {
		$claim                        = cbt_guest_claim( $mails );
		$GLOBALS['cbt']['user_id']    = 42;
		$GLOBALS['cbt']['user_email'] = 'friend@example.com';
		cbt_queue_http( 200, '{"account":"c:42","transaction_ids":[901]}' );
		assert_same( 'claimed', $claim->handle_link( array( 'creditbridge_claim' => CBT_CLAIM_TOKEN ) ) );
		$req = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/customers/42/guest-claim/confirm', $req['url'] );
		assert_same( array( 'email' => 'friend@example.com', 'token' => CBT_CLAIM_TOKEN ), json_decode( $req['args']['body'], true ) );
		assert_same( array( 'https://shop.example.com/my-account/store-credit/' ), $GLOBALS['cbt']['redirects'] );
		assert_same( 'success', $GLOBALS['cbt']['notices'][0][0] );
		// Another account, an expired link: the bridge refuses, the customer is told.
		cbt_queue_http( 400, '{"error":{"code":"invalid","message":"the confirmation link has expired: ask for a new one"}}' );
		assert_same( 'failed', $claim->handle_link( array( 'creditbridge_claim' => CBT_CLAIM_TOKEN ) ) );
		assert_same( 'error', $GLOBALS['cbt']['notices'][1][0] );
		assert_contains( 'expired', $GLOBALS['cbt']['notices'][1][1] );
		// A tampered token never reaches the bridge.
		assert_same( 'failed', $claim->handle_link( array( 'creditbridge_claim' => 'cbg1.<x>' ) ) );
		assert_same( 2, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'guest claim: the My Account form needs the nonce and sends the link to the account address',
	function () {
		$claim                        = cbt_guest_claim( $mails );
		$GLOBALS['cbt']['user_id']    = 42;
		$GLOBALS['cbt']['user_email'] = 'friend@example.com';
		$_SERVER['REQUEST_METHOD']    = 'POST';
		$_POST                        = array( 'creditbridge_guest_claim_nonce' => 'forged' );
		assert_same( 'error', $claim->handle_request() );
		assert_same( array(), $GLOBALS['cbt']['http_log'] );
		$_POST = array( 'creditbridge_guest_claim_nonce' => 'nonce-creditbridge_guest_claim' );
		cbt_queue_http( 200, wp_json_encode( array( 'token' => CBT_CLAIM_TOKEN ) ) );
		assert_same( 'sent', $claim->handle_request() );
		assert_same( 'friend@example.com', $mails[0][0] );
		assert_contains( 'friend@example.com', $GLOBALS['cbt']['notices'][1][1] );
		ob_start();
		$claim->render_offer();
		$html = ob_get_clean();
		assert_contains( 'name="creditbridge_guest_claim_nonce"', $html );
		assert_contains( 'friend@example.com', $html );
		$_POST                     = array();
		$_SERVER['REQUEST_METHOD'] = 'GET';
	}
);
