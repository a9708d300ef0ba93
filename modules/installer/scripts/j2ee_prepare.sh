# osrun:installer/j2ee_prepare
# Creates the private directory the packages are uploaded to.
set -e
umask 077
mkdir -p {{sh .Staging}}
