/* money.h: amounts as integer counts of the currency's minor unit. */
#ifndef BB_MONEY_H
#define BB_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Decimal places of a currency's minor unit: JPY 0, every other code 2. */
static inline int bb_currency_exponent(const char *code)
{
	return code[0] == 'J' && code[1] == 'P' && code[2] == 'Y' && code[3] == '\0' ? 0 : 2;
}

/* A JSON number (as the double a parser made of it) to minor units, rounding
 * its shortest decimal text (at most 15 significant digits) half away from
 * zero, so 21.005 -> 2101 and not 2100. -1 when not finite or too large. */
int bb_money_from_double(double v, int exponent, int64_t *out);

/* Round a decimal text [-]d[.d][e±d] to `places` fraction digits, half away
 * from zero, as a scaled integer. -1 when malformed or out of range. */
int bb_decimal_round(const char *s, int places, int64_t *out);

/* "21.00", "-0.05", "1051" (JPY). */
void bb_money_format(int64_t v, int exponent, char *buf, size_t size);

/* An amount for people, with its currency code[0..n) in the major unit:
 * "USD 21.00", "JPY 3010". A code that is not three capital letters is
 * left out and the amount given with two decimals. */
void bb_money_text(int64_t v, const char *code, size_t n, char *buf, size_t size);

#endif
