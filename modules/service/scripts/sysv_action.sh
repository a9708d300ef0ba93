# osrun:service/sysv_action
# Asks a SysV service to {{.Action}}; osrun then polls service/sysv_status
# until the state is reached, with a timeout.
service {{sh .Service}} {{sh .Action}}{{with .Sub}} {{sh .}}{{end}}
