/**
 * @module services/certificates
 * The files a load balancer's haproxy config names under `<base_cert_dir>/<lb>/`: TLS
 * certificates with their keys, crt-lists, client CAs and CRLs, which the controller uploads
 * before the config that uses them (`PUT|GET|DELETE /1.0/loadbalancer/{lb}/certificates/{name}`).
 * Names follow model/certificate-name's anchored rule; a file is written atomically with mode
 * 0600 (private keys) in a directory only root can enter. The controller compares MD5 sums to
 * decide whether to upload again. The whole directory goes with the load balancer
 * (services/haproxy-lbs `remove`). Nothing here validates the PEM: haproxy does, when the config
 * that names it is checked.
 */
import { InvalidInput, NotFound } from '../model/errors.js';
import { isCertificateName } from '../model/certificate-name.js';
import type { Uuid } from '../model/uuid.js';
import { ensureDir, readBytesIfExists, removeFile, writeFileAtomic } from '../system/files.js';
import type { Paths } from '../system/paths.js';
import { md5Hex } from './digest.js';
import { KeyedLock } from './keyed-lock.js';

const CERT_MODE = 0o600;
const DIR_MODE = 0o700;

/** The reference's answer to a name it refuses (no details). */
function checkedName(name: string): string {
  if (!isCertificateName(name)) throw new InvalidInput('Filename has wrong format');
  return name;
}

export class LoadBalancerCertificates {
  private readonly lock = new KeyedLock();

  constructor(private readonly paths: Paths) {}

  /** Stores the file and returns its MD5 (the answer's ETag). */
  async put(lbId: Uuid, name: string, body: Buffer): Promise<string> {
    const file = this.paths.certFile(lbId, checkedName(name));
    if (body.length === 0) throw new InvalidInput('Invalid request', `the certificate file ${name} is empty`);
    await this.lock.run(file, async () => {
      await ensureDir(this.paths.certDir(lbId), DIR_MODE);
      await writeFileAtomic(file, body, CERT_MODE);
    });
    return md5Hex(body);
  }

  /** The MD5 of the stored file; 404 in the reference's words when there is none. */
  async md5(lbId: Uuid, name: string): Promise<string> {
    const data = await readBytesIfExists(this.paths.certFile(lbId, checkedName(name)));
    if (data === undefined) throw new NotFound('Certificate Not Found', `No certificate with filename: ${name}`);
    return md5Hex(data);
  }

  /** Removes the file; one that is already gone is fine. */
  async remove(lbId: Uuid, name: string): Promise<void> {
    const file = this.paths.certFile(lbId, checkedName(name));
    await this.lock.run(file, () => removeFile(file));
  }
}
