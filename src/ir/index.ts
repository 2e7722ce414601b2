/**
 * The routing table: the one contract between the control plane (translate) and the data
 * plane (proxy).
 *
 * Must not: import anything, carry Gateway API object shapes, or hold functions, class
 * instances or anything that is not plain data. A table is a frozen, JSON-serialisable value
 * that the translator builds from the full state and the proxy compiles once per apply.
 * Everything here uses data-plane names (Listener, VirtualHost, Route, Backend, Endpoint).
 */

/** A complete, self-contained configuration for the data plane. */
export interface RoutingTable {
  /**
   * Content hash of the table (hex). Two tables with the same version are identical, so an
   * apply of an equal table is a no-op.
   */
  readonly version: string;
  /** One entry per socket to bind, sorted by `address` then `port`. */
  readonly listeners: readonly Listener[];
  /** Every backend referenced by a route of this table, sorted by `id`. */
  readonly backends: readonly Backend[];
}

/**
 * Protocol a bound socket speaks to clients. TLS, TCP and UDP sockets carry streams (datagram
 * sessions for UDP) routed by `streamRoutes` instead of HTTP virtual hosts.
 */
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

/**
 * One bound socket (address + port). Several Gateway listeners that share a port share one
 * socket; each of them contributes its own virtual hosts.
 */
export interface Listener {
  /** Stable id: `port/<address or *>/<port>` (`udp/...` for a UDP socket). */
  readonly id: string;
  /** IP address to bind; empty string binds all interfaces. */
  readonly address: string;
  /** TCP port, 1-65535. */
  readonly port: number;
  readonly protocol: ListenerProtocol;
  /**
   * Gateway listeners sharing this socket, with their ids
   * (`listener/<namespace>/<gateway>/<name>`), hostnames and certificates. Used for SNI
   * certificate selection and 421 (misdirected request) decisions on HTTPS sockets.
   */
  readonly gatewayListeners: readonly GatewayListener[];
  /**
   * Virtual hosts, sorted by hostname specificity: exact hostnames first, then wildcards with
   * the longest suffix first, then the catch-all `*`. A request selects exactly one virtual host
   * (exact match, else the longest matching wildcard, else `*`) and never falls through to a less
   * specific one (Gateway API listener isolation).
   */
  readonly virtualHosts: readonly VirtualHost[];
  /**
   * TLS, TCP and UDP sockets: where each stream goes; absent on HTTP and HTTPS sockets.
   * TLS: the ClientHello's SNI selects the Gateway listener (exact, longest wildcard, `*`), then
   * the most specific route hostname of that listener (never one of another listener: Gateway
   * API listener isolation); no match, or no SNI where no `*` applies, closes the connection.
   * TCP and UDP: one route (hostname `*`) per Gateway listener. Sorted by listener id, then
   * hostname specificity as for virtual hosts.
   */
  readonly streamRoutes?: readonly StreamRoute[];
}

/** Where the streams of one hostname of one Gateway listener go (TLSRoute, TCPRoute, UDPRoute). */
export interface StreamRoute {
  /** `tlsroute/<ns>/<name>`, `tcproute/<ns>/<name>` or `udproute/<ns>/<name>`. */
  readonly id: string;
  /** SNI hostname: exact, wildcard (`*.example.com`) or `*`; always `*` for TCP and UDP. */
  readonly hostname: string;
  /** `listener/<namespace>/<gateway>/<name>` of the Gateway listener it belongs to. */
  readonly listenerId: string;
  /**
   * Weighted shares of new connections (UDP: new client sessions). An `invalid` share closes
   * its connections (Gateway API: rejected, respecting weight); filters are always empty.
   * Empty: every connection is closed.
   */
  readonly backendRefs: readonly WeightedBackendRef[];
}

/** A Gateway listener as the data plane needs to know it. */
export interface GatewayListener {
  /** `listener/<namespace>/<gateway>/<name>`. */
  readonly id: string;
  /** Hostname the listener accepts (`*` when the listener has none); may be a wildcard. */
  readonly hostname: string;
  /** Certificates for TLS termination, in spec order (the first is the default). */
  readonly certificates: readonly Certificate[];
  /**
   * TLS sockets only: `Passthrough` forwards the client's TLS stream untouched (routed by
   * SNI); `Terminate` completes the handshake with `certificates` and forwards plaintext.
   */
  readonly tlsMode?: 'Passthrough' | 'Terminate';
  /**
   * HTTPS: client certificates are asked for and verified against `caPem` (Gateway
   * `spec.tls.frontend`, default or per port). Absent: no client certificate is asked for.
   */
  readonly clientValidation?: ClientValidation;
}

/** Frontend (client) certificate validation of one Gateway listener. */
export interface ClientValidation {
  /** PEM bundle of the trusted CA certificates. */
  readonly caPem: string;
  /**
   * `AllowValidOnly`: a connection without a client certificate that verifies is closed after
   * the handshake. `AllowInsecureFallback`: the certificate is asked for, never required.
   */
  readonly mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

/** A PEM certificate chain and its private key, from a `kubernetes.io/tls` Secret. */
export interface Certificate {
  /** `secret/<namespace>/<name>`. */
  readonly id: string;
  /** PEM certificate chain. */
  readonly certPem: string;
  /** PEM private key. */
  readonly keyPem: string;
}

/** All routes for one hostname on one socket. */
export interface VirtualHost {
  /** `vhost/<listener id>/<hostname>`. */
  readonly id: string;
  /**
   * Exact hostname (`foo.example.com`), wildcard (`*.example.com`, matching one or more
   * labels in front of the suffix), or `*` for any host. Lower case, no port.
   */
  readonly hostname: string;
  /** Id of the Gateway listener that owns this virtual host (for 421 decisions). */
  readonly listenerId: string;
  /**
   * Routes in precedence order as the Gateway API specifies it (path match type and length,
   * method, header count, query param count, oldest route, name, rule and match index). The
   * first route whose match accepts the request wins.
   */
  readonly routes: readonly Route[];
}

/** One HTTPRoute rule match, flattened. */
export interface Route {
  /** `httproute/<ns>/<name>/rule/<i>/match/<j>`. */
  readonly id: string;
  /** Optional rule name (`spec.rules[i].name`), for logs and metrics. */
  readonly ruleName?: string;
  readonly match: RouteMatch;
  /** Request-phase filters of the rule, in spec order. */
  readonly filters: readonly Filter[];
  /**
   * Where the request goes when no filter answered it. An empty list means the rule had no
   * backendRefs: the proxy answers 500 (Gateway API: a rule without backends fails requests).
   */
  readonly backendRefs: readonly WeightedBackendRef[];
  readonly timeouts?: Timeouts;
  readonly retry?: RetryPolicy;
}

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type StringMatchType = 'Exact' | 'RegularExpression';

export interface RouteMatch {
  /**
   * Path match against the normalised path (no query). PathPrefix matches whole segments:
   * `/foo` matches `/foo` and `/foo/bar` but not `/foobar`; its value has no trailing slash
   * except for `/` itself.
   */
  readonly path: { readonly type: PathMatchType; readonly value: string };
  /** Header matches; all must match. Names are lower case. */
  readonly headers: readonly KeyValueMatch[];
  /** Query parameter matches; all must match. Names are case-sensitive. */
  readonly queryParams: readonly KeyValueMatch[];
  /** Upper-case HTTP method, when the match is restricted to one. */
  readonly method?: string;
}

export interface KeyValueMatch {
  readonly type: StringMatchType;
  readonly name: string;
  /** Exact value, or an RE2 regular expression matched against the whole value. */
  readonly value: string;
}

/** Timeouts in milliseconds. Absent means no timeout. */
export interface Timeouts {
  /** From the start of the request to the end of the response sent to the client. */
  readonly requestMs?: number;
  /** One request to one backend, including retries' individual attempts. */
  readonly backendRequestMs?: number;
}

export interface RetryPolicy {
  /** Number of retries after the first attempt. */
  readonly attempts: number;
  /** Response status codes that trigger a retry. */
  readonly codes: readonly number[];
  /** Delay between attempts in milliseconds. */
  readonly backoffMs?: number;
}

export interface HeaderValue {
  /** Header name; matched case-insensitively. */
  readonly name: string;
  readonly value: string;
}

/** Changes to a set of headers (Gateway API HTTPHeaderFilter). */
export interface HeaderModifier {
  readonly set: readonly HeaderValue[];
  readonly add: readonly HeaderValue[];
  /** Header names to remove, lower case. */
  readonly remove: readonly string[];
}

export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  /**
   * Replace the matched prefix (`prefix`, from the route's PathPrefix match) with `value`,
   * on segment boundaries.
   */
  | { readonly type: 'ReplacePrefixMatch'; readonly prefix: string; readonly value: string };

export interface RequestRedirect {
  /** `http` or `https`; absent keeps the request's scheme. */
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly path?: PathModifier;
  /** Absent: the well-known port of the resulting scheme when the scheme changes, else the listener port. */
  readonly port?: number;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface UrlRewrite {
  readonly hostname?: string;
  readonly path?: PathModifier;
}

export interface Mirror {
  /** Backend id (in `RoutingTable.backends`) that receives a copy of the request. */
  readonly backendId: string;
  /** Fraction of requests mirrored, 0..1. 1 when absent. */
  readonly fraction?: number;
}

export interface Cors {
  /** Allowed origins: exact (`https://a.example`), wildcard (`https://*.example`) or `*`. */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials: boolean;
  /** Upper-case methods, or `*`. */
  readonly allowMethods: readonly string[];
  /** Lower-case header names, or `*`. */
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** A plugin filter instance (ExtensionRef); `config` was validated by the plugin. */
export interface PluginFilter {
  /** Plugin kind, as registered. */
  readonly kind: string;
  /** `plugin/<ns>/<kind>/<name>`. */
  readonly id: string;
  readonly config: unknown;
}

/** A request-phase filter of a rule, in spec order. */
export type Filter =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly redirect: RequestRedirect }
  | { readonly type: 'URLRewrite'; readonly rewrite: UrlRewrite }
  | { readonly type: 'RequestMirror'; readonly mirror: Mirror }
  | { readonly type: 'CORS'; readonly cors: Cors }
  | { readonly type: 'Plugin'; readonly plugin: PluginFilter };

/** Filters allowed on a single backendRef (Gateway API BackendRef.filters). */
export type BackendFilter = Extract<
  Filter,
  { readonly type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'URLRewrite' | 'RequestMirror' }
>;

/** A share of a route's traffic. */
export type WeightedBackendRef =
  | {
      readonly kind: 'backend';
      /** Id in `RoutingTable.backends`. */
      readonly backendId: string;
      /** Relative weight, > 0 (refs of weight 0 are left out by the translator). */
      readonly weight: number;
      readonly filters: readonly BackendFilter[];
    }
  | {
      /**
       * A backendRef that could not be resolved (missing Service, unpermitted cross-namespace
       * reference, unsupported kind). Its share of the weight answers `status` (Gateway API:
       * 500), and the route status says why.
       */
      readonly kind: 'invalid';
      readonly weight: number;
      readonly status: number;
      /** Stable error code for logs and the response body, e.g. `BACKEND_NOT_FOUND`. */
      readonly code: string;
    };

/**
 * Protocol spoken to a backend's endpoints. `tcp` and `udp`: a backend only stream routes use;
 * bytes (datagrams) are forwarded as they are.
 */
export type BackendProtocol = 'http1' | 'h2c' | 'websocket' | 'tcp' | 'udp';

/** A group of endpoints that traffic is balanced across (a Service port). */
export interface Backend {
  /** `backend/<ns>/<service>/<port>`. */
  readonly id: string;
  /** From the Service port's appProtocol: `kubernetes.io/h2c` selects h2c. */
  readonly protocol: BackendProtocol;
  /** Ready endpoints, sorted by address then port. Empty: requests answer 503. */
  readonly endpoints: readonly Endpoint[];
  /** TLS to the endpoints (Gateway API BackendTLSPolicy); absent: plaintext. */
  readonly tls?: BackendTls;
  /**
   * Active health checking of the endpoints (TrafficPolicy `spec.healthCheck`). Endpoints that
   * fail it are taken out of load balancing until they pass again; when every endpoint fails,
   * all of them get traffic (Envoy's panic mode), since "all unhealthy" more often means a bad
   * probe than a dead service. Absent: every endpoint is used.
   */
  readonly healthCheck?: HealthCheck;
}

/** An active HTTP health check, probed per endpoint. */
export interface HealthCheck {
  /** `policy/<ns>/TrafficPolicy/<name>/healthCheck@<target>`: the policy attachment that set it. */
  readonly id: string;
  /** Request path (with query) of the probe, e.g. `/healthz`. */
  readonly path: string;
  /** Host header of the probe; absent: the endpoint's address and port. */
  readonly host?: string;
  /** Time between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** A probe without a complete response head within this time failed. */
  readonly timeoutMs: number;
  /** Consecutive passing probes that bring an unhealthy endpoint back. */
  readonly healthyThreshold: number;
  /** Consecutive failing probes that take a healthy endpoint out. */
  readonly unhealthyThreshold: number;
  /** Response statuses that pass, as inclusive ranges, sorted. */
  readonly expectedStatuses: readonly StatusRange[];
}

export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

/** How the proxy connects to a backend over TLS, and what it verifies. */
export interface BackendTls {
  /** `backendtlspolicy/<ns>/<name>`: the policy this comes from. */
  readonly policyId: string;
  /** SNI sent, and the name the certificate must carry when `subjectAltNames` is empty. */
  readonly serverName: string;
  /** PEM bundle of the CAs that verify the backend's certificate; absent: the well-known CAs. */
  readonly caPem?: string;
  /** When non-empty, the certificate must carry at least one of these instead of `serverName`. */
  readonly subjectAltNames: readonly SubjectAltName[];
  /** Presented to the backend when it asks (Gateway `spec.tls.backend.clientCertificateRef`). */
  readonly clientCertificate?: Certificate;
}

export interface SubjectAltName {
  /** `Hostname`: a DNS SAN (wildcards in the certificate match as RFC 6125 says); `URI`: exact. */
  readonly type: 'Hostname' | 'URI';
  readonly value: string;
}

export interface Endpoint {
  /** IPv4 or IPv6 address (no brackets). */
  readonly address: string;
  readonly port: number;
}

/**
 * What the proxy really did with a table, fed back to the status of Gateways
 * (Programmed) by the control plane.
 */
export interface ApplyResult {
  /** The version of the table that is now serving. */
  readonly version: string;
  /** One entry per Listener of the table, in table order. */
  readonly listeners: readonly ListenerApplyResult[];
}

export interface ListenerApplyResult {
  /** `Listener.id`. */
  readonly id: string;
  /** True when the socket is bound and serving this table. */
  readonly bound: boolean;
  /** The port actually bound (differs from the table's when it asked for port 0). */
  readonly boundPort?: number;
  /** Why binding failed (e.g. `EADDRINUSE`), when it did. */
  readonly error?: string;
  /** Gateway listener ids whose certificates could not be loaded, with the reason. */
  readonly certificateErrors?: readonly { readonly listenerId: string; readonly message: string }[];
}
