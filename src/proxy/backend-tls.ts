/**
 * TLS to backends (IR Backend.tls): node:tls client options with the policy's SNI, CA and client
 * certificate, and the identity check (the SNI name, or any of the subjectAltNames). Built once
 * per pool at apply time, never per request.
 */
import { createHash } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { BackendTls } from '../ir/index.ts';

/** Distinguishes pools of one endpoint reached with different TLS settings. */
export function backendTlsKey(tls: BackendTls | undefined): string {
  if (tls === undefined) return '';
  const h = createHash('sha256').update(JSON.stringify([tls.serverName, tls.caPem ?? '', tls.subjectAltNames, tls.clientCertificate?.certPem ?? '', tls.clientCertificate?.keyPem ?? '']));
  return `|tls:${h.digest('hex').slice(0, 32)}`;
}

/** The SANs of a certificate as `DNS:` / `URI:` entries. */
function sans(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s !== '');
}

/**
 * Gateway API BackendTLSPolicy: with subjectAltNames, one of them must match (hostname by DNS
 * SAN with RFC 6125 wildcards, URI exactly); otherwise the hostname (also the SNI) must.
 */
export function verifyBackendIdentity(tls: BackendTls, cert: PeerCertificate): Error | undefined {
  if (tls.subjectAltNames.length === 0) return checkServerIdentity(tls.serverName, cert);
  const uris = sans(cert).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
  for (const san of tls.subjectAltNames) {
    if (san.type === 'URI' ? uris.includes(san.value) : checkServerIdentity(san.value, cert) === undefined) return undefined;
  }
  const err = new Error(`the backend certificate matches none of the subjectAltNames ${tls.subjectAltNames.map((s) => s.value).join(', ')}`) as Error & { code: string };
  err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return err;
}

export function backendTlsOptions(tls: BackendTls): ConnectionOptions {
  return {
    servername: tls.serverName,
    // Without a CA bundle the policy asked for the well-known CAs: node's default roots.
    ...(tls.caPem === undefined ? {} : { ca: tls.caPem }),
    ...(tls.clientCertificate === undefined ? {} : { cert: tls.clientCertificate.certPem, key: tls.clientCertificate.keyPem }),
    checkServerIdentity: (_host, cert) => verifyBackendIdentity(tls, cert),
    ALPNProtocols: ['http/1.1'],
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
  };
}
