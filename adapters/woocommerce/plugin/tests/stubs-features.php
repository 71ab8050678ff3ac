<?php
/**
 * Stand-in for WooCommerce's FeaturesUtil: records declarations.
 *
 * @package Creditbridge\Tests
 */

namespace Automattic\WooCommerce\Utilities;

class FeaturesUtil {
	public static $calls = array();
	public static function declare_compatibility( $feature_id, $plugin_file, $positive_compatibility = true ) {
		self::$calls[] = array( $feature_id, $plugin_file, $positive_compatibility );
		return true;
	}
}
