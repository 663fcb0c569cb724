/**
 * Where shared files live on a node: `<stateDir>/files/<tenantId>/<fileId>.shf`.
 *
 * Security: the tenant directories are 0700 and the files 0600, owned by the worker's user, so
 * client processes (running as other users) cannot open them by path; they only ever get a
 * descriptor from the worker, opened O_RDONLY for read-only grants. Files are named by the
 * catalogue id, never by the user-chosen name, so a name can never escape the directory.
 */
import { closeSync, constants, existsSync, mkdirSync, chmodSync, openSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { CommyError, SharedFile } from "../../native/lib/index";
import { StreamLayoutSchema, VariablesLayoutSchema, type CatalogueFile } from "../../src/server/contracts/worker";

/** Raised when the catalogue's layout cannot be mapped (bad layout, too large). `code` is a socket error code. */
export class FileStoreError extends Error {
  constructor(
    readonly code: "MAX_SIZE_EXCEEDED" | "INTERNAL",
    message: string,
  ) {
    super(message);
    this.name = "FileStoreError";
  }
}

export class FileStore {
  constructor(private readonly root: string) {}

  tenantDir(tenantId: string): string {
    const dir = path.join(this.root, tenantId);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
    return dir;
  }

  /** `suffix` ".out": the NETWORK_ONLY outbox mapping producers write (routing-bridge.ts). */
  pathFor(tenantId: string, fileId: string, suffix: "" | ".out" = ""): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(fileId)) throw new FileStoreError("INTERNAL", `unexpected file id ${JSON.stringify(fileId)}`);
    return path.join(this.tenantDir(tenantId), `${fileId}${suffix}.shf`);
  }

  exists(p: string): boolean {
    return existsSync(p);
  }

  /** Creation time of the mapping on disk (ms), for TTL; null when absent. */
  createdAt(p: string): number | null {
    try {
      const s = statSync(p);
      return s.birthtimeMs > 0 ? s.birthtimeMs : s.ctimeMs;
    } catch {
      return null;
    }
  }

  /**
   * Creates (or with `replace`, atomically replaces) the mapping from the catalogue layout.
   * The size limit is enforced by the native module before anything is written.
   */
  create(tenantId: string, file: CatalogueFile, replace: boolean, suffix: "" | ".out" = ""): string {
    const p = this.pathFor(tenantId, file.id, suffix);
    let sf: SharedFile;
    try {
      if (file.kind === "VARIABLES") {
        const layout = VariablesLayoutSchema.parse(file.layout);
        sf = SharedFile.create(p, { kind: "variables", slots: layout.slots, mode: 0o600, overwrite: replace, maxFileSize: file.maxSizeBytes });
      } else {
        const layout = StreamLayoutSchema.parse(file.layout);
        sf = SharedFile.create(p, {
          kind: "stream",
          capacity: layout.capacity,
          messageMaxSize: layout.messageMaxSize,
          overflow: layout.overflow,
          maxConsumers: layout.maxConsumers,
          mode: 0o600,
          overwrite: replace,
          maxFileSize: file.maxSizeBytes,
        });
      }
    } catch (e) {
      if (e instanceof CommyError && e.code === "COMMY_E_TOO_LARGE") throw new FileStoreError("MAX_SIZE_EXCEEDED", `the layout of "${file.name}" needs more than its max size of ${file.maxSizeBytes} bytes`);
      throw new FileStoreError("INTERNAL", `cannot create the mapping of "${file.name}": ${(e as Error).message}`);
    }
    // The worker itself does not keep the mapping: clients map it from their descriptor.
    sf.close();
    return p;
  }

  /** A descriptor for a client: O_RDONLY for read-only grants so the kernel refuses PROT_WRITE. */
  /* libuv opens every file O_CLOEXEC, so the descriptor never leaks into child processes. */
  openForClient(p: string, readOnly: boolean): number {
    return openSync(p, (readOnly ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NOFOLLOW);
  }

  closeFd(fd: number): void {
    closeSync(fd);
  }

  remove(p: string): void {
    try {
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
}
