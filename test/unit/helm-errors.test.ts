import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ExitCode } from '../../src/errors.js';
import { cleanHelmMessage, helmFailure } from '../../src/helm/errors.js';

describe('helmFailure', () => {
  const cases: { name: string; stderr: string; code: number; message: RegExp }[] = [
    {
      name: 'validateValues',
      stderr:
        'Error: execution error at (expose-pods/templates/validate.yaml:3:4): \n\nVALUES VALIDATION:\n  - expose.nodePortBase=100 is below\n\nUse --debug flag to render out invalid YAML\n',
      code: ExitCode.INVALID_VALUES,
      message:
        /^the chart rejected the values:\nVALUES VALIDATION:\n {2}- expose\.nodePortBase=100 is below$/,
    },
    {
      name: 'schema (Helm 4 wording)',
      stderr:
        "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nexpose-pods:\n- at '/room/protocol': value must be one of 'TCP', 'UDP'\n",
      code: ExitCode.INVALID_VALUES,
      message: /at '\/room\/protocol': value must be one of 'TCP', 'UDP'/,
    },
    {
      name: 'malformed values file',
      stderr:
        'Error: failed to parse bad.yaml: error converting YAML to JSON: yaml: line 2: did not find expected key\n',
      code: ExitCode.INVALID_VALUES,
      message: /bad\.yaml/,
    },
    {
      name: 'unreachable cluster',
      stderr:
        'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused\n',
      code: ExitCode.CLUSTER_UNREACHABLE,
      message: /^cannot reach the Kubernetes cluster: Kubernetes cluster unreachable/,
    },
    {
      name: 'anything else, including a validation "Forbidden" that is not RBAC',
      stderr:
        'Error: UPGRADE FAILED: cannot patch "rooms-expose-pods" with kind StatefulSet: StatefulSet.apps "rooms-expose-pods" is invalid: spec: Forbidden: updates to statefulset spec for fields other than \'replicas\' are forbidden\n',
      code: ExitCode.ERROR,
      message: /^helm upgrade failed: UPGRADE FAILED: cannot patch "rooms-expose-pods" with kind StatefulSet/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = helmFailure('upgrade', c.stderr);
      assert.equal(e.exitCode, c.code);
      assert.match(e.message, c.message);
      assert.doesNotMatch(e.message, /Use --debug/);
    });
  }

  it('cleanHelmMessage keeps an empty stderr empty', () => {
    assert.equal(cleanHelmMessage('\n'), '');
    assert.equal(
      helmFailure('template', '').message,
      'helm template failed: helm template failed with no message',
    );
  });
});

describe('helmFailure: the failures install meets on a real cluster', () => {
  const cases: { name: string; stderr: string; code: number; message: RegExp; hint?: RegExp }[] = [
    {
      name: 'missing namespace',
      stderr: 'Error: create: failed to create: namespaces "nonexistent-ns" not found\n',
      code: ExitCode.NOT_FOUND,
      message: /^namespace nonexistent-ns does not exist$/,
      hint: /--create-namespace/,
    },
    {
      name: 'an operation in progress',
      stderr: 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n',
      code: ExitCode.CONFLICT,
      message: /another Helm operation is in progress/,
      hint: /helm rollback/,
    },
    {
      name: 'RBAC',
      stderr:
        'Error: INSTALLATION FAILED: services is forbidden: User "bob" cannot create resource "services" in API group "" in the namespace "game"\n',
      code: ExitCode.FORBIDDEN,
      message:
        /^forbidden: INSTALLATION FAILED: services is forbidden: User "bob" cannot create resource "services"/,
    },
    {
      name: 'timeout (Helm 3)',
      stderr: 'Error: INSTALLATION FAILED: context deadline exceeded\n',
      code: ExitCode.TIMEOUT,
      message: /timed out/,
    },
    {
      name: 'timeout (Helm 4)',
      stderr:
        'Error: INSTALLATION FAILED: resource not ready, name: rooms-expose-pods, kind: StatefulSet, status: InProgress\ncontext deadline exceeded\n',
      code: ExitCode.TIMEOUT,
      message: /timed out/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = helmFailure('upgrade --install', c.stderr);
      assert.equal(e.exitCode, c.code);
      assert.match(e.message, c.message);
      if (c.hint) assert.match(e.hint ?? '', c.hint);
    });
  }
});

describe('an object in the way: helm refuses to import it, and the message names it, its owner and the way out (exit 9)', () => {
  const cases = [
    {
      helm: 'helm 3',
      stderr:
        'Error: UPGRADE FAILED: Unable to continue with update: Service "way-expose-pods-2" in namespace "game" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation error: missing key "meta.helm.sh/release-name": must be set to "way"; annotation validation error: missing key "meta.helm.sh/release-namespace": must be set to "game"\n',
      owner: 'not managed by Helm',
    },
    {
      helm: 'helm 4',
      stderr:
        'Error: UPGRADE FAILED: unable to continue with update: Service "way-expose-pods-2" in namespace "game" exists and cannot be imported into the current release: invalid ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation error: missing key "meta.helm.sh/release-name": must be set to "way"; annotation validation error: missing key "meta.helm.sh/release-namespace": must be set to "game"\n',
      owner: 'not managed by Helm',
    },
    {
      helm: 'another release holds it',
      stderr:
        'Error: UPGRADE FAILED: Unable to continue with update: Service "way-expose-pods-2" in namespace "game" exists and cannot be imported into the current release: invalid ownership metadata; annotation validation error: key "meta.helm.sh/release-name" must equal "way": current value is "lobby"\n',
      owner: 'release lobby',
    },
  ];
  for (const c of cases)
    it(c.helm, () => {
      const e = helmFailure('upgrade --dry-run', c.stderr);
      assert.equal(e.exitCode, ExitCode.CONFLICT);
      assert.equal(
        e.message,
        `an object this change would create already exists and is not part of release way: service/way-expose-pods-2 (${c.owner}); nothing was changed`,
      );
      assert.equal(
        e.hint,
        'Delete it if nothing needs it (kubectl delete service way-expose-pods-2 -n game), or let the release adopt it: kubectl annotate service way-expose-pods-2 -n game --overwrite meta.helm.sh/release-name=way meta.helm.sh/release-namespace=game && kubectl label service way-expose-pods-2 -n game --overwrite app.kubernetes.io/managed-by=Helm',
      );
    });
});
