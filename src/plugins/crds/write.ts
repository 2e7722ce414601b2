// `npm run crds:update`: writes manifests/crds from schemas.ts.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderAll } from './render.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'manifests', 'crds');
mkdirSync(dir, { recursive: true });
for (const [file, text] of renderAll()) writeFileSync(join(dir, file), text);
