/**
 * A signal delivered to the handlers our code installs, and only to them.
 *
 * `process.emit('SIGTERM')` would also reach handlers the test runner put
 * there first (StrykerJS's tap hook exits on SIGINT and SIGTERM), so a test
 * takes a baseline, sends the signal to what was added since, and checks that
 * nothing added is left behind.
 */
export function signals(sig: NodeJS.Signals): { send: () => void; left: () => number } {
  const before = process.listeners(sig);
  const ours = () => process.listeners(sig).filter((l) => !before.includes(l));
  return {
    send: () => {
      for (const l of ours()) l(sig);
    },
    left: () => ours().length,
  };
}
