// A minimal DNS client for tests (RFC 1035): one question over UDP, the whole answer parsed,
// additional section included. node:dns hides that section, and CoreDNS's whoami plugin answers
// there (an A record with the client's address and an SRV record with its port).
import { createSocket } from 'node:dgram';

export const TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A/AAAA: the address; SRV: { priority, weight, port, target }; other types: the raw bytes. */
  data: string | { priority: number; weight: number; port: number; target: string } | Buffer;
}

export interface DnsMessage {
  id: number;
  /** QR: a response. */
  response: boolean;
  authoritative: boolean;
  rcode: number;
  questions: { name: string; type: number; class: number }[];
  answers: DnsRecord[];
  authority: DnsRecord[];
  additional: DnsRecord[];
}

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2); // IN
  return Buffer.concat([header, qname, tail]);
}

/** A name at `offset` (with compression pointers); returns it with a trailing dot and the offset after it. */
function readName(msg: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = msg.readUInt8(pos);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return [labels.length ? `${labels.join('.')}.` : '.', end];
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = pos + 2;
      pos = msg.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    labels.push(msg.subarray(pos + 1, pos + 1 + len).toString('ascii'));
    pos += 1 + len;
  }
  throw new Error('DNS name with a compression loop');
}

function readRecord(msg: Buffer, offset: number): [DnsRecord, number] {
  const [name, p] = readName(msg, offset);
  const type = msg.readUInt16BE(p);
  const cls = msg.readUInt16BE(p + 2);
  const ttl = msg.readUInt32BE(p + 4);
  const len = msg.readUInt16BE(p + 8);
  const rdata = msg.subarray(p + 10, p + 10 + len);
  if (rdata.length !== len) throw new Error('truncated DNS record');
  let data: DnsRecord['data'] = Buffer.from(rdata);
  if (type === TYPE.A && len === 4) data = [...rdata].join('.');
  else if (type === TYPE.AAAA && len === 16) data = (rdata.toString('hex').match(/.{4}/g) ?? []).join(':');
  else if (type === TYPE.SRV) {
    data = { priority: rdata.readUInt16BE(0), weight: rdata.readUInt16BE(2), port: rdata.readUInt16BE(4), target: readName(msg, p + 16)[0] };
  }
  return [{ name, type, class: cls, ttl, data }, p + 10 + len];
}

export function parseMessage(msg: Buffer): DnsMessage {
  if (msg.length < 12) throw new Error(`DNS message of ${msg.length} bytes`);
  const flags = msg.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  let pos = 12;
  const questions: DnsMessage['questions'] = [];
  for (let i = 0; i < (counts[0] ?? 0); i++) {
    const [name, p] = readName(msg, pos);
    questions.push({ name, type: msg.readUInt16BE(p), class: msg.readUInt16BE(p + 2) });
    pos = p + 4;
  }
  const sections: DnsRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] ?? 0); i++) {
      const [rr, p] = readRecord(msg, pos);
      sections[s]?.push(rr);
      pos = p;
    }
  }
  return {
    id: msg.readUInt16BE(0),
    response: (flags & 0x8000) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    rcode: flags & 0x000f,
    questions,
    answers: sections[0] ?? [],
    authority: sections[1] ?? [],
    additional: sections[2] ?? [],
  };
}

/** Asks server:port one question over UDP; resolves with the answer and the local port asked from. */
export function queryUdp(server: string, port: number, name: string, type: number, timeoutMs = 2000): Promise<{ message: DnsMessage; localPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const id = Math.floor(Math.random() * 0x10000);
    const timer = setTimeout(() => finish(new Error(`no DNS answer from ${server}:${port} within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    function finish(err: Error | undefined, value?: { message: DnsMessage; localPort: number }): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else if (value) resolve(value);
    }
    socket.on('error', (err) => finish(err));
    socket.on('message', (buf) => {
      let message: DnsMessage;
      try {
        message = parseMessage(buf);
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (message.id === id && message.response) finish(undefined, { message, localPort: socket.address().port });
    });
    socket.connect(port, server, () => socket.send(encodeQuery(id, name, type), (err) => err && finish(err)));
  });
}
