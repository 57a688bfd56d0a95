# Settings of the amphora-agent element (sourced by diskimage-builder in every
# phase). Empty means "not given"; README.rst describes each one.

# The agent package: the .tgz that `npm pack` writes in the amphora-agent
# repository. Required.
export DIB_AMPHORA_AGENT_TARBALL=${DIB_AMPHORA_AGENT_TARBALL:-}

# Optional: an official Node.js Linux binary tarball (node-vX.Y.Z-linux-ARCH.tar.xz)
# to unpack under /usr/local when the distribution's nodejs is too old.
export DIB_AMPHORA_AGENT_NODE_TARBALL=${DIB_AMPHORA_AGENT_NODE_TARBALL:-}

# Optional: the npm registry that npm on the build host fetches the agent's
# dependencies from.
export DIB_AMPHORA_AGENT_NPM_REGISTRY=${DIB_AMPHORA_AGENT_NPM_REGISTRY:-}

# Optional: CA certificates (PEM) that npm on the build host must trust to reach
# the registry, e.g. behind a TLS-intercepting proxy. Never copied into the image.
export DIB_AMPHORA_AGENT_NPM_CAFILE=${DIB_AMPHORA_AGENT_NPM_CAFILE:-}

# Optional: the package-lock.json of the amphora-agent repository. The agent's
# dependencies are then installed (on the build host) at exactly those versions;
# otherwise npm resolves them from the package's ranges.
export DIB_AMPHORA_AGENT_LOCKFILE=${DIB_AMPHORA_AGENT_LOCKFILE:-}

# cloud-init reads the controller's config drive (Octavia's default delivery of
# amphora-agent.conf and the certificates); the cloud-init-datasources element
# limits it to these data sources, so that it does not probe others at boot.
export DIB_CLOUD_INIT_DATASOURCES=${DIB_CLOUD_INIT_DATASOURCES:-ConfigDrive}

# The debootstrap element writes "auto eth0" and "auto eth1" with DHCP for
# ifupdown unless told not to. Interfaces have predictable names on these
# images (ens3, ...), cloud-init configures the management NIC, and the agent
# configures the NICs the controller plugs later: those files would only make
# networking.service fail at boot.
export DIB_APT_MINIMAL_CREATE_INTERFACES=${DIB_APT_MINIMAL_CREATE_INTERFACES:-0}
