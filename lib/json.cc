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

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <string_view>
#include <vector>

namespace od = simdjson::ondemand;
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
	uint32_t next;  /* index just past this value and everything inside it */
	uint32_t count; /* elements or members */
	uint32_t parent;
	uint64_t keys; /* object: one bit per member name's hash, to refuse absent names at once */
	const char *s;  /* string: decoded bytes; number and others: text as written */
	size_t n;
	const char *r; /* the value's JSON text */
	size_t rn;
	const char *k; /* member name, when inside an object */
	size_t kn;
	const char *kr; /* … as written */
	size_t krn;
	int64_t i;
};

} // namespace

struct bb_jdoc {
	dom::parser dparser;
	od::parser parser; /* only to find where a refused text goes wrong */
	std::vector<node> nodes;
	char *text = nullptr; /* a padded copy of the input */
	size_t cap = 0, len = 0;
	uint32_t parent = 0;         /* the container being read */
	std::string_view key_raw;    /* the key of the member being read, as written */
	const char *fault = nullptr; /* where a check of ours failed */
	const char *big = nullptr;   /* the first number too large to convert */
	const char *fault_msg = nullptr;
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

size_t push(bb_jdoc *d, uint8_t type, std::string_view key, int has_key, std::string_view raw)
{
	node nd{};
	nd.kr = d->key_raw.data();
	nd.krn = d->key_raw.size();
	nd.type = type;
	nd.parent = d->parent;
	nd.r = nd.s = raw.data();
	nd.rn = nd.n = raw.size();
	if (has_key) {
		nd.k = key.data();
		nd.kn = key.size();
		node &p = d->nodes[d->parent];
		uint64_t bit = key_bit(nd.k, nd.kn);
		p.maybe_dup |= (p.keys & bit) != 0;
		p.keys |= bit;
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
		d->nodes[at].n = s.size();
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
	d->nodes[at].r = d->nodes[at].s = start;
	d->nodes[at].rn = d->nodes[at].n = (size_t)(closing(d, doc) - start);
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
	nd.r = nd.s = start;
	nd.rn = nd.n = (size_t)(close + 1 - start);
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
		l.d->nodes[at].s = s.data();
		l.d->nodes[at].n = s.size();
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

/* The DOM parser refused the text: the On-Demand walk finds where. */
void locate(bb_jdoc *d, error_code dom_error, bb_jerr *err)
{
	od::document doc;
	error_code e = d->parser.iterate(simdjson::padded_string_view(d->text, d->len, d->cap)).get(doc);

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
	if (d)
		free(d->text);
	delete d;
}

int bb_json_parse(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
		  struct bb_jerr *err)
{
	size_t need = len + simdjson::SIMDJSON_PADDING;

	*root = bb_jval{ nullptr, 0 };
	d->nodes.clear();
	d->fault = nullptr;
	d->big = nullptr;
	d->parent = 0;
	d->key_raw = {};
	if (need > d->cap) {
		char *t = (char *)realloc(d->text, need);
		if (!t) {
			err->offset = 0;
			snprintf(err->message, sizeof err->message, "out of memory");
			return -1;
		}
		d->text = t;
		d->cap = need;
	}
	memcpy(d->text, text, len);
	memset(d->text + len, ' ', simdjson::SIMDJSON_PADDING);
	d->len = len;
	dom::element top;
	error_code e = d->dparser.parse(d->text, len, false).get(top);
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

struct bb_jval bb_json_get(struct bb_jval obj, const char *key, size_t kn)
{
	const node *o = at(obj);
	bb_jval found{ nullptr, 0 };

	if (!o || o->type != BB_JOBJECT || !(o->keys & key_bit(key, kn)))
		return found;
	for (uint32_t i = obj.i + 1; i < o->next; i = obj.doc->nodes[i].next) {
		const node &m = obj.doc->nodes[i];
		if (m.kn == kn && (kn == 0 || m.k[0] == key[0]) && memcmp(m.k, key, kn) == 0) {
			found = bb_jval{ obj.doc, i }; /* the last one wins */
			if (!o->maybe_dup)
				break;
		}
	}
	return found;
}

struct bb_jval bb_json_getz(struct bb_jval obj, const char *key)
{
	return bb_json_get(obj, key, strlen(key));
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

int bb_json_string(struct bb_jval v, const char **s, size_t *n)
{
	const node *x = at(v);
	if (!x || x->type != BB_JSTRING)
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
	*s = x->s;
	*n = x->n;
	return 0;
}

int bb_json_raw(struct bb_jval v, const char **s, size_t *n)
{
	const node *x = at(v);
	if (!x)
		return -1;
	*s = x->r;
	*n = x->rn;
	return 0;
}

int bb_json_span(struct bb_jval v, size_t *off, size_t *n)
{
	const node *x = at(v);
	if (!x)
		return -1;
	*off = (size_t)(x->r - v.doc->text);
	*n = x->rn;
	return 0;
}

int bb_json_key_span(struct bb_jval m, size_t *off, size_t *n)
{
	const node *x = at(m);
	if (!x || !x->kr)
		return -1;
	*off = (size_t)(x->kr - m.doc->text);
	*n = x->krn;
	return 0;
}

int bb_json_string_is(struct bb_jval v, const char *s, size_t n)
{
	const node *x = at(v);
	return x && x->type == BB_JSTRING && x->n == n && memcmp(x->s, s, n) == 0;
}

} /* extern "C" */
