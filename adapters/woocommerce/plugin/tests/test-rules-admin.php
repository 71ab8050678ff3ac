<?php
/**
 * Credit rules page: decimal comma, validation in people's words, search
 * and pages, escaping, named delete buttons.
 *
 * @package Creditbridge\Tests
 */

test(
	'rules admin: numbers typed with a decimal comma',
	function () {
		$cases = array(
			'10,50'    => '10.50',
			' 2.5 '    => '2.5',
			'1.234,56' => '1234.56',
			'1,234.56' => '1234.56',
			'1.234.567' => '1234567',
			'12'       => '12',
		);
		foreach ( $cases as $in => $want ) {
			assert_same( $want, Creditbridge_Rules_Admin::normalize_decimal( $in ), $in );
		}
	}
);

test(
	'rules admin: the form is checked before the bridge is asked',
	function () {
		$ok = Creditbridge_Rules_Admin::rule_from_form( array( 'target' => 'product', 'target_id' => '42', 'mode' => 'percent', 'value' => '2,5', 'beneficiary' => 'partner2' ) );
		assert_same( '2.5', $ok['value'] );
		assert_same( 'partner2', $ok['beneficiary'] );
		$all = Creditbridge_Rules_Admin::rule_from_form( array( 'target' => 'default', 'target_id' => 'ignored', 'mode' => 'exclude', 'value' => 'x' ) );
		assert_same( '', $all['target_id'] );
		assert_same( '0', $all['value'] );
		$bad = array(
			array( array( 'target' => 'product', 'target_id' => '', 'mode' => 'percent', 'value' => '1' ), 'target_id' ),
			array( array( 'target' => 'product', 'target_id' => 'abc', 'mode' => 'percent', 'value' => '1' ), 'target_id' ),
			array( array( 'target' => 'default', 'mode' => 'percent', 'value' => 'zwei' ), 'value' ),
			array( array( 'target' => 'default', 'mode' => 'percent', 'value' => '101' ), 'value' ),
			array( array( 'target' => 'default', 'mode' => 'fixed', 'value' => '0,0001' ), 'value' ),
			array( array( 'target' => 'nope', 'mode' => 'fixed', 'value' => '1' ), 'target' ),
		);
		foreach ( $bad as $case ) {
			$err = Creditbridge_Rules_Admin::rule_from_form( $case[0] );
			assert_wp_error( $err, 'creditbridge_rule' );
			$data = $err->get_error_data();
			assert_same( $case[1], $data['field'] );
		}
	}
);

test(
	'rules admin: search and pages of 20, names escaped, delete buttons named',
	function () {
		$rules = array(
			array( 'id' => 1, 'target' => 'default', 'target_id' => '', 'mode' => 'percent', 'value' => '2.5', 'beneficiary' => 'buyer' ),
		);
		for ( $i = 0; $i < 44; $i++ ) {
			$rules[] = array( 'id' => 10 + $i, 'target' => 'product', 'target_id' => (string) ( 100 + $i ), 'mode' => 'fixed', 'value' => '0.5', 'beneficiary' => 'buyer', 'title' => 'Tee ' . $i );
		}
		$rules[] = array( 'id' => 99, 'target' => 'product', 'target_id' => '7', 'mode' => 'fixed', 'value' => '1', 'beneficiary' => 'partner1', 'title' => '<b>Kanne</b>' );
		$first = Creditbridge_Rules_Admin::page_of( $rules, '', 1 );
		assert_same( 3, $first['pages'] );
		assert_same( 20, count( $first['rules'] ) );
		$last = Creditbridge_Rules_Admin::page_of( $rules, '', 9 );
		assert_same( 3, $last['page'] );
		assert_same( 6, count( $last['rules'] ) );
		$found = Creditbridge_Rules_Admin::page_of( $rules, 'kanne', 1 );
		assert_same( 1, $found['total'] );
		$html = Creditbridge_Rules_Admin::table_html( $found );
		assert_true( false !== strpos( $html, '&lt;b&gt;Kanne&lt;/b&gt; (ID 7)' ), $html );
		assert_true( false === strpos( $html, '<b>Kanne' ), 'title not escaped' );
		assert_true( false !== strpos( $html, 'aria-label="Delete rule for &lt;b&gt;Kanne&lt;/b&gt; (ID 7)"' ), $html );
		assert_true( false !== strpos( $html, 'data-confirm="Delete the rule for' ), 'no confirmation text' );
		assert_true( false !== strpos( $html, 'Partner, level 1' ), $html );
		assert_same( '2,5 % of the price', str_replace( '.', ',', Creditbridge_Rules_Admin::value_label( $rules[0] ) ) );
		$empty = Creditbridge_Rules_Admin::table_html( Creditbridge_Rules_Admin::page_of( array(), '', 1 ) );
		assert_true( false !== strpos( $empty, 'No rules yet' ), $empty );
	}
);

test(
	'rules admin: the checkout label is configurable and plain',
	function () {
		assert_same( 'Store credit', Creditbridge_Settings::discount_label() );
		update_option( 'creditbridge_discount_label', 'Bonus' );
		assert_same( 'Bonus', Creditbridge_Settings::discount_label() );
		assert_same( 'Bonus', ( new Creditbridge_Cart() )->coupon_label( 'Coupon: cb-9', new WC_Coupon( 'cb-9' ) ) );
		assert_same( 'Coupon: x', ( new Creditbridge_Cart() )->coupon_label( 'Coupon: x', new WC_Coupon( 'x' ) ), 'other coupons keep their label' );
		assert_same( 'alert(1)Bonus', Creditbridge_Rules_Admin::sanitize_label( '<script>alert(1)</script>Bonus' ) );
		assert_same( 60, strlen( Creditbridge_Rules_Admin::sanitize_label( str_repeat( 'x', 80 ) ) ) );
	}
);
