# osrun:service/sysv_action
# Asks a SysV service to stop; osrun then polls service/sysv_status
# until the state is reached, with a timeout.
service 'wildfly-outsystems' 'stop'
