// Kubernetes metav1.LabelSelector evaluation, for allowedRoutes.namespaces.selector.
import { obj, objs, str, strs } from './safe.ts';

/**
 * Does `selector` select an object with `labels`? An empty selector selects everything; a
 * malformed one (unknown operator, In without values) selects nothing, as the API server
 * would have refused it.
 */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const s = obj(selector);
  if (!s) return false;
  const matchLabels = obj(s.matchLabels);
  if (matchLabels) {
    for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  }
  for (const e of objs(s.matchExpressions)) {
    const key = str(e.key);
    if (key === undefined) return false;
    const values = strs(e.values);
    const has = Object.hasOwn(labels, key);
    switch (e.operator) {
      case 'In':
        if (values.length === 0 || !has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0 || (has && values.includes(labels[key]!))) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
