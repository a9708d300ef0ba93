# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool), then
# updates the platform packages from the configured repositories.
set -e
printf '%s\n' '11.31.0' > '/var/tmp/osrun/pending-configuration'
yum -y update 'outsystems-agileplatform*'
