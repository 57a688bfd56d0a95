"""Writes the interface files Octavia's own code writes for a batch of plug requests.

Reads a JSON object on stdin: {"master_source"?: <text of master's interface_file.py>,
"specs": [{"kind": "vip"|"port", "name", "topology", "body", "vip"?, "release": "11"|"master"}]}.
"body" is the request body exactly as the controller sends it; the VIP side runs it through
Octavia's Plug.render_vips / build_vrrp_info, as plug_vip does, then VIPInterfaceFile /
PortInterfaceFile.write() into a temp agent_server_network_dir. For "release": "master", master's
module (loaded from "master_source", against the installed constants plus the three master
added) is used in place of the installed Octavia 11 one. Prints a JSON list: for each spec, in
order, the file's parsed content. One process for the whole batch: importing Octavia takes
seconds, so each case no longer pays for it.
"""
import json
import os
import sys
import tempfile
import types

from oslo_config import cfg

from octavia.amphorae.backends.agent.api_server import plug
from octavia.amphorae.backends.utils import interface_file as release_11
from octavia.common import config  # noqa: F401  registers the options
from octavia.common import constants

batch = json.load(sys.stdin)
out_dir = tempfile.mkdtemp()
cfg.CONF([], project='octavia', default_config_files=[])
cfg.CONF.set_override('agent_server_network_dir', out_dir, group='amphora_agent')

modules = {'11': release_11}
if batch.get('master_source'):
    # master's module, against Octavia 11's constants plus the three it added (11's module
    # does not read them)
    constants.IF_TYPE = 'if_type'
    constants.IS_SRIOV = 'is_sriov'
    constants.BACKEND = 'backend'
    master = types.ModuleType('master_interface_file')
    exec(compile(batch['master_source'], 'interface_file.py', 'exec'), master.__dict__)
    modules['master'] = master

p = plug.Plug(None)


def write(spec):
    module = modules[spec['release']]
    body = spec['body']
    extra = {'is_sriov': body.get('is_sriov', False)} if spec['release'] == 'master' else {}
    if spec['kind'] == 'vip':
        vips = [{'ip_address': spec['vip'], 'subnet_cidr': body['subnet_cidr'],
                 'gateway': body['gateway'],
                 'host_routes': body.get('host_routes', ())}] + list(body.get('additional_vips', ()))
        f = module.VIPInterfaceFile(
            name=spec['name'], mtu=body.get('mtu'), vips=p.render_vips(vips),
            vrrp_info=p.build_vrrp_info(body.get('vrrp_ip'), body['subnet_cidr'],
                                        body['gateway'], body.get('host_routes', ())),
            fixed_ips=body.get('fixed_ips'), topology=spec['topology'], **extra)
    else:
        f = module.PortInterfaceFile(name=spec['name'], mtu=body.get('mtu'),
                                     fixed_ips=body.get('fixed_ips'), **extra)
    path = os.path.join(out_dir, spec['name'] + '.json')
    f.write()
    with open(path, encoding='utf-8') as fp:
        text = fp.read()
    os.unlink(path)
    return json.loads(text)


json.dump([write(spec) for spec in batch['specs']], sys.stdout)
