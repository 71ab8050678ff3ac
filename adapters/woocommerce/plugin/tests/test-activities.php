<?php
/**
 * Activity hooks: product reviews and account creation reach the signed
 * events API with stable idempotency keys; withdrawn reviews revoke.
 *
 * @package Creditbridge\Tests
 */

/** Activities wired to a client with a fixed clock. */
function cbt_activities() {
	return new Creditbridge_Activities(
		function () {
			return cbt_client();
		}
	);
}

/** A product review comment. */
function cbt_review( $id, $user, $product, $type = 'review' ) {
	$c                                     = (object) array(
		'comment_ID'      => (string) $id,
		'comment_post_ID' => (string) $product,
		'user_id'         => (string) $user,
		'comment_type'    => $type,
	);
	$GLOBALS['cbt']['comments'][ $id ]     = $c;
	$GLOBALS['cbt']['post_types'][ $product ] = 'product';
	return $c;
}

/** The JSON body of logged request i. */
function cbt_activity_sent( $i ) {
	return json_decode( $GLOBALS['cbt']['http_log'][ $i ]['args']['body'], true );
}

test(
	'activities: an approved review reports review with the product, signed, to the shop events route',
	function () {
		cbt_review( 31, 12, 501 );
		cbt_queue_http( 201, '{"event":{"status":"rewarded"}}' );
		cbt_activities()->comment_posted( 31, 1, array() );
		$log = $GLOBALS['cbt']['http_log'];
		assert_same( 1, count( $log ) );
		assert_same( 'https://bridge.example.com/api/v1/shops/shop-7/events', $log[0]['url'] );
		cbt_assert_signed( $log[0] );
		assert_same(
			array(
				'kind'            => 'review',
				'subject'         => '12',
				'object'          => '501',
				'idempotency_key' => 'wc-review-31',
			),
			cbt_activity_sent( 0 )
		);
	}
);

test(
	'activities: held reviews wait for approval; withdrawing an approved review revokes it',
	function () {
		$c = cbt_review( 32, 12, 502 );
		cbt_activities()->comment_posted( 32, 0, array() );
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ), 'a held review reports nothing' );
		cbt_queue_http( 201, '{"event":{"status":"rewarded"}}' );
		cbt_queue_http( 200, '{"event":{"status":"revoked"}}' );
		$a = cbt_activities();
		$a->comment_status( 'approved', 'unapproved', $c );
		$a->comment_status( 'spam', 'approved', $c );
		$a->comment_status( 'trash', 'spam', $c ); // was not approved: nothing to revoke
		assert_same( 2, count( $GLOBALS['cbt']['http_log'] ) );
		assert_same( 'wc-review-32', cbt_activity_sent( 0 )['idempotency_key'] );
		assert_same( false, isset( cbt_activity_sent( 0 )['action'] ) );
		assert_same( 'revoke', cbt_activity_sent( 1 )['action'] );
		assert_same( 'wc-review-32', cbt_activity_sent( 1 )['idempotency_key'] );
	}
);

test(
	'activities: guests, other post types and non-review comments report nothing',
	function () {
		$guest                                = cbt_review( 33, 0, 503 );
		$note                                 = cbt_review( 34, 12, 504, 'order_note' );
		$post                                 = cbt_review( 35, 12, 505 );
		$GLOBALS['cbt']['post_types'][ 505 ] = 'post';
		$a                                    = cbt_activities();
		foreach ( array( $guest, $note, $post ) as $c ) {
			$a->comment_status( 'approved', 'unapproved', $c );
		}
		assert_same( 0, count( $GLOBALS['cbt']['http_log'] ) );
	}
);

test(
	'activities: account created reports account_created; a bridge outage is retried via WP-Cron, a refusal is not',
	function () {
		cbt_queue_http_error( 'connection refused' );
		$a = cbt_activities();
		$a->customer_created( 77 );
		assert_same(
			array(
				'kind'            => 'account_created',
				'subject'         => '77',
				'idempotency_key' => 'wc-account-77',
			),
			cbt_activity_sent( 0 )
		);
		$cron = $GLOBALS['cbt']['cron'];
		assert_same( 1, count( $cron ) );
		assert_same( Creditbridge_Activities::RETRY_HOOK, $cron[0][1] );
		assert_same( array( cbt_activity_sent( 0 ) ), $cron[0][2] );
		cbt_queue_http( 400, '{"error":{"code":"invalid","message":"bad"}}' );
		$a->customer_created( 78 );
		assert_same( 1, count( $GLOBALS['cbt']['cron'] ), 'a 400 is not retried' );
		cbt_queue_http( 201, '{"event":{"status":"rewarded"}}' );
		assert_true( $a->send( $cron[0][2][0] ), 'the retry is sent' );
	}
);

test(
	'activities: hooks are registered by the plugin',
	function () {
		( new Creditbridge_Activities() )->hooks();
		foreach ( array( 'comment_post', 'transition_comment_status', 'woocommerce_created_customer', Creditbridge_Activities::RETRY_HOOK ) as $h ) {
			assert_true( isset( $GLOBALS['cbt']['hooks'][ $h ] ), $h );
		}
	}
);
