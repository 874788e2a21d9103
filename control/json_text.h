/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A JSON string of text that may not be UTF-8: file names from the network,
 * messages cut to a length in the middle of a character. jansson refuses
 * invalid UTF-8 (json_string returns NULL, and the value would silently go
 * missing); here the bytes outside ASCII become '?' instead.
 */
#ifndef STAMPEDE_JSON_TEXT_H
#define STAMPEDE_JSON_TEXT_H

#include <jansson.h>

static inline json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	char clean[512];
	size_t i;

	if (j)
		return j;
	for (i = 0; s[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	clean[i] = '\0';
	return json_string(clean);
}

#endif
