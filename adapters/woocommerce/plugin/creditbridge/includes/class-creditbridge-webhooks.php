<?php
/**
 * The four order webhooks that feed the bridge.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Creates or updates the plugin's WooCommerce webhooks (WC CRUD only).
 */
final class Creditbridge_Webhooks {

	/** Order topics delivered to the bridge. */
	const TOPICS = array( 'order.created', 'order.updated', 'order.deleted', 'order.restored' );

	/** REST API version of the payloads. */
	const API_VERSION = 'wp_api_v3';

	/**
	 * Properties of the webhook for one topic.
	 *
	 * @param string $topic        Topic.
	 * @param string $delivery_url Bridge webhook URL.
	 * @param string $secret       Webhook secret.
	 * @param int    $user_id      Owner (its permissions build the payload).
	 * @return array
	 */
	public static function args( $topic, $delivery_url, $secret, $user_id ) {
		return array(
			'name'         => 'creditbridge ' . $topic,
			'topic'        => $topic,
			'delivery_url' => $delivery_url,
			'secret'       => $secret,
			'status'       => 'active',
			'api_version'  => self::API_VERSION,
			'user_id'      => (int) $user_id,
		);
	}

	/**
	 * Creates the webhooks, or updates the ones created earlier (their ids
	 * are remembered in an option).
	 *
	 * @param string $delivery_url Bridge webhook URL.
	 * @param string $secret       Webhook secret.
	 * @param int    $user_id      Owner.
	 * @param array  $known_ids    topic => webhook id from an earlier run.
	 * @return array topic => webhook id
	 * @throws Exception When WooCommerce refuses a value.
	 */
	public static function sync( $delivery_url, $secret, $user_id, array $known_ids ) {
		$ids = array();
		foreach ( self::TOPICS as $topic ) {
			$webhook = null;
			if ( ! empty( $known_ids[ $topic ] ) ) {
				$existing = wc_get_webhook( (int) $known_ids[ $topic ] );
				if ( $existing && $existing->get_id() ) {
					$webhook = $existing;
				}
			}
			if ( null === $webhook ) {
				$webhook = new WC_Webhook();
			}
			$a = self::args( $topic, $delivery_url, $secret, $user_id );
			$webhook->set_name( $a['name'] );
			$webhook->set_user_id( $a['user_id'] );
			$webhook->set_topic( $a['topic'] );
			$webhook->set_delivery_url( $a['delivery_url'] );
			$webhook->set_secret( $a['secret'] );
			$webhook->set_api_version( $a['api_version'] );
			$webhook->set_status( $a['status'] );
			// Registering again re-activates a webhook WooCommerce disabled
			// after failed deliveries; start its count afresh too.
			$webhook->set_failure_count( 0 );
			$webhook->save();
			$ids[ $topic ] = (int) $webhook->get_id();
		}
		return $ids;
	}

	/**
	 * Deletes the webhooks by id (uninstall).
	 *
	 * @param array $ids topic => webhook id.
	 */
	public static function delete( array $ids ) {
		foreach ( $ids as $id ) {
			$webhook = wc_get_webhook( (int) $id );
			if ( $webhook && $webhook->get_id() ) {
				$webhook->delete( true );
			}
		}
	}
}
