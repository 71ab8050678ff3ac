<?php
/**
 * Rules as a CSV file on WooCommerce > Credit rules: the import preview
 * (the bridge's dry run) shows every change and every error at its line
 * and field, escaped; the file goes to the bridge signed; category rules
 * get their products from WooCommerce.
 *
 * @package Creditbridge\Tests
 */

if ( ! function_exists( 'get_term' ) ) {
	/** Stub: product categories from $GLOBALS['cbt_terms']. */
	function get_term( $id, $taxonomy = '' ) {
		return isset( $GLOBALS['cbt_terms'][ $id ] ) ? $GLOBALS['cbt_terms'][ $id ] : null;
	}
}
if ( ! function_exists( 'get_terms' ) ) {
	/** Stub: every product category. */
	function get_terms( $args = array() ) {
		return array_values( isset( $GLOBALS['cbt_terms'] ) ? $GLOBALS['cbt_terms'] : array() );
	}
}
if ( ! function_exists( 'wc_get_products' ) ) {
	/** Stub: product ids of a category slug, as wc_get_products( return ids ) gives them. */
	function wc_get_products( $args ) {
		$GLOBALS['cbt_wc_get_products'][] = $args;
		$slug                             = isset( $args['category'][0] ) ? $args['category'][0] : '';
		return isset( $GLOBALS['cbt_category_products'][ $slug ] ) ? $GLOBALS['cbt_category_products'][ $slug ] : array();
	}
}

/** Registered shop and two categories. */
function cbt_rules_file_env() {
	update_option( Creditbridge_Settings::OPT_BRIDGE_URL, 'https://bridge.example.com' );
	update_option( Creditbridge_Settings::OPT_SHOP_ID, 'shop-7' );
	update_option( Creditbridge_Settings::OPT_PLUGIN_SECRET, 'plugin-secret-1234' );
	$GLOBALS['cbt_terms']             = array(
		15 => (object) array( 'term_id' => 15, 'name' => 'Tee', 'slug' => 'tee' ),
		16 => (object) array( 'term_id' => 16, 'name' => '<i>Zubehör</i>', 'slug' => 'zubehoer' ),
	);
	$GLOBALS['cbt_category_products'] = array( 'tee' => array( 101, 102, 101 ) );
	$GLOBALS['cbt_wc_get_products']   = array();
}

test(
	'rules file: the preview lists each line, its change, and each error at its field, escaped',
	function () {
		cbt_rules_file_env();
		$plan = array(
			'ok'        => false,
			'create'    => 1,
			'update'    => 1,
			'unchanged' => 0,
			'invalid'   => 2,
			'lines'     => array(
				array( 'line' => 2, 'action' => 'create', 'rule' => array( 'target' => 'collection', 'target_id' => '15', 'mode' => 'percent', 'value' => '10', 'beneficiary' => 'buyer' ) ),
				array( 'line' => 3, 'action' => 'update', 'rule' => array( 'target' => 'product', 'target_id' => '7', 'title' => '<b>Kanne</b>', 'mode' => 'fixed', 'value' => '0.75', 'beneficiary' => 'buyer' ), 'previous' => array( 'mode' => 'fixed', 'value' => '0.5' ) ),
				array( 'line' => 4, 'action' => 'invalid', 'values' => array( 'target' => 'product', 'value' => '<script>' ), 'errors' => array( array( 'field' => 'value', 'code' => 'number', 'message' => 'value must be a number' ), array( 'field' => 'target_id', 'code' => 'required' ) ) ),
				array( 'line' => 5, 'action' => 'invalid', 'errors' => array( array( 'field' => 'target_id', 'code' => 'duplicate', 'args' => array( '3' ) ) ) ),
			),
		);
		$html = Creditbridge_Rules_File::preview_html( $plan );
		assert_contains( '1 new, 1 changed, 0 unchanged, 2 with errors.', $html );
		assert_contains( 'nothing was saved', $html );
		assert_contains( 'Category Tee (ID 15, 0 products)', $html );
		assert_contains( '&lt;b&gt;Kanne&lt;/b&gt; (ID 7)', $html );
		assert_contains( 'before: ', $html );
		assert_contains( '<td>4</td><td>Error</td><td>target=product, value=&lt;script&gt;</td>', $html );
		assert_contains( 'value: not a number (use 2,5 or 2.5) · target_id (ID): required', $html );
		assert_contains( 'target_id (ID): the same rule as line 3', $html );
		assert_not_contains( '<script>', $html );
		assert_not_contains( '<b>Kanne', $html );
		// A valid preview offers the import of its changes.
		$plan['ok']      = true;
		$plan['invalid'] = 0;
		$plan['lines']   = array_slice( $plan['lines'], 0, 2 );
		$section         = Creditbridge_Rules_File::section_html( array( 'plan' => $plan, 'csv' => 'x' ), array( 'Creditbridge_Rules_Admin', 'nonce' ) );
		assert_contains( 'Nothing is saved until you import.', $section );
		assert_contains( 'name="step" value="apply"', $section );
		assert_contains( 'Import 2 changes', $section );
		assert_contains( 'enctype="multipart/form-data"', $section );
		$plan['ok'] = false;
		assert_not_contains( 'value="apply"', Creditbridge_Rules_File::section_html( array( 'plan' => $plan ), array( 'Creditbridge_Rules_Admin', 'nonce' ) ) );
	}
);

test(
	'rules file: the file goes to the bridge signed, as JSON; a refused import still answers its preview',
	function () {
		cbt_rules_file_env();
		cbt_queue_http( 422, '{"ok":false,"applied":false,"invalid":1,"lines":[{"line":2,"action":"invalid","errors":[{"field":"value","code":"number"}]}]}' );
		$res = Creditbridge_Rules_File::send( "target;mode;value\ndefault;percent;zwei\n", false );
		assert_true( is_array( $res ) && false === $res['applied'] && 1 === $res['invalid'], 'preview of the refused import' );
		$req = $GLOBALS['cbt']['http_log'][0];
		assert_same( 'https://bridge.example.com/api/v1/plugin/rules/import', $req['url'] );
		assert_same( 'POST', $req['args']['method'] );
		$body = json_decode( $req['args']['body'], true );
		assert_same( "target;mode;value\ndefault;percent;zwei\n", $body['csv'] );
		assert_same( false, $body['dry_run'] );
		assert_true( '' !== (string) $req['args']['headers'][ Creditbridge_Signer::HEADER_SIGNATURE ], 'signed' );
		assert_same( 'shop-7', $req['args']['headers'][ Creditbridge_Signer::HEADER_SHOP ] );
		cbt_queue_http( 400, '{"error":{"code":"invalid","message":"line 1 must name the columns"}}' );
		$err = Creditbridge_Rules_File::send( 'nonsense', true );
		assert_wp_error( $err, 'creditbridge_import' );
		assert_contains( 'first line must name the columns', $err->get_error_message() );
	}
);

test(
	'rules file: category rules of an import get their products from WooCommerce',
	function () {
		cbt_rules_file_env();
		assert_same( array( '101', '102' ), Creditbridge_Rules_File::category_products( 15 ) );
		assert_same( array( 'tee' ), $GLOBALS['cbt_wc_get_products'][0]['category'] );
		assert_same( 'ids', $GLOBALS['cbt_wc_get_products'][0]['return'] );
		assert_same( array(), Creditbridge_Rules_File::category_products( 99 ) );
		$GLOBALS['cbt']['http_log'] = array();
		cbt_queue_http( 200, '{"id":5}' );
		$sent = Creditbridge_Rules_File::push_categories(
			array(
				'lines' => array(
					array( 'line' => 2, 'action' => 'create', 'rule' => array( 'target' => 'collection', 'target_id' => '15', 'mode' => 'percent', 'value' => '10', 'beneficiary' => 'buyer' ) ),
					array( 'line' => 3, 'action' => 'unchanged', 'rule' => array( 'target' => 'collection', 'target_id' => '16', 'mode' => 'percent', 'value' => '1', 'beneficiary' => 'buyer' ) ),
					array( 'line' => 4, 'action' => 'create', 'rule' => array( 'target' => 'product', 'target_id' => '7', 'mode' => 'fixed', 'value' => '1', 'beneficiary' => 'buyer' ) ),
				),
			)
		);
		assert_same( 1, $sent );
		assert_same( 1, count( $GLOBALS['cbt']['http_log'] ) );
		$put = json_decode( $GLOBALS['cbt']['http_log'][0]['args']['body'], true );
		assert_same( 'PUT', $GLOBALS['cbt']['http_log'][0]['args']['method'] );
		assert_same( array( '101', '102' ), $put['products'] );
		assert_same( '15', $put['target_id'] );
	}
);

test(
	'rules file: a category rule from the form, with the category chosen',
	function () {
		cbt_rules_file_env();
		$r = Creditbridge_Rules_Admin::rule_from_form( array( 'target' => 'collection', 'category' => '15', 'mode' => 'percent', 'value' => '3,5' ) );
		assert_same( 'collection', $r['target'] );
		assert_same( '15', $r['target_id'] );
		assert_same( '3.5', $r['value'] );
		$err = Creditbridge_Rules_Admin::rule_from_form( array( 'target' => 'collection', 'target_id' => 'tee', 'mode' => 'percent', 'value' => '1' ) );
		assert_wp_error( $err, 'creditbridge_rule' );
		$label = Creditbridge_Rules_Admin::target_label( array( 'target' => 'collection', 'target_id' => '16', 'products' => array( '1', '2' ) ) );
		assert_same( 'Category <i>Zubehör</i> (ID 16, 2 products)', $label );
		$html = Creditbridge_Rules_Admin::table_html( Creditbridge_Rules_Admin::page_of( array( array( 'id' => 3, 'target' => 'collection', 'target_id' => '16', 'mode' => 'exclude', 'beneficiary' => 'buyer' ) ), '', 1 ) );
		assert_contains( 'Category &lt;i&gt;Zubehör&lt;/i&gt; (ID 16, 0 products)', $html );
	}
);
