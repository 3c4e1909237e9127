/*
 * What every area of the console's API shares (web_api.h): reading a
 * request's parameters and answering in JSON.
 */
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "bti.h"
#include "web_api.h"

const char *web_query(const struct web_call *call, const char *name)
{
	return MHD_lookup_connection_value(call->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_body_str(const struct web_call *call, const char *name)
{
	return call->body ? json_string_value(json_object_get(call->body, name)) : NULL;
}

const baton_key *web_key(const struct web_call *call)
{
	return serve_key(call->nd);
}

int web_ok(struct web_call *call, json_t *o)
{
	if (!o)
		return BATON_ENOMEM;
	call->out = o;
	return 0;
}

int web_id(const char *what, const char *hex, uint8_t *id, size_t n)
{
	size_t got = 0;
	if (!hex || strlen(hex) != 2 * n ||
	    sodium_hex2bin(id, n, hex, strlen(hex), NULL, &got, NULL) != 0 || got != n)
		return bti_diag_err(BATON_EVALUE, "%s: %zu hexadecimal digits are required", what,
		                    2 * n);
	return 0;
}

/* A file name safe inside the quotes of Content-Disposition. */
void web_safe_name(const char *name, char *out, size_t cap)
{
	size_t i;
	for (i = 0; name[i] && i + 1 < cap; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == '"' || name[i] == '\\' ||
		                 name[i] == '/' || (unsigned char)name[i] >= 0x7f
		             ? '_'
		             : name[i];
	out[i] = '\0';
}

/*
 * The type to send a file as: one of a few plain types a record names, so
 * that no stored text can make the browser run it; otherwise octet-stream.
 */
const char *web_send_type(const char *type)
{
	static const char *const plain[] = {"application/pdf", "image/png",  "image/jpeg",
	                                    "image/gif",       "text/plain", "text/csv"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(type, plain[i]) == 0)
			return plain[i];
	return "application/octet-stream";
}
