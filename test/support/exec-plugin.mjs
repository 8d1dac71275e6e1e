#!/usr/bin/env node
// A kubeconfig exec credential plugin for the e2e tests, shaped like the
// device-code sign-ins of managed clusters: it counts its runs, prints a
// sign-in prompt on stderr, takes its time, and returns the client
// certificate of the local cluster's admin (client.authentication.k8s.io/v1).
//   EXEC_PLUGIN_COUNT     a file it appends one line to per run, with KUBERNETES_EXEC_INFO
//   EXEC_PLUGIN_DELAY_MS  how long the "sign-in" takes (default 0)
//   EXEC_PLUGIN_FAIL      exit 1 with a message instead
//   EXEC_PLUGIN_SOURCE    the kubeconfig whose first user's certificate it returns
//   EXEC_PLUGIN_EXPIRES_S the credential's lifetime; unset: no expirationTimestamp
import { Buffer } from 'node:buffer';
import { appendFileSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
appendFileSync(env.EXEC_PLUGIN_COUNT, `${env.KUBERNETES_EXEC_INFO ?? ''}\n`);
process.stderr.write('To sign in, open https://login.example.test/device and enter the code EXPO-5ED\n');
await sleep(Number(env.EXEC_PLUGIN_DELAY_MS ?? 0));
if (env.EXEC_PLUGIN_FAIL) {
  process.stderr.write('error: the sign-in was declined\n');
  process.exit(1);
}
const text = readFileSync(env.EXEC_PLUGIN_SOURCE, 'utf8');
const field = (name) => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(text)[1], 'base64').toString('utf8');
const status = {
  clientCertificateData: field('client-certificate-data'),
  clientKeyData: field('client-key-data'),
};
if (env.EXEC_PLUGIN_EXPIRES_S)
  status.expirationTimestamp = new Date(Date.now() + Number(env.EXEC_PLUGIN_EXPIRES_S) * 1000).toISOString();
process.stdout.write(
  JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }),
);
