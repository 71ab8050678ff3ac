<?php
/**
 * Plugin Name:          Creditbridge Store Credit
 * Plugin URI:           https://github.com/creditbridge/creditbridge
 * Description:          Connects WooCommerce to a self-hosted Creditbridge server: customers earn store credit on orders and it is deducted automatically at their next checkout.
 * Version:              0.1.0
 * Requires at least:    6.2
 * Requires PHP:         7.4
 * Author:               Creditbridge contributors
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          creditbridge
 * Domain Path:          /languages
 * Requires Plugins:     woocommerce
 * WC requires at least: 8.2
 * WC tested up to:      9.8
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

define( 'CREDITBRIDGE_VERSION', '0.1.0' );
define( 'CREDITBRIDGE_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-creditbridge-money.php';
require_once __DIR__ . '/includes/class-creditbridge-signer.php';
require_once __DIR__ . '/includes/class-creditbridge-settings.php';
require_once __DIR__ . '/includes/class-creditbridge-coupon.php';
require_once __DIR__ . '/includes/class-creditbridge-quote-cache.php';
require_once __DIR__ . '/includes/class-creditbridge-client.php';
require_once __DIR__ . '/includes/class-creditbridge-webhooks.php';
require_once __DIR__ . '/includes/class-creditbridge-checks.php';
require_once __DIR__ . '/includes/class-creditbridge-registration.php';
require_once __DIR__ . '/includes/class-creditbridge-cart.php';
require_once __DIR__ . '/includes/class-creditbridge-earn.php';
require_once __DIR__ . '/includes/class-creditbridge-category-sync.php';
require_once __DIR__ . '/includes/class-creditbridge-blocks.php';
require_once __DIR__ . '/includes/class-creditbridge-account.php';
require_once __DIR__ . '/includes/class-creditbridge-referral.php';
require_once __DIR__ . '/includes/class-creditbridge-guest-claim.php';
require_once __DIR__ . '/includes/class-creditbridge-activities.php';
require_once __DIR__ . '/includes/class-creditbridge-household.php';
require_once __DIR__ . '/includes/class-creditbridge-health.php';
require_once __DIR__ . '/includes/class-creditbridge-admin.php';
require_once __DIR__ . '/includes/class-creditbridge-rules-admin.php';
require_once __DIR__ . '/includes/class-creditbridge-rules-file.php';
require_once __DIR__ . '/includes/class-creditbridge-plugin.php';

add_action( 'before_woocommerce_init', array( 'Creditbridge_Plugin', 'declare_compatibility' ) );
add_action( 'plugins_loaded', array( 'Creditbridge_Plugin', 'init' ) );
register_activation_hook( __FILE__, array( 'Creditbridge_Plugin', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Creditbridge_Plugin', 'deactivate' ) );
