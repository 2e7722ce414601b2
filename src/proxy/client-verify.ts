/**
 * Verification of a TLS client's certificate chain against a listener's CA bundle (Gateway
 * frontend validation), done here rather than by OpenSSL during the handshake.
 *
 * Why not OpenSSL: with the CA in the socket's context, a client certificate whose issuer has
 * the name of a trusted CA but another key (as in the upstream conformance suite, where every
 * test CA has the same subject and serial) makes OpenSSL leave its RSA error on the thread's
 * error queue; node then fails the connection's next read with ERR_SSL_INVALID_PADDING, so even
 * AllowInsecureFallback could not admit that client. Verified here, the handshake only
 * collects the chain, and the decision is ours.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
/** Intermediates a client may send between its certificate and a trusted CA. */
const MAX_DEPTH = 5;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CA certificates of a PEM bundle; unparsable entries are skipped. */
export function parseCaBundle(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERT) ?? []) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      // The translator only checked the PEM markers; a broken entry trusts nothing.
    }
  }
  return out;
}

function valid(c: X509Certificate, now: number): boolean {
  return Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
}

function issuedBy(c: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return c.checkIssued(issuer) && c.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Undefined when the client's certificate chains to one of `cas`; else why not. */
export function verifyClientCertificate(socket: TLSSocket, cas: readonly X509Certificate[], now = Date.now()): string | undefined {
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  if (peer === null || typeof peer !== 'object' || !('raw' in peer) || peer.raw === undefined) return 'no client certificate';
  let cert: X509Certificate;
  const presented: X509Certificate[] = [];
  try {
    cert = new X509Certificate(peer.raw);
    const seen = new Set<string>([peer.fingerprint256]);
    for (let p = peer.issuerCertificate; p?.raw !== undefined && !seen.has(p.fingerprint256) && presented.length < MAX_DEPTH; p = p.issuerCertificate) {
      seen.add(p.fingerprint256);
      presented.push(new X509Certificate(p.raw));
    }
  } catch {
    return 'unparsable client certificate';
  }
  if (!valid(cert, now)) return 'client certificate expired or not yet valid';
  const eku = cert.keyUsage;
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return 'client certificate not for client authentication';
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    if (cas.some((ca) => valid(ca, now) && issuedBy(cert, ca))) return undefined;
    const next = presented.find((i) => i.ca && valid(i, now) && issuedBy(cert, i));
    if (next === undefined) return 'client certificate not issued by a trusted CA';
    cert = next;
  }
  return 'client certificate chain too long';
}
