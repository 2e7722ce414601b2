// The process kubelet's readiness probes, run from the host against a pod's address.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

/** True when host:port accepts a TCP connection within a second. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

/**
 * True when a DNS server answers on UDP host:port within `timeoutMs`. The query is a bare header
 * with no question: the server's DNS library rejects it itself (FORMERR), so no plugin runs and
 * nothing is forwarded upstream. Any response with our id counts; silence does not, and neither
 * does a port that is closed (the connected socket sees the ICMP error).
 */
export function dnsAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const id = Math.floor(Math.random() * 0x10000);
    const query = Buffer.alloc(12); // id, flags 0 (a standard query), all section counts 0
    query.writeUInt16BE(id, 0);
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (msg) => {
      // A response (QR set) to our id; anything else is not the server we asked.
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && ((msg[2] ?? 0) & 0x80) !== 0) done(true);
    });
    socket.on('error', () => done(false));
    socket.connect(port, host, () => socket.send(query, (err) => err && done(false)));
  });
}
