# The controller hands an amphora its configuration and certificates on a config drive:
# cloud-init reads only that datasource unless the build asks for others.
export DIB_CLOUD_INIT_DATASOURCES=${DIB_CLOUD_INIT_DATASOURCES:-ConfigDrive}
