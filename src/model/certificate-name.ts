/**
 * @module model/certificate-name
 * The names a load balancer's certificate files may have. The controller names them
 * `<id>.pem`, where the id is a certificate's SHA-1 (hex; TLS and SNI certificates, pool client
 * certificates), a secret's SHA-1 (client CA, CRL) or a listener's UUID (the crt-list of a
 * TERMINATED_HTTPS listener). The rule is anchored, unlike the reference's `(\w.)+pem` searched
 * anywhere in the name, which lets `../x.pem`, `a/b.pem` or `x.pem.sh` through: a name is words
 * of letters, digits, `_` and `-` joined by single dots, ending in `.pem`, at most 255 bytes, so
 * it never names a directory, a dot file or a path outside the load balancer's own directory.
 */

export const CERTIFICATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.pem$/;

export function isCertificateName(name: string): boolean {
  return name.length <= 255 && CERTIFICATE_NAME.test(name);
}
