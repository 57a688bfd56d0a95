"""Writes the interface file Octavia's own code writes for one plug request.

Reads a JSON spec on stdin: {"kind": "vip"|"port", "name", "topology", "body", "vip"?,
"master_source"?}. "body" is the request body exactly as the controller sends it; the VIP side
runs it through Octavia's Plug.render_vips / build_vrrp_info, as plug_vip does, then
VIPInterfaceFile / PortInterfaceFile.write() into a temp agent_server_network_dir. With
"master_source" (the text of master's interface_file.py) that module is loaded in place of the
installed Octavia 11 one, with the constants master added. Prints the file's text.
"""
import json
import os
import sys
import tempfile
import types

from oslo_config import cfg

from octavia.amphorae.backends.agent.api_server import plug
from octavia.common import config  # noqa: F401  registers the options
from octavia.common import constants

spec = json.load(sys.stdin)
out_dir = tempfile.mkdtemp()
cfg.CONF([], project='octavia', default_config_files=[])
cfg.CONF.set_override('agent_server_network_dir', out_dir, group='amphora_agent')

if spec.get('master_source'):
    # master's module, against Octavia 11's constants plus the three it added
    constants.IF_TYPE = 'if_type'
    constants.IS_SRIOV = 'is_sriov'
    constants.BACKEND = 'backend'
    module = types.ModuleType('master_interface_file')
    exec(compile(spec['master_source'], 'interface_file.py', 'exec'), module.__dict__)
else:
    from octavia.amphorae.backends.utils import interface_file as module

body = spec['body']
p = plug.Plug(None)
extra = {'is_sriov': body.get('is_sriov', False)} if spec.get('master_source') else {}
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
f.write()
with open(os.path.join(out_dir, spec['name'] + '.json'), encoding='utf-8') as fp:
    sys.stdout.write(fp.read())
