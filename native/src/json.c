#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
	int depth;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		abort();
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		abort();
	return p;
}

static struct json *fail(struct parser *p, const char *what)
{
	if (!p->err[0])
		snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
	return NULL;
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

static int hex4(struct parser *p, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* At the opening quote; the result is no longer than the escaped source, so one allocation does. */
static char *parse_string(struct parser *p)
{
	p->pos++;
	const char *end = p->s + p->pos;
	char *out = xcalloc(strlen(end) + 1, 1), *o = out;
	for (;;) {
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			free(out);
			return (char *)fail(p, c ? "control character in string" : "unterminated string");
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		char e = p->s[p->pos++];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			*o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			continue;
		}
		unsigned cp, lo;
		if (e != 'u' || hex4(p, &cp) < 0 || cp == 0) {
			free(out);
			return (char *)fail(p, "bad escape in string");
		}
		if (cp >= 0xD800 && cp < 0xDC00 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
			p->pos += 2;
			if (hex4(p, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
				free(out);
				return (char *)fail(p, "bad surrogate pair in string");
			}
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		o += put_utf8(o, cp);
	}
	*o = 0;
	return out;
}

static struct json *parse_value(struct parser *p);

static struct json *parse_container(struct parser *p, enum json_type type)
{
	char close = type == JSON_ARRAY ? ']' : '}';
	struct json *v = xcalloc(1, sizeof *v);
	v->type = type;
	if (++p->depth > 64)
		return fail(p, "nesting too deep");
	p->pos++;
	skip_ws(p);
	if (p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return v;
	}
	for (;;) {
		skip_ws(p);
		char *key = NULL;
		if (type == JSON_OBJECT) {
			if (p->s[p->pos] != '"' || !(key = parse_string(p)))
				return fail(p, "expected a member name");
			skip_ws(p);
			if (p->s[p->pos++] != ':')
				return fail(p, "expected ':'");
		}
		struct json *item = parse_value(p);
		if (!item)
			return NULL;
		v->items = xrealloc(v->items, (v->len + 1) * sizeof *v->items);
		v->keys = xrealloc(v->keys, (v->len + 1) * sizeof *v->keys);
		v->items[v->len] = item;
		v->keys[v->len++] = key;
		skip_ws(p);
		char c = p->s[p->pos++];
		if (c == close)
			break;
		if (c != ',')
			return fail(p, type == JSON_ARRAY ? "expected ',' or ']'" : "expected ',' or '}'");
	}
	p->depth--;
	return v;
}

static struct json *parse_value(struct parser *p)
{
	skip_ws(p);
	const char *at = p->s + p->pos;
	struct json *v;
	switch (*at) {
	case '{':
		return parse_container(p, JSON_OBJECT);
	case '[':
		return parse_container(p, JSON_ARRAY);
	case '"': {
		char *s = parse_string(p);
		if (!s)
			return NULL;
		v = xcalloc(1, sizeof *v);
		v->type = JSON_STRING;
		v->string = s;
		return v;
	}
	}
	if (!*at)
		return fail(p, "unexpected end of input");
	v = xcalloc(1, sizeof *v);
	if (strncmp(at, "true", 4) == 0 || strncmp(at, "false", 5) == 0) {
		v->type = JSON_BOOL;
		v->boolean = *at == 't';
		p->pos += v->boolean ? 4 : 5;
	} else if (strncmp(at, "null", 4) == 0) {
		v->type = JSON_NULL;
		p->pos += 4;
	} else {
		char *end;
		v->type = JSON_NUMBER;
		v->number = strtod(at, &end);
		if (end == at || !(*at == '-' || (*at >= '0' && *at <= '9')))
			return fail(p, "unexpected character");
		p->pos += (size_t)(end - at);
	}
	return v;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser p = { text, 0, err, errlen, 0 };
	err[0] = 0;
	struct json *v = parse_value(&p);
	if (!v)
		return NULL;
	skip_ws(&p);
	return p.s[p.pos] ? fail(&p, "trailing characters") : v;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}
