/* A tiny JSON reader for the sandbox spec: objects, arrays, strings, numbers, booleans, null. */
#ifndef TSBUILD_JSON_H
#define TSBUILD_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	int boolean;
	double number;
	char *string;         /* JSON_STRING, NUL-terminated (embedded NULs are rejected) */
	struct json **items;  /* JSON_ARRAY elements, JSON_OBJECT member values */
	char **keys;          /* JSON_OBJECT member names */
	size_t len;
};

/* Parses text; on error returns NULL and writes a message naming the byte offset into err. */
struct json *json_parse(const char *text, char *err, size_t errlen);

/* The member named key of an object, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);

#endif
