package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// minorDigits is the number of decimals of the ISO 4217 currencies that do not have
// two; every other currency has two.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

func decimalsOf(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// parseAmount reads a decimal amount ("12.50", "12.5", "12") as integer minor units
// of currency, exactly: no floating point, no rounding. More decimals than the
// currency has, signs, exponents and thousands separators are refused.
func parseAmount(s, currency string) (int64, error) {
	digits := decimalsOf(currency)
	whole, frac, hasPoint := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" && frac == "" {
		return 0, errors.New("empty amount")
	}
	if hasPoint && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not a decimal amount like 12.50", s)
	}
	if len(frac) > digits {
		return 0, fmt.Errorf("%q has more than %d decimals for %s", s, digits, currencyName(currency))
	}
	units, err := strconv.ParseInt(orZero(whole), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	minor := int64(0)
	if frac != "" {
		minor, _ = strconv.ParseInt(frac+strings.Repeat("0", digits-len(frac)), 10, 64)
	}
	scale := int64(math.Pow10(digits))
	if units > (math.MaxInt64-minor)/scale {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return units*scale + minor, nil
}

// formatAmount writes minor units as a decimal with the currency: "12.50 EUR".
func formatAmount(minor int64, currency string) string {
	digits := decimalsOf(currency)
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, minor, currency)
	}
	scale := int64(math.Pow10(digits))
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/scale, digits, minor%scale, currency)
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func currencyName(c string) string {
	if c == "" {
		return "this currency"
	}
	return strings.ToUpper(c)
}
