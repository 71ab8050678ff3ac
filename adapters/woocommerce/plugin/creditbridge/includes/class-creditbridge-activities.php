<?php
/**
 * Activity rewards: reports WooCommerce events to the bridge's events API.
 *
 * - A product review approved (at once, or later by a moderator) reports
 *   "review" with the product as object; a review that leaves "approved"
 *   (unapproved, spam, trash) revokes it. Only reviews by registered
 *   customers count.
 * - A customer account created reports "account_created".
 *
 * The idempotency key is derived from WooCommerce's ids, so a repeat or a
 * retry never pays twice. A call the bridge could not answer is retried
 * through WP-Cron after 5 minutes (the site keeps working when the bridge
 * is down); the bridge decides amounts and caps.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Activity hooks.
 */
class Creditbridge_Activities {

	/** WP-Cron hook retrying an unsent activity. */
	const RETRY_HOOK = 'creditbridge_send_activity';

	/** Seconds before a retry. */
	const RETRY_AFTER = 300;

	/**
	 * Returns the client (null when the plugin is not registered).
	 *
	 * @var callable
	 */
	private $client;

	/**
	 * Constructor.
	 *
	 * @param callable|null $client Factory of the signed client (tests).
	 */
	public function __construct( $client = null ) {
		$this->client = $client ? $client : array( 'Creditbridge_Client', 'from_options' );
	}

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'comment_post', array( $this, 'comment_posted' ), 10, 3 );
		add_action( 'transition_comment_status', array( $this, 'comment_status' ), 10, 3 );
		add_action( 'woocommerce_created_customer', array( $this, 'customer_created' ), 10, 1 );
		add_action( self::RETRY_HOOK, array( $this, 'send' ), 10, 1 );
	}

	/**
	 * The review event of a comment, or null when it is not a product
	 * review by a registered customer.
	 *
	 * @param object $comment WP_Comment.
	 * @return array|null
	 */
	public static function review_event( $comment ) {
		if ( ! is_object( $comment ) || empty( $comment->user_id ) || empty( $comment->comment_ID ) || empty( $comment->comment_post_ID ) ) {
			return null;
		}
		if ( 'product' !== get_post_type( (int) $comment->comment_post_ID ) ) {
			return null;
		}
		$type = isset( $comment->comment_type ) ? (string) $comment->comment_type : '';
		if ( '' !== $type && 'review' !== $type && 'comment' !== $type ) {
			return null;
		}
		return array(
			'kind'            => 'review',
			'subject'         => (string) (int) $comment->user_id,
			'object'          => (string) (int) $comment->comment_post_ID,
			'idempotency_key' => 'wc-review-' . (int) $comment->comment_ID,
		);
	}

	/**
	 * A new comment: an auto-approved review earns at once.
	 *
	 * @param int        $comment_id Comment id.
	 * @param int|string $approved   1, 0 or 'spam'.
	 * @param array      $data       Comment data (unused).
	 */
	public function comment_posted( $comment_id, $approved, $data = array() ) {
		unset( $data );
		if ( 1 !== (int) $approved || 'spam' === $approved ) {
			return;
		}
		$ev = self::review_event( get_comment( $comment_id ) );
		if ( $ev ) {
			$this->send( $ev );
		}
	}

	/**
	 * A moderator approved or withdrew a review.
	 *
	 * @param string $new_status New status.
	 * @param string $old_status Old status.
	 * @param object $comment    WP_Comment.
	 */
	public function comment_status( $new_status, $old_status, $comment ) {
		if ( $new_status === $old_status ) {
			return;
		}
		$ev = self::review_event( $comment );
		if ( ! $ev ) {
			return;
		}
		if ( 'approved' === $new_status ) {
			$this->send( $ev );
		} elseif ( 'approved' === $old_status ) {
			$ev['action'] = 'revoke';
			$this->send( $ev );
		}
	}

	/**
	 * A customer account was created.
	 *
	 * @param int $customer_id WooCommerce customer id.
	 */
	public function customer_created( $customer_id ) {
		$id = (int) $customer_id;
		if ( $id <= 0 ) {
			return;
		}
		$this->send(
			array(
				'kind'            => 'account_created',
				'subject'         => (string) $id,
				'idempotency_key' => 'wc-account-' . $id,
			)
		);
	}

	/**
	 * Sends an event; a transport failure or a 5xx is retried later.
	 *
	 * @param array $event Event.
	 * @return bool Whether the bridge recorded it.
	 */
	public function send( $event ) {
		if ( ! is_array( $event ) ) {
			return false;
		}
		$client = call_user_func( $this->client );
		if ( ! $client ) {
			return false;
		}
		$res = $client->activity( $event );
		if ( ! is_wp_error( $res ) ) {
			return true;
		}
		$data   = $res->get_error_data();
		$status = is_array( $data ) && isset( $data['status'] ) ? (int) $data['status'] : 0;
		if ( 0 === $status || $status >= 500 || 429 === $status ) {
			wp_schedule_single_event( time() + self::RETRY_AFTER, self::RETRY_HOOK, array( $event ) );
		}
		return false;
	}
}
