// Pod networking for the process kubelet: one bridge on the host (its address is the pods'
// gateway and makes every pod reachable from the host), one network namespace per pod joined to
// the bridge by a veth pair. Every name it creates carries a prefix so cluster:down can find
// exactly what is ours. No iptables rules: pods only talk to the host and to each other. Their
// default route points at the host, whose bridge never forwards, so nothing a pod sends (the
// conformance Corefile's `forward . 8.8.8.8`, say) leaves the machine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface NetworkOptions {
  bridge: string;
  bridgeIp: string;
  /** A /16, e.g. 10.244.0.0/16: the bridge takes .0.1 and pods get the rest. */
  podCidr: string;
  netnsPrefix: string;
}

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await exec('ip', args);
  return stdout;
}

async function ipQuiet(...args: string[]): Promise<boolean> {
  try {
    await ip(...args);
    return true;
  } catch {
    return false;
  }
}

export class PodNetwork {
  readonly #opts: NetworkOptions;
  readonly #base: [number, number];
  readonly #prefixLength: number;
  readonly #used = new Set<number>();
  #next = 2;

  constructor(opts: NetworkOptions) {
    this.#opts = opts;
    const [addr, len] = opts.podCidr.split('/');
    const octets = (addr ?? '').split('.').map(Number);
    if (len !== '16' || octets.length !== 4) throw new Error(`pod CIDR must be a /16: ${opts.podCidr}`);
    this.#base = [octets[0] ?? 0, octets[1] ?? 0];
    this.#prefixLength = 16;
  }

  /** Creates the bridge with the host's address on it, when missing. */
  async ensureBridge(): Promise<void> {
    const { bridge, bridgeIp } = this.#opts;
    if (!(await ipQuiet('link', 'show', bridge))) await ip('link', 'add', bridge, 'type', 'bridge');
    const addrs = await ip('-o', '-4', 'addr', 'show', 'dev', bridge);
    if (!addrs.includes(` ${bridgeIp}/`)) {
      await ip('addr', 'add', `${bridgeIp}/${this.#prefixLength}`, 'dev', bridge);
    }
    await ip('link', 'set', bridge, 'up');
    // IPv4 forwarding is decided by the interface a packet comes in on: off on the bridge, a
    // pod's packet for any address that is not the host's own is dropped (host unreachable),
    // even on a host with net.ipv4.ip_forward=1 (writing that setting later resets every
    // interface's value; the kubelet sets it again when it starts).
    await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '0');
  }

  /** Our namespaces left over from an earlier kubelet (their pods are started afresh). */
  async listNamespaces(): Promise<string[]> {
    const out = await ip('netns', 'list');
    return out
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(this.#opts.netnsPrefix));
  }

  netnsName(podUid: string): string {
    return `${this.#opts.netnsPrefix}${podUid}`;
  }

  /** Creates the pod's namespace with eth0 on the bridge; returns its address. */
  async create(podUid: string): Promise<{ netns: string; ip: string }> {
    const netns = this.netnsName(podUid);
    await this.delete(podUid); // a half-made namespace of an earlier try
    const addr = this.#allocate();
    // Interface names are limited to 15 characters: derive short, stable ones from the uid.
    const id = createHash('sha256').update(podUid).digest('hex').slice(0, 10);
    const hostEnd = `fgv${id}`;
    const podEnd = `fgp${id}`;
    try {
      await ip('netns', 'add', netns);
      await ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', podEnd);
      await ip('link', 'set', podEnd, 'netns', netns);
      await ip('link', 'set', hostEnd, 'master', this.#opts.bridge, 'up');
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
      await ip('-n', netns, 'link', 'set', podEnd, 'name', 'eth0');
      await ip('-n', netns, 'addr', 'add', `${addr}/${this.#prefixLength}`, 'dev', 'eth0');
      await ip('-n', netns, 'link', 'set', 'eth0', 'up');
      await ip('-n', netns, 'route', 'add', 'default', 'via', this.#opts.bridgeIp);
    } catch (err) {
      await ipQuiet('link', 'delete', hostEnd);
      await ipQuiet('netns', 'delete', netns);
      this.release(addr);
      throw err;
    }
    return { netns, ip: addr };
  }

  /** Pids of every process inside the pod's namespace. */
  async pids(netns: string): Promise<number[]> {
    try {
      const out = await ip('netns', 'pids', netns);
      return out.split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Kills what still runs in the namespace and deletes it (the veth pair goes with it). */
  async delete(podUid: string): Promise<void> {
    await this.deleteNamespace(this.netnsName(podUid));
  }

  async deleteNamespace(netns: string): Promise<void> {
    for (const pid of await this.pids(netns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ipQuiet('netns', 'delete', netns);
  }

  release(addr: string): void {
    const [, , c, d] = addr.split('.').map(Number);
    this.#used.delete(((c ?? 0) << 8) | (d ?? 0));
  }

  #allocate(): string {
    // Round-robin over the /16 so a freed address is not handed out again at once; skip the
    // .0 and .255 host parts, which some tools treat as network and broadcast addresses.
    for (let tries = 0; tries < 65536; tries++) {
      const n = this.#next;
      this.#next = this.#next >= 65533 ? 2 : this.#next + 1;
      const low = n & 255;
      if (low === 0 || low === 255 || this.#used.has(n)) continue;
      const addr = `${this.#base[0]}.${this.#base[1]}.${n >> 8}.${low}`;
      if (addr === this.#opts.bridgeIp) continue;
      this.#used.add(n);
      return addr;
    }
    throw new Error('pod network exhausted');
  }
}
