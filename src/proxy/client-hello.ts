/**
 * Reads the server name (SNI, RFC 6066) from the first bytes a TLS client sends, without
 * terminating TLS: enough of the ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) to route the
 * connection, which is then forwarded byte for byte (TLS passthrough) or handed to a TLS
 * server socket (TLS termination).
 *
 * Every length is checked against what was received before it is used: a hostile or broken
 * client can make the parse fail, never read out of bounds or loop. The ClientHello may span
 * several TLS records (large key shares do); it is reassembled up to MAX_CLIENT_HELLO bytes.
 */

/** A ClientHello larger than this is refused (post-quantum key shares stay well below). */
export const MAX_CLIENT_HELLO = 64 * 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;

export type ClientHelloResult =
  /** More bytes are needed. */
  | { readonly state: 'incomplete' }
  /** `serverName`: lower case, undefined when the client sent no SNI. */
  | { readonly state: 'done'; readonly serverName: string | undefined }
  /** Not a TLS ClientHello, or malformed; `reason` is for logs. */
  | { readonly state: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloResult = Object.freeze({ state: 'incomplete' });

function invalid(reason: string): ClientHelloResult {
  return { state: 'invalid', reason };
}

/**
 * Parses the start of a TLS stream. Call again with more bytes (the whole buffer so far) while
 * the result is `incomplete`.
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Reassemble the handshake message from consecutive handshake records.
  let offset = 0;
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1; // handshake message length including its 4-byte header, once known
  while (need < 0 || have < need) {
    if (data.length < offset + 5) return data.length > MAX_CLIENT_HELLO ? invalid('ClientHello too large') : INCOMPLETE;
    if (data[offset] !== RECORD_HANDSHAKE) return invalid('not a TLS handshake record');
    const major = data[offset + 1]!;
    if (major !== 3) return invalid('not a TLS record version');
    const recordLength = data.readUInt16BE(offset + 3);
    // RFC 8446 5.1: handshake records are never empty; plaintext records are at most 2^14 bytes.
    if (recordLength === 0 || recordLength > 16384) return invalid('bad TLS record length');
    if (data.length < offset + 5 + recordLength) return INCOMPLETE;
    fragments.push(data.subarray(offset + 5, offset + 5 + recordLength));
    have += recordLength;
    offset += 5 + recordLength;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('first handshake message is not a ClientHello');
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO) return invalid('ClientHello too large');
    }
    if (offset > MAX_CLIENT_HELLO + 5 * 16) return invalid('ClientHello too large');
  }
  const msg = (fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments)).subarray(4, need);
  return readServerName(msg);
}

/** The body of a ClientHello (after the handshake header). */
function readServerName(b: Buffer): ClientHelloResult {
  let p = 0;
  const left = (): number => b.length - p;
  // legacy_version (2) + random (32)
  if (left() < 34) return invalid('ClientHello truncated');
  p += 34;
  // legacy_session_id <0..32>
  if (left() < 1) return invalid('ClientHello truncated');
  const sessionIdLength = b[p]!;
  p += 1;
  if (sessionIdLength > 32 || left() < sessionIdLength) return invalid('bad session id');
  p += sessionIdLength;
  // cipher_suites <2..2^16-2>
  if (left() < 2) return invalid('ClientHello truncated');
  const suitesLength = b.readUInt16BE(p);
  p += 2;
  if (suitesLength < 2 || suitesLength % 2 !== 0 || left() < suitesLength) return invalid('bad cipher suites');
  p += suitesLength;
  // legacy_compression_methods <1..2^8-1>
  if (left() < 1) return invalid('ClientHello truncated');
  const compressionLength = b[p]!;
  p += 1;
  if (compressionLength < 1 || left() < compressionLength) return invalid('bad compression methods');
  p += compressionLength;
  // No extensions at all (TLS 1.0-1.2 allow it): no SNI.
  if (left() === 0) return { state: 'done', serverName: undefined };
  if (left() < 2) return invalid('ClientHello truncated');
  const extensionsLength = b.readUInt16BE(p);
  p += 2;
  if (left() < extensionsLength) return invalid('bad extensions length');
  const end = p + extensionsLength;
  let serverName: string | undefined;
  let seen = false;
  while (p < end) {
    if (end - p < 4) return invalid('bad extension');
    const type = b.readUInt16BE(p);
    const length = b.readUInt16BE(p + 2);
    p += 4;
    if (end - p < length) return invalid('bad extension length');
    if (type === EXT_SERVER_NAME) {
      // RFC 8446 4.2: an extension type appears at most once.
      if (seen) return invalid('duplicate server_name extension');
      seen = true;
      const name = readServerNameList(b.subarray(p, p + length));
      if (name === null) return invalid('bad server_name extension');
      serverName = name;
    }
    p += length;
  }
  return { state: 'done', serverName };
}

/** RFC 6066 3: ServerNameList; the host_name entry, undefined when there is none; null when malformed. */
function readServerNameList(b: Buffer): string | undefined | null {
  // An empty extension body is what servers send back; a client's must hold a list.
  if (b.length < 2) return null;
  const listLength = b.readUInt16BE(0);
  if (listLength !== b.length - 2 || listLength === 0) return null;
  let p = 2;
  let host: string | undefined;
  while (p < b.length) {
    if (b.length - p < 3) return null;
    const nameType = b[p]!;
    const length = b.readUInt16BE(p + 1);
    p += 3;
    if (b.length - p < length) return null;
    if (nameType === NAME_TYPE_HOST) {
      // RFC 6066: at most one name of each type.
      if (host !== undefined) return null;
      host = b.toString('latin1', p, p + length);
    }
    p += length;
  }
  if (host === undefined) return undefined;
  // RFC 6066: the name is an ASCII DNS hostname without a trailing dot; IP literals are not
  // allowed. A name that is not a hostname can match no route: treat it as malformed.
  if (host.length === 0 || host.length > 253 || !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(host)) return null;
  return host.toLowerCase();
}
