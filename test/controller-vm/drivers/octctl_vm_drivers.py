"""Compute and network drivers for Octavia 11 whose amphorae are real VMs.

Owns the controller's side of the issue-12 directory contract ($CVM_DIR, see
the tier's README): the compute driver turns build() into a VM directory that
a launcher boots, and the network driver makes every port fact that reaches
an amphora (plug/vip body, keepalived peers) name that amphora's own slot.

* CvmComputeDriver (octavia.compute.drivers: cvm_compute_driver), a subclass
  of the stock NoopComputeDriver:
  - build(): under flock($CVM_DIR/lock) takes slot k = 1 + the highest slot
    of any vms/*/request.json (slots are never reused), writes
    vms/<compute_id>/config-drive/..., user-data and, last and atomically,
    request.json.
  - get_amphora(): lb_network_ip = the slot's mgmt_ip; BUILD until the
    launcher writes `running`, ACTIVE then, ERROR once it writes `gone`.
  - status(): UP while running, DOWN otherwise.
  - delete(): writes `delete` (idempotent; an unknown id is logged, no error).
* CvmNetworkDriver (octavia.network.drivers: cvm_network_driver), a subclass
  of the shared harness's HarnessNetworkDriver:
  - plug_aap_port() (LB create) and create_port() of an amphora's VIP base
    port (failover) give the amphora its slot's VRRP IP, so the DB's vrrp_ip,
    which the plug/vip body and the keepalived peers are built from, is the
    slot's.  The harness's per-process counter is never used for this: the
    health manager runs failovers in its own process, where that counter
    would hand out an address already in use.
  - get_network_configs(): each amphora's VRRP port has its slot's MAC and
    VRRP IP (that port's MAC is the plug/vip body's mac_address).
  - get_plugged_networks(): the management NIC carries the slot's mgmt_ip.
  Amphora -> slot goes through the amphora's compute_id (request.json of
  that VM); where only the amphora id is known (the base port's name), the
  VM directories are searched for it.

All state lives in $CVM_DIR, because octavia-api, octavia-worker and
octavia-health-manager each load these drivers in their own process.
"""
import fcntl
import glob
import json
import os
import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils

from octavia.common import constants
from octavia.common import data_models
from octavia.common import exceptions
from octavia.compute.drivers.noop_driver import driver as noop_compute
from octavia.network import data_models as n_models

import octctl_drivers

LOG = logging.getLogger(__name__)

MAX_SLOT = 80
MGMT_PREFIX = 24
AMPHORA_NAME_PREFIX = 'amphora-'
# Nova's server status while booting; Octavia's ComputeWait only tests for
# ACTIVE and ERROR, so any other value means "wait"
BUILD = 'BUILD'


class CvmError(exceptions.OctaviaException):
    message = 'amphora VM directory contract: %(msg)s'


# ---------------------------------------------------------------- $CVM_DIR

def cvm_dir():
    path = os.environ.get('CVM_DIR', '')
    if not os.path.isabs(path):
        raise CvmError(msg='CVM_DIR must be an absolute path, got %r' % path)
    return path


def vm_dir(compute_id):
    """The VM directory of compute_id, or None for an id we never made
    (None, or not a uuid: it must not name a path outside vms/)."""
    if not compute_id or not uuidutils.is_uuid_like(compute_id):
        return None
    return os.path.join(cvm_dir(), 'vms', compute_id)


def slot_facts(slot):
    return {'slot': slot,
            'mgmt_ip': '172.29.0.%d' % (10 + slot),
            'mgmt_prefix': MGMT_PREFIX,
            'vip_mac': 'fa:16:3e:00:00:%02x' % slot,
            'vrrp_ip': '198.51.100.%d' % (10 + slot)}


def read_request(compute_id):
    """request.json of compute_id as a dict, or None if there is none."""
    path = vm_dir(compute_id)
    if path is None:
        return None
    try:
        with open(os.path.join(path, 'request.json'), encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def find_request_by_amphora(amphora_id):
    """request.json of the newest VM built for amphora_id, or None."""
    found = []
    for path in glob.glob(os.path.join(cvm_dir(), 'vms', '*',
                                       'request.json')):
        with open(path, encoding='utf-8') as f:
            req = json.load(f)
        if req.get('amphora_id') == amphora_id:
            found.append(req)
    return max(found, key=lambda r: r['slot']) if found else None


def _write_atomic(path, text, mode=0o644):
    tmp = '%s.tmp.%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)  # not narrowed by the umask
    os.rename(tmp, path)


def _highest_slot(root):
    highest = 0
    for path in glob.glob(os.path.join(root, 'vms', '*', 'request.json')):
        # request.json is only ever renamed into place, so it is whole; a
        # file we cannot read must stop us: we could reuse its slot
        with open(path, encoding='utf-8') as f:
            highest = max(highest, int(json.load(f)['slot']))
    return highest


def _write_config_drive(directory, files):
    base = os.path.join(directory, 'config-drive')
    for name, content in (files or {}).items():
        rel = os.path.normpath(name.lstrip('/'))
        if rel in ('.', '') or rel.startswith('..') or os.path.isabs(rel):
            raise CvmError(msg='config drive path %r leaves the drive' % name)
        target = os.path.join(base, rel)
        parent = os.path.dirname(target)
        os.makedirs(parent, mode=0o755, exist_ok=True)
        while parent != directory:  # chmod: makedirs' mode obeys the umask
            os.chmod(parent, 0o755)
            parent = os.path.dirname(parent)
        if isinstance(content, bytes):
            content = content.decode('utf-8')
        _write_atomic(target, content, 0o600)


# ---------------------------------------------------------------- compute

class CvmComputeDriver(noop_compute.NoopComputeDriver):

    def build(self, name="amphora_name", amphora_flavor=None,
              image_tag=None, image_owner=None, key_name=None, sec_groups=None,
              network_ids=None, config_drive_files=None, user_data=None,
              port_ids=None, server_group_id=None, availability_zone=None):
        root = cvm_dir()
        os.makedirs(os.path.join(root, 'vms'), exist_ok=True)
        compute_id = uuidutils.generate_uuid()
        amphora_id = (name[len(AMPHORA_NAME_PREFIX):]
                      if name.startswith(AMPHORA_NAME_PREFIX) else None)
        fd = os.open(os.path.join(root, 'lock'), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            slot = _highest_slot(root) + 1
            if slot > MAX_SLOT:
                raise exceptions.ComputeBuildException(
                    fault='no amphora VM slot left (at most %d)' % MAX_SLOT)
            directory = os.path.join(root, 'vms', compute_id)
            os.mkdir(directory, 0o755)
            _write_config_drive(directory, config_drive_files)
            if user_data is not None:
                _write_atomic(os.path.join(directory, 'user-data'), user_data,
                              0o600)
            request = dict(compute_id=compute_id, name=name,
                           amphora_id=amphora_id, created=time.time(),
                           **slot_facts(slot))
            _write_atomic(os.path.join(directory, 'request.json'),
                          json.dumps(request, indent=1, sort_keys=True) + '\n')
        finally:
            os.close(fd)  # releases the flock
        LOG.info('amphora VM %s: slot %d (%s) for %s', compute_id, slot,
                 request['mgmt_ip'], name)
        return compute_id

    @staticmethod
    def _state(compute_id):
        """(request or None, 'BUILD'|'ACTIVE'|'ERROR', fault)"""
        directory = vm_dir(compute_id)
        req = read_request(compute_id)
        if directory is None or not os.path.isdir(directory):
            raise exceptions.ComputeGetException()
        if os.path.exists(os.path.join(directory, 'gone')):
            return req, constants.ERROR, 'amphora VM %s has exited' % (
                compute_id)
        if req is not None and os.path.exists(
                os.path.join(directory, 'running')):
            return req, constants.ACTIVE, None
        return req, BUILD, None

    def get_amphora(self, compute_id, management_network_id=None):
        req, status, fault = self._state(compute_id)
        return data_models.Amphora(
            compute_id=compute_id, status=status,
            lb_network_ip=req['mgmt_ip'] if req else None), fault

    def status(self, compute_id):
        try:
            _, status, _ = self._state(compute_id)
        except exceptions.ComputeGetException:
            return constants.DOWN
        return constants.UP if status == constants.ACTIVE else constants.DOWN

    def delete(self, compute_id):
        directory = vm_dir(compute_id)
        if directory is None or not os.path.isdir(directory):
            LOG.warning('compute delete of unknown id %s: nothing to do',
                        compute_id)
            return
        path = os.path.join(directory, 'delete')
        if not os.path.exists(path):
            _write_atomic(path, '%f\n' % time.time())


# ---------------------------------------------------------------- network

def _request_for(amphora):
    """The slot facts of an amphora object (compute_id first, then id)."""
    req = read_request(getattr(amphora, 'compute_id', None))
    if req is None and getattr(amphora, 'id', None):
        req = find_request_by_amphora(amphora.id)
    return req


class CvmNetworkDriver(octctl_drivers.HarnessNetworkDriver):

    def plug_aap_port(self, load_balancer, vip, amphora, subnet):
        req = _request_for(amphora)
        if req is None:
            raise CvmError(msg='amphora %s (compute %s) has no VM slot' % (
                amphora.id, amphora.compute_id))
        amp = super().plug_aap_port(load_balancer, vip, amphora, subnet)
        amp.vrrp_ip = req['vrrp_ip']
        return amp

    def create_port(self, network_id, name=None, fixed_ips=(),
                    secondary_ips=(), security_group_ids=(),
                    admin_state_up=True, qos_policy_id=None):
        port = super().create_port(
            network_id, name=name, fixed_ips=fixed_ips,
            secondary_ips=secondary_ips,
            security_group_ids=security_group_ids,
            admin_state_up=admin_state_up, qos_policy_id=qos_policy_id)
        prefix = constants.AMP_BASE_PORT_PREFIX
        if name and name.startswith(prefix):
            # the VIP base (VRRP) port of a failover's new amphora: its first
            # fixed IP becomes that amphora's vrrp_ip in the DB
            amphora_id = name[len(prefix):]
            req = find_request_by_amphora(amphora_id)
            if req is None:
                raise CvmError(msg='base port for amphora %s: no VM slot' % (
                    amphora_id))
            port.mac_address = req['vip_mac']
            port.fixed_ips[0].ip_address = req['vrrp_ip']
        return port

    def get_network_configs(self, loadbalancer, amphora=None):
        configs = super().get_network_configs(loadbalancer, amphora=amphora)
        vip = loadbalancer.vip
        for amp_id, net_cfg in configs.items():
            req = _request_for(net_cfg.amphora)
            if req is None:
                LOG.warning('amphora %s has no VM slot: harness VRRP port',
                            amp_id)
                continue
            if net_cfg.amphora.vrrp_ip not in (None, req['vrrp_ip']):
                LOG.warning('amphora %s: DB vrrp_ip %s is not its slot\'s %s',
                            amp_id, net_cfg.amphora.vrrp_ip, req['vrrp_ip'])
            port = octctl_drivers._port(net_cfg.amphora.vrrp_port_id,
                                        req['vrrp_ip'], vip.subnet_id,
                                        vip.network_id)
            port.mac_address = req['vip_mac']
            net_cfg.vrrp_port = port
        return configs

    def get_plugged_networks(self, compute_id):
        nics = super().get_plugged_networks(compute_id)
        req = read_request(compute_id)
        if req is None:
            return nics
        mgmt = set(cfg.CONF.controller_worker.amp_boot_network_list)
        for nic in nics:
            if nic.network_id in mgmt:
                nic.fixed_ips = [n_models.FixedIP(
                    subnet_id=fip.subnet_id, ip_address=req['mgmt_ip'])
                    for fip in nic.fixed_ips]
        return nics
