<?php
/**
 * Money helpers: decimal strings <-> integer minor units.
 *
 * Money never passes through a float in this plugin. Amounts travel as
 * decimal strings ("10.00") and all arithmetic is done on integers counted in
 * the currency's minor unit (cents), mirroring the bridge's scale rules
 * (core.CheckScale): an amount may not carry more decimals than its currency.
 *
 * @package Creditbridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Exact money arithmetic on strings and integer minor units.
 */
final class Creditbridge_Money {

	/**
	 * Largest number of significant digits accepted, so that every amount and
	 * every price x quantity product fits in a 64-bit integer.
	 */
	const MAX_DIGITS = 15;

	/**
	 * ISO 4217 currencies whose minor unit is not 2 digits. Everything else has 2.
	 *
	 * @var array<string,int>
	 */
	private static $exponents = array(
		'BIF' => 0,
		'CLP' => 0,
		'DJF' => 0,
		'GNF' => 0,
		'ISK' => 0,
		'JPY' => 0,
		'KMF' => 0,
		'KRW' => 0,
		'PYG' => 0,
		'RWF' => 0,
		'UGX' => 0,
		'VND' => 0,
		'VUV' => 0,
		'XAF' => 0,
		'XOF' => 0,
		'XPF' => 0,
		'BHD' => 3,
		'IQD' => 3,
		'JOD' => 3,
		'KWD' => 3,
		'LYD' => 3,
		'OMR' => 3,
		'TND' => 3,
	);

	/**
	 * Number of minor-unit digits of a currency (ISO 4217), 2 when unknown.
	 *
	 * @param string $currency ISO 4217 code.
	 * @return int
	 */
	public static function decimals( $currency ) {
		$c = strtoupper( trim( (string) $currency ) );
		return isset( self::$exponents[ $c ] ) ? self::$exponents[ $c ] : 2;
	}

	/**
	 * Parses a strict decimal string ("12", "12.5", "-0.30") into minor units.
	 * Rejects more decimals than allowed, exponents, separators and blanks.
	 *
	 * @param mixed $amount   Decimal string.
	 * @param int   $decimals Allowed decimals.
	 * @return int|null Minor units, or null when invalid.
	 */
	public static function to_minor( $amount, $decimals ) {
		if ( ! is_string( $amount ) ) {
			return null;
		}
		if ( ! preg_match( '/^(-?)(\d+)(?:\.(\d+))?$/D', $amount, $m ) ) {
			return null;
		}
		$frac = isset( $m[3] ) ? $m[3] : '';
		if ( strlen( $frac ) > $decimals ) {
			// Extra digits are allowed only when they are zeros ("10.500" for 2 decimals).
			if ( '' !== trim( substr( $frac, $decimals ), '0' ) ) {
				return null;
			}
			$frac = substr( $frac, 0, $decimals );
		}
		return self::compose( $m[1], $m[2], $frac, $decimals );
	}

	/**
	 * Parses a catalogue price, which WooCommerce may store with more decimals
	 * than the currency has, into minor units, rounding half away from zero.
	 *
	 * @param mixed $price    Price as stored by WooCommerce ("19.995", "20", "").
	 * @param int   $decimals Currency decimals.
	 * @return int|null
	 */
	public static function price_to_minor( $price, $decimals ) {
		if ( is_int( $price ) ) {
			$price = (string) $price;
		}
		if ( '' === $price ) {
			// WooCommerce returns '' for products without a price.
			return 0;
		}
		if ( ! is_string( $price ) || ! preg_match( '/^(-?)(\d*)(?:\.(\d*))?$/D', trim( $price ), $m ) || ( '' === $m[2] && ( ! isset( $m[3] ) || '' === $m[3] ) ) ) {
			return null;
		}
		$int  = '' === $m[2] ? '0' : $m[2];
		$frac = isset( $m[3] ) ? $m[3] : '';
		$up   = false;
		if ( strlen( $frac ) > $decimals ) {
			$up   = (int) $frac[ $decimals ] >= 5;
			$frac = substr( $frac, 0, $decimals );
		}
		$minor = self::compose( '', $int, $frac, $decimals );
		if ( null === $minor ) {
			return null;
		}
		if ( $up ) {
			++$minor;
		}
		return '-' === $m[1] ? -$minor : $minor;
	}

	/**
	 * Formats minor units as a decimal string with exactly $decimals digits.
	 *
	 * @param int $minor    Minor units.
	 * @param int $decimals Currency decimals.
	 * @return string
	 */
	public static function from_minor( $minor, $decimals ) {
		$minor = (int) $minor;
		$sign  = $minor < 0 ? '-' : '';
		$abs   = (string) ( $minor < 0 ? -$minor : $minor );
		if ( 0 === $decimals ) {
			return $sign . $abs;
		}
		$abs = str_pad( $abs, $decimals + 1, '0', STR_PAD_LEFT );
		return $sign . substr( $abs, 0, -$decimals ) . '.' . substr( $abs, -$decimals );
	}

	/**
	 * Normalizes a decimal string from the bridge to the currency's scale.
	 *
	 * @param mixed  $amount   Amount string.
	 * @param string $currency ISO 4217 code.
	 * @return string|null "10.00"-style string, null when invalid.
	 */
	public static function normalize( $amount, $currency ) {
		$d     = self::decimals( $currency );
		$minor = self::to_minor( $amount, $d );
		return null === $minor ? null : self::from_minor( $minor, $d );
	}

	/**
	 * Multiplies minor units by a quantity, null on overflow.
	 *
	 * @param int $minor    Unit amount in minor units.
	 * @param int $quantity Quantity (>= 0).
	 * @return int|null
	 */
	public static function multiply( $minor, $quantity ) {
		$quantity = (int) $quantity;
		if ( $quantity < 0 ) {
			return null;
		}
		if ( 0 === $quantity || 0 === $minor ) {
			return 0;
		}
		if ( abs( $minor ) > intdiv( PHP_INT_MAX, $quantity ) ) {
			return null;
		}
		return $minor * $quantity;
	}

	/**
	 * Turns a number typed by a person into a plain decimal: a decimal
	 * comma ("10,50"), thousands separators ("1.234,56", "1,234.56",
	 * "1 234,56") and surrounding spaces are accepted. With both marks the
	 * last one is the decimal mark; a single comma is always one. The same
	 * rules as the bridge (i18n.NormalizeDecimal).
	 *
	 * @param string $s Typed number.
	 * @return string
	 */
	public static function normalize_typed( $s ) {
		$s     = str_replace( array( ' ', "\xc2\xa0", "\xe2\x80\xaf", "'" ), '', trim( (string) $s ) );
		$dot   = strrpos( $s, '.' );
		$comma = strrpos( $s, ',' );
		if ( false !== $dot && false !== $comma ) {
			$s = $comma > $dot ? str_replace( ',', '.', str_replace( '.', '', $s ) ) : str_replace( ',', '', $s );
		} elseif ( false !== $comma ) {
			if ( 1 === substr_count( $s, ',' ) ) {
				$s = str_replace( ',', '.', $s );
			}
		} elseif ( substr_count( $s, '.' ) > 1 ) {
			$s = str_replace( '.', '', $s );
		}
		return $s;
	}

	/**
	 * Validates an amount typed by a customer: a positive decimal with a dot,
	 * at most the currency's decimals, no sign, no thousands separators.
	 *
	 * @param mixed  $raw      Raw input.
	 * @param string $currency ISO 4217 code.
	 * @return int|null Minor units (> 0) or null when invalid.
	 */
	public static function parse_customer_amount( $raw, $currency ) {
		if ( ! is_string( $raw ) ) {
			return null;
		}
		$raw = self::normalize_typed( $raw );
		$d   = self::decimals( $currency );
		$re  = 0 === $d ? '/^\d+$/D' : '/^\d+(?:\.\d{1,' . $d . '})?$/D';
		if ( ! preg_match( $re, $raw ) ) {
			return null;
		}
		$minor = self::to_minor( $raw, $d );
		return ( null !== $minor && $minor > 0 ) ? $minor : null;
	}

	/**
	 * Currency symbols of the bridge's formatter (adapters/i18n symbols);
	 * other currencies show their code.
	 *
	 * @var array<string,string>
	 */
	private static $symbols = array(
		'EUR' => '€',
		'USD' => '$',
		'GBP' => '£',
		'JPY' => '¥',
		'CHF' => 'CHF',
		'CAD' => 'CA$',
		'AUD' => 'A$',
		'SEK' => 'kr',
		'NOK' => 'kr',
		'DKK' => 'kr',
		'PLN' => 'zł',
		'CZK' => 'Kč',
	);

	/**
	 * Formats an exact amount for a reader's language, as the bridge does
	 * (i18n.Locale.Money): "1.234,56 €" in German, "€1,234.56" in English,
	 * "CHF 12.50" for a symbol made of letters. Plain text with no-break
	 * spaces; the amount is never read as a float.
	 *
	 * @param string $amount   Decimal string ("1234.56", "-3").
	 * @param string $currency ISO 4217 code.
	 * @param string $locale   WordPress locale (de_DE, de_CH_informal, en_US, ...).
	 * @return string
	 */
	public static function format( $amount, $currency, $locale ) {
		$currency = strtoupper( (string) $currency );
		$fixed    = self::normalize( (string) $amount, $currency );
		if ( null === $fixed ) {
			return (string) $amount . ' ' . $currency;
		}
		$neg     = '-' === $fixed[0];
		$fixed   = ltrim( $fixed, '-' );
		$parts   = explode( '.', $fixed, 2 );
		$german  = 0 === strpos( strtolower( (string) $locale ), 'de' );
		$thou    = $german ? '.' : ',';
		$dec     = $german ? ',' : '.';
		$int     = strrev( implode( $thou, str_split( strrev( $parts[0] ), 3 ) ) );
		$num     = $int . ( isset( $parts[1] ) ? $dec . $parts[1] : '' );
		$sym     = isset( self::$symbols[ $currency ] ) ? self::$symbols[ $currency ] : $currency;
		$sign    = $neg ? "\u{2212}" : '';
		$nbsp    = "\u{a0}";
		if ( $german ) {
			return $sign . $num . $nbsp . $sym;
		}
		if ( false === strpos( $sym, '$' ) && preg_match( '/[a-z]/i', $sym ) ) {
			return $sign . $sym . $nbsp . $num;
		}
		return $sign . $sym . $num;
	}

	/**
	 * Minor units of an amount WooCommerce computed as a float or numeric
	 * string (cart line totals, prices without tax), rounded half away
	 * from zero at the currency's decimals. The float is printed with four
	 * spare digits first, so binary noise (19.989999999) never decides.
	 *
	 * @param mixed $value    Float, int or numeric string.
	 * @param int   $decimals Currency decimals.
	 * @return int|null
	 */
	public static function number_to_minor( $value, $decimals ) {
		if ( is_float( $value ) ) {
			if ( ! is_finite( $value ) ) {
				return null;
			}
			$value = sprintf( '%.' . ( (int) $decimals + 4 ) . 'F', $value );
		}
		return self::price_to_minor( is_int( $value ) ? (string) $value : $value, $decimals );
	}

	/**
	 * Builds minor units from validated parts.
	 *
	 * @param string $sign     '' or '-'.
	 * @param string $int      Integer digits.
	 * @param string $frac     Fraction digits (at most $decimals).
	 * @param int    $decimals Currency decimals.
	 * @return int|null
	 */
	private static function compose( $sign, $int, $frac, $decimals ) {
		$int    = ltrim( $int, '0' );
		$digits = $int . str_pad( $frac, $decimals, '0' );
		$digits = ltrim( $digits, '0' );
		if ( strlen( $digits ) > self::MAX_DIGITS ) {
			return null;
		}
		$v = '' === $digits ? 0 : (int) $digits;
		return '-' === $sign ? -$v : $v;
	}
}
