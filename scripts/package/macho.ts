/**
 * Just enough of Mach-O to check a macOS binary before and after packaging:
 * its CPU, and its code signature (the CodeDirectory and, for a signature by
 * a certificate, the CMS blob that signs it). Thin 64-bit binaries only, as
 * Node ships them.
 */

const MH_MAGIC_64 = 0xfeedfacf;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_SIGNATURESLOT = 0x10000;
/** CodeDirectory flag: signed with no identity (codesign --sign -). */
const CS_ADHOC = 0x2;

const CPU: Record<number, string> = { 0x01000007: 'x86_64', 0x0100000c: 'arm64' };

export interface MachOSignature {
  /** x86_64 or arm64. */
  cpu: string;
  /** No LC_CODE_SIGNATURE at all. */
  signed: boolean;
  /** The CodeDirectory says it was signed ad hoc (no certificate). */
  adhoc: boolean;
  /** The CodeDirectory the CMS signature covers (slot 0), as stored. */
  codeDirectory?: Buffer;
  /** The CMS SignedData (DER), for a signature by a certificate; absent or empty when ad hoc. */
  cms?: Buffer;
  /** The identifier the CodeDirectory names (com.nodejs.node, or the ad hoc one). */
  identifier?: string;
}

/** Reads a Mach-O's CPU and code signature; throws when it is not a thin 64-bit Mach-O. */
export function readMachO(bytes: Buffer): MachOSignature {
  if (bytes.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a thin 64-bit Mach-O');
  const cpu = CPU[bytes.readUInt32LE(4)] ?? `cputype 0x${bytes.readUInt32LE(4).toString(16)}`;
  const ncmds = bytes.readUInt32LE(16);
  let offset = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = bytes.readUInt32LE(offset);
    const size = bytes.readUInt32LE(offset + 4);
    if (cmd === LC_CODE_SIGNATURE) {
      const dataoff = bytes.readUInt32LE(offset + 8);
      const datasize = bytes.readUInt32LE(offset + 12);
      return { cpu, ...readSuperBlob(bytes.subarray(dataoff, dataoff + datasize)) };
    }
    offset += size;
  }
  return { cpu, signed: false, adhoc: false };
}

/** The embedded signature: a SuperBlob of (type, offset) slots, big-endian. */
function readSuperBlob(blob: Buffer): Omit<MachOSignature, 'cpu'> {
  if (blob.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE)
    throw new Error('the code signature is not a SuperBlob');
  const count = blob.readUInt32BE(8);
  const out: Omit<MachOSignature, 'cpu'> = { signed: true, adhoc: false };
  for (let i = 0; i < count; i++) {
    const type = blob.readUInt32BE(12 + i * 8);
    const at = blob.readUInt32BE(16 + i * 8);
    const magic = blob.readUInt32BE(at);
    const length = blob.readUInt32BE(at + 4);
    if (type === CSSLOT_CODEDIRECTORY && magic === CSMAGIC_CODEDIRECTORY) {
      const cd = blob.subarray(at, at + length);
      out.codeDirectory = cd;
      out.adhoc = (cd.readUInt32BE(12) & CS_ADHOC) !== 0;
      const identOffset = cd.readUInt32BE(20);
      out.identifier = cd.subarray(identOffset, cd.indexOf(0, identOffset)).toString('utf8');
    }
    if (type === CSSLOT_SIGNATURESLOT && magic === CSMAGIC_BLOBWRAPPER && length > 8) {
      out.cms = blob.subarray(at + 8, at + length);
    }
  }
  return out;
}
