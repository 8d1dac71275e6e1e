import { Document, isMap, isSeq } from 'yaml';

import type { RbacObject } from '../core/permissions.js';

/**
 * The RBAC objects as YAML documents that `kubectl apply -f -` takes, each
 * rule with the reason it is there as a comment above it.
 */
export function formatRbacYaml(objects: RbacObject[]): string {
  return objects
    .map(({ reasons, comment, ...object }) => {
      const doc = new Document(object, { aliasDuplicateObjects: false });
      // What an opt-in ClusterRole allows beyond our use, above it, for the admin who applies it.
      if (comment) doc.commentBefore = ` ${comment}`;
      const rules = doc.get('rules');
      if (reasons && isSeq(rules))
        rules.items.forEach((item, i) => {
          (item as { commentBefore?: string }).commentBefore = ` ${reasons[i] ?? ''}`;
          // apiGroups, resources and verbs on one line each, as RBAC is usually written.
          if (isMap(item)) for (const pair of item.items) if (isSeq(pair.value)) pair.value.flow = true;
        });
      return doc.toString({ lineWidth: 0 });
    })
    .join('---\n');
}

/** The same objects as a kubectl List, for -o json (without the comments). */
export function formatRbacJson(objects: RbacObject[]): string {
  const items = objects.map((o) => ({ ...o, reasons: undefined, comment: undefined }));
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`;
}
