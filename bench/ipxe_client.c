/* SPDX-License-Identifier: BSD-2-Clause */
#include "ipxe_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static bool append(char **p, char *end, const char *s, size_t n)
{
	if ((size_t)(end - *p) <= n)
		return false;
	memcpy(*p, s, n);
	*p += n;
	**p = 0;
	return true;
}

static bool named(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && !strncmp(name, want, len);
}

static bool setting(const char *name, size_t len, const struct ipxe_settings *s, char *val, size_t val_len)
{
	const uint8_t *m = s->mac, *u = s->uuid;

	if (named(name, len, "net0/mac") || named(name, len, "mac"))
		snprintf(val, val_len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	else if (named(name, len, "uuid"))
		snprintf(val, val_len,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
			 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	else if (named(name, len, "platform"))
		snprintf(val, val_len, "%s", s->platform);
	else if (named(name, len, "buildarch"))
		snprintf(val, val_len, "%s", s->buildarch);
	else
		return false;
	return true;
}

bool ipxe_expand(const char *in, const struct ipxe_settings *s, char *out, size_t out_len)
{
	char *p = out, *end = out + out_len;

	if (out_len == 0)
		return false;
	*p = 0;
	while (*in) {
		const char *close;
		char val[64];

		if (in[0] != '$' || in[1] != '{' || !(close = strchr(in + 2, '}'))) {
			if (!append(&p, end, in, 1))
				return false;
			in++;
			continue;
		}
		if (setting(in + 2, (size_t)(close - in - 2), s, val, sizeof(val)) &&
		    !append(&p, end, val, strlen(val)))
			return false;
		in = close + 1;
	}
	return true;
}

/* base + relative, as a browser (and iPXE) would resolve it. */
static bool resolve(const char *base_url, const char *url, char *out, size_t out_len)
{
	CURLU *u = curl_url();
	char *full = NULL;
	bool ok = u && curl_url_set(u, CURLUPART_URL, base_url, 0) == CURLUE_OK &&
		  curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < out_len;

	if (ok)
		snprintf(out, out_len, "%s", full);
	curl_free(full);
	curl_url_cleanup(u);
	return ok;
}

/* The first word of line after the command that is not an option. */
static bool url_word(const char *args, const char *base_url, const struct ipxe_settings *s, char *out,
		     size_t out_len)
{
	char word[IPXE_URL_MAX], expanded[IPXE_URL_MAX];

	for (;;) {
		size_t n;

		args += strspn(args, " \t");
		n = strcspn(args, " \t");
		if (n == 0 || n >= sizeof(word))
			return false;
		if (args[0] != '-') {
			memcpy(word, args, n);
			word[n] = 0;
			break;
		}
		/* iPXE's options that take a value as the next word. */
		if ((n == 2 && (!strncmp(args, "-n", 2) || !strncmp(args, "-t", 2))) ||
		    (n == 6 && !strncmp(args, "--name", 6)) || (n == 9 && !strncmp(args, "--timeout", 9))) {
			args += n;
			args += strspn(args, " \t");
			n = strcspn(args, " \t");
		}
		args += n;
	}
	return ipxe_expand(word, s, expanded, sizeof(expanded)) && resolve(base_url, expanded, out, out_len);
}

bool ipxe_read_script(const char *script, const char *base_url, const struct ipxe_settings *s,
		      struct ipxe_boot *out, const char **why)
{
	const char *line = script;

	memset(out, 0, sizeof(*out));
	if (strncmp(script, "#!ipxe", 6) != 0 && strncmp(script, "#!gpxe", 6) != 0) {
		*why = "not an iPXE script (no #!ipxe line)";
		return false;
	}
	while (line && *line) {
		const char *next = strchr(line, '\n');
		char buf[IPXE_URL_MAX + 64];
		size_t len = next ? (size_t)(next - line) : strlen(line), cmd_len;
		const char *args;

		if (len >= sizeof(buf)) {
			*why = "script line too long";
			return false;
		}
		memcpy(buf, line, len);
		buf[len] = 0;
		if (len && buf[len - 1] == '\r')
			buf[len - 1] = 0;
		line = next ? next + 1 : NULL;
		args = buf + strspn(buf, " \t");
		cmd_len = strcspn(args, " \t");
#define IS(word) (cmd_len == strlen(word) && !strncmp(args, word, cmd_len))
		if (IS("kernel") || IS("chain") || IS("imgexec")) {
			if (!url_word(args + cmd_len, base_url, s, out->kernel, sizeof(out->kernel))) {
				*why = "kernel line without a usable URL";
				return false;
			}
		} else if (IS("initrd") || IS("module") || IS("imgfetch")) {
			if (out->n_initrds == IPXE_MAX_INITRDS) {
				*why = "too many initrds";
				return false;
			}
			if (!url_word(args + cmd_len, base_url, s, out->initrds[out->n_initrds],
				      sizeof(out->initrds[0]))) {
				*why = "initrd line without a usable URL";
				return false;
			}
			out->n_initrds++;
		}
#undef IS
	}
	if (!out->kernel[0]) {
		*why = "the script boots no kernel (local disk, shell or menu)";
		return false;
	}
	return true;
}
