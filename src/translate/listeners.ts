// Gateway and listener validation: address, protocol, allowedRoutes kinds, certificates, and
// conflicts between listeners that share a socket (address + port).
import type { Certificate, ClientValidation } from '../ir/index.ts';
import * as st from '../status/index.ts';
import type { ConditionInput } from '../status/index.ts';
import { resolveGatewayBackendTls, type GatewayBackendTls } from './backend-tls.ts';
import { resolveCertificates } from './certificates.ts';
import { resolveFrontendValidation } from './frontend-tls.ts';
import type { Graph } from './graph.ts';
import { isValidHostname } from './hostnames.ts';
import { validateInfrastructure } from './infrastructure.ts';
import { GATEWAY_GROUP } from './reference-grants.ts';
import type { Gateway } from './resources.ts';
import { compareStrings, indexed, int, meta, obj, objs, str, type Meta, show } from './safe.ts';
import type { TranslateOptions } from './types.ts';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | StreamRouteKind;
/** Route kinds whose traffic is a byte stream (datagrams for UDPRoute), not HTTP requests. */
export type StreamRouteKind = 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

export function isStreamKind(kind: string): kind is StreamRouteKind {
  return kind === 'TLSRoute' || kind === 'TCPRoute' || kind === 'UDPRoute';
}

/** Listener protocols whose sockets carry streams (see IR Listener.streamRoutes). */
export function isStreamProtocol(protocol: string): boolean {
  return protocol === 'TLS' || protocol === 'TCP' || protocol === 'UDP';
}
export interface GroupKind { readonly group: string; readonly kind: string }

export interface GatewayInfo {
  readonly gateway: Gateway;
  readonly meta: Meta;
  /**
   * Socket addresses, each an IP or '' for all interfaces. Every listener binds every one of
   * them (Gateway API GatewaySpec.addresses: "MUST bind all Listeners to every GatewayAddress").
   */
  readonly addresses: readonly string[];
  readonly listeners: ListenerInfo[];
  /** Failures of the Gateway itself (e.g. UnsupportedAddress); non-empty means not Accepted. */
  readonly failures: ConditionInput[];
  /** spec.tls.backend: the client certificate presented to backends, and ResolvedRefs. */
  readonly backendTls?: GatewayBackendTls;
}

export interface ListenerInfo {
  readonly gateway: GatewayInfo;
  /** `listener/<ns>/<gateway>/<name>`. */
  readonly id: string;
  readonly name: string;
  readonly index: number;
  readonly port: number;
  readonly protocol: string;
  /** Lower-case hostname, `*` when the listener has none. */
  readonly hostname: string;
  readonly allowedRoutes: unknown;
  readonly supportedKinds: GroupKind[];
  readonly certificates: Certificate[];
  /** TLS listeners: Passthrough or Terminate (the Gateway API default). */
  readonly tlsMode?: 'Passthrough' | 'Terminate';
  /** HTTPS listeners: client certificate validation (Gateway spec.tls.frontend). */
  readonly clientValidation?: ClientValidation;
  /** Failure conditions, appended after the defaults. */
  readonly failures: ConditionInput[];
  /** Passed protocol/port/value checks (before conflicts): may take part in a socket. */
  usable: boolean;
  conflicted: boolean;
  /** Routes attached (Gateway API attachedRoutes): route keys, counted valid or not. */
  readonly attached: Set<string>;
}

/** Listener protocols the data plane serves, with the route kinds each accepts. */
const SUPPORTED_KINDS: Readonly<Record<string, readonly RouteKind[]>> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  // Gateway API: TLSRoute attaches to TLS listeners (Passthrough core, Terminate extended).
  // TCPRoute on a TLS listener is allowed by the spec but not served: conformance
  // (TLSRouteListenerPassthroughSupportedKinds) expects it reported as an invalid kind there.
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};
/** Core Gateway API protocols we do not serve yet (Accepted=False, UnsupportedProtocol). */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

function isIp(v: string): boolean {
  return IPV4.test(v) || (v.includes(':') && IPV6.test(v) && v.split('::').length <= 2);
}

/**
 * Where the Gateway's listeners bind, plus address failures. Without an override
 * (TranslateOptions.gatewayAddress), every IPAddress of spec.addresses is bound
 * (GatewayStaticAddresses): one that cannot be bound makes the Gateway Programmed=False with
 * AddressNotUsable once the proxy reports it (apply-result.ts). With none, all interfaces.
 */
function resolveAddresses(gateway: Gateway, options: TranslateOptions): { addresses: string[]; failures: ConditionInput[] } {
  const failures: ConditionInput[] = [];
  const requested: string[] = [];
  for (const [a, i] of indexed(obj(obj(gateway)?.spec)?.addresses)) {
    const type = str(a.type) ?? 'IPAddress';
    const value = str(a.value) ?? '';
    // Gateway API: an address the implementation cannot assign makes the Gateway not Accepted.
    if (type !== 'IPAddress') {
      failures.push(st.gatewayUnsupportedAddress(`spec.addresses[${i}]: address type ${type} is not supported`));
    } else if (value === '') {
      // GatewayAddressEmpty: "assign me an address". The static addresses, or the default
      // address when there are none, are that assignment.
      continue;
    } else if (!isIp(value)) {
      failures.push(st.gatewayUnsupportedAddress(`spec.addresses[${i}]: "${value}" is not an IP address`));
    } else if (!requested.includes(value)) {
      requested.push(value);
    }
  }
  let override: string | undefined;
  try {
    override = options.gatewayAddress?.(gateway);
  } catch {
    override = undefined;
  }
  if (typeof override === 'string') return { addresses: [override], failures };
  return { addresses: requested.length > 0 ? requested : [''], failures };
}

function resolveKinds(listener: ReturnType<typeof obj>, protocol: string, field: string): { kinds: GroupKind[]; failure?: ConditionInput } {
  const supported = Object.hasOwn(SUPPORTED_KINDS, protocol) ? SUPPORTED_KINDS[protocol]! : [];
  const requested = objs(obj(listener?.allowedRoutes)?.kinds);
  // Gateway API: unspecified or empty kinds mean every kind the protocol supports.
  if (requested.length === 0) return { kinds: supported.map((kind) => ({ group: GATEWAY_GROUP, kind })) };
  const kinds: GroupKind[] = [];
  const invalid: string[] = [];
  for (const k of requested) {
    const group = str(k.group) ?? GATEWAY_GROUP;
    const kind = str(k.kind) ?? '';
    if (group === GATEWAY_GROUP && (supported as readonly string[]).includes(kind)) {
      if (!kinds.some((x) => x.kind === kind)) kinds.push({ group, kind });
    } else {
      invalid.push(`${group}/${kind}`);
    }
  }
  return invalid.length === 0
    ? { kinds }
    : { kinds, failure: st.listenerInvalidRouteKinds(`${field}.allowedRoutes.kinds: unsupported route kinds ${invalid.join(', ')}`) };
}

export function buildGateways(graph: Graph, options: TranslateOptions): GatewayInfo[] {
  return graph.ourGateways.map((gateway) => {
    const m = meta(gateway);
    const resolved = resolveAddresses(gateway, options);
    const addresses = resolved.addresses;
    const failures = [...resolved.failures, ...validateInfrastructure(gateway)];
    const backendTls = resolveGatewayBackendTls(graph, gateway);
    const info: GatewayInfo = { gateway, meta: m, addresses, listeners: [], failures, ...(backendTls ? { backendTls } : {}) };
    for (const [l, index] of indexed(obj(obj(gateway)?.spec)?.listeners)) {
      const name = str(l.name) ?? '';
      const field = `spec.listeners[${index}]`;
      const port = int(l.port) ?? 0;
      const protocol = str(l.protocol) ?? '';
      // Gateway API Listener.hostname: ignored for protocols without hostname matching (TCP, UDP).
      const hostname = protocol === 'TCP' || protocol === 'UDP' ? '*' : (str(l.hostname) ?? '').toLowerCase() || '*';
      const lfailures: ConditionInput[] = [];
      let usable = true;
      let certificates: Certificate[] = [];
      let tlsMode: 'Passthrough' | 'Terminate' | undefined;
      let clientValidation: ClientValidation | undefined;
      if (!Object.hasOwn(SUPPORTED_KINDS, protocol)) {
        lfailures.push(st.listenerUnsupportedProtocol(`${field}.protocol: ${protocol || '(empty)'} is not supported`));
        usable = false;
      }
      if (port < 1 || port > 65535) {
        lfailures.push(st.listenerUnsupportedValue(`${field}.port: ${show(l.port)} is not a port number (1-65535)`));
        usable = false;
      }
      if (hostname !== '*' && !isValidHostname(hostname)) {
        lfailures.push(st.listenerUnsupportedValue(`${field}.hostname: "${hostname}" is not a valid hostname`));
        usable = false;
      }
      const { kinds, failure } = resolveKinds(l, protocol, field);
      if (failure) lfailures.push(failure);
      if (protocol === 'TLS' && usable && (str(obj(l.tls)?.mode) ?? 'Terminate') === 'Passthrough') {
        // Passthrough never decrypts: certificateRefs, if any, are not used.
        tlsMode = 'Passthrough';
      } else if ((protocol === 'HTTPS' || protocol === 'TLS') && usable) {
        const tls = obj(l.tls);
        const mode = str(tls?.mode) ?? 'Terminate';
        if (protocol === 'TLS') tlsMode = 'Terminate';
        if (mode !== 'Terminate') {
          // Gateway API: HTTPS listeners terminate TLS; Passthrough belongs to TLS listeners.
          lfailures.push(st.listenerUnsupportedValue(`${field}.tls.mode: ${mode} is not supported with protocol ${protocol}`));
          usable = false;
        } else {
          const res = resolveCertificates(graph, gateway, tls, `${field}.tls`);
          for (const f of res.failures) {
            lfailures.push(f.reason === 'RefNotPermitted' ? st.listenerCertificateRefNotPermitted(f.message) : st.listenerInvalidCertificateRef(f.message));
          }
          certificates = res.certificates;
          // Serve with the certificates that resolved; without any, the listener cannot serve.
          if (certificates.length === 0) usable = false;
          if (protocol === 'HTTPS') {
            const frontend = resolveFrontendValidation(graph, gateway, port);
            lfailures.push(...frontend.failures);
            if (!frontend.usable) usable = false;
            clientValidation = frontend.validation;
          }
        }
      }
      info.listeners.push({
        gateway: info, id: `listener/${m.namespace}/${m.name}/${name}`, name, index, port, protocol, hostname,
        allowedRoutes: l.allowedRoutes, supportedKinds: kinds, certificates, ...(tlsMode ? { tlsMode } : {}),
        ...(clientValidation ? { clientValidation } : {}), failures: lfailures,
        usable: usable && failures.length === 0, conflicted: false, attached: new Set(),
      });
    }
    return info;
  });
}

/**
 * Socket id of the IR: `port/<address or *>/<port>`, or `udp/<address or *>/<port>` for a UDP
 * listener: UDP and TCP ports are separate sockets, so a UDP listener never conflicts with a
 * TCP-based one on the same port number (Gateway API allows TCP and UDP on one port).
 */
export function socketId(address: string, port: number, protocol?: string): string {
  return `${protocol === 'UDP' ? 'udp' : 'port'}/${address === '' ? '*' : address}/${port}`;
}

/**
 * Marks conflicts among usable listeners sharing a socket (Gateway API ListenerConditionConflicted):
 * different protocols on one port (ProtocolConflict), or the same protocol and hostname
 * (HostnameConflict). Every party to a conflict is marked, whatever Gateway it belongs to, so
 * the outcome does not depend on input order.
 */
export function markConflicts(gateways: readonly GatewayInfo[]): void {
  const sockets = new Map<string, ListenerInfo[]>();
  for (const g of gateways) for (const l of g.listeners) {
    if (!l.usable) continue;
    for (const address of g.addresses) {
      const id = socketId(address, l.port, l.protocol);
      const list = sockets.get(id);
      if (list) list.push(l); else sockets.set(id, [l]);
    }
  }
  for (const [id, list] of sockets) {
    const protocols = new Set(list.map((l) => l.protocol));
    if (protocols.size > 1) {
      for (const l of list) {
        l.conflicted = true;
        l.failures.push(st.listenerProtocolConflict(`spec.listeners[${l.index}]: port ${l.port} is used with protocols ${[...protocols].sort().join(' and ')} on ${id}`));
      }
      continue;
    }
    const byHost = new Map<string, ListenerInfo[]>();
    for (const l of list) {
      const same = byHost.get(l.hostname);
      if (same) same.push(l); else byHost.set(l.hostname, [l]);
    }
    for (const same of byHost.values()) {
      if (same.length < 2) continue;
      const names = same.map((l) => l.id).sort(compareStrings).join(', ');
      for (const l of same) {
        l.conflicted = true;
        l.failures.push(st.listenerHostnameConflict(`spec.listeners[${l.index}]: hostname "${l.hostname}" on port ${l.port} is shared by ${names}`));
      }
    }
  }
}

/** A listener that goes into the routing table. */
export function serves(l: ListenerInfo): boolean {
  return l.usable && !l.conflicted;
}
