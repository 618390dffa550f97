# SPDX-License-Identifier: Apache-2.0
# links.mk — the modules each unit test links (agent/ paths without .c;
# fakes/x is tests/unit/fakes/x.c).
# Start from what the test calls; add a module only when the test needs
# its real behaviour, else write a fake in tests/unit/fakes/.
aws/test_aws_LINK := aws/arn aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry lib/clock lib/dynlib lib/strutil
aws/test_awss3_LINK := aws/arn aws/aws aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry aws/s3get aws/trust lib/clock lib/dynlib lib/log lib/strutil lib/vis
aws/test_trust_LINK := aws/trust
cli/test_hosts_LINK := aws/arn aws/aws aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry aws/trust cli/userssh cloudwatch/cwlogs cloudwatch/hosts_reader cloudwatch/records lib/clock lib/dynlib lib/jsonutil lib/log lib/strutil lib/vis
cloudwatch/test_cwbatch_LINK := cloudwatch/batch
cloudwatch/test_cwevents_LINK := cloudwatch/events
cloudwatch/test_cwlogs_LINK := aws/aws aws/awscreds aws/awsprofile aws/curllib aws/http aws/imds aws/retry aws/trust cloudwatch/cwlogs lib/clock lib/dynlib lib/log lib/strutil lib/vis
cloudwatch/test_cwpub_LINK := aws/arn aws/awsprofile aws/awsregion aws/retry cloudwatch/batch cloudwatch/cwlogs cloudwatch/cwpub cloudwatch/events cloudwatch/spool lib/clock lib/log lib/strutil lib/vis fakes/fake_aws
cloudwatch/test_cwspool_LINK := cloudwatch/spool
cluster/test_cluster_LINK := cloudwatch/records cluster/cluster_files cluster/pace lib/jsonutil lib/strutil platform/gpus ssh/nettrust
cluster/test_rendezvous_LINK := cloudwatch/records cluster/cluster_files cluster/pace cluster/rendezvous cluster/roster lib/jsonutil lib/strutil
cluster/test_roster_LINK := cloudwatch/records cluster/cluster_files cluster/roster lib/jsonutil lib/strutil
daemon/test_config_LINK := daemon/config lib/duration lib/log lib/passwd lib/strutil lib/vis
daemon/test_control_LINK := daemon/control lib/log lib/vis
daemon/test_hold_LINK := daemon/hold lib/clock lib/duration lib/log lib/vis
init/test_failure_LINK := init/failure
init/test_sigfwd_LINK := init/sigfwd
init/test_spawn_LINK := init/spawn
lib/test_backoff_LINK := lib/backoff
lib/test_duration_LINK := lib/duration
lib/test_passwd_LINK := lib/passwd
lib/test_relay_LINK := lib/log lib/relay lib/vis
lib/test_relay_reader_LINK := lib/clock lib/log lib/relay lib/relay_reader lib/report lib/vis
lib/test_vis_LINK := lib/vis
platform/test_hyperpod_LINK := aws/arn lib/jsonutil lib/log lib/strutil lib/vis platform/gpus platform/hyperpod platform/identity
platform/test_identity_LINK := aws/arn lib/jsonutil lib/log lib/strutil lib/vis platform/gpus platform/hyperpod platform/identity
sftp/test_sftp_dispatch_LINK := lib/log lib/passwd lib/vis sftp/sftp_conn sftp/sftp_dir sftp/sftp_dispatch sftp/sftp_ext sftp/sftp_file sftp/sftp_fs sftp/sftp_handles sftp/sftp_names sftp/sftp_path sftp/sftp_reply sftp/sftp_wire
sftp/test_sftp_handles_LINK := sftp/sftp_handles sftp/sftp_wire
sftp/test_sftp_wire_LINK := sftp/sftp_wire
ssh/test_authkeys_LINK := lib/dynlib lib/passwd ssh/authkeys ssh/match ssh/sshlib
ssh/test_chan_table_LINK := lib/dynlib lib/passwd ssh/authkeys ssh/chan_table ssh/match ssh/session_env ssh/sshlib
ssh/test_penalty_LINK := ssh/penalty
ssh/test_persource_LINK := lib/strutil ssh/match ssh/nettrust ssh/persource
ssh/test_resolve_LINK := ssh/resolve
ssh/test_session_env_LINK := lib/passwd ssh/session_env
ssm/test_ssm_LINK := aws/aws aws/awscreds aws/awsprofile aws/curllib aws/http aws/imds aws/retry aws/trust lib/clock lib/dynlib lib/log lib/strutil lib/vis ssm/ssm_api ssm/ssm_log ssm/ssm_sessions
