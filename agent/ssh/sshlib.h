/* SPDX-License-Identifier: Apache-2.0 */
/* sshlib.h — libssh, loaded when a process first needs it.
 *
 * porthole's PID 1 never speaks SSH: the processes it forks for connections
 * and for preparing the host key do.  Linking libssh would map it and OpenSSL
 * into PID 1 anyway, which costs the idle daemon about 2.5 MB of resident
 * memory, so those processes dlopen() it instead (lib/dynlib.h, as systemd
 * does with its optional libraries).  Code includes this header rather than
 * <libssh/...> and calls libssh by its usual names; every function used must
 * be listed here, or the binary links libssh again (`ldd porthole` shows it).
 *
 * sshlib_table is written once, by sshlib_load(), and only read afterwards. */
#ifndef PORTHOLE_SSHLIB_H
#define PORTHOLE_SSHLIB_H

#include <stddef.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "../lib/dynlib.h"

#define SSHLIB_FUNCTIONS(X) \
	X(ssh_bind_accept_fd) \
	X(ssh_bind_free) \
	X(ssh_bind_new) \
	X(ssh_bind_options_set) \
	X(ssh_channel_close) \
	X(ssh_channel_free) \
	X(ssh_channel_is_open) \
	X(ssh_channel_new) \
	X(ssh_channel_open_auth_agent) \
	X(ssh_channel_open_reverse_forward) \
	X(ssh_channel_read_nonblocking) \
	X(ssh_channel_request_send_exit_signal) \
	X(ssh_channel_request_send_exit_status) \
	X(ssh_channel_send_eof) \
	X(ssh_channel_window_size) \
	X(ssh_channel_write) \
	X(ssh_channel_write_stderr) \
	X(ssh_clean_pubkey_hash) \
	X(ssh_disconnect) \
	X(ssh_event_add_fd) \
	X(ssh_event_add_session) \
	X(ssh_event_dopoll) \
	X(ssh_event_free) \
	X(ssh_event_new) \
	X(ssh_event_remove_fd) \
	X(ssh_free) \
	X(ssh_get_error) \
	X(ssh_get_fingerprint_hash) \
	X(ssh_get_publickey_hash) \
	X(ssh_get_status) \
	X(ssh_handle_key_exchange) \
	X(ssh_is_connected) \
	X(ssh_key_cmp) \
	X(ssh_key_free) \
	X(ssh_key_type) \
	X(ssh_key_type_from_name) \
	X(ssh_key_type_to_char) \
	X(ssh_message_channel_request_open_destination) \
	X(ssh_message_channel_request_open_destination_port) \
	X(ssh_message_channel_request_open_originator) \
	X(ssh_message_channel_request_open_originator_port) \
	X(ssh_message_channel_request_open_reply_accept) \
	X(ssh_message_channel_request_open_reply_accept_channel) \
	X(ssh_message_global_request_address) \
	X(ssh_message_global_request_port) \
	X(ssh_message_global_request_reply_success) \
	X(ssh_message_reply_default) \
	X(ssh_message_subtype) \
	X(ssh_message_type) \
	X(ssh_new) \
	X(ssh_pcap_file_close) \
	X(ssh_pcap_file_free) \
	X(ssh_pcap_file_new) \
	X(ssh_pcap_file_open) \
	X(ssh_pki_export_privkey_base64) \
	X(ssh_pki_export_pubkey_base64) \
	X(ssh_pki_generate) \
	X(ssh_pki_import_privkey_base64) \
	X(ssh_pki_import_privkey_file) \
	X(ssh_pki_import_pubkey_base64) \
	X(ssh_remove_channel_callbacks) \
	X(ssh_send_keepalive) \
	X(ssh_set_auth_methods) \
	X(ssh_set_blocking) \
	X(ssh_set_channel_callbacks) \
	X(ssh_set_message_callback) \
	X(ssh_set_pcap_file) \
	X(ssh_set_server_callbacks) \
	X(ssh_string_free_char) \
	X(ssh_version)

struct sshlib {
	struct dynlib dl;
#define X(f) __typeof__(f) *f;
	SSHLIB_FUNCTIONS(X)
#undef X
};

extern struct sshlib sshlib_table;

/* Load libssh (0.10 or later) if not loaded yet: 0, or -1 with why in err. */
int sshlib_load(char *err, size_t len);

#ifndef SSHLIB_IMPL
#define ssh_bind_accept_fd (sshlib_table.ssh_bind_accept_fd)
#define ssh_bind_free (sshlib_table.ssh_bind_free)
#define ssh_bind_new (sshlib_table.ssh_bind_new)
#define ssh_bind_options_set (sshlib_table.ssh_bind_options_set)
#define ssh_channel_close (sshlib_table.ssh_channel_close)
#define ssh_channel_free (sshlib_table.ssh_channel_free)
#define ssh_channel_is_open (sshlib_table.ssh_channel_is_open)
#define ssh_channel_new (sshlib_table.ssh_channel_new)
#define ssh_channel_open_auth_agent (sshlib_table.ssh_channel_open_auth_agent)
#define ssh_channel_open_reverse_forward (sshlib_table.ssh_channel_open_reverse_forward)
#define ssh_channel_read_nonblocking (sshlib_table.ssh_channel_read_nonblocking)
#define ssh_channel_request_send_exit_signal (sshlib_table.ssh_channel_request_send_exit_signal)
#define ssh_channel_request_send_exit_status (sshlib_table.ssh_channel_request_send_exit_status)
#define ssh_channel_send_eof (sshlib_table.ssh_channel_send_eof)
#define ssh_channel_window_size (sshlib_table.ssh_channel_window_size)
#define ssh_channel_write (sshlib_table.ssh_channel_write)
#define ssh_channel_write_stderr (sshlib_table.ssh_channel_write_stderr)
#define ssh_clean_pubkey_hash (sshlib_table.ssh_clean_pubkey_hash)
#define ssh_disconnect (sshlib_table.ssh_disconnect)
#define ssh_event_add_fd (sshlib_table.ssh_event_add_fd)
#define ssh_event_add_session (sshlib_table.ssh_event_add_session)
#define ssh_event_dopoll (sshlib_table.ssh_event_dopoll)
#define ssh_event_free (sshlib_table.ssh_event_free)
#define ssh_event_new (sshlib_table.ssh_event_new)
#define ssh_event_remove_fd (sshlib_table.ssh_event_remove_fd)
#define ssh_free (sshlib_table.ssh_free)
#define ssh_get_error (sshlib_table.ssh_get_error)
#define ssh_get_fingerprint_hash (sshlib_table.ssh_get_fingerprint_hash)
#define ssh_get_publickey_hash (sshlib_table.ssh_get_publickey_hash)
#define ssh_get_status (sshlib_table.ssh_get_status)
#define ssh_handle_key_exchange (sshlib_table.ssh_handle_key_exchange)
#define ssh_is_connected (sshlib_table.ssh_is_connected)
#define ssh_key_cmp (sshlib_table.ssh_key_cmp)
#define ssh_key_free (sshlib_table.ssh_key_free)
#define ssh_key_type (sshlib_table.ssh_key_type)
#define ssh_key_type_from_name (sshlib_table.ssh_key_type_from_name)
#define ssh_key_type_to_char (sshlib_table.ssh_key_type_to_char)
#define ssh_message_channel_request_open_destination (sshlib_table.ssh_message_channel_request_open_destination)
#define ssh_message_channel_request_open_destination_port (sshlib_table.ssh_message_channel_request_open_destination_port)
#define ssh_message_channel_request_open_originator (sshlib_table.ssh_message_channel_request_open_originator)
#define ssh_message_channel_request_open_originator_port (sshlib_table.ssh_message_channel_request_open_originator_port)
#define ssh_message_channel_request_open_reply_accept (sshlib_table.ssh_message_channel_request_open_reply_accept)
#define ssh_message_channel_request_open_reply_accept_channel \
	(sshlib_table.ssh_message_channel_request_open_reply_accept_channel)
#define ssh_message_global_request_address (sshlib_table.ssh_message_global_request_address)
#define ssh_message_global_request_port (sshlib_table.ssh_message_global_request_port)
#define ssh_message_global_request_reply_success (sshlib_table.ssh_message_global_request_reply_success)
#define ssh_message_reply_default (sshlib_table.ssh_message_reply_default)
#define ssh_message_subtype (sshlib_table.ssh_message_subtype)
#define ssh_message_type (sshlib_table.ssh_message_type)
#define ssh_new (sshlib_table.ssh_new)
#define ssh_pcap_file_close (sshlib_table.ssh_pcap_file_close)
#define ssh_pcap_file_free (sshlib_table.ssh_pcap_file_free)
#define ssh_pcap_file_new (sshlib_table.ssh_pcap_file_new)
#define ssh_pcap_file_open (sshlib_table.ssh_pcap_file_open)
#define ssh_pki_export_privkey_base64 (sshlib_table.ssh_pki_export_privkey_base64)
#define ssh_pki_export_pubkey_base64 (sshlib_table.ssh_pki_export_pubkey_base64)
#define ssh_pki_generate (sshlib_table.ssh_pki_generate)
#define ssh_pki_import_privkey_base64 (sshlib_table.ssh_pki_import_privkey_base64)
#define ssh_pki_import_privkey_file (sshlib_table.ssh_pki_import_privkey_file)
#define ssh_pki_import_pubkey_base64 (sshlib_table.ssh_pki_import_pubkey_base64)
#define ssh_remove_channel_callbacks (sshlib_table.ssh_remove_channel_callbacks)
#define ssh_send_keepalive (sshlib_table.ssh_send_keepalive)
#define ssh_set_auth_methods (sshlib_table.ssh_set_auth_methods)
#define ssh_set_blocking (sshlib_table.ssh_set_blocking)
#define ssh_set_channel_callbacks (sshlib_table.ssh_set_channel_callbacks)
#define ssh_set_message_callback (sshlib_table.ssh_set_message_callback)
#define ssh_set_pcap_file (sshlib_table.ssh_set_pcap_file)
#define ssh_set_server_callbacks (sshlib_table.ssh_set_server_callbacks)
#define ssh_string_free_char (sshlib_table.ssh_string_free_char)
#define ssh_version (sshlib_table.ssh_version)
#endif

#endif
