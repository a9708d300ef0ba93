# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool), then
# upgrades the platform packages.
set -e
printf '%s\n' '11.31.0' > '/var/tmp/osrun/pending-configuration'
rpm -Uvh '/var/tmp/osrun/outsystems-agileplatform-11.31.0.rpm' '/var/tmp/osrun/outsystems-agileplatform-wildfly8-11.31.0.rpm'
