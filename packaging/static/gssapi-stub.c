/* SPDX-License-Identifier: Apache-2.0 */
/* gssapi-stub.c — a GSSAPI with no mechanism, for the static build only.
 *
 * Debian's libssh.a (libssh-dev) is built WITH_GSSAPI, so its gssapi.o needs
 * the gss_* functions of libgssapi_krb5, and Debian ships no static krb5.
 * porthole never offers gssapi-with-mic, but a client may still ask for it,
 * so these answer as a GSSAPI library that knows no mechanism: the OID sets
 * are empty, every context/credential/name call fails with GSS_S_UNAVAILABLE,
 * and libssh then answers the client with a plain auth failure
 * (ssh_gssapi_handle_userauth: no common OID -> ssh_auth_reply_default).
 * The prototypes are MIT krb5's (krb5-multidev's gssapi.h), the ABI
 * libssh.a was compiled against. Not used when libssh is built from source
 * (ST_LIBSSH=src in deps.mk, WITH_GSSAPI=OFF).
 */
#include <gssapi/gssapi.h>
#include <stdlib.h>

/* RFC 2744's OIDs, which libssh reads by address. */
static gss_OID_desc nt_user_name = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01" };
static gss_OID_desc nt_hostbased = { 10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
gss_OID GSS_C_NT_USER_NAME = &nt_user_name;
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &nt_hostbased;

static const char no_gss[] = "GSSAPI is not available in this build";

static OM_uint32 ok(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_COMPLETE;
}

static OM_uint32 unavailable(OM_uint32 *minor)
{
	if (minor != NULL)
		*minor = 0;
	return GSS_S_UNAVAILABLE;
}

static void empty(gss_buffer_t b)
{
	if (b != GSS_C_NO_BUFFER) {
		b->length = 0;
		b->value = NULL;
	}
}

OM_uint32 gss_create_empty_oid_set(OM_uint32 *minor, gss_OID_set *set)
{
	if (set == NULL)
		return unavailable(minor);
	*set = calloc(1, sizeof(**set));
	if (*set == NULL) {
		(void)ok(minor);
		return GSS_S_FAILURE;
	}
	return ok(minor);
}

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *set)
{
	return gss_create_empty_oid_set(minor, set);
}

OM_uint32 gss_add_oid_set_member(OM_uint32 *minor, gss_OID member, gss_OID_set *set)
{
	(void)member;
	(void)set;
	return unavailable(minor); /* only reached for a mechanism we have: none */
}

OM_uint32 gss_test_oid_set_member(OM_uint32 *minor, gss_OID member, gss_OID_set set, int *present)
{
	(void)member;
	(void)set;
	if (present != NULL)
		*present = 0;
	return ok(minor);
}

OM_uint32 gss_release_oid_set(OM_uint32 *minor, gss_OID_set *set)
{
	if (set != NULL) {
		free(*set); /* ours: always empty, no elements */
		*set = GSS_C_NO_OID_SET;
	}
	return ok(minor);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buf)
{
	empty(buf); /* buffers handed out here are static or empty */
	return ok(minor);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name)
{
	if (name != NULL)
		*name = GSS_C_NO_NAME;
	return ok(minor);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred)
{
	if (cred != NULL)
		*cred = GSS_C_NO_CREDENTIAL;
	return ok(minor);
}

OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_OID mech,
			     OM_uint32 *msg_ctx, gss_buffer_t out)
{
	(void)status;
	(void)type;
	(void)mech;
	if (msg_ctx != NULL)
		*msg_ctx = 0;
	if (out != GSS_C_NO_BUFFER) {
		out->length = sizeof(no_gss) - 1;
		out->value = (void *)no_gss;
	}
	return ok(minor);
}

OM_uint32 gss_display_name(OM_uint32 *minor, gss_name_t name, gss_buffer_t out, gss_OID *type)
{
	(void)name;
	empty(out);
	if (type != NULL)
		*type = GSS_C_NO_OID;
	return unavailable(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t in, gss_OID type, gss_name_t *out)
{
	(void)in;
	(void)type;
	if (out != NULL)
		*out = GSS_C_NO_NAME;
	return unavailable(minor);
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req, gss_OID_set mechs,
			   gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual, OM_uint32 *time_rec)
{
	(void)name;
	(void)time_req;
	(void)mechs;
	(void)usage;
	if (cred != NULL)
		*cred = GSS_C_NO_CREDENTIAL;
	if (actual != NULL)
		*actual = GSS_C_NO_OID_SET;
	if (time_rec != NULL)
		*time_rec = 0;
	return unavailable(minor);
}

OM_uint32 gss_inquire_cred(OM_uint32 *minor, gss_cred_id_t cred, gss_name_t *name, OM_uint32 *lifetime,
			   gss_cred_usage_t *usage, gss_OID_set *mechs)
{
	(void)cred;
	if (name != NULL)
		*name = GSS_C_NO_NAME;
	if (lifetime != NULL)
		*lifetime = 0;
	if (usage != NULL)
		*usage = 0;
	if (mechs != NULL)
		*mechs = GSS_C_NO_OID_SET;
	return unavailable(minor);
}

OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *minor, gss_cred_id_t cred, gss_OID mech, gss_name_t *name,
				   OM_uint32 *init_life, OM_uint32 *accept_life, gss_cred_usage_t *usage)
{
	(void)cred;
	(void)mech;
	if (name != NULL)
		*name = GSS_C_NO_NAME;
	if (init_life != NULL)
		*init_life = 0;
	if (accept_life != NULL)
		*accept_life = 0;
	if (usage != NULL)
		*usage = 0;
	return unavailable(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *ctx, gss_name_t target,
			       gss_OID mech, OM_uint32 req_flags, OM_uint32 time_req,
			       gss_channel_bindings_t cb, gss_buffer_t in, gss_OID *actual_mech,
			       gss_buffer_t out, OM_uint32 *ret_flags, OM_uint32 *time_rec)
{
	(void)cred;
	(void)ctx;
	(void)target;
	(void)mech;
	(void)req_flags;
	(void)time_req;
	(void)cb;
	(void)in;
	if (actual_mech != NULL)
		*actual_mech = GSS_C_NO_OID;
	empty(out);
	if (ret_flags != NULL)
		*ret_flags = 0;
	if (time_rec != NULL)
		*time_rec = 0;
	return unavailable(minor);
}

OM_uint32 gss_accept_sec_context(OM_uint32 *minor, gss_ctx_id_t *ctx, gss_cred_id_t cred, gss_buffer_t in,
				 gss_channel_bindings_t cb, gss_name_t *src, gss_OID *mech, gss_buffer_t out,
				 OM_uint32 *ret_flags, OM_uint32 *time_rec, gss_cred_id_t *deleg)
{
	(void)ctx;
	(void)cred;
	(void)in;
	(void)cb;
	if (src != NULL)
		*src = GSS_C_NO_NAME;
	if (mech != NULL)
		*mech = GSS_C_NO_OID;
	empty(out);
	if (ret_flags != NULL)
		*ret_flags = 0;
	if (time_rec != NULL)
		*time_rec = 0;
	if (deleg != NULL)
		*deleg = GSS_C_NO_CREDENTIAL;
	return unavailable(minor);
}

OM_uint32 gss_get_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_qop_t qop, gss_buffer_t msg, gss_buffer_t tok)
{
	(void)ctx;
	(void)qop;
	(void)msg;
	empty(tok);
	return unavailable(minor);
}

OM_uint32 gss_verify_mic(OM_uint32 *minor, gss_ctx_id_t ctx, gss_buffer_t msg, gss_buffer_t tok, gss_qop_t *qop)
{
	(void)ctx;
	(void)msg;
	(void)tok;
	if (qop != NULL)
		*qop = 0;
	return unavailable(minor);
}
