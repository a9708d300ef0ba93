# osrun:service/sysv_status
# Reads the state of a SysV service. "service outsystems status DEPLOYER"
# prints e.g. "OutSystems Deployment Service - RUNNING"; other services
# answer with their exit status (LSB: 0 running, 3 not running), which is
# therefore reported, not fatal. Changes nothing.
service 'wildfly-outsystems' status 2>&1
echo "osrun-rc=$?"
