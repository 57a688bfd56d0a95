# Settings of the amphora-agent element (sourced by diskimage-builder in every
# phase). Empty means "not given"; README.rst describes each one.

# The agent package: the .tgz that `npm pack` writes in the amphora-agent
# repository. Required.
export DIB_AMPHORA_AGENT_TARBALL=${DIB_AMPHORA_AGENT_TARBALL:-}

# Optional: an official Node.js Linux binary tarball (node-vX.Y.Z-linux-ARCH.tar.xz)
# to unpack under /usr/local when the distribution's nodejs is too old.
export DIB_AMPHORA_AGENT_NODE_TARBALL=${DIB_AMPHORA_AGENT_NODE_TARBALL:-}

# Optional: the npm registry to fetch the agent's dependencies from.
export DIB_AMPHORA_AGENT_NPM_REGISTRY=${DIB_AMPHORA_AGENT_NPM_REGISTRY:-}

# Optional: CA certificates (PEM) that npm must trust to reach the registry,
# e.g. behind a TLS-intercepting proxy. Used only during the build.
export DIB_AMPHORA_AGENT_NPM_CAFILE=${DIB_AMPHORA_AGENT_NPM_CAFILE:-}
