#!/usr/bin/python3
"""Self-check of octctl_vm_drivers without VMs: /usr/bin/python3 selftest.py

What is real: Octavia 11's own v2 ControllerWorker, flows, tasks, DB
repositories (on a SQLite file), amphora REST driver and keepalived templater,
loaded through the same stevedore entry points as in the services; our two
drivers; $CVM_DIR in a temp directory; separate OS processes for the worker
and the health manager (failover), as in the tier.

What stands in (isolated in this file, nothing inside the drivers is stubbed):
* a launcher thread in each process, which writes `running` for every new
  VM directory and `gone` once `delete` appears, as the tier's launcher does;
* the HTTPS layer under Octavia's amphora API client
  (requests.Session.request): it records method, URL (so the amphora's
  lb_network_ip), the TLS host name pinned (the amphora id) and the body, and
  answers as an agent would (api_version, info, interface, 202).
Exit status 1 on any failed check; every check is printed.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = '/work/shared/tools/octavia-controller/drivers'
MGMT_NET = '00000000-0000-0000-0000-00000000b007'
VIP_NET = '5e1f0a3c-0000-4000-8000-0000000000ee'
VIP_SUBNET = '5e1f0a3c-0000-4000-8000-0000000000ef'
PROJECT = 'selftest'

FAILED = []


def check(ok, what):
    print('%s  %s' % ('ok  ' if ok else 'FAIL', what), flush=True)
    if not ok:
        FAILED.append(what)


# ------------------------------------------------------------ environment

def child_env(extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, os.environ.get('SELFTEST_SHARED', SHARED)] +
        [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])
    env.update(extra or {})
    return env


def configure(tmp):
    """Octavia's CONF for this process: drivers, SQLite DB, PKI, fast retries."""
    import warnings
    warnings.filterwarnings('ignore', module='sqlalchemy')
    warnings.filterwarnings('ignore', message='.*relationship.*')
    from oslo_config import cfg
    from octavia.common import config  # noqa: F401  (registers the options)
    import logging
    logging.basicConfig(filename=os.path.join(tmp, 'octavia.log'),
                        level=logging.INFO)
    config.register_cli_opts()
    conf = cfg.CONF
    conf([], project='octavia', default_config_files=[])
    over = {
        'database': {'connection': 'sqlite:///%s/octavia.db' % tmp},
        'controller_worker': {
            'compute_driver': 'cvm_compute_driver',
            # SELFTEST_NETWORK_DRIVER=harness_network_driver: negative control
            'network_driver': os.environ.get('SELFTEST_NETWORK_DRIVER',
                                             'cvm_network_driver'),
            'amphora_driver': 'amphora_haproxy_rest_driver',
            'amp_boot_network_list': [MGMT_NET],
            'amp_active_retries': 60, 'amp_active_wait_sec': 1,
            'client_ca': '%s/ca.pem' % tmp, 'loadbalancer_topology': 'SINGLE',
            'amp_image_tag': 'amphora', 'amp_flavor_id': 'f1',
            'event_notifications': False},
        'certificates': {'ca_certificate': '%s/ca.pem' % tmp,
                         'ca_private_key': '%s/ca.key' % tmp},
        'haproxy_amphora': {'server_ca': '%s/ca.pem' % tmp,
                            'client_cert': '%s/ca.pem' % tmp,
                            'connection_max_retries': 3,
                            'connection_retry_interval': 1,
                            'api_db_commit_retry_attempts': 3},
        'task_flow': {'jobboard_enabled': False},
    }
    for group, opts in over.items():
        for name, value in opts.items():
            conf.set_override(name, value, group=group)


def install_launcher(cvm):
    """Plays the tier's launcher: `running` for new VMs, `gone` after delete."""
    def loop():
        while True:
            for d in glob.glob(os.path.join(cvm, 'vms', '*')):
                if not os.path.exists(os.path.join(d, 'request.json')):
                    continue
                if not os.path.exists(os.path.join(d, 'running')):
                    open(os.path.join(d, 'running'), 'w').close()
                if (os.path.exists(os.path.join(d, 'delete')) and
                        not os.path.exists(os.path.join(d, 'gone'))):
                    open(os.path.join(d, 'gone'), 'w').close()
            time.sleep(0.1)
    threading.Thread(target=loop, daemon=True).start()


def install_agent_recorder(log_path, role):
    """Replaces the HTTPS layer under Octavia's amphora API client."""
    import requests

    def fake_request(self, method, url, **kwargs):
        amp_id = getattr(self.adapters.get('https://'), 'uuid', None)
        host = url.split('//', 1)[1].split('/', 1)[0].rsplit(':', 1)[0]
        path = '/' + url.split('//', 1)[1].split('/', 1)[1]
        body = kwargs.get('json')
        data = kwargs.get('data')
        if isinstance(data, bytes):
            data = data.decode('utf-8', 'replace')
        with open(log_path, 'a', encoding='utf-8') as f:
            f.write(json.dumps({'role': role, 'method': method.upper(),
                                'host': host, 'path': path, 'amp': amp_id,
                                'json': body, 'data': data}) + '\n')
        answer, status = {}, 202
        if method.upper() == 'GET':
            status = 200
            if path in ('/', '//'):  # the version probe: GET <base>/ + '/'
                answer = {'api_version': '1.0'}
            elif path.startswith('/1.0/info'):
                answer = {'hostname': 'amphora', 'api_version': '1.0',
                          'haproxy_version': '2.6'}
            elif path.startswith('/1.0/interface/'):
                answer = {'interface': 'eth1'}
        r = requests.models.Response()
        r.status_code = status
        r._content = json.dumps(answer).encode()
        r.headers['content-type'] = 'application/json'
        r.url = url
        return r
    requests.sessions.Session.request = fake_request


def make_pki(tmp):
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                    '-nodes', '-subj', '/CN=selftest-ca', '-days', '2',
                    '-keyout', '%s/ca.key' % tmp, '-out', '%s/ca.pem' % tmp],
                   check=True, capture_output=True)


def make_db():
    from octavia.common import constants
    from octavia.db import api as db_api
    from octavia.db import base_models
    from octavia.db import models
    base_models.BASE.metadata.create_all(db_api.get_engine())
    session = db_api.get_session()
    lookups = [
        (constants.SUPPORTED_PROVISIONING_STATUSES, models.ProvisioningStatus),
        (constants.SUPPORTED_OPERATING_STATUSES, models.OperatingStatus),
        (constants.SUPPORTED_PROTOCOLS, models.Protocol),
        (constants.SUPPORTED_LB_ALGORITHMS, models.Algorithm),
        (constants.SUPPORTED_AMPHORA_ROLES, models.AmphoraRoles),
        (constants.SUPPORTED_LB_TOPOLOGIES, models.LBTopology),
        (constants.SUPPORTED_VRRP_AUTH, models.VRRPAuthMethod)]
    for names, cls in lookups:
        with session.begin():
            for name in names:
                session.add(cls(name=name))


# ------------------------------------------------------------ child roles

def role_compute(args):
    """build NAME | state ID | delete ID | build-at-go GO N"""
    import octctl_vm_drivers as d
    drv = d.CvmComputeDriver()
    if args[0] == 'build':
        print(drv.build(name=args[1], config_drive_files={
            '/etc/octavia/amphora-agent.conf': '[DEFAULT]\n',
            '/etc/octavia/certs/server.pem': 'PEM\n'}, user_data='#cloud\n'))
    elif args[0] == 'state':
        amp, fault = drv.get_amphora(args[1])
        print(json.dumps({'status': amp.status, 'ip': amp.lb_network_ip,
                          'fault': fault, 'up': drv.status(args[1])}))
    elif args[0] == 'delete':
        drv.delete(args[1])
        print('deleted')
    elif args[0] == 'build-at-go':
        while not os.path.exists(args[1]):
            time.sleep(0.005)
        print(' '.join(drv.build(name='amphora-race-%d-%d' % (os.getpid(), i))
                       for i in range(int(args[2]))))


def role_failover(tmp, amphora_id):
    """What octavia-health-manager does for a stale amphora, in-process."""
    configure(tmp)
    install_launcher(os.environ['CVM_DIR'])
    install_agent_recorder(os.path.join(tmp, 'agent-calls.jsonl'),
                           'health-manager')
    from octavia.common import constants
    from octavia.controller.worker.v2 import controller_worker
    from octavia.db import api as db_apis
    from octavia.db import repositories as repo
    amp = repo.AmphoraRepository().get(db_apis.get_session(), id=amphora_id)
    repo.LoadBalancerRepository().update(
        db_apis.get_session(), amp.load_balancer_id,
        provisioning_status=constants.PENDING_UPDATE)
    controller_worker.ControllerWorker().failover_amphora(amphora_id,
                                                          reraise=True)
    print('failover done')


def run_child(args, env, timeout=300, quiet=False):
    r = subprocess.run([sys.executable, os.path.abspath(__file__)] + args,
                       env=env, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0 and not quiet:
        print(r.stdout[-3000:], r.stderr[-6000:], file=sys.stderr)
    return r


# ------------------------------------------------------------ A: compute

def compute_checks(tmp):
    print('== compute driver across processes (CVM_DIR=%s/cvm-a)' % tmp)
    cvm = os.path.join(tmp, 'cvm-a')
    env = child_env({'CVM_DIR': cvm})

    def child(*args):
        return run_child(['child', 'compute'] + list(args), env)
    amp_id = 'a1b2c3d4-0000-4000-8000-000000000001'
    r = child('build', 'amphora-' + amp_id)
    check(r.returncode == 0, 'build() in process 1 returns a compute id')
    cid = r.stdout.strip()
    d = os.path.join(cvm, 'vms', cid)
    req = json.load(open(os.path.join(d, 'request.json')))
    want = {'compute_id': cid, 'name': 'amphora-' + amp_id,
            'amphora_id': amp_id, 'slot': 1, 'mgmt_ip': '172.29.0.11',
            'mgmt_prefix': 24, 'vip_mac': 'fa:16:3e:00:00:01',
            'vrrp_ip': '198.51.100.11'}
    check(all(req.get(k) == v for k, v in want.items()) and
          isinstance(req.get('created'), float),
          'request.json holds the contract fields for slot 1: %s' % req)
    conf = os.path.join(d, 'config-drive/etc/octavia/amphora-agent.conf')
    modes = (oct(os.stat(conf).st_mode & 0o777),
             oct(os.stat(os.path.dirname(conf)).st_mode & 0o777),
             oct(os.stat(os.path.join(d, 'user-data')).st_mode & 0o777))
    check(modes == ('0o600', '0o755', '0o600') and
          open(conf).read() == '[DEFAULT]\n' and
          os.path.exists(os.path.join(d, 'config-drive/etc/octavia/certs/'
                                         'server.pem')),
          'config drive files 0600 under 0755 dirs, user-data 0600: %s'
          % (modes,))

    def state():
        r = child('state', cid)
        return json.loads(r.stdout) if r.returncode == 0 else None
    s = state()
    check(s and s['status'] == 'BUILD' and s['ip'] == '172.29.0.11' and
          s['up'] == 'DOWN', 'process 2: BUILD with the slot mgmt_ip '
          'before `running`: %s' % s)
    open(os.path.join(d, 'running'), 'w').close()
    s = state()
    check(s and s['status'] == 'ACTIVE' and s['up'] == 'UP',
          'process 3: ACTIVE and UP once `running` exists: %s' % s)
    r1, r2 = child('delete', cid), child('delete', cid)
    check(r1.returncode == 0 and r2.returncode == 0 and
          os.path.exists(os.path.join(d, 'delete')),
          'delete() writes `delete`, and a second delete() is fine')
    r3 = child('delete', 'ffffffff-0000-4000-8000-00000000dead')
    r4 = child('delete', '../../etc')
    check(r3.returncode == 0 and r4.returncode == 0 and
          not os.path.exists(os.path.join(cvm, 'vms',
                                          'ffffffff-0000-4000-8000-00000000dead')),
          'delete() of an unknown or malformed id does nothing, no error')
    open(os.path.join(d, 'gone'), 'w').close()
    s = state()
    check(s and s['status'] == 'ERROR' and s['fault'] and s['up'] == 'DOWN',
          'ERROR with a fault once `gone` exists: %s' % s)

    go = os.path.join(tmp, 'go')
    procs = [subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), 'child', 'compute',
         'build-at-go', go, '3'], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)]
    time.sleep(2)  # let all four start and wait at the gate
    open(go, 'w').close()
    ids = ' '.join(p.communicate(timeout=120)[0] for p in procs).split()
    slots = sorted(json.load(open(os.path.join(cvm, 'vms', i,
                                               'request.json')))['slot']
                   for i in ids)
    check(slots == list(range(2, 14)), '4 processes x 3 concurrent builds '
          'got 12 distinct slots 2..13 (never 1 again): %s' % slots)

    cap = os.path.join(tmp, 'cvm-cap')
    os.makedirs(os.path.join(cap, 'vms', 'x'))
    with open(os.path.join(cap, 'vms', 'x', 'request.json'), 'w') as f:
        json.dump({'slot': 80}, f)
    r = run_child(['child', 'compute', 'build', 'amphora-cap'],
                  child_env({'CVM_DIR': cap}), quiet=True)
    check(r.returncode != 0 and 'no amphora VM slot left' in r.stderr,
          'build() past slot 80 fails with ComputeBuildException')
    r = run_child(['child', 'compute', 'build', 'amphora-x'],
                  child_env({'CVM_DIR': 'relative/dir'}), quiet=True)
    check(r.returncode != 0 and 'CVM_DIR must be an absolute path' in r.stderr,
          'a relative CVM_DIR is refused with a clear message')


# ------------------------------------------------------------ B: flows

class Flows:
    """Octavia's v2 worker flows against our drivers (worker = this process,
    health manager = a child process)."""

    def __init__(self, tmp):
        self.tmp, self.cvm = tmp, os.path.join(tmp, 'cvm-b')
        os.environ['CVM_DIR'] = self.cvm
        self.calls_path = os.path.join(tmp, 'agent-calls.jsonl')
        make_pki(tmp)
        configure(tmp)
        make_db()
        install_launcher(self.cvm)
        install_agent_recorder(self.calls_path, 'worker')
        from octavia.controller.worker.v2 import controller_worker
        from octavia.db import api as db_apis
        from octavia.db import repositories as repo
        self.cw = controller_worker.ControllerWorker()
        self.session, self.repo = db_apis.get_session, repo

    def calls(self, **match):
        with open(self.calls_path, encoding='utf-8') as f:
            recs = [json.loads(line) for line in f]
        return [r for r in recs if all(
            (r[k].startswith(v) if k == 'path' else r[k] == v)
            for k, v in match.items())]

    def amps(self, lb_id):
        lb = self.repo.LoadBalancerRepository().get(self.session(), id=lb_id)
        return lb, [a for a in lb.amphorae if a.status == 'ALLOCATED']

    def slot(self, amp):
        path = os.path.join(self.cvm, 'vms', amp.compute_id, 'request.json')
        return json.load(open(path))

    def create_lb(self, topology, vip_ip):
        import uuid
        lb_id = str(uuid.uuid4())
        self.repo.Repositories().create_load_balancer_and_vip(
            self.session(),
            {'id': lb_id, 'project_id': PROJECT, 'name': topology,
             'provisioning_status': 'PENDING_CREATE',
             'operating_status': 'OFFLINE', 'topology': topology,
             'enabled': True},
            {'subnet_id': VIP_SUBNET, 'network_id': VIP_NET,
             'ip_address': vip_ip})
        self.cw.create_load_balancer(
            {'loadbalancer_id': lb_id},
            flavor={'loadbalancer_topology': topology}, availability_zone={})
        return lb_id

    def check_amps(self, lb_id, role, label, new_vms=None):
        """Each ALLOCATED amphora: DB facts and plug/vip body = its slot.
        After a failover (new_vms given) only the replacement is plugged."""
        lb, amps = self.amps(lb_id)
        check(lb.provisioning_status == 'ACTIVE',
              '%s: load balancer ACTIVE (%s)' % (label, lb.provisioning_status))
        for amp in amps:
            req = self.slot(amp)
            check(amp.lb_network_ip == req['mgmt_ip'] and
                  amp.vrrp_ip == req['vrrp_ip'],
                  '%s: amphora %s (%s) lb_network_ip %s / vrrp_ip %s = '
                  'slot %d' % (label, amp.id[:8], amp.role, amp.lb_network_ip,
                               amp.vrrp_ip, req['slot']))
            plugs = self.calls(amp=amp.id, method='POST', role=role,
                               path='/1.0/plug/vip/')
            if new_vms is not None and amp.compute_id not in new_vms:
                check(not plugs, '%s: the survivor %s got no plug/vip'
                      % (label, amp.id[:8]))
                continue
            bodies = [(p['host'], p['json']['mac_address'],
                       p['json']['vrrp_ip']) for p in plugs]
            check(len(plugs) == 1 and bodies[0] == (
                      req['mgmt_ip'], req['vip_mac'], req['vrrp_ip']),
                  '%s: %s sent POST /1.0/plug/vip to %s once with '
                  'mac_address/vrrp_ip of its slot: %s'
                  % (label, role, amp.id[:8], bodies))
        return amps

    def check_vrrp(self, amps, role, label):
        check(len({a.vrrp_ip for a in amps}) == 2,
              '%s: the pair has two distinct VRRP IPs %s'
              % (label, [a.vrrp_ip for a in amps]))
        for amp in amps:
            peer = [a.vrrp_ip for a in amps if a.id != amp.id]
            ups = self.calls(amp=amp.id, method='PUT', role=role,
                             path='/1.0/vrrp/upload')
            conf = ups[-1]['data'] if ups else ''
            src = 'unicast_src_ip %s' % amp.vrrp_ip
            block = conf.split('unicast_peer {', 1)[-1].split('}', 1)[0]
            check(src in conf and block.split() == peer,
                  '%s: keepalived config of %s names its own VRRP IP %s and '
                  'peer %s' % (label, amp.id[:8], amp.vrrp_ip, block.split()))

    def create_member(self, lb_id, address):
        import uuid
        pool_id, member_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.repo.PoolRepository().create(
            self.session(), id=pool_id, project_id=PROJECT,
            load_balancer_id=lb_id, protocol='HTTP',
            lb_algorithm='ROUND_ROBIN', provisioning_status='ACTIVE',
            operating_status='ONLINE', enabled=True)
        self.repo.MemberRepository().create(
            self.session(), id=member_id, project_id=PROJECT, pool_id=pool_id,
            ip_address=address, protocol_port=80, subnet_id=VIP_SUBNET,
            provisioning_status='PENDING_CREATE', operating_status='OFFLINE',
            enabled=True, weight=1, backup=False)
        self.cw.create_member({'member_id': member_id, 'pool_id': pool_id})
        m = self.repo.MemberRepository().get(self.session(), id=member_id)
        return m.provisioning_status

    def failover(self, amp):
        before = {a for a in os.listdir(os.path.join(self.cvm, 'vms'))}
        r = run_child(['child', 'failover', self.tmp, amp.id],
                      child_env({'CVM_DIR': self.cvm}))
        old = self.repo.AmphoraRepository().get(self.session(), id=amp.id)
        check(r.returncode == 0 and old.status == 'DELETED' and
              os.path.exists(os.path.join(self.cvm, 'vms', amp.compute_id,
                                          'delete')),
              'health-manager process failed over %s: it is DELETED and its '
              'VM got `delete`' % amp.id[:8])
        return set(os.listdir(os.path.join(self.cvm, 'vms'))) - before


def flow_checks(tmp):
    print('== Octavia 11 v2 flows with cvm drivers (CVM_DIR=%s/cvm-b)' % tmp)
    f = Flows(tmp)
    single = f.create_lb('SINGLE', '198.51.100.1')
    f.check_amps(single, 'worker', 'LB create SINGLE')
    pair = f.create_lb('ACTIVE_STANDBY', '198.51.100.3')
    amps = f.check_amps(pair, 'worker', 'LB create ACTIVE_STANDBY')
    f.check_vrrp(amps, 'worker', 'LB create ACTIVE_STANDBY')
    for lb_id, addr, label in ((single, '198.51.100.21', 'SINGLE'),
                               (pair, '198.51.100.22', 'ACTIVE_STANDBY')):
        status = f.create_member(lb_id, addr)
        check(status == 'ACTIVE' and not f.calls(path='/1.0/plug/network'),
              'member create on the VIP subnet (%s): member %s, no POST '
              '/1.0/plug/network sent' % (label, status))
    used = {f.slot(a)['slot'] for lb in (single, pair) for a in f.amps(lb)[1]}

    old = f.amps(single)[1][0]
    new_vms = f.failover(old)
    amps = f.check_amps(single, 'health-manager', 'failover SINGLE', new_vms)
    check(len(amps) == 1 and amps[0].compute_id in new_vms and
          f.slot(amps[0])['slot'] > max(used),
          'failover SINGLE: the replacement got a new slot (%s > %s)'
          % ([f.slot(a)['slot'] for a in amps], max(used)))

    master = [a for a in f.amps(pair)[1] if a.role == 'MASTER'][0]
    new_vms = f.failover(master)
    amps = f.check_amps(pair, 'health-manager', 'failover ACTIVE_STANDBY',
                        new_vms)
    f.check_vrrp(amps, 'health-manager', 'failover ACTIVE_STANDBY')
    check(sum(a.compute_id in new_vms for a in amps) == 1,
          'failover ACTIVE_STANDBY: one replacement, one survivor')
    check(not f.calls(path='/1.0/plug/network'),
          'no POST /1.0/plug/network in any flow (%d agent calls recorded)'
          % len(f.calls()))


def main():
    sys.path[:0] = [HERE, os.environ.get('SELFTEST_SHARED', SHARED)]
    tmp = tempfile.mkdtemp(prefix='cvm-selftest-')
    try:
        compute_checks(tmp)
        flow_checks(tmp)
    except Exception:
        import traceback
        traceback.print_exc()
        FAILED.append('unexpected exception')
    if FAILED:
        print('\n%d check(s) failed; kept %s (octavia.log, agent-calls.jsonl)'
              % (len(FAILED), tmp))
        return 1
    shutil.rmtree(tmp)
    print('\nall checks passed')
    return 0


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == 'child':
    sys.path[:0] = [HERE, os.environ.get('SELFTEST_SHARED', SHARED)]
    if sys.argv[2] == 'compute':
        role_compute(sys.argv[3:])
    elif sys.argv[2] == 'failover':
        role_failover(sys.argv[3], sys.argv[4])
    sys.exit(0)


if __name__ == '__main__':
    sys.exit(main())
