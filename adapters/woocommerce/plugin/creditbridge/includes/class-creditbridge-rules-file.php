<?php
/**
 * Credit rules as a CSV file, on WooCommerce > Credit rules: export, and
 * import with a preview (the bridge's dry run) that shows every change and
 * every error at its line and field before anything is saved. Category
 * rules (target "collection" at the bridge) carry their products, read
 * from WooCommerce's own product data.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Import, export and category members of credit rules.
 */
class Creditbridge_Rules_File {

	const EXPORT   = 'creditbridge_rules_export';
	const IMPORT   = 'creditbridge_rules_import';
	const MAX_SIZE = 2097152;

	/**
	 * Registers the hooks.
	 */
	public function hooks() {
		add_action( 'admin_post_' . self::EXPORT, array( $this, 'handle_export' ) );
		add_action( 'admin_post_' . self::IMPORT, array( $this, 'handle_import' ) );
	}

	/**
	 * The products of a product category (and its subcategories), as the
	 * ids order lines carry (variations count by their parent product).
	 *
	 * @param int $term_id Category term id.
	 * @return string[]
	 */
	public static function category_products( $term_id ) {
		if ( ! function_exists( 'get_term' ) || ! function_exists( 'wc_get_products' ) ) {
			return array();
		}
		$term = get_term( (int) $term_id, 'product_cat' );
		if ( ! $term || is_wp_error( $term ) ) {
			return array();
		}
		$ids = wc_get_products(
			array(
				'category' => array( $term->slug ),
				'limit'    => -1,
				'return'   => 'ids',
				'status'   => array( 'publish', 'private', 'draft', 'pending' ),
			)
		);
		return array_values( array_unique( array_map( 'strval', is_array( $ids ) ? $ids : array() ) ) );
	}

	/**
	 * Product categories for the rule form: id => name with its path.
	 *
	 * @return array<int,string>
	 */
	public static function categories() {
		if ( ! function_exists( 'get_terms' ) ) {
			return array();
		}
		$terms = get_terms(
			array(
				'taxonomy'   => 'product_cat',
				'hide_empty' => false,
				'number'     => 500,
			)
		);
		$out = array();
		if ( is_array( $terms ) ) {
			foreach ( $terms as $t ) {
				$out[ (int) $t->term_id ] = (string) $t->name;
			}
		}
		return $out;
	}

	/**
	 * A line's error in the merchant's language: the field, then what is
	 * wrong with it.
	 *
	 * @param array $err Error from the bridge: field, code, message, args.
	 * @return string
	 */
	public static function error_text( array $err ) {
		$fields = array(
			'target'      => __( 'target (applies to)', 'creditbridge' ),
			'target_id'   => __( 'target_id (ID)', 'creditbridge' ),
			'title'       => __( 'title (name)', 'creditbridge' ),
			'beneficiary' => __( 'beneficiary (who earns)', 'creditbridge' ),
			'mode'        => __( 'mode (kind of credit)', 'creditbridge' ),
			'value'       => __( 'value', 'creditbridge' ),
		);
		$args = isset( $err['args'] ) && is_array( $err['args'] ) ? array_map( 'strval', $err['args'] ) : array();
		$arg  = function ( $i ) use ( $args ) {
			return isset( $args[ $i ] ) ? $args[ $i ] : '';
		};
		switch ( isset( $err['code'] ) ? $err['code'] : '' ) {
			case 'required':
				$msg = __( 'required', 'creditbridge' );
				break;
			case 'unknown':
				$msg = __( 'not one of the allowed values', 'creditbridge' );
				break;
			case 'number':
				$msg = __( 'not a number (use 2,5 or 2.5)', 'creditbridge' );
				break;
			case 'negative':
				$msg = __( 'must not be negative', 'creditbridge' );
				break;
			case 'range':
				/* translators: 1: lowest value, 2: highest value */
				$msg = sprintf( __( 'must be between %1$s and %2$s', 'creditbridge' ), $arg( 0 ), $arg( 1 ) );
				break;
			case 'decimals':
				/* translators: %s: number of decimals */
				$msg = sprintf( __( 'at most %s decimals', 'creditbridge' ), $arg( 0 ) );
				break;
			case 'too_long':
				/* translators: %s: number of characters */
				$msg = sprintf( __( 'at most %s characters', 'creditbridge' ), $arg( 0 ) );
				break;
			case 'not_allowed':
				$msg = __( 'must be empty here', 'creditbridge' );
				break;
			case 'duplicate':
				/* translators: %s: line number */
				$msg = sprintf( __( 'the same rule as line %s', 'creditbridge' ), $arg( 0 ) );
				break;
			default:
				$msg = isset( $err['message'] ) ? (string) $err['message'] : __( 'invalid', 'creditbridge' );
		}
		$field = isset( $err['field'] ) ? (string) $err['field'] : '';
		return ( isset( $fields[ $field ] ) ? $fields[ $field ] . ': ' : '' ) . $msg;
	}

	/**
	 * The preview of an import (escaped): a summary, then one row per line
	 * of the file with its change or its errors.
	 *
	 * @param array $plan The bridge's answer to a dry run.
	 * @return string
	 */
	public static function preview_html( array $plan ) {
		$n    = function ( $k ) use ( $plan ) {
			return isset( $plan[ $k ] ) ? (int) $plan[ $k ] : 0;
		};
		$ok   = ! empty( $plan['ok'] );
		$html = '<p id="creditbridge-import-summary" class="' . ( $ok ? 'creditbridge-ok' : 'creditbridge-error' ) . '" role="status">' . esc_html(
			/* translators: 1: new rules, 2: changed rules, 3: unchanged rules, 4: lines with errors */
			sprintf( __( '%1$d new, %2$d changed, %3$d unchanged, %4$d with errors.', 'creditbridge' ), $n( 'create' ), $n( 'update' ), $n( 'unchanged' ), $n( 'invalid' ) ) . ' ' .
			( $ok ? __( 'Nothing is saved until you import.', 'creditbridge' ) : __( 'Correct the lines with errors and preview again; nothing was saved.', 'creditbridge' ) )
		) . '</p>';
		$html   .= '<table class="wp-list-table widefat fixed striped"><thead><tr>';
		$html   .= '<th scope="col" style="width:5em">' . esc_html__( 'Line', 'creditbridge' ) . '</th>';
		$html   .= '<th scope="col" style="width:8em">' . esc_html__( 'Change', 'creditbridge' ) . '</th>';
		$html   .= '<th scope="col">' . esc_html__( 'Rule', 'creditbridge' ) . '</th>';
		$html   .= '<th scope="col">' . esc_html__( 'Errors', 'creditbridge' ) . '</th></tr></thead><tbody>';
		$actions = array(
			'create'    => __( 'New', 'creditbridge' ),
			'update'    => __( 'Changed', 'creditbridge' ),
			'unchanged' => __( 'Unchanged', 'creditbridge' ),
			'invalid'   => __( 'Error', 'creditbridge' ),
		);
		$lines   = isset( $plan['lines'] ) && is_array( $plan['lines'] ) ? $plan['lines'] : array();
		if ( empty( $lines ) ) {
			$html .= '<tr><td colspan="4">' . esc_html__( 'The file has no rules.', 'creditbridge' ) . '</td></tr>';
		}
		foreach ( $lines as $l ) {
			$action = isset( $l['action'] ) ? (string) $l['action'] : '';
			$what   = '';
			if ( isset( $l['rule'] ) && is_array( $l['rule'] ) ) {
				$r    = $l['rule'];
				$what = Creditbridge_Rules_Admin::target_label( $r ) . ' · ' . Creditbridge_Rules_Admin::beneficiary_label( isset( $r['beneficiary'] ) ? (string) $r['beneficiary'] : '' ) . ' · ' . Creditbridge_Rules_Admin::value_label( $r );
				if ( 'update' === $action && isset( $l['previous'] ) && is_array( $l['previous'] ) ) {
					/* translators: %s: the rule's credit before the import */
					$what .= ' (' . sprintf( __( 'before: %s', 'creditbridge' ), Creditbridge_Rules_Admin::value_label( $l['previous'] ) ) . ')';
				}
			} elseif ( isset( $l['values'] ) && is_array( $l['values'] ) ) {
				$parts = array();
				foreach ( $l['values'] as $k => $v ) {
					if ( '' !== (string) $v ) {
						$parts[] = $k . '=' . $v;
					}
				}
				$what = implode( ', ', $parts );
			}
			$errs = array();
			if ( isset( $l['errors'] ) && is_array( $l['errors'] ) ) {
				foreach ( $l['errors'] as $e ) {
					$errs[] = self::error_text( (array) $e );
				}
			}
			$html .= '<tr><td>' . esc_html( (string) ( isset( $l['line'] ) ? (int) $l['line'] : 0 ) ) . '</td><td>' . esc_html( isset( $actions[ $action ] ) ? $actions[ $action ] : $action ) . '</td>';
			$html .= '<td>' . esc_html( $what ) . '</td><td>' . ( $errs ? '<span class="creditbridge-error">' . esc_html( implode( ' · ', $errs ) ) . '</span>' : '' ) . '</td></tr>';
		}
		$html .= '</tbody></table>';
		return $html;
	}

	/**
	 * The import form and, after a preview, its result and the button that
	 * imports the previewed file (escaped).
	 *
	 * @param array|null $preview Stored preview: plan and csv.
	 * @param callable   $nonce   Returns a nonce field for an action.
	 * @return string
	 */
	public static function section_html( $preview, $nonce ) {
		$post  = esc_url( admin_url( 'admin-post.php' ) );
		$html  = '<h2 id="creditbridge-rules-file">' . esc_html__( 'Import and export rules', 'creditbridge' ) . '</h2>';
		$html .= '<p>' . esc_html__( 'Export the rules as a CSV file, change them in a spreadsheet and import the file again. The preview shows every change and every error before anything is saved; rules the file does not name stay as they are.', 'creditbridge' ) . '</p>';
		$html .= '<form method="post" action="' . $post . '"><input type="hidden" name="action" value="' . esc_attr( self::EXPORT ) . '" />' . call_user_func( $nonce, self::EXPORT );
		$html .= '<button type="submit" class="button">' . esc_html__( 'Export rules (CSV)', 'creditbridge' ) . '</button></form>';
		$html .= '<form method="post" enctype="multipart/form-data" action="' . $post . '"><input type="hidden" name="action" value="' . esc_attr( self::IMPORT ) . '" />' . call_user_func( $nonce, self::IMPORT );
		$html .= '<p><label for="creditbridge-rules-file-input">' . esc_html__( 'CSV file to import', 'creditbridge' ) . '</label><br />';
		$html .= '<input type="file" id="creditbridge-rules-file-input" name="rules_file" accept=".csv,text/csv" aria-describedby="creditbridge-rules-file-help" /></p>';
		$html .= '<p class="description" id="creditbridge-rules-file-help">' . esc_html__( 'Columns: target, target_id, title, beneficiary, mode, value. Commas or semicolons; 2,5 and 2.5 both work. Category rules use target "collection" with the category ID.', 'creditbridge' ) . '</p>';
		$html .= '<p><button type="submit" name="step" value="preview" class="button button-primary">' . esc_html__( 'Preview import', 'creditbridge' ) . '</button></p></form>';
		if ( is_array( $preview ) && isset( $preview['plan'] ) && is_array( $preview['plan'] ) ) {
			$plan  = $preview['plan'];
			$html .= self::preview_html( $plan );
			$todo  = ( isset( $plan['create'] ) ? (int) $plan['create'] : 0 ) + ( isset( $plan['update'] ) ? (int) $plan['update'] : 0 );
			if ( ! empty( $plan['ok'] ) && $todo > 0 ) {
				$html .= '<form method="post" action="' . $post . '"><input type="hidden" name="action" value="' . esc_attr( self::IMPORT ) . '" />' . call_user_func( $nonce, self::IMPORT );
				/* translators: %d: number of rules the import adds or changes */
				$html .= '<p><button type="submit" name="step" value="apply" class="button button-primary">' . esc_html( sprintf( _n( 'Import %d change', 'Import %d changes', $todo, 'creditbridge' ), $todo ) ) . '</button></p></form>';
			}
		}
		return $html;
	}

	/**
	 * Transient key of the current user's previewed import.
	 *
	 * @return string
	 */
	public static function preview_key() {
		return 'creditbridge_rules_import_' . get_current_user_id();
	}

	/**
	 * Sends the rules as a CSV download.
	 */
	public function handle_export() {
		if ( ! current_user_can( Creditbridge_Rules_Admin::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::EXPORT );
		$csv = Creditbridge_Client::from_options()->request_text( 'GET', '/api/v1/plugin/rules.csv', array( 200 ) );
		if ( is_wp_error( $csv ) ) {
			Creditbridge_Rules_Admin::notice_and_back( 'error', __( 'The bridge cannot be reached right now. Please try again in a moment.', 'creditbridge' ) );
		}
		nocache_headers();
		header( 'Content-Type: text/csv; charset=utf-8' );
		header( 'Content-Disposition: attachment; filename="creditbridge-rules.csv"' );
		echo $csv; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- a CSV download, not HTML.
		exit;
	}

	/**
	 * Previews an uploaded file (dry run) or imports the previewed one;
	 * category rules that the import created or changed then get their
	 * products from WooCommerce.
	 */
	public function handle_import() {
		if ( ! current_user_can( Creditbridge_Rules_Admin::CAP ) ) {
			wp_die( esc_html__( 'You do not have permission to manage Creditbridge.', 'creditbridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::IMPORT );
		$step = isset( $_POST['step'] ) && 'apply' === $_POST['step'] ? 'apply' : 'preview';
		if ( 'preview' === $step ) {
			$file = isset( $_FILES['rules_file'] ) && is_array( $_FILES['rules_file'] ) ? $_FILES['rules_file'] : array(); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- only the uploaded temp file is read.
			$csv  = self::read_upload( $file );
			if ( is_wp_error( $csv ) ) {
				Creditbridge_Rules_Admin::notice_and_back( 'error', $csv->get_error_message(), '#creditbridge-rules-file' );
			}
		} else {
			$stored = get_transient( self::preview_key() );
			$csv    = is_array( $stored ) && isset( $stored['csv'] ) ? (string) $stored['csv'] : '';
			if ( '' === $csv ) {
				Creditbridge_Rules_Admin::notice_and_back( 'error', __( 'Preview the file again before importing it.', 'creditbridge' ), '#creditbridge-rules-file' );
			}
		}
		$res = self::send( $csv, 'preview' === $step );
		if ( is_wp_error( $res ) ) {
			Creditbridge_Rules_Admin::notice_and_back( 'error', $res->get_error_message(), '#creditbridge-rules-file' );
		}
		if ( 'preview' === $step || empty( $res['applied'] ) ) {
			set_transient(
				self::preview_key(),
				array(
					'plan' => $res,
					'csv'  => $csv,
				),
				1800
			);
			Creditbridge_Rules_Admin::notice_and_back( '', '', '#creditbridge-rules-file' );
		}
		delete_transient( self::preview_key() );
		self::push_categories( $res );
		$count = ( isset( $res['create'] ) ? (int) $res['create'] : 0 ) + ( isset( $res['update'] ) ? (int) $res['update'] : 0 );
		/* translators: %d: number of rules imported */
		Creditbridge_Rules_Admin::notice_and_back( 'success', sprintf( _n( '%d rule imported.', '%d rules imported.', $count, 'creditbridge' ), $count ) );
	}

	/**
	 * Reads an uploaded CSV file.
	 *
	 * @param array $file An entry of $_FILES.
	 * @return string|WP_Error
	 */
	public static function read_upload( array $file ) {
		$tmp = isset( $file['tmp_name'] ) ? (string) $file['tmp_name'] : '';
		if ( '' === $tmp || ( isset( $file['error'] ) && 0 !== (int) $file['error'] ) || ! is_uploaded_file( $tmp ) ) {
			return new WP_Error( 'creditbridge_import', __( 'Choose a CSV file first.', 'creditbridge' ) );
		}
		if ( (int) filesize( $tmp ) > self::MAX_SIZE ) {
			return new WP_Error( 'creditbridge_import', __( 'The file is larger than 2 MB.', 'creditbridge' ) );
		}
		$csv = (string) file_get_contents( $tmp ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_get_contents_file_get_contents -- a local upload.
		return '' === trim( $csv ) ? new WP_Error( 'creditbridge_import', __( 'The file is empty.', 'creditbridge' ) ) : $csv;
	}

	/**
	 * Sends a file to the bridge; a refused import (422) still answers the
	 * preview with its errors.
	 *
	 * @param string $csv     File contents.
	 * @param bool   $dry_run Preview only.
	 * @return array|WP_Error
	 */
	public static function send( $csv, $dry_run ) {
		$res = Creditbridge_Client::from_options()->request(
			'POST',
			'/api/v1/plugin/rules/import',
			array(),
			array(
				'csv'     => $csv,
				'dry_run' => (bool) $dry_run,
			),
			array( 200, 422 )
		);
		if ( is_wp_error( $res ) ) {
			$data = $res->get_error_data();
			if ( is_array( $data ) && isset( $data['status'] ) && 400 === $data['status'] ) {
				return new WP_Error( 'creditbridge_import', __( 'The file could not be read. The first line must name the columns target and mode; save the file as CSV UTF-8.', 'creditbridge' ) );
			}
			return new WP_Error( 'creditbridge_import', __( 'The bridge cannot be reached right now. Please try again in a moment.', 'creditbridge' ) );
		}
		return $res;
	}

	/**
	 * Sends the products of every category rule an import created or
	 * changed (read from WooCommerce) to the bridge.
	 *
	 * @param array $res The bridge's answer to the import.
	 * @return int Categories sent.
	 */
	public static function push_categories( array $res ) {
		Creditbridge_Category_Sync::forget_rules();
		$sent   = 0;
		$client = Creditbridge_Client::from_options();
		foreach ( isset( $res['lines'] ) && is_array( $res['lines'] ) ? $res['lines'] : array() as $l ) {
			if ( ! isset( $l['action'], $l['rule'] ) || ! in_array( $l['action'], array( 'create', 'update' ), true ) || 'collection' !== ( isset( $l['rule']['target'] ) ? $l['rule']['target'] : '' ) ) {
				continue;
			}
			$rule             = $l['rule'];
			$rule['products'] = self::category_products( (int) $rule['target_id'] );
			if ( ! is_wp_error( $client->request( 'PUT', '/api/v1/plugin/rules', array(), $rule, array( 200 ) ) ) ) {
				++$sent;
			}
		}
		return $sent;
	}
}
