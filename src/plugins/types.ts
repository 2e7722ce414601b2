// The plugin contract (DESIGN.md "Plugins"): `validate` runs in the translator and must be
// pure (no I/O, no clock); `create` runs once per table compile, never per request; the hooks
// it returns run per request and must do as little as possible (no allocation on the common
// path, no Promise when the decision is synchronous).
import type { IncomingHttpHeaders } from 'node:http';

/** One problem with a config, naming the field (`spec.rateLimit.limits.second`). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type ValidateResult =
  | { readonly ok: true; readonly config: unknown }
  | { readonly ok: false; readonly errors: readonly FieldProblem[] };

/** A Consumer (fluxgate.io) with its credential Secrets read, as the translator resolved it. */
export interface ResolvedConsumer {
  /** `<ns>/<name>` of the Consumer object. */
  readonly id: string;
  readonly username: string;
  readonly customId?: string;
  readonly credentials: readonly ResolvedCredential[];
}

export interface ResolvedCredential {
  readonly type: 'KeyAuth' | 'BasicAuth';
  /** Decoded Secret data (UTF-8). Only validate() sees it; it never reaches a log. */
  readonly data: Readonly<Record<string, string>>;
  /** Where it came from, for messages: `Consumer default/alice spec.credentials[0]`. */
  readonly source: string;
}

export interface ValidateContext {
  /** Field path of the config inside its object, for messages. */
  readonly field: string;
  /** Namespace of the object that holds the config. */
  readonly namespace: string;
  /** Consumers whose credentials this config may use (same namespace, selector applied). */
  readonly consumers: readonly ResolvedConsumer[];
  /** Secret data by name in `namespace` (decoded), for configs that reference a Secret. */
  secret(name: string): Readonly<Record<string, string>> | undefined;
}

/**
 * What a hook sees of a request. The proxy implements it on its own per-request object, so
 * calling a hook allocates nothing.
 */
export interface PluginRequest {
  readonly httpMethod: string;
  /** Normalised path (what routing matched). */
  readonly path: string;
  /** Host without port, lower case. */
  readonly host: string;
  /** `http` or `https`: how the client reached us. */
  readonly scheme: 'http' | 'https';
  /** Client request headers (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** Socket peer address (IPv4-mapped IPv6 unwrapped). */
  readonly peerAddress: string;
  /** IR route id (`httproute/<ns>/<name>/rule/<i>/match/<j>`). */
  readonly routeId: string;
  /** Raw query without `?`; a plugin may replace it (what goes upstream). */
  query: string;
  /**
   * Headers going upstream; plugins may set and delete. Reading it makes the proxy build the
   * header object, so a plugin that only adds a header the client did not send uses
   * addUpstreamHeader instead.
   */
  readonly upHeaders: Record<string, string | string[]>;
  /** Adds an upstream header the client did not send (no header object is built for it). */
  addUpstreamHeader(name: string, value: string): void;
  /** The authenticated consumer's username, set by an authentication plugin. */
  consumer: string | undefined;
  /**
   * Adds a header to the response (rate-limit headers); a later call with the same name
   * replaces the value. Kept as name/value pairs appended to the upstream's header list, so a
   * response with plugin headers builds no header object.
   */
  addResponseHeader(name: string, value: string): void;
  /**
   * Adds response fields as ready HTTP/1.1 field lines (`name: value\r\n` each, lower-case
   * names, each name once): the block a plugin adds on most responses (rate-limit headers),
   * treated as addResponseHeader of each field. The proxy writes it into an HTTP/1.1 head as
   * it is, so the plugin owns its validity: names fixed and checked at create time, values it
   * produced itself.
   */
  addResponseLines(lines: string): void;
  /** Response hooks to run on the upstream's response headers (transforms). */
  pluginResHooks: ResponseHook[] | undefined;
}

export type ResponseHook = (status: number, headers: Record<string, string | string[]>) => void;

/** A plugin's own answer: the request stops here. */
export interface PluginAnswer {
  readonly status: number;
  /** Stable error code (`RATE_LIMITED`, `AUTH_INVALID_CREDENTIALS`...). */
  readonly code: string;
  readonly message: string;
  /** Extra response headers; an array for repeated headers (Set-Cookie). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** When set, the body is sent as is instead of the JSON error body (redirects). */
  readonly rawBody?: string;
}

export type HookResult = PluginAnswer | undefined;

export interface PluginHooks {
  /** Continue (undefined), answer, or a Promise of either when the decision needs I/O. */
  onRequest(req: PluginRequest): HookResult | Promise<HookResult>;
}

/** Logger subset plugins use; never given credentials. */
export interface PluginLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface CreateContext {
  /** Filter id (`policy/<ns>/<kind>/<name>/<feature>`), stable across reloads. */
  readonly id: string;
  readonly logger: PluginLogger;
  /** Milliseconds since the epoch; injected so tests control time. */
  now(): number;
  /**
   * State that must survive table reloads (rate-limit counters, JWKS caches), keyed by the
   * caller; created on first use, kept while some compiled table still uses the key.
   */
  shared<T>(key: string, make: () => T, dispose?: (value: T) => void): T;
  /** Compiles a nested plugin filter (used by policy selection). */
  compile(kind: string, id: string, config: unknown): PluginHooks;
}

export interface Plugin {
  /** IR plugin kind (`rate-limit`, `key-auth`...). */
  readonly kind: string;
  /** Order of policy-attached plugins on a route: higher runs first (as Kong's priorities). */
  readonly priority: number;
  /** Pure: checks and normalises a config into what goes into the routing table. */
  validate(config: unknown, ctx: ValidateContext): ValidateResult;
  /** Once per table compile. May throw: the filter then fails closed. */
  create(config: unknown, ctx: CreateContext): PluginHooks;
}
