<?php
/**
 * My Account: the customer's tier and what is missing to the next one.
 *
 * @package Creditbridge\Tests
 */

test(
	'tier: the statement\'s tier is read with the amount at the currency scale',
	function () {
		update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
		cbt_queue_http(
			200,
			json_encode(
				array(
					'entries'     => array(),
					'next_cursor' => '',
					'tier'        => array( 'tier' => 'Silber', 'multiplier' => '1.5', 'member' => false, 'basis' => 'spend', 'qualifying' => '150.00', 'next_tier' => 'Gold', 'missing' => '350.00', 'text' => 'Deine Stufe: Silber' ),
				)
			)
		);
		$c = new Creditbridge_Client( 'https://bridge.example.com', 'shop-7', 'plugin-secret-1234' );
		$s = $c->statement( '12', 'EUR', 20, '' );
		assert_same(
			array( 'tier' => 'Silber', 'next_tier' => 'Gold', 'missing' => '350.00', 'member' => false, 'member_until' => '' ),
			$s['tier']
		);
		cbt_queue_http( 200, '{"entries":[]}' );
		$s = $c->statement( '12', 'EUR', 20, '' );
		assert_same( null, $s['tier'], 'shops without tiers' );
		$t = Creditbridge_Client::parse_tier( array( 'tier' => 'Gold', 'next_tier' => 'Platin', 'missing' => 12.5 ), 'EUR' );
		assert_same( '', $t['next_tier'], 'a number is not an amount' );
		assert_same( '', $t['missing'] );
	}
);

test(
	'tier: My Account shows the tier and what is missing, in the reader\'s format',
	function () {
		$html = Creditbridge_Account::tier_html( array( 'tier' => 'Silber', 'next_tier' => 'Gold', 'missing' => '1234.50', 'member' => false, 'member_until' => '' ), 'EUR', 'de_DE' );
		assert_contains( '<h3 id="creditbridge-tier-title">Your tier</h3>', $html );
		assert_contains( '<strong class="creditbridge-tier-name">Silber</strong>', $html );
		assert_contains( "1.234,50\u{a0}€ more to reach Gold", $html );
		$html = Creditbridge_Account::tier_html( array( 'tier' => '', 'next_tier' => 'Bronze', 'missing' => '20.00', 'member' => false, 'member_until' => '' ), 'EUR', 'en_US' );
		assert_contains( 'No tier yet', $html );
		assert_contains( '€20.00 more to reach Bronze', $html );
		$html = Creditbridge_Account::tier_html( array( 'tier' => '<b>Club</b>', 'next_tier' => '', 'missing' => '', 'member' => true, 'member_until' => '2027-06-30T22:00:00Z' ), 'EUR', 'en_US' );
		assert_contains( '&lt;b&gt;Club&lt;/b&gt;', $html );
		assert_contains( 'Membership until', $html );
		assert_not_contains( 'more to reach', $html );
		assert_same( '', Creditbridge_Account::tier_html( array( 'tier' => '', 'next_tier' => '', 'missing' => '' ), 'EUR', 'en_US' ) );
	}
);
