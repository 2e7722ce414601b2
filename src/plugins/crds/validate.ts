// Schema check of fluxgate.io documents in standalone mode (what the API server does with the
// CRD schema in a cluster), with ajv. Unknown keywords (x-kubernetes-*) are ignored; the
// AuthPolicy "exactly one" CEL rule is enforced by the translator instead.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CRD_KINDS } from './schemas.ts';

let compiled: Map<string, ValidateFunction> | undefined;

function validators(): Map<string, ValidateFunction> {
  if (compiled !== undefined) return compiled;
  const ajv = new Ajv({ strict: false, allErrors: true });
  compiled = new Map(CRD_KINDS.map((k) => [k.kind, ajv.compile({ type: 'object', required: ['spec'], properties: { spec: k.spec } })]));
  return compiled;
}

export const FLUXGATE_KINDS: readonly string[] = CRD_KINDS.map((k) => k.kind);

/** Undefined when valid, else ajv errors (instancePath from the object root). */
export function validateFluxgateObject(kind: string, object: unknown): readonly ErrorObject[] | undefined {
  const v = validators().get(kind);
  if (v === undefined) return [{ instancePath: '/kind', keyword: 'enum', params: {}, message: `unknown kind ${kind}`, schemaPath: '' }];
  return v(object) ? undefined : (v.errors ?? []);
}
