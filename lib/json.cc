/* json.cc: lib/json.h over simdjson, the only C++ of bb.
 *
 * simdjson's DOM parser validates the whole text (RFC 8259: numbers,
 * strings, UTF-8, structure, nothing after the value); the values are then
 * laid out in a flat array that the C side navigates. Where each value and
 * key stands in the text comes from the parser's structural indexes, read in
 * step with the values, so a number keeps its text as written. When the DOM
 * parser refuses a text it does not say where: the On-Demand API, which
 * stops at the first fault it meets, is asked for the place. Nothing throws
 * across the C API: every simdjson call goes through its error codes. */
#include "json.h"
extern "C" {
#include "jwrite.h"
}

#include <simdjson.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <string_view>
#include <vector>

namespace od = simdjson::ondemand;
static_assert(BB_JSON_PADDING >= simdjson::SIMDJSON_PADDING, "bb_json_parse_padded's padding is simdjson's");
namespace dom = simdjson::dom;
using simdjson::error_code;

namespace {

const unsigned max_depth = 128;

inline uint64_t key_bit(const char *k, size_t n)
{
	return n ? (uint64_t)1 << ((n * 7 + (unsigned char)k[0] * 3 + (unsigned char)k[n - 1]) & 63) : 1;
}

struct node {
	uint8_t type;
	uint8_t has_int;
	uint8_t maybe_dup; /* object: two member names may be equal, so the last must be found */
	uint8_t lazy;      /* string: escaped (as escapes() says), not decoded until asked for (s unset) */
	uint32_t next;  /* index just past this value and everything inside it */
	uint32_t count; /* elements or members */
	uint32_t parent;
	uint32_t r, rn;   /* the value's JSON text: offset in the text, length */
	uint32_t kr, krn; /* member name as written, between its quotes: offset, length */
	uint32_t kn;      /* member name decoded: length */
	uint32_t n;       /* string: decoded length */
	const char *k;    /* member name decoded, when inside an object */
	union {
		uint64_t keys;   /* object: one bit per member name's hash, to refuse absent names at once */
		int64_t i;       /* number (has_int) or boolean */
		const char *s;   /* string: decoded bytes, once decoded (or a view of the text) */
	};
};

} // namespace

struct bb_jdoc {
	dom::parser dparser;
	od::parser parser; /* only to find where a refused text goes wrong */
	std::vector<node> nodes;
	const char *text = nullptr; /* the text: own, or the caller's (bb_json_parse_padded) */
	char *own = nullptr;        /* a padded copy of the input */
	size_t cap = 0, len = 0;
	char *dec = nullptr; /* escaped strings decoded when asked for: never moves during a document */
	size_t dcap = 0, dlen = 0;
	uint32_t hint_obj = 0, hint_next = 0; /* the last member found by name: its object, the member after it */
	uint32_t parent = 0;         /* the container being read */
	std::string_view key_raw;    /* the key of the member being read, as written */
	const char *fault = nullptr; /* where a check of ours failed */
	const char *big = nullptr;   /* the first number too large to convert */
	const char *fault_msg = nullptr;
	bool dom_only = false; /* every text through the DOM parser (bb_json_parse_dom) */
};

namespace {

const char *message_of(error_code e)
{
	switch (e) {
	case simdjson::EMPTY: return "empty input";
	case simdjson::UTF8_ERROR: return "invalid UTF-8";
	case simdjson::UNESCAPED_CHARS: return "control byte in a string (must be escaped)";
	case simdjson::UNCLOSED_STRING: return "string not closed";
	case simdjson::STRING_ERROR: return "invalid string escape";
	case simdjson::NUMBER_ERROR:
	case simdjson::NUMBER_OUT_OF_RANGE: return "invalid number";
	case simdjson::T_ATOM_ERROR:
	case simdjson::F_ATOM_ERROR:
	case simdjson::N_ATOM_ERROR:
	case simdjson::INCORRECT_TYPE: return "invalid literal";
	case simdjson::TRAILING_CONTENT: return "bytes after the value";
	case simdjson::DEPTH_ERROR: return "nested too deep";
	case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "unexpected end of input";
	default: return "invalid JSON structure";
	}
}

/* The first byte that is not UTF-8 (overlong forms and surrogates included). */
size_t utf8_fault(const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	while (i < n && (k = bb_utf8_len(p + i, n - i)) != 0)
		i += k;
	return i;
}

/* Where the string left open at the end of the text opens. */
size_t unclosed_fault(const char *p, size_t n)
{
	size_t open = n;
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		if (!in) {
			if (p[i] == '"')
				in = 1, open = i;
		} else if (p[i] == '\\') {
			i++;
		} else if (p[i] == '"') {
			in = 0;
		}
	}
	return in ? open : n;
}

/* The first control byte inside a string. */
size_t control_fault(const char *p, size_t n)
{
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!in) {
			in = c == '"';
		} else if (c == '\\') {
			i++;
		} else if (c == '"') {
			in = 0;
		} else if (c < 0x20) {
			return i;
		}
	}
	return n;
}

uint32_t off(const bb_jdoc *d, const char *p)
{
	return p ? (uint32_t)(p - d->text) : 0;
}

/* A member name's bit in its object's set, and whether it may repeat one. */
void add_key(node &p, const char *k, size_t kn)
{
	uint64_t bit = key_bit(k, kn);
	p.maybe_dup |= (p.keys & bit) != 0;
	p.keys |= bit;
}

size_t push(bb_jdoc *d, uint8_t type, std::string_view key, int has_key, std::string_view raw)
{
	node nd{};
	nd.kr = off(d, d->key_raw.data());
	nd.krn = (uint32_t)d->key_raw.size();
	nd.type = type;
	nd.parent = d->parent;
	nd.r = off(d, raw.data());
	nd.rn = (uint32_t)raw.size();
	if (has_key) {
		nd.k = key.data() ? key.data() : d->text + nd.kr;
		nd.kn = (uint32_t)key.size();
		add_key(d->nodes[d->parent], nd.k, nd.kn);
	}
	d->nodes.push_back(nd);
	return d->nodes.size() - 1;
}

/* RFC 8259's number grammar, for what simdjson will not convert (integers
 * beyond 64 bits): they are numbers all the same. */
bool number_grammar(std::string_view t)
{
	size_t i = 0, n = t.size();
	auto digits = [&](void) {
		size_t s = i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		return i > s;
	};
	if (i < n && t[i] == '-')
		i++;
	if (i < n && t[i] == '0')
		i++;
	else if (!digits())
		return false;
	if (i < n && t[i] == '.') {
		i++;
		if (!digits())
			return false;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		if (!digits())
			return false;
	}
	return i == n;
}

std::string_view trim(std::string_view t)
{
	while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r'))
		t.remove_suffix(1);
	return t;
}

/* Where the string that starts at p (its opening quote) closes, or NULL.
 * On-Demand reads a string up to its closing quote and no further, so a
 * token such as "a"b" would pass for "a": the close is checked here. */
const char *string_close(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p;
	}
	return nullptr;
}

std::string_view raw_of(od::value &v)
{
	return trim(v.raw_json_token());
}

std::string_view raw_of(od::document &d)
{
	std::string_view s;
	if (d.raw_json_token().get(s))
		return {};
	return trim(s);
}

template <typename V> error_code scalar(bb_jdoc *d, V &v, od::json_type t, std::string_view key, int has_key)
{
	std::string_view raw = raw_of(v);
	error_code e;
	size_t at;

	switch (t) {
	case od::json_type::string: {
		std::string_view s;
		if (string_close(raw.data(), raw.data() + raw.size()) != raw.data() + raw.size() - 1) {
			d->fault = raw.data();
			return simdjson::STRING_ERROR;
		}
		/* without an escape, the string is its text: stage 1 has already
		 * checked its UTF-8 and control bytes, and nothing needs copying */
		if (!memchr(raw.data(), '\\', raw.size()))
			s = raw.substr(1, raw.size() - 2);
		else if ((e = v.get_string().get(s)))
			return e;
		at = push(d, BB_JSTRING, key, has_key, raw);
		d->nodes[at].s = s.data();
		d->nodes[at].n = (uint32_t)s.size();
		break;
	}
	case od::json_type::number: {
		od::number num;
		e = v.get_number().get(num);
		if (e && !(e == simdjson::NUMBER_ERROR && number_grammar(raw))) {
			d->fault = raw.data();
			return e;
		}
		if (e && !d->big)
			d->big = raw.data();
		at = push(d, BB_JNUMBER, key, has_key, raw);
		if (!e && num.is_int64()) {
			d->nodes[at].has_int = 1;
			d->nodes[at].i = num.get_int64();
		}
		break;
	}
	case od::json_type::boolean: {
		bool b;
		if ((e = v.get_bool().get(b)))
			return e;
		at = push(d, BB_JBOOL, key, has_key, raw);
		d->nodes[at].i = b;
		break;
	}
	default: {
		bool null;
		if ((e = v.is_null().get(null)))
			return e;
		if (!null)
			return simdjson::N_ATOM_ERROR;
		at = push(d, BB_JNULL, key, has_key, raw);
	}
	}
	d->nodes[at].next = (uint32_t)d->nodes.size();
	return simdjson::SUCCESS;
}

/* Where a container that has just been read to its end closes. */
const char *closing(bb_jdoc *d, od::document &doc)
{
	const char *loc;
	if (doc.current_location().get(loc))
		loc = d->text + d->len;
	while (loc > d->text && (loc[-1] == ' ' || loc[-1] == '\t' || loc[-1] == '\n' || loc[-1] == '\r' ||
				 loc[-1] == ',' || loc[-1] == ':'))
		loc--;
	return loc;
}

error_code walk(bb_jdoc *d, od::document &doc, od::value v, unsigned depth, std::string_view key,
		int has_key)
{
	od::json_type t;
	error_code e;

	if ((e = v.type().get(t)))
		return e;
	if (t != od::json_type::object && t != od::json_type::array)
		return scalar(d, v, t, key, has_key);
	if (depth >= max_depth)
		return simdjson::DEPTH_ERROR;
	const char *start = v.raw_json_token().data();
	size_t at = push(d, t == od::json_type::object ? BB_JOBJECT : BB_JARRAY, key, has_key, {});
	uint32_t count = 0, outer = d->parent;
	d->parent = (uint32_t)at;
	if (t == od::json_type::object) {
		od::object o;
		if ((e = v.get_object().get(o)))
			return e;
		for (auto f : o) {
			od::field fld;
			std::string_view k;
			if ((e = std::move(f).get(fld)))
				return e;
			const char *raw = fld.key().raw(), *end = d->text + d->len;
			const char *q = string_close(raw - 1, end), *colon = q ? q + 1 : end;
			while (colon < end && (*colon == ' ' || *colon == '\t' || *colon == '\n' || *colon == '\r'))
				colon++;
			if (colon >= end || *colon != ':') { /* "a"b": is no key */
				d->fault = raw - 1;
				return simdjson::STRING_ERROR;
			}
			if (!memchr(raw, '\\', (size_t)(q - raw)))
				k = std::string_view(raw, (size_t)(q - raw));
			else if ((e = fld.unescaped_key().get(k)))
				return e;
			d->key_raw = std::string_view(raw, (size_t)(q - raw));
			if ((e = walk(d, doc, fld.value(), depth + 1, k, 1)))
				return e;
			count++;
		}
	} else {
		od::array a;
		if ((e = v.get_array().get(a)))
			return e;
		for (auto x : a) {
			od::value c;
			d->key_raw = {};
			if ((e = std::move(x).get(c)) || (e = walk(d, doc, c, depth + 1, {}, 0)))
				return e;
			count++;
		}
	}
	d->parent = outer;
	d->nodes[at].next = (uint32_t)d->nodes.size();
	d->nodes[at].count = count;
	d->nodes[at].r = off(d, start);
	d->nodes[at].rn = (uint32_t)(closing(d, doc) - start);
	return simdjson::SUCCESS;
}

error_code walk_document(bb_jdoc *d, od::document &doc)
{
	bool is_scalar;
	error_code e;

	if ((e = doc.is_scalar().get(is_scalar)))
		return e;
	if (is_scalar) {
		od::json_type t;
		std::string_view raw = raw_of(doc);
		if ((e = doc.type().get(t)) || (e = scalar(d, doc, t, {}, 0)))
			return e;
		/* a document that is one scalar: nothing but space may follow it */
		const char *p = raw.data() + raw.size(), *end = d->text + d->len;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p < end) {
			d->fault = p;
			return simdjson::TRAILING_CONTENT;
		}
		return simdjson::SUCCESS;
	}
	od::value root;
	if ((e = doc.get_value().get(root)) || (e = walk(d, doc, root, 0, {}, 0)))
		return e;
	const char *loc;
	if (!doc.current_location().get(loc)) {
		d->fault = loc;
		return simdjson::TRAILING_CONTENT;
	}
	return simdjson::SUCCESS;
}

void fail(bb_jdoc *d, od::document *doc, error_code e, bb_jerr *err)
{
	size_t off = d->len;
	const char *loc;

	if (d->fault)
		off = (size_t)(d->fault - d->text);
	else if (e == simdjson::UTF8_ERROR)
		off = utf8_fault((const unsigned char *)d->text, d->len);
	else if (e == simdjson::UNESCAPED_CHARS)
		off = control_fault(d->text, d->len);
	else if (e == simdjson::UNCLOSED_STRING)
		off = unclosed_fault(d->text, d->len);
	else if (e == simdjson::EMPTY)
		off = 0;
	else if (doc && !doc->current_location().get(loc))
		off = (size_t)(loc - d->text);
	if (off > d->len)
		off = d->len;
	err->offset = off;
	snprintf(err->message, sizeof err->message, "%s",
		 off == d->len && e == simdjson::TAPE_ERROR ? "unexpected end of input" : message_of(e));
}

/* ---- the values, from the DOM and the structural indexes in step ---- */

struct layout {
	bb_jdoc *d;
	const uint32_t *idx; /* offsets of the text's tokens, then len, len */
	uint32_t n, j;       /* tokens; the next one */
};

const char *tok(const layout &l)
{
	return l.d->text + (l.j < l.n ? l.idx[l.j] : l.d->len);
}

/* The scalar token at l.j, without the space after it. */
std::string_view scalar_text(const layout &l)
{
	const char *p = tok(l);
	const char *end = l.d->text + (l.j + 1 < l.n ? l.idx[l.j + 1] : l.d->len);
	return trim(std::string_view(p, (size_t)(end - p)));
}

error_code lay(layout &l, dom::element e, std::string_view key, int has_key, unsigned depth);

error_code lay_container(layout &l, dom::element e, std::string_view key, int has_key, unsigned depth)
{
	bool obj = e.type() == dom::element_type::OBJECT;
	const char *start = tok(l);
	size_t at = push(l.d, obj ? BB_JOBJECT : BB_JARRAY, key, has_key, {});
	uint32_t count = 0, outer = l.d->parent;
	error_code err;

	if (depth >= max_depth)
		return simdjson::DEPTH_ERROR;
	l.d->parent = (uint32_t)at;
	l.j++; /* { or [ */
	if (obj) {
		for (dom::key_value_pair kv : dom::object(e)) {
			const char *q = tok(l); /* the key's opening quote */
			l.d->key_raw = std::string_view(q + 1, (size_t)(string_close(q, l.d->text + l.d->len) - q - 1));
			l.j += 2; /* the key and its colon */
			if ((err = lay(l, kv.value, kv.key, 1, depth + 1)))
				return err;
			if (*tok(l) == ',')
				l.j++;
			count++;
		}
	} else {
		for (dom::element x : dom::array(e)) {
			l.d->key_raw = {};
			if ((err = lay(l, x, {}, 0, depth + 1)))
				return err;
			if (*tok(l) == ',')
				l.j++;
			count++;
		}
	}
	const char *close = tok(l); /* } or ] */
	l.j++;
	l.d->parent = outer;
	node &nd = l.d->nodes[at];
	nd.next = (uint32_t)l.d->nodes.size();
	nd.count = count;
	nd.r = off(l.d, start);
	nd.rn = (uint32_t)(close + 1 - start);
	return simdjson::SUCCESS;
}

error_code lay(layout &l, dom::element e, std::string_view key, int has_key, unsigned depth)
{
	std::string_view raw;
	size_t at;

	switch (e.type()) {
	case dom::element_type::OBJECT:
	case dom::element_type::ARRAY:
		return lay_container(l, e, key, has_key, depth);
	case dom::element_type::STRING: {
		std::string_view s;
		raw = scalar_text(l);
		if (e.get_string().get(s))
			return simdjson::STRING_ERROR;
		at = push(l.d, BB_JSTRING, key, has_key, raw);
		/* kept where the fast path keeps decoded strings, padding after */
		char *kept = l.d->dec + l.d->dlen;
		memcpy(kept, s.data(), s.size());
		l.d->dlen += s.size();
		l.d->nodes[at].s = kept;
		l.d->nodes[at].n = (uint32_t)s.size();
		break;
	}
	case dom::element_type::INT64:
	case dom::element_type::UINT64:
	case dom::element_type::DOUBLE: {
		raw = scalar_text(l);
		at = push(l.d, BB_JNUMBER, key, has_key, raw);
		int64_t i;
		if (e.type() == dom::element_type::INT64 && !e.get_int64().get(i)) {
			l.d->nodes[at].has_int = 1;
			l.d->nodes[at].i = i;
		}
		break;
	}
	case dom::element_type::BOOL:
		raw = scalar_text(l);
		at = push(l.d, BB_JBOOL, key, has_key, raw);
		l.d->nodes[at].i = raw[0] == 't';
		break;
	default:
		raw = scalar_text(l);
		at = push(l.d, BB_JNULL, key, has_key, raw);
	}
	l.d->nodes[at].next = (uint32_t)l.d->nodes.size();
	l.j++;
	return simdjson::SUCCESS;
}

/* ---- the values, from the structural indexes alone ----
 *
 * simdjson's first stage has checked the whole text: UTF-8, no control byte
 * in a string, every string closed, and it has indexed where each token
 * starts. Read in order, those indexes give the values directly, checked
 * here as JSON's grammar asks: structure, literals, numbers, escapes. A
 * string keeps its text and is decoded only when it is read: a stage that
 * never reads a record's 7 KB body does not pay for unescaping it. This
 * reader accepts only what it is sure of (plain numbers, escapes that are
 * valid, nesting within max_depth); anything else goes to the DOM parser,
 * which decides and says what is wrong and where. */

/* The bytes that may follow a backslash, other than u, and what each
 * escape stands for (0: not an escape of one byte). */
struct escape_table {
	unsigned char to[256];
	constexpr escape_table() : to()
	{
		const char *from = "\"\\/bfnrt", *into = "\"\\/\b\f\n\r\t";
		for (int i = 0; from[i]; i++)
			to[(unsigned char)from[i]] = (unsigned char)into[i];
	}
};
constexpr escape_table escape_of;
const unsigned char *const escape_char = escape_of.to;

int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* The scalar check of escapes from p[i] on: 1 all valid, 2 valid with a
 * \u among them, -1 otherwise. */
int escapes_from(const unsigned char *p, size_t i, size_t n)
{
	int rc = 1;
	while (i < n) {
		if (p[i] != '\\') {
			i++;
			continue;
		}
		if (escape_char[p[i + 1]]) {
			i += 2;
			continue;
		}
		unsigned cp;
		if (p[i + 1] != 'u' || i + 6 > n || hex4(p + i + 2, &cp) || (cp >= 0xd800 && cp < 0xe000))
			return -1;
		i += 6;
		rc = 2;
	}
	return rc;
}

#ifdef __SSE2__
/* Bit i set when p[i] is c, for 64 bytes. */
inline uint64_t eq64(const __m128i v[4], char c)
{
	const __m128i k = _mm_set1_epi8(c);
	return (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[0], k)) |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[1], k)) << 16 |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[2], k)) << 32 |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v[3], k)) << 48;
}

/* The bytes escaped by a backslash, from the backslashes of a block and
 * whether the last block ended in an unpaired one, as simdjson's own first
 * stage finds them. */
inline uint64_t escaped_bytes(uint64_t backslash, uint64_t &prev)
{
	const uint64_t even = 0x5555555555555555ULL;
	backslash &= ~prev;
	uint64_t follows = backslash << 1 | prev;
	uint64_t odd_starts = backslash & ~even & ~follows;
	uint64_t even_runs;
	prev = __builtin_add_overflow(odd_starts, backslash, &even_runs);
	return (even ^ (even_runs << 1)) & follows;
}
#endif

/* A string's escapes, between its quotes (p[n] is the closing quote, and
 * the text goes on at least 64 bytes past it): 0 none, 1 all valid and of
 * one byte each, 2 valid with a \u among them, -1 one that is not (or a
 * surrogate pair, left to the DOM parser). */
int escapes(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
#ifdef __SSE2__
	if (n < 32) { /* most strings: one look at 32 bytes (the text goes on past them) */
		const __m128i bs = _mm_set1_epi8('\\');
		uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), bs)) |
			     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p + 1), bs)) << 16;
		m &= (1u << n) - 1;
		if (!m)
			return 0;
		i = (size_t)__builtin_ctz(m);
	} else
#endif
	{
		const void *first = memchr(p, '\\', n);
		if (!first)
			return 0;
		i = (size_t)((const unsigned char *)first - p);
	}
#ifdef __SSE2__
	/* 64 bytes at a time: every escaped byte must be one of "\/bfnrt;
	 * a \u, rare, sends the block to the scalar check */
	uint64_t prev = 0;
	for (; i < n; i += 64) {
		__m128i v[4];
		for (int k = 0; k < 4; k++)
			v[k] = _mm_loadu_si128((const __m128i *)(p + i) + k);
		uint64_t live = n - i >= 64 ? ~0ULL : (1ULL << (n - i)) - 1;
		uint64_t carry = prev;
		uint64_t backslash = eq64(v, '\\') & live;
		uint64_t e = escaped_bytes(backslash, prev) & live;
		if (!e)
			continue;
		if (!(e & ~(eq64(v, '"') | backslash))) /* \" and \\, the escapes of JSON in JSON */
			continue;
		uint64_t ok = eq64(v, '/') | eq64(v, 'b') | eq64(v, 'f') | eq64(v, 'n') | eq64(v, 'r') | eq64(v, 't');
		if (e & ~(eq64(v, '"') | backslash | ok)) /* from the escape open at the block's start, if one is */
			return escapes_from(p, carry ? i - 1 : i, n);
	}
	return 1;
#else
	return escapes_from(p, i, n);
#endif
}

/* An integer of at most 18 digits, or a number whose value is surely a
 * finite double: what the DOM parser would make of it, without its work.
 * -1: let the DOM parser decide. */
int plain_number(std::string_view t, node &nd)
{
	size_t i = 0, n = t.size(), exp_digits = 0;
	bool integer = true;
	uint64_t v = 0;

	/* RFC 8259's grammar, as number_grammar reads it, in the same pass as
	 * the value of an integer */
	if (i < n && t[i] == '-')
		i++;
	size_t first = i;
	if (i < n && t[i] == '0')
		i++;
	else
		for (; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			v = v * 10 + (uint64_t)(t[i] - '0'); /* wraps beyond 19 digits: not used then */
	if (i == first)
		return -1;
	size_t int_digits = i - first;
	if (i < n && t[i] == '.') {
		size_t s = ++i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == s)
			return -1;
		integer = false;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		size_t s = i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == s)
			return -1;
		exp_digits = i - s;
		integer = false;
	}
	if (i != n)
		return -1;
	if (integer) {
		if (int_digits > 18)
			return -1;
		nd.has_int = 1;
		nd.i = t[0] == '-' ? -(int64_t)v : (int64_t)v;
		return 0;
	}
	/* a double surely finite (at most 40 characters, an exponent below
	 * 10^100): the DOM parser would make nothing else of it */
	return n > 40 || exp_digits > 2 ? -1 : 0;
}

struct fast {
	bb_jdoc *d;
	const uint32_t *idx;
	uint32_t n;
};

/* The token at structural index j, up to the next one, without the space
 * after it. */
inline std::string_view token(const fast &f, uint32_t j)
{
	const char *p = f.d->text + f.idx[j];
	const char *end = f.d->text + (j + 1 < f.n ? f.idx[j + 1] : f.d->len);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	return std::string_view(p, (size_t)(end - p));
}

#ifdef __SSE2__
/* len bytes from s to d, sixteen at a time: up to 15 more are read and
 * written past the end. */
inline void copy16(unsigned char *d, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i += 16)
		_mm_storeu_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
}

/* Decode a string's n bytes whose escapes are all of one byte (escapes()
 * said 1): the runs between escapes copied whole, each escape found from
 * 64-byte masks as escapes() finds them. Escape-dense text, JSON in JSON,
 * decodes several times faster so than one escape per step. dst has room for
 * n + 64 bytes; src is readable 64 bytes past n. Returns the length. */
size_t unescape_simple(const unsigned char *src, size_t n, unsigned char *dst)
{
	size_t last = 0, o = 0; /* src[last..) is still to copy, to dst + o */
	uint64_t prev = 0;
	for (size_t b = 0; b < n; b += 64) {
		__m128i v[4];
		for (int k = 0; k < 4; k++)
			v[k] = _mm_loadu_si128((const __m128i *)(src + b) + k);
		uint64_t live = n - b >= 64 ? ~0ULL : (1ULL << (n - b)) - 1;
		uint64_t backslash = eq64(v, '\\') & live;
		if (!(backslash | prev))
			continue;
		for (uint64_t e = escaped_bytes(backslash, prev) & live; e; e &= e - 1) {
			size_t at = b + (size_t)__builtin_ctzll(e); /* the escaped byte; its backslash before it */
			copy16(dst + o, src + last, at - 1 - last);
			o += at - 1 - last;
			dst[o++] = escape_char[src[at]];
			last = at + 1;
		}
	}
	copy16(dst + o, src + last, n - last);
	return o + n - last;
}
#endif

/* Decode the string that starts at its opening quote q, raw length rn with
 * its quotes, escapes as escapes() found them, into the document's buffer
 * of decoded strings. */
const char *decode(const bb_jdoc *dc, const char *q, uint32_t rn, int kind, uint32_t *n)
{
	bb_jdoc *d = const_cast<bb_jdoc *>(dc);
	uint8_t *dst = (uint8_t *)d->dec + d->dlen;
#ifdef __SSE2__
	if (kind == 1) {
		*n = (uint32_t)unescape_simple((const unsigned char *)q + 1, rn - 2, dst);
		d->dlen += *n;
		return (const char *)dst;
	}
#else
	(void)rn, (void)kind;
#endif
	uint8_t *end = d->dparser.implementation->parse_string((const uint8_t *)q + 1, dst);
	if (!end) /* checked when parsed: cannot happen */
		abort();
	*n = (uint32_t)(end - dst);
	d->dlen += *n;
	return (const char *)dst;
}

/* 0: the text's values laid out; -1: the DOM parser must decide. */
int lay_fast(bb_jdoc *d)
{
	fast f{ d, d->dparser.implementation->structural_indexes.get(),
		(uint32_t)d->dparser.implementation->n_structural_indexes };
	uint32_t stack[max_depth];
	unsigned depth = 0;
	uint32_t j = 0;
	std::vector<node> &nodes = d->nodes;
	const char *k = nullptr;          /* the member name of the value to come */
	uint32_t kn = 0, kr = 0, krn = 0;

	nodes.reserve(f.n); /* a value has one token at least */
value:
	if (j >= f.n)
		return -1;
	{
		const char *p = d->text + f.idx[j];
		node &x = nodes.emplace_back();
		x.parent = depth ? stack[depth - 1] : 0;
		x.r = f.idx[j];
		x.k = k, x.kn = kn, x.kr = kr, x.krn = krn;
		if (depth)
			nodes[stack[depth - 1]].count++;
		switch (*p) {
		case '{':
		case '[':
			if (depth >= max_depth)
				return -1;
			x.type = *p == '{' ? BB_JOBJECT : BB_JARRAY;
			stack[depth++] = (uint32_t)nodes.size() - 1;
			j++;
			if (j < f.n && d->text[f.idx[j]] == (*p == '{' ? '}' : ']'))
				goto close;
			if (*p == '{')
				goto key;
			k = nullptr, kn = kr = krn = 0;
			goto value;
		case '"': {
			std::string_view t = token(f, j);
			int e;
			if (t.size() < 2 || t.back() != '"' || (e = escapes(t.data() + 1, t.size() - 2)) < 0)
				return -1;
			x.type = BB_JSTRING;
			x.lazy = (uint8_t)e;
			x.s = e ? nullptr : t.data() + 1;
			x.n = (uint32_t)t.size() - 2;
			x.rn = (uint32_t)t.size();
			break;
		}
		case 't':
		case 'f':
		case 'n': {
			std::string_view t = token(f, j);
			x.type = *p == 'n' ? BB_JNULL : BB_JBOOL;
			if (t != (*p == 't' ? "true" : *p == 'f' ? "false" : "null"))
				return -1;
			x.i = *p == 't';
			x.rn = (uint32_t)t.size();
			break;
		}
		default: {
			std::string_view t = token(f, j);
			x.type = BB_JNUMBER;
			if (plain_number(t, x) < 0)
				return -1;
			x.rn = (uint32_t)t.size();
		}
		}
		x.next = (uint32_t)nodes.size();
		j++;
	}
after:
	if (depth == 0)
		return j == f.n ? 0 : -1;
	if (j >= f.n)
		return -1;
	switch (d->text[f.idx[j]]) {
	case ',':
		j++;
		if (nodes[stack[depth - 1]].type == BB_JOBJECT)
			goto key;
		k = nullptr, kn = kr = krn = 0;
		goto value;
	case '}':
		if (nodes[stack[depth - 1]].type != BB_JOBJECT)
			return -1;
		goto close;
	case ']':
		if (nodes[stack[depth - 1]].type != BB_JARRAY)
			return -1;
		goto close;
	default:
		return -1;
	}
close: { /* j at the } or ] of the innermost container */
	node &c = nodes[stack[--depth]];
	c.next = (uint32_t)nodes.size();
	c.rn = f.idx[j] + 1 - c.r;
	j++;
	goto after;
}
key: {
	if (j + 1 >= f.n || d->text[f.idx[j]] != '"' || d->text[f.idx[j + 1]] != ':')
		return -1;
	std::string_view t = token(f, j);
	int e;
	if (t.size() < 2 || t.back() != '"' || (e = escapes(t.data() + 1, t.size() - 2)) < 0)
		return -1;
	kr = f.idx[j] + 1;
	krn = (uint32_t)t.size() - 2;
	if (e)
		k = decode(d, t.data(), (uint32_t)t.size(), e, &kn);
	else
		k = t.data() + 1, kn = krn;
	add_key(nodes[stack[depth - 1]], k, kn);
	j += 2;
	goto value;
}
}

/* simdjson's first stage over the text: 0, or -1 when it finds a fault
 * (the DOM parser then says which). */
int stage1(bb_jdoc *d)
{
	if (d->len > d->dparser.capacity() || !d->dparser.implementation) { /* none before the first allocation */
		size_t cap = d->dparser.capacity() ? d->dparser.capacity() : 65536;
		while (cap < d->len)
			cap *= 2;
		if (d->dparser.allocate(cap))
			return -1;
	}
	return d->dparser.implementation->stage1((const uint8_t *)d->text, d->len, simdjson::stage1_mode::regular) ==
			       simdjson::SUCCESS ? 0 : -1;
}

/* The DOM parser refused the text: the On-Demand walk finds where. */
void locate(bb_jdoc *d, error_code dom_error, bb_jerr *err)
{
	od::document doc;
	error_code e = d->parser.iterate(simdjson::padded_string_view(d->own, d->len, d->cap)).get(doc);

	if (e) {
		fail(d, nullptr, e, err);
		return;
	}
	try {
		e = walk_document(d, doc);
	} catch (...) {
		e = simdjson::MEMALLOC;
	}
	d->nodes.clear();
	if (e) {
		fail(d, &doc, e, err);
		return;
	}
	/* a fault only the DOM parser sees: a number beyond 64-bit integers and
	 * doubles, or structure On-Demand does not check; say what, if not where */
	err->offset = 0;
	snprintf(err->message, sizeof err->message, "%s", message_of(dom_error));
	if (dom_error == simdjson::NUMBER_ERROR && d->big) {
		err->offset = (size_t)(d->big - d->text);
		snprintf(err->message, sizeof err->message, "number out of range");
	}
}

const node *at(bb_jval v)
{
	if (!v.doc || v.i >= v.doc->nodes.size())
		return nullptr;
	return &v.doc->nodes[v.i];
}

} // namespace

extern "C" {

struct bb_jdoc *bb_json_new(void)
{
	return new (std::nothrow) bb_jdoc();
}

void bb_json_free(struct bb_jdoc *d)
{
	if (d) {
		free(d->own);
		free(d->dec);
	}
	delete d;
}

static int out_of_memory(struct bb_jerr *err)
{
	err->offset = 0;
	snprintf(err->message, sizeof err->message, "out of memory");
	return -1;
}

/* The text copied into the document's own buffer, with the padding of
 * spaces simdjson reads past its end. */
static int own_copy(struct bb_jdoc *d, const char *text, size_t len)
{
	size_t need = len + simdjson::SIMDJSON_PADDING;
	if (need > d->cap) {
		char *t = (char *)realloc(d->own, need);
		if (!t)
			return -1;
		d->own = t;
		d->cap = need;
	}
	memmove(d->own, text, len);
	memset(d->own + len, ' ', simdjson::SIMDJSON_PADDING);
	d->text = d->own;
	d->len = len;
	return 0;
}

/* text is the document's own copy, or (padded) the caller's. */
static int parse(struct bb_jdoc *d, const char *text, size_t len, int padded, struct bb_jval *root,
		 struct bb_jerr *err)
{
	size_t need = len + 2 * simdjson::SIMDJSON_PADDING;

	*root = bb_jval{ nullptr, 0 };
	d->nodes.clear();
	d->fault = nullptr;
	d->big = nullptr;
	d->parent = 0;
	d->key_raw = {};
	d->dlen = 0;
	d->hint_obj = UINT32_MAX;
	if (need > d->dcap) {
		char *t = (char *)realloc(d->dec, need);
		if (!t)
			return out_of_memory(err);
		d->dec = t;
		d->dcap = need;
	}
	if (padded) {
		d->text = text;
		d->len = len;
	} else if (own_copy(d, text, len) != 0) {
		return out_of_memory(err);
	}
	if (!d->dom_only && stage1(d) == 0) {
		int rc;
		try {
			rc = lay_fast(d);
		} catch (...) { /* vector growth: out of memory */
			rc = -1;
		}
		if (rc == 0) {
			*root = bb_jval{ d, 0 };
			return 0;
		}
		d->nodes.clear();
		d->dlen = 0;
	}
	/* the DOM parser, and the On-Demand one to find a fault, read the
	 * document's own copy, padded with spaces */
	if (d->text != d->own && own_copy(d, text, len) != 0)
		return out_of_memory(err);
	dom::element top;
	error_code e = d->dparser.parse(d->own, len, false).get(top);
	if (e) {
		locate(d, e, err);
		return -1;
	}
	layout l{ d, d->dparser.implementation->structural_indexes.get(),
		  d->dparser.implementation->n_structural_indexes, 0 };
	try {
		e = lay(l, top, {}, 0, 0);
	} catch (...) { /* vector growth: out of memory */
		e = simdjson::MEMALLOC;
	}
	if (e) {
		fail(d, nullptr, e, err);
		d->nodes.clear();
		return -1;
	}
	*root = bb_jval{ d, 0 };
	return 0;
}

int bb_json_parse(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
		  struct bb_jerr *err)
{
	return parse(d, text, len, 0, root, err);
}

int bb_json_parse_padded(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
			 struct bb_jerr *err)
{
	return parse(d, text, len, 1, root, err);
}

int bb_json_parse_dom(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
		      struct bb_jerr *err)
{
	d->dom_only = true;
	int rc = bb_json_parse(d, text, len, root, err);
	d->dom_only = false;
	return rc;
}

enum bb_jtype bb_json_type(struct bb_jval v)
{
	const node *n = at(v);
	return n ? (enum bb_jtype)n->type : BB_JNONE;
}

const char *bb_json_type_name(enum bb_jtype t)
{
	static const char *const names[] = { "nothing", "null", "a boolean", "a number",
					     "a string", "an array", "an object" };
	return (unsigned)t < sizeof names / sizeof *names ? names[t] : "nothing";
}

static inline bool named(const node &m, const char *key, size_t kn)
{
	return m.kn == kn && (kn == 0 || m.k[0] == key[0]) && memcmp(m.k, key, kn) == 0;
}

struct bb_jval bb_json_get(struct bb_jval obj, const char *key, size_t kn)
{
	const node *o = at(obj);
	bb_jval found{ nullptr, 0 };

	if (!o || o->type != BB_JOBJECT || !(o->keys & key_bit(key, kn)))
		return found;
	const node *nodes = obj.doc->nodes.data();
	if (o->maybe_dup) { /* the last one wins */
		for (uint32_t i = obj.i + 1; i < o->next; i = nodes[i].next)
			if (named(nodes[i], key, kn))
				found = bb_jval{ obj.doc, i };
		return found;
	}
	/* Members are mostly asked for in the order they are written: look
	 * after the one found last, then from the start up to there. */
	bb_jdoc *d = const_cast<bb_jdoc *>(obj.doc);
	uint32_t from = d->hint_obj == obj.i ? d->hint_next : obj.i + 1;
	for (uint32_t i = from; i < o->next; i = nodes[i].next)
		if (named(nodes[i], key, kn)) {
			d->hint_obj = obj.i;
			d->hint_next = nodes[i].next;
			return bb_jval{ obj.doc, i };
		}
	for (uint32_t i = obj.i + 1; i < from; i = nodes[i].next)
		if (named(nodes[i], key, kn)) {
			d->hint_obj = obj.i;
			d->hint_next = nodes[i].next;
			return bb_jval{ obj.doc, i };
		}
	return found;
}


size_t bb_json_count(struct bb_jval v)
{
	const node *n = at(v);
	return n && (n->type == BB_JOBJECT || n->type == BB_JARRAY) ? n->count : 0;
}

struct bb_jval bb_json_first(struct bb_jval c)
{
	const node *n = at(c);
	if (!n || (n->type != BB_JOBJECT && n->type != BB_JARRAY) || n->count == 0)
		return bb_jval{ nullptr, 0 };
	return bb_jval{ c.doc, c.i + 1 };
}

struct bb_jval bb_json_next(struct bb_jval e)
{
	const node *n = at(e);
	if (!n || e.i == 0)
		return bb_jval{ nullptr, 0 };
	const node &p = e.doc->nodes[n->parent];
	return n->next < p.next ? bb_jval{ e.doc, n->next } : bb_jval{ nullptr, 0 };
}

int bb_json_key(struct bb_jval m, const char **key, size_t *kn)
{
	const node *n = at(m);
	if (!n || !n->k)
		return -1;
	*key = n->k;
	*kn = n->kn;
	return 0;
}

/* A string's bytes, decoded now if they have not been yet. */
static const node *string_of(bb_jval v)
{
	const node *x = at(v);
	if (!x || x->type != BB_JSTRING)
		return nullptr;
	if (x->lazy) {
		node *m = const_cast<node *>(x);
		m->s = decode(v.doc, v.doc->text + x->r, x->rn, x->lazy, &m->n);
		m->lazy = 0;
	}
	return x;
}

int bb_json_string(struct bb_jval v, const char **s, size_t *n)
{
	const node *x = string_of(v);
	if (!x)
		return -1;
	*s = x->s;
	*n = x->n;
	return 0;
}

int bb_json_bool(struct bb_jval v, int *b)
{
	const node *x = at(v);
	if (!x || x->type != BB_JBOOL)
		return -1;
	*b = (int)x->i;
	return 0;
}

int bb_json_int64(struct bb_jval v, int64_t *i)
{
	const node *x = at(v);
	if (!x || x->type != BB_JNUMBER || !x->has_int)
		return -1;
	*i = x->i;
	return 0;
}

int bb_json_number_text(struct bb_jval v, const char **s, size_t *n)
{
	const node *x = at(v);
	if (!x || x->type != BB_JNUMBER)
		return -1;
	*s = v.doc->text + x->r;
	*n = x->rn;
	return 0;
}

int bb_json_raw(struct bb_jval v, const char **s, size_t *n)
{
	const node *x = at(v);
	if (!x)
		return -1;
	*s = v.doc->text + x->r;
	*n = x->rn;
	return 0;
}

int bb_json_span(struct bb_jval v, size_t *off, size_t *n)
{
	const node *x = at(v);
	if (!x)
		return -1;
	*off = x->r;
	*n = x->rn;
	return 0;
}

int bb_json_key_span(struct bb_jval m, size_t *off, size_t *n)
{
	const node *x = at(m);
	if (!x || !x->k)
		return -1;
	*off = x->kr;
	*n = x->krn;
	return 0;
}

int bb_json_string_is(struct bb_jval v, const char *s, size_t n)
{
	const node *x = at(v);
	if (!x || x->type != BB_JSTRING)
		return 0;
	if (x->lazy) /* decoding only shortens: a longer text cannot be equal */
		return x->n >= n && (x = string_of(v)) && x->n == n && memcmp(x->s, s, n) == 0;
	return x->n == n && memcmp(x->s, s, n) == 0;
}

} /* extern "C" */
