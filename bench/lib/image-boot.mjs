/**
 * @module bench/lib/image-boot
 * One timed boot of an amphora image for the image suite: boot-to-agent-answering, from qemu's
 * start to the first `GET /` answered `{"api_version": "1.0"}` over mutual TLS. It uses the boot
 * part of the image test (test/image/lib: the config drive as Octavia 11's controller and Nova
 * make it, plus Nova's network_data.json for the management NIC; qemu with TCG and an overlay;
 * the agent request with the controller's certificate),
 * without that test's probe and API checks: the config drive's user_data is the controller's own,
 * so the guest does at boot what an amphora does in production and nothing more, and the VM is
 * stopped as soon as the agent has answered. The same code boots both images.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadImageLib } from './image-lib.mjs';
import { log } from './log.mjs';

/**
 * Nova's network_data.json for the management NIC (IPv4 by DHCP), written where makeConfigDrive
 * packs the drive's tree. Nova always writes it; without it cloud-init falls back to DHCP for
 * IPv4 and IPv6 on the first NIC, and ifupdown (the reference image has it) then holds
 * network-online.target, and the agents ordered after it, until dhclient -6 gives up: qemu's user
 * network has no DHCPv6 server.
 */
async function writeNetworkData(driveDir, mac) {
  const dir = join(driveDir, 'openstack', 'latest');
  await mkdir(dir, { recursive: true });
  const link = 'tap-mgmt0';
  const data = {
    links: [{ id: link, vif_id: randomUUID(), type: 'ovs', mtu: 1500, ethernet_mac_address: mac }],
    networks: [{ id: 'network0', type: 'ipv4_dhcp', link, network_id: randomUUID() }],
    services: [],
  };
  await writeFile(join(dir, 'network_data.json'), JSON.stringify(data));
}

/** Polls GET / once a second; answers seconds since qemu started, or throws at the deadline. */
async function waitForAgent(lib, vm, req, deadline) {
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (!vm.running()) throw new Error(`qemu exited before the agent answered (last: ${last})`);
    const why = await lib.agentNotAnswering(req);
    if (why === null) return (performance.now() - vm.startedAt) / 1000;
    last = why;
    await sleep(1000);
  }
  throw new Error(`the agent did not answer GET / in time (last: ${last})`);
}

/**
 * Boots `qcow2` once under workDir with the run's PKI (ctx.pki) and answers
 * { seconds, console_log }. timeoutSeconds bounds the whole boot; qemu is always stopped.
 */
export async function timedBoot({ qcow2, workDir, pki, timeoutSeconds, smp = 2, memMiB = 2048 }) {
  const lib = await loadImageLib('config-drive.mjs', 'qemu.mjs', 'agent-https.mjs');
  await mkdir(workDir, { recursive: true });
  const texts = lib.controllerTexts({ amphoraId: pki.amphoraId });
  await writeNetworkData(join(workDir, 'drive'), lib.MGMT_MAC);
  lib.makeConfigDrive({
    dir: join(workDir, 'drive'),
    iso: join(workDir, 'config-2.iso'),
    amphoraId: pki.amphoraId,
    files: lib.controllerFiles({ pki: pki.dir, texts }),
    userData: texts.user_data,
  });
  const overlay = join(workDir, 'overlay.qcow2');
  lib.makeOverlay(qcow2, overlay);
  const consoleLog = join(workDir, 'console.log');
  const port = await lib.freePort();
  const target = {
    port,
    ca: await readFile(join(pki.dir, 'server_ca.pem')),
    clientPem: await readFile(join(pki.dir, 'client.pem')),
    servername: pki.amphoraId,
  };
  const req = (method, path, opts) => lib.agentRequest(target, method, path, opts);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const vm = lib.startQemu({ overlay, iso: join(workDir, 'config-2.iso'), consoleLog, qemuLog: join(workDir, 'qemu.log'), port, memMiB, smp });
  try {
    const seconds = Math.round((await waitForAgent(lib, vm, req, deadline)) * 10) / 10;
    return { seconds, console_log: consoleLog, agent_conf_source: texts.source };
  } catch (err) {
    log(`[image] console tail of ${consoleLog}:\n${lib.consoleTail(consoleLog, 40)}`);
    throw err;
  } finally {
    await vm.stop();
  }
}
