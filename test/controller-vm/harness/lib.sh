# shellcheck shell=bash
# lib.sh of the controller-VM tier: the shared octavia-controller lib.sh (linked beside this file
# as shared-lib.sh by run.mjs), with the management network moved off the host's own addresses
# and the amphora NICs left to the amphora VMs. The shared up.sh and down.sh source this file
# (they find lib.sh beside themselves), so they run unchanged.
# shellcheck source=/dev/null
. "$(dirname "${BASH_SOURCE[0]}")/shared-lib.sh"
# On these machines the host's eth0 is 192.0.2.2/24 and 192.0.2.1 is its gateway, the shared
# harness's own addresses: the tier's management network is 172.29.0.0/24 instead (run.mjs checks
# that the host routes none of its networks). up.sh gives CTL_IP to the controller's ctl0 and
# AMP_IP to its peer mgmt0 in $NS_AMP, which run.mjs then puts on the management bridge of the
# amphora VMs (each VM's address comes from the compute driver: 172.29.0.(10+slot)).
# shellcheck disable=SC2034  # read by the shared up.sh and down.sh
CTL_IP=172.29.0.2 AMP_IP=172.29.0.1
# An amphora VM has its VIP NIC from boot (the launcher makes its tap); nothing to make here.
octctl_plug_vip_nic() { :; }
