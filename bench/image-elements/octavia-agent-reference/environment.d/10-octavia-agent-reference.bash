# The controller hands an amphora its configuration and certificates on a config drive:
# cloud-init reads only that datasource unless the build asks for others.
export DIB_CLOUD_INIT_DATASOURCES=${DIB_CLOUD_INIT_DATASOURCES:-ConfigDrive}

# The debootstrap element writes ifupdown stanzas for eth0 and eth1, names these images'
# NICs do not have (predictable names): networking.service would fail at every boot.
# cloud-init configures the management NIC from the config drive; the agent configures
# the NICs plugged later. The project's element sets the same.
export DIB_APT_MINIMAL_CREATE_INTERFACES=${DIB_APT_MINIMAL_CREATE_INTERFACES:-0}
