import { answer } from '../core/answers.ts';
import { CidrSet } from '../core/cidr.ts';
import { clientAddress } from '../core/client-ip.ts';
import type { CreateContext, PluginHooks } from '../types.ts';
import type { IpRestrictionConfig } from './validate.ts';

const FORBIDDEN = answer(403, 'IP_FORBIDDEN', 'your IP address is not allowed');

export function createIpRestriction(raw: unknown, _ctx: CreateContext): PluginHooks {
  const config = raw as IpRestrictionConfig;
  const allow = CidrSet.of(config.allow), deny = CidrSet.of(config.deny);
  const trusted = config.trustedProxies.length > 0 ? CidrSet.of(config.trustedProxies) : undefined;
  return {
    onRequest(req) {
      const ip = clientAddress(req, trusted);
      if (deny.has(ip)) return FORBIDDEN;
      if (allow.size > 0 && !allow.has(ip)) return FORBIDDEN;
      return undefined;
    },
  };
}
