// Password hashes for basic-auth credentials. Supported: scrypt in a PHC-like string
// (`$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>`, what hashPassword() writes) and bcrypt
// (`$2a$`, `$2b$`, `$2y$`, what htpasswd -B writes). Verification is asynchronous (the event
// loop keeps serving) and compares in constant time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import bcrypt from 'bcryptjs';

export type HashKind = 'scrypt' | 'bcrypt';

interface ScryptHash { readonly N: number; readonly r: number; readonly p: number; readonly salt: Buffer; readonly hash: Buffer }

const SCRYPT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** The kind of a stored hash, or an error message. */
export function checkHash(stored: string): HashKind | string {
  const m = SCRYPT.exec(stored);
  if (m !== null) {
    const ln = Number(m[1]);
    if (ln < 10 || ln > 20) return 'scrypt ln must be 10-20';
    if (Buffer.from(m[5]!, 'base64').length < 16) return 'scrypt hash is too short';
    return 'scrypt';
  }
  if (BCRYPT.test(stored)) return 'bcrypt';
  return 'not a supported password hash (scrypt "$scrypt$ln=..." or bcrypt "$2b$...")';
}

function parseScrypt(stored: string): ScryptHash | undefined {
  const m = SCRYPT.exec(stored);
  if (m === null) return undefined;
  return { N: 2 ** Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

function scryptAsync(password: string, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const s = parseScrypt(stored);
  if (s !== undefined) {
    const key = await scryptAsync(password, s.salt, s.hash.length, { N: s.N, r: s.r, p: s.p, maxmem: 256 * s.N * s.r + 1024 * 1024 });
    return key.length === s.hash.length && timingSafeEqual(key, s.hash);
  }
  if (BCRYPT.test(stored)) return bcrypt.compare(password, stored);
  return false;
}

/** A new scrypt hash of `password` (for operators: store it in the Secret's `passwordHash`). */
export async function hashPassword(password: string, ln = 15): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** ln, r = 8, p = 1;
  const key = await scryptAsync(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}
