// The translator's public option and result types.
import type { RoutingTable } from '../ir/index.ts';
import type { Gateway } from './resources.ts';
import type { TranslateCache } from './cache.ts';
import type { PluginValidators } from '../plugins/validators.ts';

export interface TranslateOptions {
  /** GatewayClasses whose spec.controllerName equals this are ours: 'fluxgate.io/gateway-controller'. */
  readonly controllerName: string;
  /** Compile check for user regular expressions (RE2 syntax), supplied by the proxy: returns an error message, or undefined when it compiles. */
  readonly validateRegex: (pattern: string) => string | undefined;
  /**
   * Overrides where a Gateway's listeners bind. Returns an IP, '' for all interfaces, or
   * undefined for the default: every spec.addresses entry of type IPAddress (or with no type)
   * with a value, all bound (GatewayStaticAddresses), else '' (all interfaces).
   */
  readonly gatewayAddress?: (gateway: Gateway) => string | undefined;
  /**
   * Memo from createTranslateCache(), kept by a front end across calls so that unchanged routes
   * are not translated again. The result is the same with or without it. Requires that input
   * objects are never mutated and that `gatewayAddress` is a pure function of the Gateway.
   */
  readonly cache?: TranslateCache;
  /**
   * Plugin validation (pure), from src/plugins (`pluginValidators`). Without it, every
   * fluxgate.io ExtensionRef and policy fails closed: its routes answer 500.
   */
  readonly plugins?: PluginValidators;
}

export interface ObjectStatus {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** The object's status as the Gateway API defines it (GatewayClassStatus, GatewayStatus, HTTPRouteStatus...), conditions WITHOUT lastTransitionTime. */
  readonly status: unknown;
}

export interface TranslateResult {
  readonly table: RoutingTable;
  readonly statuses: readonly ObjectStatus[];
}
