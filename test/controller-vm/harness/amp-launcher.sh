#!/bin/bash
# amp-launcher.sh STATE_DIR, as the shared up.sh starts it: plays Nova for the tier's compute
# driver by booting and killing amphora VMs (vm-launcher.mjs beside the tier's run.mjs).
set -euo pipefail
exec "${CVM_NODE:?}" "${CVM_TIER_DIR:?}/vm-launcher.mjs" "$1"
