# SPDX-License-Identifier: Apache-2.0
# links.mk — the modules each unit test links (agent/ paths without .c).
# Start from what the test calls; add a module only when the test needs
# its real behaviour, else write a fake in tests/unit/fakes/.
aws/test_aws_LINK := aws/arn aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry lib/clock lib/strutil
aws/test_awss3_LINK := aws/arn aws/aws aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry aws/s3get lib/clock lib/log lib/strutil
cli/test_hosts_LINK := aws/arn aws/aws aws/awscreds aws/awsprofile aws/awsregion aws/curllib aws/http aws/imds aws/retry cli/userssh cloudwatch/cwlogs cloudwatch/hosts_reader cloudwatch/records lib/clock lib/jsonutil lib/log lib/strutil
cloudwatch/test_cwbatch_LINK := cloudwatch/batch
cloudwatch/test_cwevents_LINK := cloudwatch/events
cloudwatch/test_cwlogs_LINK := aws/aws aws/awscreds aws/awsprofile aws/curllib aws/http aws/imds aws/retry cloudwatch/cwlogs lib/clock lib/log lib/strutil
cloudwatch/test_cwspool_LINK := cloudwatch/spool
cluster/test_cluster_LINK := cloudwatch/records cluster/cluster_files cluster/pace lib/jsonutil lib/strutil platform/gpus ssh/nettrust
cluster/test_roster_LINK := cloudwatch/records cluster/cluster_files cluster/roster lib/jsonutil lib/strutil
daemon/test_config_LINK := daemon/config lib/duration lib/log lib/strutil
daemon/test_control_LINK := daemon/control lib/log
daemon/test_hold_LINK := daemon/hold lib/clock lib/duration lib/log
init/test_failure_LINK := init/failure
init/test_sigfwd_LINK := init/sigfwd
init/test_spawn_LINK := init/spawn
lib/test_duration_LINK := lib/duration
lib/test_relay_LINK := lib/log lib/relay
platform/test_hyperpod_LINK := aws/arn lib/jsonutil lib/log lib/strutil platform/gpus platform/hyperpod platform/identity
platform/test_identity_LINK := aws/arn lib/jsonutil lib/log lib/strutil platform/gpus platform/hyperpod platform/identity
sftp/test_sftp_wire_LINK := sftp/sftp_wire
ssh/test_authkeys_LINK := ssh/authkeys ssh/match ssh/sshlib
ssh/test_keygen_LINK := ssh/ed25519 ssh/hostkey ssh/keygen ssh/sha2 ssh/sshlib
ssm/test_ssm_LINK := aws/aws aws/awscreds aws/awsprofile aws/curllib aws/http aws/imds aws/retry lib/clock lib/log lib/strutil ssm/ssm_api ssm/ssm_log ssm/ssm_sessions
