// Test certificates made with the openssl CLI in a temporary directory: self-signed server
// certificates (RSA or ECDSA), a CA, and leaves signed by it (server or client), as PEM.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyAlgorithm = 'rsa' | 'ec';

export interface Pem {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 fingerprint as node:tls reports it (`getPeerCertificate().fingerprint256`). */
  readonly fingerprint: string;
}

export interface LeafOptions {
  readonly cn: string;
  /** DNS names and `URI:`/`IP:`-prefixed entries; DNS names are given bare. Default: [cn]. */
  readonly sans?: readonly string[];
  readonly alg?: KeyAlgorithm;
  /** Extended key usage: serverAuth (default) or clientAuth. */
  readonly usage?: 'serverAuth' | 'clientAuth';
}

function keyArgs(alg: KeyAlgorithm): string[] {
  return alg === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

function sanList(o: LeafOptions): string {
  return (o.sans ?? [o.cn]).map((s) => (/^(URI|IP|DNS):/.test(s) ? s : `DNS:${s}`)).join(',');
}

export class CertFactory {
  readonly dir = mkdtempSync(join(tmpdir(), 'fluxgate-certs-'));
  #n = 0;

  #read(name: string): Pem {
    const certPem = readFileSync(join(this.dir, `${name}.crt`), 'utf8');
    const keyPem = readFileSync(join(this.dir, `${name}.key`), 'utf8');
    return { certPem, keyPem, fingerprint: new X509Certificate(certPem).fingerprint256 };
  }

  /** A self-signed server certificate. */
  selfSigned(o: LeafOptions): Pem {
    const name = `ss${++this.#n}`;
    execFileSync('openssl', [
      'req', '-x509', ...keyArgs(o.alg ?? 'ec'), '-nodes', '-keyout', join(this.dir, `${name}.key`), '-out', join(this.dir, `${name}.crt`),
      '-days', '2', '-subj', `/CN=${o.cn}`, '-addext', `subjectAltName=${sanList(o)}`,
    ], { stdio: 'ignore' });
    return this.#read(name);
  }

  /**
   * A CA certificate (basicConstraints CA:true) that `leaf` can sign with. `serial`: fixed, so
   * two CAs can share subject and serial (and differ only in their key).
   */
  ca(cn: string, alg: KeyAlgorithm = 'ec', serial?: number): Pem & { readonly name: string } {
    const name = `ca${++this.#n}`;
    execFileSync('openssl', [
      'req', '-x509', ...keyArgs(alg), ...(serial === undefined ? [] : ['-set_serial', String(serial)]), '-nodes', '-keyout', join(this.dir, `${name}.key`), '-out', join(this.dir, `${name}.crt`),
      '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], { stdio: 'ignore' });
    return { ...this.#read(name), name };
  }

  /** A leaf certificate signed by `ca`. */
  leaf(ca: { readonly name: string }, o: LeafOptions): Pem {
    const name = `leaf${++this.#n}`;
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${sanList(o)}\nextendedKeyUsage=${o.usage ?? 'serverAuth'}\nbasicConstraints=CA:false\n`);
    execFileSync('openssl', ['req', '-new', ...keyArgs(o.alg ?? 'ec'), '-nodes', '-keyout', join(this.dir, `${name}.key`), '-out', join(this.dir, `${name}.csr`), '-subj', `/CN=${o.cn}`], { stdio: 'ignore' });
    execFileSync('openssl', [
      'x509', '-req', '-in', join(this.dir, `${name}.csr`), '-CA', join(this.dir, `${ca.name}.crt`), '-CAkey', join(this.dir, `${ca.name}.key`),
      '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', join(this.dir, `${name}.crt`),
    ], { stdio: 'ignore' });
    return this.#read(name);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `data` of a kubernetes.io/tls Secret. */
export function tlsSecretData(p: Pem): { 'tls.crt': string; 'tls.key': string } {
  return { 'tls.crt': Buffer.from(p.certPem).toString('base64'), 'tls.key': Buffer.from(p.keyPem).toString('base64') };
}
