# SPDX-License-Identifier: Apache-2.0
# links.mk — the agent modules each fuzz harness links (agent/ paths without .c).
fuzz_authkeys_LINK := lib/dynlib lib/passwd ssh/authkeys ssh/match ssh/sshlib
fuzz_authsig_LINK := lib/dynlib ssh/authsig ssh/sshlib
fuzz_config_LINK := daemon/config lib/duration lib/log lib/passwd lib/strutil lib/vis
fuzz_control_LINK := daemon/config daemon/control daemon/hold daemon/phase daemon/requests init/spawn lib/clock lib/duration lib/log lib/passwd lib/strutil lib/vis
fuzz_duration_LINK := lib/duration
fuzz_identity_LINK := aws/arn lib/jsonutil lib/log lib/strutil lib/vis platform/gpus platform/hyperpod platform/identity
fuzz_match_LINK := ssh/match
fuzz_records_LINK := cloudwatch/records cluster/cluster_files cluster/roster lib/jsonutil lib/strutil
fuzz_relay_LINK := lib/log lib/relay lib/vis
fuzz_responses_LINK := aws/arn aws/awscreds aws/awsprofile aws/curllib aws/http aws/imds aws/retry aws/trust cloudwatch/cwlogs lib/clock lib/dynlib lib/log lib/strutil lib/vis ssm/ssm_api aws/aws
fuzz_spool_LINK := cloudwatch/spool
fuzz_sftp_LINK := lib/log lib/passwd lib/vis sftp/sftp_conn sftp/sftp_dir sftp/sftp_dispatch sftp/sftp_ext sftp/sftp_file sftp/sftp_fs sftp/sftp_handles sftp/sftp_names sftp/sftp_path sftp/sftp_reply sftp/sftp_wire
