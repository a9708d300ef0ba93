# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool), then
# runs the given installer script.
set -e
printf '%s\n' '11.31.0' > '/var/tmp/osrun/pending-configuration'
OSRUN_VERSION='11.31.0' sh '/var/tmp/osrun/upgrade it'\''s.sh'
