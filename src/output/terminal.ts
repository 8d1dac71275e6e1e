/* eslint-disable no-control-regex -- control characters are what these patterns find */

/**
 * What a terminal would act on instead of print: escape sequences (CSI such
 * as colours and cursor moves, OSC such as window titles and hyperlinks,
 * DCS, SOS, PM and APC strings, and two-character escapes), their one-byte C1
 * forms, and every other C0 and C1 control character and DEL, tab and newline
 * aside. Sequences first, so what they carry goes with them.
 */
const CONTROL =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b[\]PX^_][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|[\u009d\u0090\u0098\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -/]*[0-~]|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from the cluster (an annotation, a lease's holder, an API server's
 * message) made safe to print on a terminal: control characters and escape
 * sequences are taken out, so it cannot move the cursor, retitle the window,
 * rewrite what was printed before it or pass for our own output. Tabs and
 * newlines stay; `oneLine` turns them into spaces too, for a table cell or a
 * status line. -o json and -o yaml print values as they are: their escaping
 * already keeps a terminal from acting on them.
 */
export function terminalText(text: string, opts: { oneLine?: boolean } = {}): string {
  const safe = text.replace(CONTROL, '');
  return opts.oneLine ? safe.replace(/[\t\n]/g, ' ') : safe;
}
