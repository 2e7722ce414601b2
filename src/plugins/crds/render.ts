// Renders the fluxgate.io CRDs (manifests/crds/*.yaml) from schemas.ts.
import { stringify } from 'yaml';
import { CRD_KINDS, type CrdKind } from './schemas.ts';

export function renderCrd(k: CrdKind): string {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.fluxgate.io` },
    spec: {
      group: 'fluxgate.io',
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase(), shortNames: [...k.shortNames], categories: ['fluxgate'] },
      scope: 'Namespaced',
      versions: [{
        name: 'v1alpha1', served: true, storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: k.columns,
        schema: {
          openAPIV3Schema: {
            type: 'object', required: ['spec'],
            properties: {
              apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
              spec: k.spec,
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      }],
    },
  };
  return `# Generated from src/plugins/crds/schemas.ts (npm run crds:update); do not edit.\n${stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

export function renderAll(): Map<string, string> {
  return new Map(CRD_KINDS.map((k) => [`fluxgate.io_${k.plural}.yaml`, renderCrd(k)]));
}
