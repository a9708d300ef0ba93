# osrun:installer/j2ee_intent
# Records, in a command of its own sent just before the installer's, that
# an installer is about to start. If osrun dies after the installer command
# reached the host but before its shell wrote its process id, the next run
# still sees that an installer may be starting (for 30 seconds) and waits
# for it rather than starting a second one.
set -e
umask 077
: > {{sh (printf "%s.intent" .Running)}}
