<?php
/**
 * Keeps the products of category (collection) rules current on the bridge.
 *
 * A rule for a product category earns on the category's products as the
 * bridge last received them. The rules page sends them when the rule is
 * saved; this class sends them again whenever they may have changed:
 * a product created, saved (status, visibility), trashed, restored or
 * deleted, categories assigned to a product, a category created, moved or
 * deleted (WordPress and WooCommerce hooks, collected during the request
 * and sent once at its end), and once a day from WP-cron.
 *
 * Idempotent: each category's members are sent as a whole set
 * (PUT /api/v1/plugin/collections/<category>/products replaces them), and
 * after a change the plugin sends only categories whose set differs from
 * the last one the bridge accepted (a hash per category); the daily run
 * sends every category's set. A failure never blocks the save: it is
 * retried by a single WP-cron event a few minutes later.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Category rule members.
 */
class Creditbridge_Category_Sync {

	/** Daily WP-cron hook. */
	const CRON = 'creditbridge_category_sync';

	/** Single WP-cron event after a failure. */
	const RETRY_HOOK = 'creditbridge_category_sync_retry';

	/** Seconds until the retry. */
	const RETRY = 300;

	/** Transient: the category ids that collection rules target. */
	const RULES_TRANSIENT = 'creditbridge_category_rules';

	/** Lifetime of that list, in seconds. */
	const RULES_TTL = 600;

	/** Transient set while the bridge cannot be reached (no calls on saves). */
	const BACKOFF_TRANSIENT = 'creditbridge_category_backoff';

	/** Option: category id => hash of the members the bridge accepted. */
	const OPT_SENT = 'creditbridge_category_sent';

	/**
	 * Client factory.
	 *
	 * @var callable
	 */
	private $client_factory;

	/**
	 * Members of a category (term id => product ids).
	 *
	 * @var callable
	 */
	private $members;

	/**
	 * Whether something changed in this request.
	 *
	 * @var bool
	 */
	private $dirty = false;

	/**
	 * Constructor.
	 *
	 * @param callable|null $client_factory Returns a Creditbridge_Client or null.
	 * @param callable|null $members        Product ids of a category.
	 */
	public function __construct( $client_factory = null, $members = null ) {
		$this->client_factory = $client_factory ? $client_factory : array( 'Creditbridge_Client', 'from_options' );
		$this->members        = $members ? $members : array( 'Creditbridge_Rules_File', 'category_products' );
	}

	/**
	 * Registers the hooks (admin, REST, WP-CLI and cron all save products).
	 */
	public function hooks() {
		add_action( 'woocommerce_new_product', array( $this, 'mark' ) );
		add_action( 'woocommerce_update_product', array( $this, 'mark' ) );
		add_action( 'set_object_terms', array( $this, 'on_set_object_terms' ), 10, 4 );
		add_action( 'trashed_post', array( $this, 'on_post' ) );
		add_action( 'untrashed_post', array( $this, 'on_post' ) );
		add_action( 'before_delete_post', array( $this, 'on_post' ) );
		add_action( 'created_product_cat', array( $this, 'mark' ) );
		add_action( 'edited_product_cat', array( $this, 'mark' ) );
		add_action( 'delete_product_cat', array( $this, 'mark' ) );
		add_action( 'shutdown', array( $this, 'flush' ) );
		add_action( self::CRON, array( $this, 'sync_all' ) );
		add_action( self::RETRY_HOOK, array( $this, 'sync_all' ) );
		add_action( 'init', array( __CLASS__, 'schedule' ) );
	}

	/**
	 * Schedules the daily run once.
	 */
	public static function schedule() {
		if ( function_exists( 'wp_next_scheduled' ) && ! wp_next_scheduled( self::CRON ) ) {
			wp_schedule_event( time() + HOUR_IN_SECONDS, 'daily', self::CRON );
		}
	}

	/**
	 * Removes the scheduled runs (deactivation).
	 */
	public static function unschedule() {
		if ( function_exists( 'wp_clear_scheduled_hook' ) ) {
			wp_clear_scheduled_hook( self::CRON );
			wp_clear_scheduled_hook( self::RETRY_HOOK );
		}
	}

	/**
	 * Forgets the list of rule categories (a rule was saved, deleted or
	 * imported).
	 */
	public static function forget_rules() {
		delete_transient( self::RULES_TRANSIENT );
	}

	/**
	 * Something that may change a category's products happened.
	 */
	public function mark() {
		$this->dirty = true;
	}

	/**
	 * Terms set on an object (set_object_terms): product categories count.
	 *
	 * @param int    $object_id Object id.
	 * @param array  $terms     Terms.
	 * @param array  $tt_ids    Term taxonomy ids.
	 * @param string $taxonomy  Taxonomy.
	 */
	public function on_set_object_terms( $object_id, $terms = array(), $tt_ids = array(), $taxonomy = '' ) {
		if ( 'product_cat' === $taxonomy ) {
			$this->mark();
		}
	}

	/**
	 * A post was trashed, restored or is being deleted: products count.
	 *
	 * @param int $post_id Post id.
	 */
	public function on_post( $post_id ) {
		if ( 'product' === get_post_type( $post_id ) ) {
			$this->mark();
		}
	}

	/**
	 * End of a request that changed products: send the categories whose
	 * products differ from what the bridge has.
	 */
	public function flush() {
		if ( ! $this->dirty ) {
			return;
		}
		$this->dirty = false;
		if ( get_transient( self::BACKOFF_TRANSIENT ) ) {
			self::retry();
			return;
		}
		$this->sync( false );
	}

	/**
	 * The daily run (and the retry): every rule category's products.
	 */
	public function sync_all() {
		$this->sync( true );
	}

	/**
	 * Sends the members of every category a collection rule targets.
	 *
	 * @param bool $all Send every category (else only changed ones).
	 * @return int|null Categories sent, null when the bridge failed.
	 */
	public function sync( $all ) {
		if ( ! Creditbridge_Settings::is_registered() ) {
			return 0;
		}
		$client = call_user_func( $this->client_factory );
		if ( ! $client ) {
			return 0;
		}
		$categories = $this->rule_categories( $client, $all );
		if ( null === $categories ) {
			$this->failed();
			return null;
		}
		$sent   = get_option( self::OPT_SENT, array() );
		$sent   = is_array( $sent ) ? $sent : array();
		$now    = array();
		$count  = 0;
		$failed = false;
		foreach ( $categories as $id ) {
			$members = array_values( array_unique( array_map( 'strval', (array) call_user_func( $this->members, (int) $id ) ) ) );
			sort( $members, SORT_STRING );
			$hash = hash( 'sha256', implode( ',', $members ) );
			if ( ! $all && isset( $sent[ $id ] ) && hash_equals( (string) $sent[ $id ], $hash ) ) {
				$now[ $id ] = $hash;
				continue;
			}
			$res = $client->collection_products( $id, $members );
			if ( is_wp_error( $res ) ) {
				$data = $res->get_error_data();
				if ( is_array( $data ) && isset( $data['status'] ) && 404 === $data['status'] ) {
					self::forget_rules(); // the rule is gone
					continue;
				}
				$failed = true; // not recorded: sent again by the retry
				continue;
			}
			$now[ $id ] = $hash;
			++$count;
		}
		if ( $now !== $sent ) {
			update_option( self::OPT_SENT, $now, false );
		}
		if ( $failed ) {
			$this->failed();
			return null;
		}
		return $count;
	}

	/**
	 * Category ids that collection rules target (cached for ten minutes;
	 * fresh when $fresh), null when the bridge failed.
	 *
	 * @param Creditbridge_Client $client Client.
	 * @param bool                $fresh  Ask the bridge.
	 * @return string[]|null
	 */
	private function rule_categories( $client, $fresh ) {
		if ( ! $fresh ) {
			$cached = get_transient( self::RULES_TRANSIENT );
			if ( is_array( $cached ) ) {
				return $cached;
			}
		}
		$res = $client->request( 'GET', '/api/v1/plugin/rules', array(), null, array( 200 ) );
		if ( is_wp_error( $res ) ) {
			return null;
		}
		$ids = array();
		foreach ( ( isset( $res['rules'] ) && is_array( $res['rules'] ) ) ? $res['rules'] : array() as $r ) {
			if ( is_array( $r ) && isset( $r['target'], $r['target_id'] ) && 'collection' === $r['target'] && preg_match( '/^\d{1,19}$/D', (string) $r['target_id'] ) ) {
				$ids[ (string) $r['target_id'] ] = true;
			}
		}
		$ids = array_map( 'strval', array_keys( $ids ) );
		set_transient( self::RULES_TRANSIENT, $ids, self::RULES_TTL );
		return $ids;
	}

	/**
	 * After a failure: no calls on saves for a while, and a retry.
	 */
	private function failed() {
		set_transient( self::BACKOFF_TRANSIENT, 1, self::RETRY );
		self::retry();
	}

	/**
	 * Schedules one retry (WordPress keeps one such event at a time).
	 */
	private static function retry() {
		if ( function_exists( 'wp_next_scheduled' ) && wp_next_scheduled( self::RETRY_HOOK ) ) {
			return;
		}
		wp_schedule_single_event( time() + self::RETRY, self::RETRY_HOOK );
	}
}
