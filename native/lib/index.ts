/**
 * @module native — memory-mapped shared files for Commy.
 *
 * ```ts
 * const f = SharedFile.create(path, { kind: "variables", slots: [{ name: "temp", maxSize: 64 }] });
 * const temp = f.variable("temp");
 * temp.write(bytes);
 * const n = temp.readInto(buf);            // hot path, no allocation
 * await temp.waitForChange(temp.lastVersion, { mode: "notify", timeoutMs: 1000 });
 *
 * const s = SharedFile.create(path2, { kind: "stream", capacity: 4096, messageMaxSize: 64, overflow: "refuse" });
 * s.stream.append(bytes);
 * const r = SharedFile.open(path2, { readOnly: true }).stream.reader({ from: "earliest" });
 * r.next(); r.lost;
 * ```
 * Format: docs/spec/shared-file-format.md.
 */
export { SharedFile, type SharedFileKind } from "./shared-file.js";
export { Variable, type VariableValue, type VariableView } from "./variable.js";
export { Stream, StreamReader, type StreamMessage, type ReaderOptions, type ReaderStart } from "./stream.js";
export { CommyError, CommyErrorCodes, type CommyErrorCode } from "./errors.js";
export type {
  CreateOptions,
  VariablesCreateOptions,
  StreamCreateOptions,
  SlotDefinition,
  OverflowPolicy,
  OpenOptions,
  WaitOptions,
} from "./options.js";
export { LIMITS } from "./layout.js";
export { addon as nativeAddon } from "./binding.js";
