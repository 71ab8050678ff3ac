<?php
/**
 * Uninstall: deletes the webhooks and revokes the REST API key the plugin
 * created for the bridge, then removes every option it wrote. Orders keep
 * their _creditbridge_* meta (it is part of the order's history).
 *
 * @package Creditbridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/includes/class-creditbridge-settings.php';
require_once __DIR__ . '/includes/class-creditbridge-webhooks.php';

$creditbridge_webhooks = get_option( Creditbridge_Settings::OPT_WEBHOOK_IDS, array() );
if ( is_array( $creditbridge_webhooks ) && function_exists( 'wc_get_webhook' ) ) {
	Creditbridge_Webhooks::delete( $creditbridge_webhooks );
}

$creditbridge_key_id = (int) get_option( Creditbridge_Settings::OPT_API_KEY_ID, 0 );
if ( $creditbridge_key_id > 0 ) {
	global $wpdb;
	$wpdb->delete( $wpdb->prefix . 'woocommerce_api_keys', array( 'key_id' => $creditbridge_key_id ), array( '%d' ) );
}

foreach ( Creditbridge_Settings::all_options() as $creditbridge_option ) {
	delete_option( $creditbridge_option );
}
delete_option( 'creditbridge_referral_days' );
delete_option( 'creditbridge_referral_field' );
delete_transient( 'creditbridge_bridge_backoff' );
delete_transient( 'creditbridge_earn_backoff' );
delete_transient( 'creditbridge_category_rules' );
delete_transient( 'creditbridge_category_backoff' );
delete_option( 'creditbridge_category_sent' );
if ( function_exists( 'wp_clear_scheduled_hook' ) ) {
	wp_clear_scheduled_hook( 'creditbridge_category_sync' );
	wp_clear_scheduled_hook( 'creditbridge_category_sync_retry' );
}
delete_transient( 'creditbridge_household_off' );
if ( function_exists( 'delete_metadata' ) ) {
	delete_metadata( 'user', 0, '_creditbridge_addresses_sent', '', true ); // every user's fingerprint
}
if ( function_exists( 'wp_unschedule_hook' ) ) {
	wp_unschedule_hook( 'creditbridge_send_addresses' ); // pending retries of any user
}
